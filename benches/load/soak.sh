#!/usr/bin/env bash
# `make soak`: benches/soak (60 s of mixed load and a writer while Redis,
# PostgreSQL and the upstream services fail), release build; prints its
# report and writes it into docs/BENCHMARKS.md between the `soak` markers.
set -euo pipefail
cd "$(dirname "$0")/../.."
source benches/load/lib.sh
ensure_command python3 python3
ensure_command iproute2 ss
export SOAK_REPORT=$WORK/soak.md
cargo bench --locked --bench soak
replace_between_markers docs/BENCHMARKS.md soak "$SOAK_REPORT"
echo "written into docs/BENCHMARKS.md" >&2
