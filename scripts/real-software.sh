#!/usr/bin/env bash
# Real aarch64 software nobody here wrote, under archway (issue 3's acceptance): builds
# or unpacks each program, runs it under archway and checks its output. Exit status 0
# when every named check passes.
#
#   bash scripts/real-software.sh [CHECK...]      CHECK: go, luajit, rust, debootstrap
#                                                 (default: go luajit rust)
#
#   go           tests/real-software/go: built with `GOOS=linux GOARCH=arm64 go build`
#                (goroutines, channels, asynchronous preemption, runtime.GC, os/exec of
#                itself, HTTP on 127.0.0.1); GO_RUNS runs in a row (default 20) must each
#                end with "goprobe: ok"; a run's output is kept on failure.
#   luajit       Debian's arm64 luajit runs tests/real-software/luajit/hot.lua with -jv:
#                the traces must be compiled ("[TRACE") and the results equal hot.expected.
#   rust         tests/real-software/rust, built by Debian's rustc for
#                aarch64-unknown-linux-gnu: `cargo test` (unit and doc tests) with archway as
#                the runner, then `cargo run` (threads, channels, catch_unwind).
#   debootstrap  scripts/debootstrap-arm64.sh --checks in a fresh root of its own, then
#                Python's own regression tests in it (scripts/python-tests.sh); needs the
#                static interpreter, scripts/build-static.sh; about 9 minutes.
#
# Environment: ARCHWAY_AARCH64 (the interpreter to run guests with; default
# target/release/archway-aarch64), ARCHWAY_STATIC_BIN (for debootstrap), ARCHWAY_LOG,
# ARCHWAY_ENGINE. Tools come from scripts/install-real-software.sh (run here first).
# Build caches go to .cache/real-software/ (the debootstrap check's root too, kept there
# when a check fails), each run's outputs to a scratch directory in it.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sources=$root_dir/tests/real-software
cache=$root_dir/.cache/real-software
archway=${ARCHWAY_AARCH64:-$root_dir/target/release/archway-aarch64}
mkdir -p "$cache"
# This run's programs and outputs (several runs may go on at once: each has its own).
out=$(mktemp -d "$cache/run.XXXXXX")
trap 'rm -rf "$out"' EXIT

say() { echo "real-software.sh: $*" >&2; }
[ -x "$archway" ] || { say "$archway missing: cargo build --release --bins"; exit 1; }
bash "$root_dir/scripts/install-real-software.sh"

check_go() {
  say "go: building goprobe for arm64"
  (cd "$sources/go" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOFLAGS=-mod=mod \
    GOCACHE="$cache/go-build" go build -o "$out/goprobe" .)
  local runs=${GO_RUNS:-20} run
  for run in $(seq 1 "$runs"); do
    if ! timeout -k 5 120 "$archway" "$out/goprobe" >"$out/goprobe.log" 2>&1 \
       || [ "$(tail -n 1 "$out/goprobe.log")" != "goprobe: ok" ]; then
      say "go: run $run of $runs FAILED; output:"
      cat "$out/goprobe.log" >&2
      return 1
    fi
  done
  cat "$out/goprobe.log"
  say "go: $runs runs in a row passed"
}

check_luajit() {
  local luajit=$root_dir/.cache/luajit
  say "luajit: -jv hot.lua"
  LUA_PATH="$luajit/usr/share/luajit-2.1.0-beta3/?.lua;;" \
    timeout -k 5 120 "$archway" "$luajit/usr/bin/luajit" -jv "$sources/luajit/hot.lua" \
    >"$out/luajit.out" 2>"$out/luajit.err"
  cat "$out/luajit.err" "$out/luajit.out"
  local traces
  traces=$(grep -c '^\[TRACE ' "$out/luajit.err" || true)
  if [ "$traces" -lt 5 ]; then
    say "luajit: only $traces traces compiled"
    return 1
  fi
  if ! diff -u "$sources/luajit/hot.expected" "$out/luajit.out" >&2; then
    say "luajit: wrong results"
    return 1
  fi
  say "luajit: $traces traces compiled, results right"
}

check_rust() {
  say "rust: cargo test and cargo run for aarch64-unknown-linux-gnu under archway"
  (
    cd "$sources/rust"
    export CARGO_TARGET_DIR=$cache/rust-target RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=$archway
    timeout -k 5 600 /usr/bin/cargo test --quiet --offline --target aarch64-unknown-linux-gnu
    timeout -k 5 300 /usr/bin/cargo run --quiet --offline --target aarch64-unknown-linux-gnu >"$out/rustprobe.out"
  )
  cat "$out/rustprobe.out"
  local expected
  expected=$'sum_squares 333328333350000\ncounts (40000, 40000)\nchecked_divide Some(42) None\narch aarch64'
  if [ "$(cat "$out/rustprobe.out")" != "$expected" ]; then
    say "rust: rustprobe printed something else"
    return 1
  fi
  say "rust: tests and run passed"
}

check_debootstrap() {
  # A root of its own (about 600 MB), removed when every check passed; Python's own
  # regression tests run in it once the checks pass (scripts/python-tests.sh).
  local root=$cache/bookworm-arm64.$$
  bash "$root_dir/scripts/debootstrap-arm64.sh" --checks "$root"
  bash "$root_dir/scripts/python-tests.sh" "$root"
  rm -rf "$root"
}

checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(go luajit rust)
failed=()
for check in "${checks[@]}"; do
  case "$check" in
    go | luajit | rust | debootstrap) "check_$check" || failed+=("$check") ;;
    *) say "unknown check $check (go, luajit, rust, debootstrap)"; exit 2 ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "passed: ${checks[*]}"
