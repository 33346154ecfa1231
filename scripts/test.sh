#!/usr/bin/env bash
# Runs every archway test: installs what the tests need (cross compiler, qemu-user-static
# as the oracle, busybox for arm64/amd64; debootstrap, Go, Debian's rustc with the aarch64
# std and arm64 LuaJIT for the real-software tests and the Go standard library's own
# tests; dockerd, podman and buildah for the container tests), builds the release
# binaries and the static ones, then runs the whole workspace test suite against them.
# This is the command .ci/run calls. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
bash scripts/fetch-busybox.sh
bash scripts/install-real-software.sh
bash scripts/install-container-engines.sh
bash scripts/install-image-tools.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo build --release --workspace --bins
export ARCHWAY_BIN="$PWD/target/release/archway"
ARCHWAY_STATIC_BIN=$(bash scripts/build-static.sh)
export ARCHWAY_STATIC_BIN
cargo test --release --workspace --no-fail-fast
