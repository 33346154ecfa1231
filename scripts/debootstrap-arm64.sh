#!/usr/bin/env bash
# Builds a Debian bookworm arm64 root with archway as the only aarch64 handler, the
# first acceptance check of issue 3, and optionally runs everyday tools inside it.
#
#   bash scripts/debootstrap-arm64.sh [ROOT]            # stages 1 and 2 (default ROOT:
#                                                       # .cache/real-software/bookworm-arm64)
#   bash scripts/debootstrap-arm64.sh --checks [ROOT]   # then, in the finished root: ldconfig,
#                                                       # dpkg -l, bash, perl, a coreutils
#                                                       # pipeline, apt-get install python3-minimal
#   bash scripts/debootstrap-arm64.sh --checks-only [ROOT]   # only the checks, in a root
#                                                            # finished before
#
# Steps (each printed as it starts):
#   1. `debootstrap --foreign --arch=arm64 --variant=minbase bookworm ROOT` on the host; the
#      downloaded .debs are kept in .cache/debootstrap-debs/ (debootstrap --cache-dir), so a
#      rerun only unpacks (a few seconds).
#   2. The static-pie interpreter (scripts/build-static.sh) is copied to
#      ROOT/usr/local/bin/archway-aarch64.
#   3. In a private mount namespace (the /proc and /sys debootstrap mounts stay in it):
#      `chroot ROOT /usr/local/bin/archway-aarch64 /bin/sh /debootstrap/debootstrap --second-stage`.
#      ROOT/proc is not mounted at first (a symlink to /proc where debootstrap thinks it
#      runs in docker) and debootstrap unmounts and remounts it: archway starts without
#      /proc, and its foreign children re-execute the same static binary (AT_EXECFN).
#      No binfmt_misc entry is needed or used. On failure the tail of
#      ROOT/debootstrap/debootstrap.log is printed.
#   4. With --checks: each tool runs as `chroot ROOT /usr/local/bin/archway-aarch64 PROGRAM ...`
#      with ROOT/proc mounted.
#
# Environment: ARCHWAY_LOG (e.g. `warn`: names unknown syscalls and undefined instructions),
# ARCHWAY_ENGINE, ARCHWAY_STATIC_BIN (an already built static interpreter), MIRROR.
# Needs root (debootstrap, chroot, mount). Tools: scripts/install-real-software.sh.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
checks=
stages=1
case "${1:-}" in
  --checks) checks=1; shift ;;
  --checks-only) checks=1; stages=; shift ;;
esac
target=${1:-$root_dir/.cache/real-software/bookworm-arm64}
mkdir -p "$(dirname "$target")"
target=$(cd "$(dirname "$target")" && pwd)/$(basename "$target")
mirror=${MIRROR:-http://deb.debian.org/debian}
debs=$root_dir/.cache/debootstrap-debs
interp=/usr/local/bin/archway-aarch64

step() { echo "debootstrap-arm64.sh: $*" >&2; }

static_bin=${ARCHWAY_STATIC_BIN:-}
if [ -z "$static_bin" ]; then
  static_bin=$(bash "$root_dir/scripts/build-static.sh")
fi

# Run "$@" (a command line inside ROOT) under chroot in a private mount namespace that
# disappears with the command; `in_root --proc ...` mounts ROOT/proc in it first.
in_root() {
  local proc=0
  if [ "$1" = --proc ]; then proc=1; shift; fi
  unshare --mount --propagation private -- sh -c '
    root=$1; proc=$2; shift 2
    if [ "$proc" = 1 ] && [ -d "$root/proc" ] && [ ! -L "$root/proc" ]; then
      mount -t proc proc "$root/proc"
    fi
    exec chroot "$root" "$@"' in_root "$target" "$proc" "$@"
}

if [ -z "$stages" ] && { [ ! -e "$target/var/lib/dpkg/status" ] || [ -d "$target/debootstrap" ]; }; then
  step "$target is not a finished root: run without --checks-only first"
  exit 1
fi
if [ -n "$stages" ]; then
  step "1. first stage into $target"
  rm -rf "$target"
  mkdir -p "$debs"
  # One first stage at a time writes into the shared .deb cache.
  flock "$debs" debootstrap --foreign --arch=arm64 --variant=minbase --cache-dir="$debs" \
    bookworm "$target" "$mirror" >/dev/null
fi

step "2. static interpreter $static_bin -> $target$interp"
install -D -m 0755 "$static_bin" "$target$interp"

if [ -n "$stages" ]; then
  step "3. second stage under archway"
  start=$(date +%s)
  if ! in_root "$interp" /bin/sh /debootstrap/debootstrap --second-stage; then
    step "second stage FAILED after $(($(date +%s) - start)) s; end of debootstrap.log:"
    tail -n 30 "$target/debootstrap/debootstrap.log" >&2 || true
    exit 1
  fi
  step "second stage done in $(($(date +%s) - start)) s"
fi

[ -n "$checks" ] || exit 0

# The root's own tools, each started by the interpreter (its children re-exec it).
# `check PATTERN COMMAND...`: the command must succeed and print a line matching PATTERN
# (an extended regular expression).
check() {
  local pattern=$1 output
  shift
  step "4. $*"
  if ! output=$(in_root --proc "$interp" "$@" 2>&1); then
    printf '%s\n' "$output" | tail -n 30 >&2
    step "FAILED: $*"
    exit 1
  fi
  printf '%s\n' "$output" | tail -n 5
  if ! printf '%s\n' "$output" | grep -Eq "$pattern"; then
    step "FAILED: $* printed no line matching $pattern"
    exit 1
  fi
}
cp /etc/resolv.conf "$target/etc/resolv.conf"
check '' /sbin/ldconfig
check '^ii +zlib1g:arm64 ' /usr/bin/dpkg -l
check '^bash 5\.[0-9.]+.*: 42$' /bin/bash -c 'echo "bash $BASH_VERSION: $((6 * 7))"'
check '^perl v5\.[0-9.]+: 1,4,9,16,25$' /usr/bin/perl -e 'print "perl $^V: ", join(",", map { $_ * $_ } 1 .. 5), "\n"'
check '^1000 999 998 :3$' /bin/sh -c 'seq 1 1000 | sort -rn | head -n 3 | tr "\n" " "; printf ":"; seq 3 | wc -l'
check '^Reading package lists' /usr/bin/apt-get update -q
check '^(Setting up python3-minimal |python3-minimal is already)' /usr/bin/apt-get install -y -q python3-minimal
check '^python 3\.11\.[0-9]+ aarch64$' /usr/bin/python3 -c 'import sys, platform; print("python", sys.version.split()[0], platform.machine())'
step "all checks passed"
