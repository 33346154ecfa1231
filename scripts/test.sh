#!/usr/bin/env bash
# Runs every archway test: installs what the tests need (cross compiler, qemu-user-static
# as the oracle, busybox for arm64/amd64; debootstrap, Go, Debian's rustc with the aarch64
# std and arm64 LuaJIT for the real-software tests and the Go standard library's own
# tests; dockerd, podman and buildah for the container tests), builds the release
# binaries and the static ones, then runs the whole workspace test suite against them.
# Then archway on an emulated arm64 host: the workspace is built and linted for aarch64
# (scripts/cross-aarch64.sh), and the translator crates' unit tests run under
# qemu-aarch64-static and under archway's own archway-aarch64; the fixtures run on that
# host in the suite (tests/tests/fixtures.rs).
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

# archway for arm64 hosts: lint every crate, build the interpreter the suite runs.
bash scripts/cross-aarch64.sh clippy --workspace --all-targets --release --quiet -- -D warnings
bash scripts/cross-aarch64.sh build --release --quiet -p archway --bin archway-aarch64
export ARCHWAY_ARM64_HOST_BIN="$PWD/target/aarch64-unknown-linux-gnu/release/archway-aarch64"
file "$ARCHWAY_ARM64_HOST_BIN" | grep -q 'ARM aarch64.*static-pie linked'

status=0
cargo test --release --workspace --no-fail-fast || status=$?

# The translator crates' unit tests built for arm64 hosts, on an emulated arm64 host:
# under qemu-aarch64-static (with the environment that keeps qemu 7.2's own locks out of
# forked children: archway_tests::QEMU_FORK_SAFE_ENV), then under archway (the
# translator running itself).
translator_crates=(-p archway-arch -p archway-ir -p archway-guest-a64 -p archway-engine -p archway-host-x64 -p archway-linux)
# qemu 7.2 loses O_LARGEFILE in F_GETFL (it maps flags through the x86_64 glibc value,
# 0), which the arm64 kernel reports: that one test runs under archway only.
qemu_differs=(--skip syscall::tests::openat_converts_o_directory)
echo "== unit tests built for arm64 hosts, under qemu-aarch64-static"
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="env G_SLICE=always-malloc QEMU_LD_PREFIX=/ /usr/bin/qemu-aarch64-static" \
  bash scripts/cross-aarch64.sh test --release --no-fail-fast "${translator_crates[@]}" -- "${qemu_differs[@]}" || status=$?
echo "== unit tests built for arm64 hosts, under archway ($ARCHWAY_STATIC_BIN)"
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=$ARCHWAY_STATIC_BIN \
  bash scripts/cross-aarch64.sh test --release --no-fail-fast "${translator_crates[@]}" || status=$?
exit $status
