#!/usr/bin/env bash
# Installs the tools for the real-software acceptance of archway (issue 3) on a Debian
# bookworm machine, idempotently (it installs and downloads only what is missing):
#
#   debootstrap                       builds a Debian arm64 root (scripts/debootstrap-arm64.sh)
#   golang-go                         cross-compiles Go programs with GOARCH=arm64
#   rustc-web, cargo-web,             /usr/bin/rustc and /usr/bin/cargo with the aarch64 std, for
#   libstd-rust-web-dev{,:arm64}      cross-compiling Rust crates (rustup here has no aarch64 std)
#   rust-web-clippy                   clippy for that toolchain (scripts/cross-aarch64.sh clippy)
#   .cache/luajit/                    Debian's arm64 luajit unpacked (luajit, libluajit-5.1-2 and
#                                     libluajit-5.1-common, whose jit/*.lua modules `-jv` needs):
#                                     .cache/luajit/usr/bin/luajit, usr/share/luajit-2.1.0-beta3/jit/v.lua
#
# Also needs what scripts/install-test-deps.sh installs (the aarch64 cross gcc is the Rust
# linker; libc6:arm64 is the dynamic loader luajit runs with). Needs root the first time.
# Prints nothing on success when everything is already there.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_dir=$root_dir/.cache
export DEBIAN_FRONTEND=noninteractive

# apt may be busy (another apt-get on this machine): retry a few times.
with_retries() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    if "$@"; then return 0; fi
    echo "install-real-software.sh: '$*' failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  return 1
}

# One installer at a time (tests run this concurrently; apt and the unpacking below
# must not race).
mkdir -p "$cache_dir"
exec 9>"$cache_dir/install-real-software.lock"
flock 9

bash "$root_dir/scripts/install-test-deps.sh"

updated=
apt_update_once() {
  if [ -z "$updated" ]; then
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    with_retries apt-get update -qq
    updated=1
  fi
}

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -x /usr/bin/go ] || need+=(golang-go)
[ -x /usr/bin/rustc ] || need+=(rustc-web)
[ -x /usr/bin/cargo ] || need+=(cargo-web)
dpkg -s libstd-rust-web-dev >/dev/null 2>&1 || need+=(libstd-rust-web-dev)
dpkg -s libstd-rust-web-dev:arm64 >/dev/null 2>&1 || need+=(libstd-rust-web-dev:arm64)
[ -x /usr/bin/clippy-driver ] || need+=(rust-web-clippy)
if [ ${#need[@]} -gt 0 ]; then
  apt_update_once
  with_retries apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Debian's arm64 LuaJIT, unpacked (not installed: it would replace nothing on the host, but
# an arm64 package in the host's dpkg database is not wanted).
luajit_dir=$cache_dir/luajit
if [ ! -x "$luajit_dir/usr/bin/luajit" ] || [ ! -e "$luajit_dir/usr/share/luajit-2.1.0-beta3/jit/v.lua" ]; then
  debs_dir=$cache_dir/debs
  mkdir -p "$debs_dir"
  for spec in luajit:arm64 libluajit-5.1-2:arm64 libluajit-5.1-common; do
    package=${spec%:arm64}
    if ! compgen -G "$debs_dir/${package}_*.deb" >/dev/null; then
      apt-cache policy "$spec" | grep -q 'Candidate: [0-9]' || apt_update_once
      # The _apt sandbox user cannot write into a root-owned cache; download as root.
      (cd "$debs_dir" && with_retries apt-get download -qq -o APT::Sandbox::User=root "$spec")
    fi
  done
  scratch=$(mktemp -d "$cache_dir/luajit-unpack.XXXXXX")
  for deb in "$debs_dir"/luajit_*_arm64.deb "$debs_dir"/libluajit-5.1-2_*_arm64.deb \
             "$debs_dir"/libluajit-5.1-common_*_all.deb; do
    dpkg-deb -x "$deb" "$scratch"
  done
  rm -rf "$luajit_dir"
  mv "$scratch" "$luajit_dir"
fi
