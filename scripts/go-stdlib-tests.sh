#!/usr/bin/env bash
# The Go standard library's own tests as a third-party check of archway's Linux
# personality (issue 9): the packages below are tested natively (amd64) and for arm64
# under archway, in the same run and the same environment, and every test that passes
# natively must pass under archway, except those listed with their reason in
# tests/third-party/go-stdlib-differences.txt (tests/third-party/compare.go judges; a listed test that
# passes is an error too, so the list stays true).
#
#   bash scripts/go-stdlib-tests.sh [PACKAGE...]     default: os os/exec os/signal syscall
#                                                    time sync in full, net and runtime
#                                                    with -short (named ones: in full)
#
# How the arm64 tests run: `GOARCH=arm64 go test -exec ARCHWAY -json`, where
# ARCHWAY is the interpreter binary (target/release/archway-aarch64, or $ARCHWAY_AARCH64).
# Both runs happen in a private user and mount namespace whose own binfmt_misc has
# archway registered for aarch64 (`archway binfmt --install arm64`; the host's table is
# never touched), as on a machine with archway installed: a native program that runs the
# arm64 test binary (`sh -c`, `nohup`) then reaches archway too.
#
# Needs: Go (golang-go), installed by scripts/install-real-software.sh (run here first).
# Every package is built with -tags timetzdata: the time tests load their zone from
# GOROOT/lib/time/zoneinfo.zip, which Debian's Go leaves out. Go's build cache: .cache/go-build. Outputs: the two JSON
# streams and the verdict in a scratch directory under .cache/go-stdlib/, removed when
# every test agrees. Exit status: 0 when they agree, 1 when not, 2 on a setup error.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
archway_aarch64=${ARCHWAY_AARCH64:-$root_dir/target/release/archway-aarch64}
archway=${ARCHWAY_BIN:-$(dirname "$archway_aarch64")/archway}
inside=
if [ "${1:-}" = --inside ]; then inside=1; shift; fi
# Tested in full; and in short mode (net: loopback only, no external network; runtime:
# its long tests take minutes natively).
packages=(os os/exec os/signal syscall time sync)
short_packages=(net runtime)
if [ $# -gt 0 ]; then packages=("$@") short_packages=(); fi

say() { echo "go-stdlib-tests.sh: $*" >&2; }

if [ -z "$inside" ]; then
  for binary in "$archway_aarch64" "$archway"; do
    [ -x "$binary" ] || { say "$binary missing: cargo build --release --bins"; exit 2; }
  done
  bash "$root_dir/scripts/install-real-software.sh"
  mkdir -p "$root_dir/.cache/go-stdlib"
  out=$(mktemp -d "$root_dir/.cache/go-stdlib/run.XXXXXX")
  status=0
  ARCHWAY_AARCH64=$archway_aarch64 ARCHWAY_BIN=$archway OUT=$out \
    unshare --user --map-root-user --mount -- bash "${BASH_SOURCE[0]}" --inside "$@" || status=$?
  if [ $status -eq 0 ]; then
    rm -rf "$out"
  else
    say "outputs kept in $out"
  fi
  exit $status
fi

# Inside the namespace: a binfmt_misc of our own, with archway for aarch64.
mount_point=$OUT/binfmt_misc
mkdir -p "$mount_point"
mount -t binfmt_misc binfmt_misc "$mount_point"
"$archway" binfmt --install arm64 --interpreter-dir "$(dirname "$archway_aarch64")" --mount "$mount_point" >&2

export GOCACHE=$root_dir/.cache/go-build GOFLAGS=-mod=mod CGO_ENABLED=0
# Run from a directory outside any module: the packages are the standard library's.
cd "$OUT"
tests=(go test -count=1 -json -tags timetzdata -timeout 15m)

# `run NAME [GO TEST OPTIONS]`: both package lists, into NAME.json and NAME.err.
run() {
  local name=$1 start
  shift
  start=$(date +%s)
  {
    [ ${#packages[@]} -eq 0 ] || "${tests[@]}" "$@" "${packages[@]}" || true
    [ ${#short_packages[@]} -eq 0 ] || "${tests[@]}" -short "$@" "${short_packages[@]}" || true
  } >"$name.json" 2>"$name.err"
  say "$name run took $(($(date +%s) - start)) s"
}
say "${packages[*]} in full, ${short_packages[*]} in short mode: natively (amd64), then for arm64 under $archway_aarch64"
run native
GOARCH=arm64 run archway -exec "$archway_aarch64"

go run "$root_dir/tests/third-party/compare.go" native.json archway.json "$root_dir/tests/third-party/go-stdlib-differences.txt" \
  | tee verdict.txt
