#!/usr/bin/env bash
# `archway check` against `umoci unpack` of the same image, side by side in one run: a
# Debian bookworm arm64 image with python3, read from an OCI layout, smoke test off. check
# reads and decompresses every layer and keeps facts; umoci unpack decompresses and also
# writes every file. Prints each command's times (min and median of RUNS, interleaved)
# and the ratio check/unpack.
#
#   bash benches/check.sh [RUNS]      default 5
#
# The image is packed once by umoci (one gzip layer) into target/bench-cache/check/ from a
# finished Debian arm64 root with python3: $ROOT, else .cache/real-software/bookworm-arm64
# (made, with python3-minimal, by `scripts/debootstrap-arm64.sh --checks`, which this runs
# when the root is missing). Needs umoci (scripts/install-image-tools.sh) and a release
# archway (cargo build --release -p archway).
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-5}
archway=$root_dir/target/release/archway
work=$root_dir/target/bench-cache/check
layout=$work/layout
root=${ROOT:-$root_dir/.cache/real-software/bookworm-arm64}
say() { echo "check.sh: $*" >&2; }

[ -x "$archway" ] || { say "$archway missing: cargo build --release -p archway"; exit 1; }
bash "$root_dir/scripts/install-image-tools.sh"
if [ ! -x "$root/usr/bin/python3" ]; then
  say "no Debian root with python3 at $root: making one (scripts/debootstrap-arm64.sh --checks)"
  bash "$root_dir/scripts/debootstrap-arm64.sh" --checks "$root"
fi
if [ ! -e "$layout/index.json" ]; then
  say "packing $root into $layout"
  rm -rf "$work"
  mkdir -p "$work"
  umoci init --layout "$layout"
  umoci new --image "$layout:bookworm-python"
  umoci unpack --rootless --image "$layout:bookworm-python" "$work/bundle" >/dev/null
  cp -a "$root/." "$work/bundle/rootfs/"
  rm -f "$work/bundle/rootfs/usr/local/bin/archway-aarch64"
  umoci repack --image "$layout:bookworm-python" "$work/bundle"
  umoci config --image "$layout:bookworm-python" --architecture arm64 --os linux \
    --config.entrypoint /usr/bin/python3 --config.cmd --version
  rm -rf "$work/bundle"
fi
size=$(du -sh "$layout" | cut -f1)
say "image: $layout:bookworm-python ($size compressed)"

now() { date +%s%N; }
check_times=() unpack_times=()
for i in $(seq 1 "$runs"); do
  start=$(now)
  "$archway" check "oci:$layout:bookworm-python" --no-smoke --quiet --json >"$work/report.json" || true
  check_times+=($(($(now) - start)))
  rm -rf "$work/unpacked"
  start=$(now)
  umoci unpack --rootless --image "$layout:bookworm-python" "$work/unpacked" >/dev/null 2>&1
  unpack_times+=($(($(now) - start)))
  rm -rf "$work/unpacked"
  say "run $i of $runs done"
done

stats() { # min and median, in seconds with 3 decimals, of nanosecond values
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f %.3f", v[1] / 1e9, v[int((NR + 1) / 2)] / 1e9 }'
}
read -r check_min check_median <<<"$(stats "${check_times[@]}")"
read -r unpack_min unpack_median <<<"$(stats "${unpack_times[@]}")"
verdict=$(grep -m1 '"verdict"' "$work/report.json" | tr -d ' ,')
elf=$(grep -m1 '"elf_files"' "$work/report.json" | tr -d ' ,')
printf '%-34s | min s  | median s\n' "command ($runs runs each, interleaved)"
printf '%-34s | %6s | %6s\n' "archway check --no-smoke" "$check_min" "$check_median"
printf '%-34s | %6s | %6s\n' "umoci unpack --rootless" "$unpack_min" "$unpack_median"
awk -v a="$check_median" -v b="$unpack_median" 'BEGIN { printf "ratio check/unpack (medians): %.2f\n", a / b }'
echo "check's report: $verdict $elf"
