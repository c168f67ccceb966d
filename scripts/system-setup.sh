#!/usr/bin/env bash
# System packages and the podman configuration the tests need (part of `make install`).
# As root with apt: installs what is missing and writes the podman configuration.
# Otherwise: says which packages are missing and which tests will be skipped because of it.
set -euo pipefail

read -r -a SYSTEM_PACKAGES <<<"${MLOPS_SYSTEM_PACKAGES:-podman runc debootstrap prometheus prometheus-alertmanager git make}"

say() { printf '[install] %s\n' "$*"; }

# What each package is for, so that a person knows what they lose without it.
needed_by() {
  case "$1" in
    podman | runc | debootstrap) echo "Molecule scenarios and the container image tests" ;;
    prometheus | prometheus-alertmanager) echo "the Prometheus/Alertmanager tests and the alert loop" ;;
    *) echo "the tests that call it" ;;
  esac
}

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
      say "SKIPPED: system packages ${missing[*]} are missing and this is not root: run 'sudo make install'"
      for p in "${missing[@]}"; do say "  without $p, these tests will be skipped: $(needed_by "$p")"; done
    fi
  fi
else
  say "SKIPPED: no apt/dpkg on this machine: install ${SYSTEM_PACKAGES[*]} yourself"
  for p in "${SYSTEM_PACKAGES[@]}"; do
    command -v "$p" >/dev/null || say "  without $p, these tests will be skipped: $(needed_by "$p")"
  done
fi

# crun cannot set rlimits in this sandbox and the default ulimits make every container fail.
if command -v podman >/dev/null; then
  conf=/etc/containers/containers.conf
  if [ "$(id -u)" -eq 0 ]; then
    if [ ! -f "$conf" ] || ! grep -q 'written by mlops.hybrid' "$conf"; then
      if [ -f "$conf" ] && [ ! -f "$conf.orig" ]; then cp -p "$conf" "$conf.orig"; fi
      mkdir -p /etc/containers
      printf '# written by mlops.hybrid scripts/system-setup.sh\n[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' >"$conf"
      say "wrote $conf (runc, no default ulimits)"
    fi
  elif ! grep -qs 'written by mlops.hybrid' "$conf"; then
    say "SKIPPED: $conf is not set up and this is not root: containers may fail to start (run 'sudo make install')"
  fi
fi
