#!/usr/bin/env bash
# Runs every archway test: installs what the tests need (cross compiler, qemu-user-static
# as the oracle, busybox for arm64/amd64), builds the release binaries, then runs the
# whole workspace test suite against them. This is the command .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
bash scripts/fetch-busybox.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo build --release --workspace --bins
export ARCHWAY_BIN="$PWD/target/release/archway"
cargo test --release --workspace --no-fail-fast
