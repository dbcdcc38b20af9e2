#!/usr/bin/env bash
# `make bench-scale`: benches/search_scale.rs at 100,000 projects × 10
# repositories (1,000,000 repositories) on SQLite and PostgreSQL, release
# build; prints its report and writes it into docs/BENCHMARKS.md between the
# `search-scale` markers. BENCH_PROJECTS and BENCH_REPOS_PER_PROJECT change
# the size (the report names it), BENCH_MARKERS the markers (`make bench`
# writes the 10,000-project run, with its cold start, between `cold-start`).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/load/lib.sh
ensure_command python3 python3
export BENCH_PROJECTS=${BENCH_PROJECTS:-100000}
export BENCH_REPOS_PER_PROJECT=${BENCH_REPOS_PER_PROJECT:-10}
export SEARCH_SCALE_REPORT=$WORK/search-scale.md
markers=${BENCH_MARKERS:-search-scale}
cargo bench --locked --bench search_scale
replace_between_markers docs/BENCHMARKS.md "$markers" "$SEARCH_SCALE_REPORT"
echo "written into docs/BENCHMARKS.md" >&2
