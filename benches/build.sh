#!/usr/bin/env bash
# Builds the benchmark workloads for both sides of the comparison and fetches busybox:
#
#   target/bench-cache/aarch64/NAME   aarch64-linux-gnu-gcc -static (the guest programs)
#   target/bench-cache/x86_64/NAME    gcc -static (the native baseline, same source and flags)
#   .cache/busybox/{arm64,amd64}/bin/busybox   via scripts/fetch-busybox.sh
#
# Usage: bash benches/build.sh        (then: cargo run --release -p archway-benches)
# Idempotent: a program is rebuilt only when its source or this script is newer.
# Nothing here is committed. If busybox cannot be fetched (no network or not root),
# the busybox workloads are reported as MISSING by the harness; the rest still run.
set -euo pipefail

benches_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "$benches_dir")
workloads_dir=$benches_dir/workloads
cache_dir=$root_dir/target/bench-cache
cross_cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
host_cc=${HOST_CC:-gcc}

# name | source | flags (both architectures)
workload_table() {
  cat <<'TABLE'
sha256        | sha256.c  | -O2
md5           | md5.c     | -O2
qsort         | qsort.c   | -O2
fib           | fib.c     | -O2
intloop       | intloop.c | -O2
matmul_scalar | matmul.c  | -O2 -fno-tree-vectorize -ffp-contract=off
matmul_vector | matmul.c  | -O3 -ffp-contract=off
trivial       | trivial.c | -O2
TABLE
}

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

mkdir -p "$cache_dir/aarch64" "$cache_dir/x86_64"
while IFS='|' read -r name source flags; do
  name=$(trim "$name"); source=$(trim "$source"); flags=$(trim "$flags")
  for arch in aarch64 x86_64; do
    if [ "$arch" = aarch64 ]; then compiler=$cross_cc; else compiler=$host_cc; fi
    output=$cache_dir/$arch/$name
    if [ -x "$output" ] && [ "$output" -nt "$workloads_dir/$source" ] \
       && [ "$output" -nt "${BASH_SOURCE[0]}" ]; then
      continue
    fi
    # shellcheck disable=SC2086 # flags are words
    "$compiler" $flags -static -Wall -o "$output.tmp" "$workloads_dir/$source"
    mv "$output.tmp" "$output"
    echo "built $arch/$name"
  done
done < <(workload_table)

if ! bash "$root_dir/scripts/fetch-busybox.sh" >/dev/null; then
  echo "benches/build.sh: could not fetch busybox; its workloads will be reported as MISSING" >&2
fi
echo "benchmark programs are in $cache_dir"
