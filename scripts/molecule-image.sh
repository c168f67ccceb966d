#!/usr/bin/env bash
# Build, once, the systemd-capable Debian 12 image that every Molecule scenario runs in.
#
#   scripts/molecule-image.sh          build if needed; print the image reference on stdout
#   scripts/molecule-image.sh --name   print the reference this script would build, build nothing
#   export MOLECULE_IMAGE=$(scripts/molecule-image.sh)    what molecule.yml files read
#
# The tag is a hash of this script and molecule/debian12-systemd/Containerfile: while neither
# changes, a second run finds the tag in podman and exits at once. A change builds a new tag,
# moves :latest to it and removes the older tags. Progress goes to stderr, so stdout is only
# the reference.
#
# No registry is involved: the base is a `debootstrap --variant=minbase` root file system of
# Debian bookworm, kept as a tarball under .cache/molecule-image/ and imported into podman;
# the Containerfile adds python3, systemd and sudo on top. DEBIAN_MIRROR overrides the apt
# mirror (default: the one this machine's apt uses).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
script=$root/scripts/molecule-image.sh
context=$root/molecule/debian12-systemd
containerfile=$context/Containerfile
cache=$root/.cache/molecule-image

NAME=localhost/mlops-hybrid/debian12-systemd
BASE_NAME=localhost/mlops-hybrid/debian12-minbase
SUITE=bookworm
VARIANT=minbase

say() { printf '[molecule-image] %s\n' "$*" >&2; }
die() { printf '[molecule-image] error: %s\n' "$*" >&2; exit 1; }

[ -f "$containerfile" ] || die "$containerfile is missing: the image cannot be built without it"
tag=$(cat "$script" "$containerfile" | sha256sum | cut -c1-12)
ref=$NAME:$tag

case "${1:-}" in
  --name) echo "$ref"; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (usage: $0 [--name])" ;;
esac

[ "$(id -u)" -eq 0 ] || die "must run as root: the scenarios use rootful podman with systemd (run: sudo $0)"
command -v podman >/dev/null || die "podman is not installed: run 'make install' as root (apt-get install podman runc)"

# One build at a time: a second caller waits, then finds the tag.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if podman image exists "$ref"; then
  say "cached: $ref"
  echo "$ref"
  exit 0
fi

# --- root file system: debootstrap once, keep the tarball --------------------------------
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE '(https?|ftp)://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

rootfs_key=$(printf '%s\n' "$SUITE" "$VARIANT" | sha256sum | cut -c1-12)
tarball=$cache/$SUITE-$VARIANT-$rootfs_key.tar
base=$BASE_NAME:$rootfs_key

if [ ! -f "$tarball" ]; then
  command -v debootstrap >/dev/null || die "debootstrap is not installed: run 'make install' as root (apt-get install debootstrap)"
  mirror=$(debian_mirror)
  mkdir -p "$cache/debs"
  work=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "debootstrap --variant=$VARIANT $SUITE from $mirror (a minute or two; log: $work/debootstrap.log)"
  if ! debootstrap --variant="$VARIANT" --cache-dir="$cache/debs" "$SUITE" "$work/rootfs" "$mirror" \
      >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap failed (last lines above): check that $mirror is reachable, or set DEBIAN_MIRROR"
  fi
  say "packing the root file system into $tarball"
  tar -C "$work/rootfs" --numeric-owner -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  rm -rf "$work"
  trap - EXIT
else
  say "root file system: reusing $tarball"
fi

if ! podman image exists "$base"; then
  say "podman import $tarball -> $base"
  podman import --quiet "$tarball" "$base" >/dev/null
fi

# --- the image -----------------------------------------------------------------------------
say "podman build $ref (apt installs python3, systemd, sudo: a minute or two)"
podman build --quiet --layers=false --pull=never \
  --build-arg "BASE_IMAGE=$base" \
  --label "org.opencontainers.image.title=mlops.hybrid Molecule platform (Debian 12 + systemd)" \
  --label "mlops.hybrid.molecule-image=$tag" \
  -f "$containerfile" -t "$ref" "$context" >/dev/null
podman tag "$ref" "$NAME:latest"

# Older builds of this image are of no more use; one still used by a container stays.
while read -r old; do
  [ "$old" = "$ref" ] || [ "$old" = "$NAME:latest" ] && continue
  if podman rmi "$old" >/dev/null 2>&1; then say "removed older $old"; else say "kept older $old (in use)"; fi
done < <(podman images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$NAME")

say "built: $ref (also tagged $NAME:latest)"
echo "$ref"
