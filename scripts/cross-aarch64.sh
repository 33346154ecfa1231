#!/usr/bin/env bash
# Runs cargo for aarch64 hosts: archway built for arm64 (`aarch64-unknown-linux-gnu`).
#
#   bash scripts/cross-aarch64.sh build --release -p archway --bin archway-aarch64
#   bash scripts/cross-aarch64.sh clippy --workspace --all-targets --release -- -D warnings
#   CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static \
#     bash scripts/cross-aarch64.sh test --release -p archway-ir
#
# The first argument is the cargo command; `--target aarch64-unknown-linux-gnu` is added
# after it, the rest follows. Output goes to target/aarch64-unknown-linux-gnu/ (under
# $CARGO_TARGET_DIR when set).
#
# How: Debian's cargo, rustc and clippy (/usr/bin, rustc-web and rust-web-clippy, with
# the arm64 standard library libstd-rust-web-dev:arm64; rustup's toolchain here has no
# aarch64 std), the cross gcc as the C compiler of capstone, zstd..., and every aarch64
# artifact linked static-pie (`+crt-static` and scripts/lib/aarch64-static-pie-cc as the
# linker): binfmt interpreters must be (they run in foreign roots, and load guests at
# the addresses a non-PIE program would take), and static test binaries run under
# qemu-aarch64-static or archway-aarch64 without an arm64 root. The rustflags are the
# target's only, so build scripts and proc macros stay ordinary host programs.
# scripts/install-real-software.sh installs the toolchain.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -lt 1 ]; then
  echo "usage: $0 CARGO-COMMAND [ARGS...]" >&2
  exit 2
fi
command=$1
shift
export PATH=/usr/bin:$PATH
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$PWD/scripts/lib/aarch64-static-pie-cc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
exec /usr/bin/cargo "$command" --target aarch64-unknown-linux-gnu "$@"
