#!/usr/bin/env bash
# Python's own regression tests (Debian's libpython3.11-testsuite) as a second
# third-party suite for archway (issue 9): the modules below run natively (the host's
# Debian python3.11) and for arm64 under archway (the same version in a Debian bookworm
# arm64 root, started by the static interpreter in a chroot), in the same run; every test
# that passes natively must pass under archway, except those listed with their reason in
# tests/third-party/python-differences.txt (tests/third-party/compare.go judges).
#
#   bash scripts/python-tests.sh ROOT [MODULE...]
#
# ROOT: a finished root from scripts/debootstrap-arm64.sh (its apt sources gain
# bookworm-security, so that both sides get the same Python). Installs
# libpython3.11-testsuite on the host and python3, libpython3.11-testsuite, zip and unzip
# in ROOT (apt-get under archway). Outputs: the two JUnit files and the verdict in a
# scratch directory under .cache/python-tests/, removed when every test agrees.
# Environment: ARCHWAY_STATIC_BIN (the static interpreter; built if unset). Needs root.
# Exit status: 0 when the two runs agree, 1 when not, 2 on a setup error.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { echo "python-tests.sh: $*" >&2; }
[ $# -ge 1 ] || { say "usage: python-tests.sh ROOT [MODULE...]"; exit 2; }
target=$(cd "$1" && pwd)
shift
modules=(test_signal test_threading test_threadsignals test_os test_posix test_subprocess test_selectors
  test_epoll test_poll test_select test_fork1 test_wait3 test_wait4 test_resource test_fcntl test_mmap
  test_pty test_time test_tempfile test_shutil test_stat test_fileio test_sys test_faulthandler test_pwd
  test_grp test_getpass test_ioctl test_sched test_math test_float test_long test_decimal test_struct
  test_unicode test_re test_json test_zlib test_hashlib)
[ $# -eq 0 ] || modules=("$@")
interp=/usr/local/bin/archway-aarch64
static_bin=${ARCHWAY_STATIC_BIN:-}
[ -n "$static_bin" ] || static_bin=$(bash "$root_dir/scripts/build-static.sh")
# shellcheck source=scripts/lib/guest-root.sh
source "$root_dir/scripts/lib/guest-root.sh"

if [ ! -e "$target/var/lib/dpkg/status" ] || [ -d "$target/debootstrap" ]; then
  say "$target is not a finished root (scripts/debootstrap-arm64.sh builds one)"
  exit 2
fi
install -D -m 0755 "$static_bin" "$target$interp"

say "installing libpython3.11-testsuite on the host"
if ! dpkg -s libpython3.11-testsuite >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpython3.11-testsuite >/dev/null
fi
say "installing python3 and libpython3.11-testsuite in $target (apt-get under archway)"
security='deb http://deb.debian.org/debian-security bookworm-security main'
grep -qxF "$security" "$target/etc/apt/sources.list" || echo "$security" >>"$target/etc/apt/sources.list"
cp /etc/resolv.conf "$target/etc/resolv.conf"
in_root --proc "$interp" /usr/bin/apt-get update -qq
in_root --proc "$interp" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  /usr/bin/apt-get install -y -qq python3 libpython3.11-testsuite zip unzip >/dev/null
host_version=$(dpkg-query -W -f '${Version}' libpython3.11-testsuite)
guest_version=$(in_root "$interp" /usr/bin/dpkg-query -W -f '${Version}' libpython3.11-testsuite)
if [ "$host_version" != "$guest_version" ]; then
  say "the host has Python $host_version, the root $guest_version: the runs would not compare"
  exit 2
fi

mkdir -p "$root_dir/.cache/python-tests"
out=$(mktemp -d "$root_dir/.cache/python-tests/run.XXXXXX")
scratch=/tmp/archway-python-tests.$$
say "${#modules[@]} modules of Python $host_version: natively, then for arm64 under archway"
start=$(date +%s)
(cd "$out" && /usr/bin/python3 -m test -q -j2 --junit-xml "$out/native.xml" "${modules[@]}" >native.log 2>&1) || true
say "native run took $(($(date +%s) - start)) s"
start=$(date +%s)
mkdir -p "$target$scratch"
# shellcheck disable=SC2016 # expanded by the root's shell
in_root --proc "$interp" /bin/sh -c \
  'dir=$1; shift; cd "$dir" && exec /usr/bin/python3 -m test -q -j2 --junit-xml "$dir/archway.xml" "$@"' \
  sh "$scratch" "${modules[@]}" >"$out/archway.log" 2>&1 || true
mv "$target$scratch/archway.xml" "$out/archway.xml" 2>/dev/null || say "the arm64 run wrote no results: $out/archway.log"
rm -rf "${target:?}$scratch"
say "archway run took $(($(date +%s) - start)) s"

status=0
(cd "$out" && go run "$root_dir/tests/third-party/compare.go" native.xml archway.xml \
  "$root_dir/tests/third-party/python-differences.txt") | tee "$out/verdict.txt" || status=$?
if [ $status -eq 0 ]; then rm -rf "$out"; else say "outputs kept in $out"; status=1; fi
exit $status
