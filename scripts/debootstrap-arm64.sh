#!/usr/bin/env bash
# Builds a Debian bookworm arm64 root with archway as the only aarch64 handler, the
# first acceptance check of issue 3, and optionally runs everyday tools inside it.
#
#   bash scripts/debootstrap-arm64.sh [ROOT]            # stages 1 and 2 (default ROOT:
#                                                       # .cache/real-software/bookworm-arm64)
#   bash scripts/debootstrap-arm64.sh --checks [ROOT]   # then, in the finished root: ldconfig,
#                                                       # dpkg -l, bash, perl, a coreutils
#                                                       # pipeline, apt-get install python3-minimal
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
if [ "${1:-}" = "--checks" ]; then
  checks=1
  shift
fi
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
# disappears with the command; with MOUNT_PROC=1, ROOT/proc is mounted in it first.
in_root() {
  unshare --mount --propagation private -- sh -c '
    root=$1; shift
    if [ "$MOUNT_PROC" = 1 ] && [ -d "$root/proc" ] && [ ! -L "$root/proc" ]; then
      mount -t proc proc "$root/proc"
    fi
    exec chroot "$root" "$@"' in_root "$target" "$@"
}

if [ -z "$checks" ] || [ ! -e "$target/var/lib/dpkg/status" ] || [ -d "$target/debootstrap" ]; then
  step "1. first stage into $target"
  rm -rf "$target"
  mkdir -p "$debs"
  debootstrap --foreign --arch=arm64 --variant=minbase --cache-dir="$debs" bookworm "$target" "$mirror" >/dev/null

  step "2. static interpreter $static_bin -> $target$interp"
  install -D -m 0755 "$static_bin" "$target$interp"

  step "3. second stage under archway"
  start=$(date +%s)
  if ! MOUNT_PROC=0 in_root "$interp" /bin/sh /debootstrap/debootstrap --second-stage; then
    step "second stage FAILED after $(($(date +%s) - start)) s; end of debootstrap.log:"
    tail -n 30 "$target/debootstrap/debootstrap.log" >&2 || true
    exit 1
  fi
  step "second stage done in $(($(date +%s) - start)) s"
fi

[ -n "$checks" ] || exit 0

# The root's own tools, each started by the interpreter (its children re-exec it).
run() {
  step "4. $*"
  MOUNT_PROC=1 in_root "$interp" "$@"
}
cp /etc/resolv.conf "$target/etc/resolv.conf"
run /sbin/ldconfig
run /usr/bin/dpkg -l | tail -n 3
run /bin/bash -c 'echo "bash $BASH_VERSION: $((6 * 7))"'
run /usr/bin/perl -e 'print "perl $^V: ", join(",", map { $_ * $_ } 1 .. 5), "\n"'
run /bin/sh -c 'seq 1 1000 | sort -rn | head -n 3 | tr "\n" " " | wc -w'
run /usr/bin/apt-get update -q
run /usr/bin/apt-get install -y -q python3-minimal
run /usr/bin/python3 -c 'import sys, platform; print("python", sys.version.split()[0], platform.machine())'
