#!/usr/bin/env bash
# Build a slim Debian 12 + Python 3.11 base image locally, for hosts that cannot pull
# python:3.11-slim from a registry. Uses debootstrap (Debian mirror only) and `podman import`.
#   model/base-image.sh [IMAGE]   (default localhost/mlops-hybrid/python311-slim:bookworm)
# A second run returns at once when the image exists.
set -euo pipefail

image=${1:-localhost/mlops-hybrid/python311-slim:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$image"; then
  echo "[base-image] $image exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "[base-image] debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "[base-image] debootstrap needs root" >&2; exit 1; }

rootfs=$(mktemp -d /tmp/python311-slim.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "[base-image] debootstrap bookworm (minbase + python3, python3-venv) into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
# Trim what a container never needs: apt lists, docs, man pages, locales.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
tar -C "$rootfs" -c . | podman import \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$image" >/dev/null
echo "[base-image] built $image"
