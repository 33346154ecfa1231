#!/usr/bin/env bash
# Builds archway-aarch64 and archway as static-pie glibc binaries: the interpreter that
# runs with no host libraries at all, so it can be copied into a foreign root and run by
# `chroot ROOT`, or registered in binfmt_misc with the F flag; and the `archway` command
# beside it, which runs in any container image (binfmt/Dockerfile is FROM scratch).
#
#   bash scripts/build-static.sh        # prints the path of the static interpreter:
#   target/x86_64-unknown-linux-gnu/release/archway-aarch64   (archway is next to it;
#   under $CARGO_TARGET_DIR instead of target/ when that is set)
#
# How: `--target x86_64-unknown-linux-gnu` with `-C target-feature=+crt-static` in
# RUSTFLAGS. Naming the target explicitly puts the build in its own directory
# (target/x86_64-unknown-linux-gnu/) and keeps RUSTFLAGS away from build scripts and
# proc macros, so the ordinary `cargo build --release` (target/release/) is neither
# rebuilt nor slowed down by this one. rustc links glibc targets with crt-static as
# static-pie (relocation model pic is the default), which `file` reports as
# "static-pie linked". Extra arguments go to cargo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target=x86_64-unknown-linux-gnu
bins=(--bin archway-aarch64 --bin archway)
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --quiet --target "$target" -p archway "${bins[@]}" "$@"

dir=${CARGO_TARGET_DIR:-$PWD/target}/$target/release
for binary in "$dir/archway-aarch64" "$dir/archway"; do
  if ! file "$binary" | grep -q 'static-pie linked'; then
    echo "build-static.sh: $binary is not static-pie:" >&2
    file "$binary" >&2
    exit 1
  fi
done
echo "$dir/archway-aarch64"
