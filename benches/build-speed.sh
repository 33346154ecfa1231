#!/usr/bin/env bash
# `archway build` against `podman build` of the same multi-platform Dockerfile, side by side
# in one run (issue 11, Acceptance, speed): tests/build/multistage (a stage on the build
# platform, then per platform apt-get install gcc and a C program compiled and run) for
# linux/amd64,linux/arm64, every build cold:
#
#   1. archway build, fresh state directory (foreign RUN steps under archway-aarch64, no
#      binfmt_misc entry), then the rebuild with nothing changed (same state directory);
#   2. podman build --platform linux/amd64,linux/arm64 --manifest, fresh private storage and
#      --no-cache, with archway-aarch64 registered in the host's binfmt_misc (flags PF, as
#      `archway binfmt --install arm64 -p yes` registers it), then its two images written
#      as an OCI layout (`podman manifest push --all LIST oci:DIR`), the kind of output
#      archway build writes (podman build itself leaves them in its storage, uncompressed);
#   3. the same podman build with qemu-aarch64-static registered instead (flags F, as
#      `multiarch/qemu-user-static --reset -p yes` registers it).
#
#   bash benches/build-speed.sh [--json] [--strict] [--keep]
#
#   --json    print the results as JSON instead of the table
#   --strict  exit 1 also when the acceptance does not hold (archway faster than both
#             podman builds, the rebuild under 1 s)
#   --keep    keep the work directory (logs, outputs) and print its path
#
# A build that fails, or whose log lacks "running on x86_64" and "running on aarch64" (the
# RUN hello step of each platform), or whose output lacks a platform, fails the run (exit 1).
# The rebuild must take every step from the cache (whether it gives the same index digest
# is reported).
#
# Setup, not timed: the Debian bookworm base images of scripts/debian-base-images.sh
# (cached under .cache/base-images) are pushed to a private docker-registry on 127.0.0.1
# (scripts/registry.sh, stopped by its pid at the end) as the two-platform index
# debian:bookworm, made with `archway manifest create/push`; every build pulls it from there
# (--build-arg REGISTRY=127.0.0.1:PORT). apt-get fetches from Debian's mirror in every build
# (podman with --network host), so the network's speed counts alike for all three.
#
# The host's binfmt_misc table is changed only while /tmp/archway-host-binfmt.lock is held
# (flock; other users of the host table take the same lock); it is captured first (mounted
# for the capture if it was not) and put back exactly at the end, failing or not: the same
# entries with the same text, the same status, unmounted again if it was not mounted.
#
# Binaries (override with the environment):
#   ARCHWAY              default target/release/archway (cargo build --release -p archway)
#   ARCHWAY_INTERPRETER  the static archway-aarch64; default the path scripts/build-static.sh
#                        prints (it builds it when needed)
#   BASE_IMAGES          the base images' OCI layout; default what scripts/debian-base-images.sh
#                        prints (it makes it when needed: debootstrap, root)
# Needs root (podman's storage, binfmt_misc). Tools, installed when missing by the project's
# scripts: docker-registry (install-image-tools.sh), podman (install-container-engines.sh),
# qemu-aarch64-static (install-test-deps.sh).
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
context=$root_dir/tests/build/multistage
binfmt=/proc/sys/fs/binfmt_misc
lock=/tmp/archway-host-binfmt.lock
qemu=/usr/bin/qemu-aarch64-static
# aarch64 ELF executables (machine.md, qemu-binfmt-conf.sh): the kernel's text of an entry
# with this magic is what claims arm64 programs.
aarch64_magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
aarch64_mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
aarch64_magic_hex=7f454c460201010000000000000000000200b700
say() { echo "build-speed.sh: $*" >&2; }
fail() { say "$*"; exit 1; }

json='' strict='' keep=''
for argument in "$@"; do
  case "$argument" in
    --json) json=1 ;;
    --strict) strict=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown option $argument (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || fail "needs root (podman's storage, the host's binfmt_misc)"
archway=${ARCHWAY:-$root_dir/target/release/archway}
[ -x "$archway" ] || fail "$archway missing: cargo build --release -p archway (or set ARCHWAY)"
interpreter=${ARCHWAY_INTERPRETER:-$(bash "$root_dir/scripts/build-static.sh")}
[ -x "$interpreter" ] || fail "$interpreter missing: bash scripts/build-static.sh (or set ARCHWAY_INTERPRETER)"
file -L "$interpreter" | grep -q 'static' || fail "$interpreter is not statically linked (binfmt_misc's F flag needs that)"
interpreter_dir=$(cd "$(dirname "$interpreter")" && pwd)
bash "$root_dir/scripts/install-image-tools.sh"
command -v podman >/dev/null || bash "$root_dir/scripts/install-container-engines.sh"
[ -x "$qemu" ] || bash "$root_dir/scripts/install-test-deps.sh"
base_images=${BASE_IMAGES:-$(bash "$root_dir/scripts/debian-base-images.sh")}
[ -f "$base_images/index.json" ] || fail "no OCI layout at $base_images"

work=$(mktemp -d "${TMPDIR:-/tmp}/archway-build-speed.XXXXXX")
registry_pid='' binfmt_saved='' locked=''
# Wall times in microseconds, set by `timed`.
archway_cold='' archway_again='' podman_archway='' podman_export='' podman_qemu=''

# --- the host's binfmt_misc table: capture and restore ---------------------------------

# The entries' names (not the control files).
binfmt_entries() {
  local path
  for path in "$binfmt"/*; do
    case ${path##*/} in register|status|'*') ;; *) echo "${path##*/}" ;; esac
  done
}

# Save the table into DIR: mounted or not, status, each entry's text.
binfmt_capture() {
  local dir=$1 name
  mkdir -p "$dir/entries"
  if [ -e "$binfmt/register" ]; then echo yes >"$dir/mounted"; else
    echo no >"$dir/mounted"
    mount -t binfmt_misc binfmt_misc "$binfmt"
  fi
  cat "$binfmt/status" >"$dir/status"
  for name in $(binfmt_entries); do cat "$binfmt/$name" >"$dir/entries/$name"; done
}

# The kernel's plain hex (7f454c46...) as register's escapes (\x7f\x45...).
hex_escapes() {
  local hex=$1 i
  for ((i = 0; i < ${#hex}; i += 2)); do printf '\\x%s' "${hex:i:2}"; done
}

# The `register` line that makes an entry again from the kernel's text of it (FILE).
binfmt_register_line() {
  local name=$1 file=$2 interpreter="" flags="" offset=0 magic="" mask="" extension="" key value
  while read -r key value; do
    case $key in
      interpreter) interpreter=$value ;;
      flags:) flags=$value ;;
      offset) offset=$value ;;
      magic) magic=$(hex_escapes "$value") ;;
      mask) mask=$(hex_escapes "$value") ;;
      extension) extension=${value#.} ;;
    esac
  done <"$file"
  if [ -n "$extension" ]; then
    printf ':%s:E::%s::%s:%s' "$name" "$extension" "$interpreter" "$flags"
  else
    printf ':%s:M:%s:%s:%s:%s:%s' "$name" "$offset" "$magic" "$mask" "$interpreter" "$flags"
  fi
}

# Make the table what DIR holds again, then check it is (every step is tried; the check at
# the end decides).
binfmt_restore() {
  local dir=$1 name saved
  [ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt"
  for name in $(binfmt_entries); do
    if ! cmp -s "$binfmt/$name" "$dir/entries/$name" 2>/dev/null; then echo -1 >"$binfmt/$name"; fi
  done
  for saved in "$dir/entries"/*; do
    name=${saved##*/}
    [ -f "$saved" ] && [ ! -e "$binfmt/$name" ] || continue
    binfmt_register_line "$name" "$saved" >"$binfmt/register"
    if [ "$(head -n 1 "$saved")" = disabled ]; then echo 0 >"$binfmt/$name"; fi
  done
  if ! cmp -s "$binfmt/status" "$dir/status"; then
    if [ "$(cat "$dir/status")" = enabled ]; then echo 1 >"$binfmt/status"; else echo 0 >"$binfmt/status"; fi
  fi
  rm -rf "$dir.now"
  binfmt_capture "$dir.now"
  diff -r "$dir/entries" "$dir.now/entries" >&2 || return 1
  cmp -s "$dir/status" "$dir.now/status" || return 1
  if [ "$(cat "$dir/mounted")" = no ]; then umount "$binfmt"; fi
}

# Leave exactly one aarch64 handler: remove archway-* and qemu-* entries, and refuse to go on
# if another entry still claims aarch64 programs.
binfmt_clear_aarch64() {
  local name
  for name in $(binfmt_entries); do
    case $name in archway-*|qemu-*) echo -1 >"$binfmt/$name" ;; esac
  done
  for name in $(binfmt_entries); do
    if grep -qx "magic $aarch64_magic_hex" "$binfmt/$name"; then
      fail "binfmt_misc entry $name also handles aarch64 programs; it would be used instead"
    fi
  done
}

# --- podman with private storage -------------------------------------------------------

# `podman` on the storage under DIR (machine.md: containers.conf for this host's cgroups).
podman_in() {
  local dir=$1
  shift
  CONTAINERS_CONF=$dir/containers.conf podman --root "$dir/storage" --runroot "$dir/run" "$@"
}

podman_prepare() {
  mkdir -p "$1"
  cat >"$1/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
}

# Everything in the storage goes, then the directory (unmounting what is left under it).
podman_remove() {
  local dir=$1 mount
  [ -d "$dir" ] || return 0
  podman_in "$dir" system reset --force >/dev/null 2>&1 || true
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r mount; do
    umount -l "$mount" || true
  done
  rm -rf "$dir"
}

cleanup() {
  local status=$? name
  trap - EXIT INT TERM
  set +e
  for name in podman-archway podman-qemu; do podman_remove "$work/$name"; done
  if [ -n "$binfmt_saved" ]; then
    if binfmt_restore "$binfmt_saved"; then say "the host's binfmt_misc is as it was"; else
      say "RESTORING THE HOST'S binfmt_misc FAILED: the table as it was is in $binfmt_saved"
      keep=1 status=1
    fi
  fi
  if [ -n "$locked" ]; then flock -u 9; fi
  if [ -n "$registry_pid" ]; then bash "$root_dir/scripts/registry.sh" stop "$registry_pid" || status=1; fi
  if [ -n "$keep" ]; then say "work directory kept: $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- setup: the registry and debian:bookworm --------------------------------------------

registry=$(bash "$root_dir/scripts/registry.sh" start "$work/registry")
read -r port registry_pid <<<"$registry"
host=127.0.0.1:$port
say "registry on $host (pid $registry_pid); pushing debian:bookworm (amd64, arm64) from $base_images"
export ARCHWAY_MANIFESTS=$work/manifests
"$archway" manifest create bench-debian "oci:$base_images:bookworm-amd64" "oci:$base_images:bookworm-arm64" >/dev/null
"$archway" manifest push bench-debian "docker://$host/debian:bookworm" --tls-verify=false >/dev/null
"$archway" manifest rm bench-debian >/dev/null

# Microseconds since the epoch, without a fork.
now() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$t"; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
seconds() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e6 }'; }

# The log LOG of build WHAT has both platforms' RUN hello lines.
check_ran_both() {
  local what=$1 log=$2 machine
  for machine in x86_64 aarch64; do
    grep -q "compiled in the build, running on $machine" "$log" \
      || fail "$what: no \"running on $machine\" in its log ($log)"
  done
}

# The index or list JSON on standard input names exactly linux/amd64 and linux/arm64.
check_platforms() {
  local what=$1 found
  found=$(grep -o '"architecture": *"[a-z0-9]*"' | sed 's/.*"\([a-z0-9]*\)"$/\1/' | sort | tr '\n' ' ')
  [ "$found" = "amd64 arm64 " ] || fail "$what: the output's platforms are \"$found\", not amd64 and arm64"
}

# Each line of standard input, stamped with the seconds since START (microseconds).
stamp() {
  local start=$1 line t
  while IFS= read -r line; do
    t=${EPOCHREALTIME//[!0-9]/}
    t=$((t - start))
    printf '%4d.%03d %s\n' $((t / 1000000)) $((t % 1000000 / 1000)) "$line"
  done
}

# Run a build, its output stamped in LOG, its wall time in microseconds in the variable NAME.
timed() {
  local name=$1 log=$2 start
  shift 2
  start=$(now)
  if ! { "$@" 2>&1 | stamp "$start" >"$log"; }; then
    tail -n 30 "$log" >&2
    fail "$name failed (log: $log)"
  fi
  printf -v "$name" '%s' "$(($(now) - start))"
}

# Microseconds from archway's "#exporting to the outputs" line in LOG to the end, TOTAL.
export_time() {
  awk -v total="$2" '/ #exporting to the outputs$/ { printf "%d", total - $1 * 1e6; exit }' "$1"
}

# --- 1. archway build, cold and again ---------------------------------------------------

# shellcheck disable=SC2054 # the comma is --platform's
archway_build=("$archway" build --platform linux/amd64,linux/arm64 --build-arg "REGISTRY=$host"
  --tls-verify=false --interpreter-dir "$interpreter_dir" --state-dir "$work/archway-state"
  --progress plain -t bench:1 -o "type=oci,dest=$work/archway-out")
say "1. archway build, cold"
timed archway_cold "$work/archway-cold.log" "${archway_build[@]}" --iidfile "$work/archway-cold.iid" "$context"
check_ran_both "archway build" "$work/archway-cold.log"
"$archway" manifest inspect "oci:$work/archway-out:1" --raw | check_platforms "archway build"
say "   $(seconds "$archway_cold") s; the rebuild, nothing changed"
timed archway_again "$work/archway-again.log" "${archway_build[@]}" --iidfile "$work/archway-again.iid" "$context"
# Every step line ("#N [platform stage i/n] ...", not "internal] load metadata") is CACHED.
steps=$(grep -c ' #[0-9]* \[[^]]* [0-9]*/[0-9]*\] ' "$work/archway-again.log" || true)
cached_steps=$(grep -c ' #[0-9]* CACHED$' "$work/archway-again.log" || true)
if [ "$steps" = 0 ] || [ "$cached_steps" != "$steps" ] || grep -q 'compiled in the build' "$work/archway-again.log"; then
  fail "the rebuild ran steps instead of taking all $steps from the cache (log: $work/archway-again.log)"
fi
"$archway" manifest inspect "oci:$work/archway-out:1" --raw | check_platforms "archway build (rebuild)"
same_digest=no
if cmp -s "$work/archway-cold.iid" "$work/archway-again.iid"; then same_digest=yes; fi
cold_export=$(export_time "$work/archway-cold.log" "$archway_cold")
again_export=$(export_time "$work/archway-again.log" "$archway_again")
say "   $(seconds "$archway_again") s ($cached_steps of $steps steps CACHED; same index digest: $same_digest)"

# --- 2. and 3. podman build, archway then qemu in the host's binfmt_misc -----------------

say "waiting for $lock (the host's binfmt_misc)"
exec 9>"$lock"
flock 9
locked=1
mkdir -p "$work/binfmt-saved"
binfmt_capture "$work/binfmt-saved"
binfmt_saved=$work/binfmt-saved
say "host binfmt_misc captured (mounted before: $(cat "$binfmt_saved/mounted"); entries: $(binfmt_entries | tr '\n' ' '))"

# podman build in fresh storage DIR; its time in the variable NAME.
podman_build() {
  local name=$1 dir=$2
  podman_prepare "$dir"
  timed "$name" "$work/$name.log" podman_in "$dir" build --platform linux/amd64,linux/arm64 \
    --manifest localhost/bench:1 --no-cache --network host --tls-verify=false \
    --build-arg "REGISTRY=$host" "$context"
  check_ran_both "podman build ($name)" "$work/$name.log"
  podman_in "$dir" manifest inspect localhost/bench:1 | check_platforms "podman build ($name)"
}

binfmt_clear_aarch64
"$archway" binfmt --install arm64 -p yes --interpreter-dir "$interpreter_dir" >/dev/null
say "2. podman build with $(grep -h '^interpreter\|^flags' "$binfmt/archway-aarch64" | tr '\n' ' ')"
podman_build podman_archway "$work/podman-archway"
say "   $(seconds "$podman_archway") s; writing its images as an OCI layout, as archway build does"
timed podman_export "$work/podman-export.log" podman_in "$work/podman-archway" \
  manifest push --all localhost/bench:1 "oci:$work/podman-out:1"
"$archway" manifest inspect "oci:$work/podman-out:1" --raw | check_platforms "podman manifest push"
podman_remove "$work/podman-archway"
say "   $(seconds "$podman_export") s"

binfmt_clear_aarch64
printf ':qemu-aarch64:M::%s:%s:%s:F' "$aarch64_magic" "$aarch64_mask" "$qemu" >"$binfmt/register"
say "3. podman build with $(grep -h '^interpreter\|^flags' "$binfmt/qemu-aarch64" | tr '\n' ' ')"
podman_build podman_qemu "$work/podman-qemu"
say "   $(seconds "$podman_qemu") s"
podman_remove "$work/podman-qemu"

# --- the results -------------------------------------------------------------------------

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
faster_than_both=no rebuild_under_1s=no
if [ "$archway_cold" -lt "$podman_archway" ] && [ "$archway_cold" -lt "$podman_qemu" ]; then faster_than_both=yes; fi
if [ "$archway_again" -lt 1000000 ]; then rebuild_under_1s=yes; fi
if [ -n "$json" ]; then
  cat <<JSON
{
  "seconds": {
    "archway_cold": $(seconds "$archway_cold"),
    "archway_rebuild": $(seconds "$archway_again"),
    "podman_archway_binfmt": $(seconds "$podman_archway"),
    "podman_qemu_binfmt": $(seconds "$podman_qemu"),
    "podman_manifest_push_to_oci_layout": $(seconds "$podman_export")
  },
  "ratios": {
    "archway_over_podman_archway": $(ratio "$archway_cold" "$podman_archway"),
    "archway_over_podman_qemu": $(ratio "$archway_cold" "$podman_qemu"),
    "archway_over_podman_archway_with_oci_layout": $(ratio "$archway_cold" "$((podman_archway + podman_export))")
  },
  "archway_writing_the_output_seconds": {
    "cold": $(seconds "$cold_export"),
    "rebuild": $(seconds "$again_export")
  },
  "rebuild_cached_steps": $cached_steps,
  "rebuild_same_digest": $([ $same_digest = yes ] && echo true || echo false),
  "archway_faster_than_both": $([ $faster_than_both = yes ] && echo true || echo false),
  "rebuild_under_1s": $([ $rebuild_under_1s = yes ] && echo true || echo false),
  "load_average_before": "$load_before",
  "load_average_after": "$load_after"
}
JSON
else
  printf '%-58s | %9s\n' "build of tests/build/multistage, linux/amd64,linux/arm64" "seconds"
  printf '%-58s | %9s\n' "archway build, cold" "$(seconds "$archway_cold")"
  printf '%-58s | %9s\n' "archway build, rebuild with nothing changed" "$(seconds "$archway_again")"
  printf '%-58s | %9s\n' "podman build --no-cache, archway-aarch64 in binfmt_misc" "$(seconds "$podman_archway")"
  printf '%-58s | %9s\n' "podman build --no-cache, qemu-aarch64-static in binfmt_misc" "$(seconds "$podman_qemu")"
  printf '%-58s | %9s\n' "podman manifest push --all to an OCI layout (after 2.)" "$(seconds "$podman_export")"
  echo "ratio archway/podman+archway: $(ratio "$archway_cold" "$podman_archway")"
  echo "ratio archway/podman+qemu:    $(ratio "$archway_cold" "$podman_qemu")"
  echo "ratio archway/(podman+archway, then the OCI layout written): $(ratio "$archway_cold" "$((podman_archway + podman_export))")"
  echo "archway faster than both: $faster_than_both; rebuild under 1 s: $rebuild_under_1s"
  echo "archway writing the OCI layout (from \"#exporting to the outputs\" to the end): cold $(seconds "$cold_export") s, rebuild $(seconds "$again_export") s"
  echo "rebuild: $cached_steps of $steps steps CACHED; the same index digest as the cold build: $same_digest"
  echo "load average (1, 5, 15 min) before: $load_before; after: $load_after ($(nproc) cores)"
fi
if [ -n "$strict" ] && { [ $faster_than_both = no ] || [ $rebuild_under_1s = no ]; }; then exit 1; fi
