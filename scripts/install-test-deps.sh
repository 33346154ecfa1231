#!/usr/bin/env bash
# Installs what archway's tests need on a Debian bookworm machine, idempotently:
# the aarch64 cross compiler (fixtures), qemu-user-static (the oracle), the host
# C compiler (x86_64 builds for benchmarks), capstone's build needs, and arm64 glibc
# (libc6:arm64) for dynamically linked guests. Debian's
# arm64/amd64 busybox-static packages come from scripts/fetch-busybox.sh.
# Safe to run again: it installs only what is missing.
set -euo pipefail

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v busybox >/dev/null || need+=(busybox-static)
command -v gcc >/dev/null || need+=(gcc libc6-dev)          # x86_64 builds of fixtures and benchmarks
[ -x /usr/bin/python3 ] || need+=(python3-minimal)          # the binfmt tests' exec with a chosen argv
command -v setpriv >/dev/null || need+=(util-linux)          # unshare, setpriv: binfmt tests

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Installing qemu-user-static may register qemu-* binfmt handlers. Tests run the
# oracle explicitly as qemu-aarch64-static and must never depend on binfmt, so
# nothing here relies on those entries.

# The real arm64 glibc (/lib/ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu/libc.so.6...)
# for the dynamically linked fixtures, under archway and under qemu. Never point qemu's
# -L at /usr/aarch64-linux-gnu instead (see the reference notes: two glibc builds mix).
if [ ! -e /lib/ld-linux-aarch64.so.1 ] || ! dpkg -s libc6:arm64 >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends libc6:arm64 >/dev/null
fi
