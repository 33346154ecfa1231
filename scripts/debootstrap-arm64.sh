#!/usr/bin/env bash
# Builds a Debian bookworm arm64 root with archway as the only aarch64 handler, the
# first acceptance check of issue 3, and optionally runs everyday tools inside it.
#
#   bash scripts/debootstrap-arm64.sh [ROOT]            # stages 1 and 2 (default ROOT:
#                                                       # .cache/real-software/bookworm-arm64)
#   bash scripts/debootstrap-arm64.sh --checks [ROOT]   # then, in the finished root: ldconfig,
#                                                       # dpkg -l, bash, perl, a coreutils
#                                                       # pipeline, apt-get install python3-minimal,
#                                                       # and Python cases of issue 9 (threaded
#                                                       # initgroups through binfmt F, epoll,
#                                                       # signal mask across exec, -L)
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

# in_root and in_root_binfmt
# shellcheck source=scripts/lib/guest-root.sh
source "$root_dir/scripts/lib/guest-root.sh"

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

# Issue 9's cases, with Python as its users meet them.
# `python_check NAME PATTERN SCRIPT [RUNNER...]`: SCRIPT run by the root's python3 must succeed
# and print a line matching PATTERN; RUNNER (default in_root_binfmt) starts it.
python_check() {
  local name=$1 pattern=$2 script=$3 output
  shift 3
  step "4. python: $name"
  [ $# -gt 0 ] || set -- in_root_binfmt /usr/bin/python3
  if ! output=$("$@" -c "$script" 2>&1) || ! printf '%s\n' "$output" | grep -Eq "$pattern"; then
    printf '%s\n' "$output" | tail -n 30 >&2
    step "FAILED: python: $name (want a line matching $pattern)"
    exit 1
  fi
  printf '%s\n' "$output" | tail -n 3
}
python_check 'os.initgroups and setgroups as root with a second thread running, through binfmt F' \
  '^groups of 2 threads: \[\[0, 4, 24\], \[0, 4, 24\]\]$' '
import os, threading
stop = threading.Event()
watchdog = threading.Thread(target=stop.wait)
watchdog.start()
os.initgroups("root", 0)
os.setgroups([0, 4, 24])
def groups(tid):
    for line in open(f"/proc/self/task/{tid}/status"):
        if line.startswith("Groups:"):
            return sorted(int(g) for g in line.split()[1:])
print("groups of 2 threads:", [groups(t) for t in sorted(os.listdir("/proc/self/task"), key=int)])
stop.set()
watchdog.join()'
python_check '10000 ready descriptors in one epoll_wait (selectors.EpollSelector)' '^ready: 10000$' '
import os, resource, selectors
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
selector = selectors.EpollSelector()
for _ in range(10000):
    fd = os.eventfd(1)
    selector.register(fd, selectors.EVENT_READ)
print("ready:", len(selector.select(timeout=1)))'
python_check 'a blocked SIGINT and SIGTERM and a pending SIGINT survive exec' \
  '^SigBlk: 0000000000004002 pending: \[<Signals.SIGINT: 2>\]$' '
import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
os.kill(os.getpid(), signal.SIGINT)
os.execv("/usr/bin/python3", ["python3", "-c", """
import signal
blocked = [l.split()[1] for l in open("/proc/self/status") if l.startswith("SigBlk:")][0]
print("SigBlk:", blocked, "pending:", sorted(signal.sigpending()))
"""])'
# -L ROOT with the program given by its host path: sys.executable is that path, and a
# child started from it must run (qemu-user -L fails this one).
python_check 'archway -L ROOT ROOT/usr/bin/python3 runs sys.executable again' '^child: 0 42$' '
import subprocess, sys
result = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
print("child:", result.returncode, result.stdout.strip())' \
  env ARCHWAY_ROOT="$target" "$static_bin" "$target/usr/bin/python3"
step "all checks passed"
