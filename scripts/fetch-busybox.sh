#!/usr/bin/env bash
# Fetches Debian's busybox-static for arm64 and amd64 (the same version for both)
# and unpacks them under .cache/busybox/ (gitignored):
#
#   .cache/busybox/arm64/bin/busybox    the aarch64 guest program
#   .cache/busybox/amd64/bin/busybox    the native x86_64 build of the same version
#   .cache/busybox/VERSION              the Debian version both come from
#
# Used by the benchmarks (benches/build.sh) and by the tests. Idempotent: does nothing
# when both binaries are there. Needs root for `dpkg --add-architecture arm64` and
# `apt-get update` the first time; the .deb files stay in .cache/debs/ and are never
# committed. Prints the two paths on success.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_dir=$root_dir/.cache
destination=$cache_dir/busybox
arm64_binary=$destination/arm64/bin/busybox
amd64_binary=$destination/amd64/bin/busybox

if [ -x "$arm64_binary" ] && [ -x "$amd64_binary" ]; then
  echo "$arm64_binary"
  echo "$amd64_binary"
  exit 0
fi

# apt may be busy (another apt-get on this machine): retry a few times.
with_retries() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then return 0; fi
    echo "fetch-busybox.sh: '$*' failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  return 1
}

candidate_version() { # prints the candidate version of busybox-static:$1, or nothing
  apt-cache policy "busybox-static:$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2 }'
}

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
if [ -z "$(candidate_version arm64)" ] || [ -z "$(candidate_version amd64)" ] \
   || [ "$(candidate_version arm64)" != "$(candidate_version amd64)" ]; then
  with_retries apt-get update -qq
fi
version=$(candidate_version arm64)
if [ -z "$version" ] || [ "$version" != "$(candidate_version amd64)" ]; then
  echo "fetch-busybox.sh: no common busybox-static version for arm64 and amd64" >&2
  exit 1
fi

debs_dir=$cache_dir/debs
mkdir -p "$debs_dir"
scratch=$(mktemp -d "$cache_dir/busybox-unpack.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for arch in arm64 amd64; do
  deb=$(find "$debs_dir" -maxdepth 1 -name "busybox-static_*_${arch}.deb" | sort | tail -n 1)
  # Only the version apt offers now; an older .deb from an earlier run is replaced.
  if [ -z "$deb" ] || [ "$(dpkg-deb -f "$deb" Version)" != "$version" ]; then
    rm -f "$debs_dir"/busybox-static_*_"${arch}".deb
    # The _apt sandbox user cannot write into a root-owned cache; download as root quietly.
    (cd "$debs_dir" && with_retries apt-get download -qq -o APT::Sandbox::User=root \
      "busybox-static:${arch}=${version}")
    deb=$(find "$debs_dir" -maxdepth 1 -name "busybox-static_*_${arch}.deb" | sort | tail -n 1)
  fi
  dpkg-deb -x "$deb" "$scratch/$arch"
done

rm -rf "$destination"
mkdir -p "$destination"
for arch in arm64 amd64; do
  mkdir -p "$destination/$arch"
  mv "$scratch/$arch/bin" "$destination/$arch/bin"
done
echo "$version" >"$destination/VERSION"
echo "$arm64_binary"
echo "$amd64_binary"
