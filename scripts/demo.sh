#!/usr/bin/env bash
# archway's main job on a bundled example: build the translator, then run aarch64
# programs from fixtures/bin on this x86_64 host. Needs only cargo (the fixture
# binaries are committed, so no cross compiler is required).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bins --quiet
archway=target/release/archway

echo "host: $(uname -m); guest programs: $(file -b fixtures/bin/hello 2>/dev/null | cut -d, -f1-2 || echo 'ELF aarch64')"
echo "--- archway run fixtures/bin/hello"
"$archway" run fixtures/bin/hello
echo "--- archway run fixtures/bin/sha256"
"$archway" run fixtures/bin/sha256
echo "--- archway run fixtures/bin/qsort"
"$archway" run fixtures/bin/qsort
