#!/usr/bin/env bash
# Builds the local test base image (Debian bookworm, minbase) without any
# container registry: debootstrap into a folder, then `docker import`.
# Skipped when the image already exists. Usage: scripts/test-base-image.sh [TAG]
set -euo pipefail
tag=${1:-${AI_SANDBOX_TEST_BASE:-ai-sandbox-test-base:bookworm}}
docker=${AI_SANDBOX_DOCKER:-docker}
if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "test base image $tag exists"
  exit 0
fi
mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  # Use the mirror this machine's apt already uses, so builds work where only it is reachable.
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v -- '-security' | head -n1 | tr -d ' ' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
root=$(mktemp -d /var/tmp/ai-sandbox-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >/dev/null
# A container image needs no package caches or apt lists.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | "$docker" import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "built test base image $tag"
