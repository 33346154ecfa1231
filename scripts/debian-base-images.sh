#!/usr/bin/env bash
# Debian bookworm base images for amd64 and arm64, made here from Debian's packages, for
# the build tests (issue 11): an OCI layout with the tags bookworm-amd64 and
# bookworm-arm64, each one layer holding a debootstrap minbase root, config
# Cmd ["bash"] and the platform's architecture.
#
#   bash scripts/debian-base-images.sh [LAYOUT]   # default .cache/base-images/bookworm
#
# The layout is kept and reused while the inputs are the same (this script and
# debootstrap-arm64.sh: their hash is stored beside it); it prints the layout's path.
# Concurrent runs wait for each other (a lock file beside the layout).
#   1. amd64: `debootstrap --variant=minbase bookworm` on the host.
#   2. arm64: scripts/debootstrap-arm64.sh (its second stage runs under archway's static
#      interpreter, no binfmt_misc entry), then the interpreter removed from the root.
#   3. Each root packed by umoci (`umoci new`, `umoci config`, `umoci insert`), apt's
#      downloaded lists and caches left out.
# Needs root (debootstrap, chroot). Tools: scripts/install-real-software.sh (debootstrap),
# scripts/install-image-tools.sh (umoci).
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
layout=${1:-$root_dir/.cache/base-images/bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
debs=$root_dir/.cache/debootstrap-debs
step() { echo "debian-base-images.sh: $*" >&2; }

# One maker at a time (tests run in parallel); the others then find the layout made.
mkdir -p "$(dirname "$layout")"
exec 9>"$layout.lock"
flock 9

inputs=$(cat "$root_dir/scripts/debian-base-images.sh" "$root_dir/scripts/debootstrap-arm64.sh" | sha256sum | cut -d' ' -f1)
if [ -f "$layout.inputs" ] && [ "$(cat "$layout.inputs")" = "$inputs" ] && [ -f "$layout/index.json" ]; then
  echo "$layout"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/archway-base-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$debs" "$(dirname "$layout")"

step "1. amd64 root (debootstrap minbase)"
flock "$debs" debootstrap --variant=minbase --arch=amd64 --cache-dir="$debs" bookworm "$work/amd64" "$mirror" >/dev/null

step "2. arm64 root (debootstrap, second stage under archway)"
bash "$root_dir/scripts/debootstrap-arm64.sh" "$work/arm64" >/dev/null
rm -f "$work/arm64/usr/local/bin/archway-aarch64"

rm -rf "$layout.tmp"
umoci init --layout "$layout.tmp"
for arch in amd64 arm64; do
  step "3. packing bookworm-$arch"
  root=$work/$arch
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/debootstrap
  : > "$root/etc/resolv.conf"
  umoci new --image "$layout.tmp:bookworm-$arch"
  umoci config --image "$layout.tmp:bookworm-$arch" --architecture "$arch" --os linux \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd bash
  umoci insert --image "$layout.tmp:bookworm-$arch" "$root" /
done
umoci gc --layout "$layout.tmp"
rm -rf "$layout"
mv "$layout.tmp" "$layout"
echo "$inputs" > "$layout.inputs"
echo "$layout"
