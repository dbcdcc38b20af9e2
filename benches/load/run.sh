#!/usr/bin/env bash
# `make bench`: the gateway beside PostGraphile v5 and a bare async-graphql
# endpoint, in one run, on one fresh PostgreSQL database holding the catalogue's
# projects and a synthetic 10,000-project catalogue (a copy of the template
# database the first run loads and keeps); wrk from loopback.
# Prints a Markdown report and writes it into docs/BENCHMARKS.md between the
# `load-benchmark` markers.
#
# Settings: BENCH_SECONDS (per measurement, default 10),
# BENCH_CONCURRENCY (connections, default "8 64"), BENCH_MIXED_ROUNDS (the
# portal's mixed runs, default 3),
# BENCH_PROJECTS (default 10000), BENCH_ONLY (some of
# "uncached memory redis postgraphile bare portal soak-memory"; the REST project
# list and its GraphQL twin are measured with "uncached" and "memory"; "portal"
# measures the queries a portal sends (portal.sh), with the answer cache off,
# and "soak-memory" the memory under distinct queries (memory_soak.sh): each
# writes its own table into docs/BENCHMARKS.md (`portal-benchmark`,
# `memory-soak` markers) whenever it runs; the main report goes to the
# terminal only unless every part runs; naming none of them, e.g. "subscriptions" for
# benches/subscriptions/run.sh, skips this script), the memory soak's settings
# (benches/load/memory_soak.sh), BENCH_RELOAD=1 (load the catalogue again rather
# than copy the template an earlier run kept), CATALOGUE_TEST_POSTGRES_URL,
# BENCH_REDIS_URL, BENCH_PORT (the gateway's; every server gets a free port by default).
set -euo pipefail
cd "$(dirname "$0")/../.."

ONLY=${BENCH_ONLY:-}
# Whether the part $1 is to be measured.
selected() {
    [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]
}
if ! selected uncached && ! selected memory && ! selected redis && ! selected postgraphile &&
    ! selected bare && ! selected portal && ! selected soak-memory; then
    exit 0
fi

source benches/load/lib.sh
source benches/load/queries.sh
source benches/load/portal.sh
source benches/load/memory_soak.sh

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONCURRENCY=${BENCH_CONCURRENCY:-8 64}
PROJECTS=${BENCH_PROJECTS:-10000}
POSTGRAPHILE_PORT=$(free_port)
BARE_PORT=$(free_port)

ensure_command wrk wrk
ensure_command python3 python3
ensure_command iproute2 ss
if selected postgraphile; then
    ensure_postgraphile
fi
build_release
fresh_catalogue_database "$PROJECTS"

REPORT=$WORK/report.md
ROWS=$WORK/rows.tsv # system, mode, query, connections, req/s, p50, p99, errors

# Measures every query of the current server in mode $1 for system $2;
# $3… are "label=query" pairs.
measure_all() {
    local mode=$1 system=$2 url=$3
    shift 3
    local pair label query connections row
    for pair in "$@"; do
        label=${pair%%=*}
        query=${pair#*=}
        check_answer "$url" "$query" "$system $label"
        for connections in $CONCURRENCY; do
            if ! row=$(measure "$url" "$query" "$connections" "$SECONDS_PER_RUN"); then
                echo "$system $mode $label at $connections connections: non-2xx answers ($row); the run stops" >&2
                exit 1
            fi
            printf '%s\t%s\t%s\t%s\t%s\n' "$system" "$mode" "$label" "$connections" "$row" >>"$ROWS"
        done
    done
}

OURS=(list="$OURS_LIST" nested="$OURS_NESTED" page="$OURS_PAGE" search="$OURS_SEARCH")
GATEWAY_URL=http://127.0.0.1:$GATEWAY_PORT/graphql

# The REST project list and its GraphQL twin, on the current gateway, in mode $1.
measure_rest() {
    local mode=$1 base=http://127.0.0.1:$GATEWAY_PORT connections
    check_rest "$base" "$REST_LIST_PATH"
    rest_twin_body "$base" /api/v1/projects "$REST_LIST_VARIABLES" >"$WORK/twin.json"
    for connections in $CONCURRENCY; do
        printf '%s\t%s\t%s\t%s\t%s\n' gateway "$mode" rest "$connections" \
            "$(measure_get "$base$REST_LIST_PATH" "$connections" "$SECONDS_PER_RUN")" >>"$ROWS"
        printf '%s\t%s\t%s\t%s\t%s\n' gateway "$mode" rest-twin "$connections" \
            "$(measure_body "$GATEWAY_URL" "$WORK/twin.json" "$connections" "$SECONDS_PER_RUN")" >>"$ROWS"
    done
}

if selected uncached; then
    start_gateway CATALOGUE_CACHE_ANSWERS=0
    measure_all uncached gateway "$GATEWAY_URL" "${OURS[@]}"
    measure_rest uncached
    stop_gateway
fi
if selected memory; then
    start_gateway
    measure_all "cached in process" gateway "$GATEWAY_URL" "${OURS[@]}"
    measure_rest "cached in process"
    stop_gateway
fi
if selected redis; then
    start_gateway CATALOGUE_REDIS_URL="$REDIS" CATALOGUE_REDIS_PREFIX="catalogue-bench:$$:"
    measure_all "cached in Redis" gateway "$GATEWAY_URL" "${OURS[@]}"
    stop_gateway
fi
if selected postgraphile; then
    # One worker per core, as PostGraphile recommends in production.
    start_server postgraphile "http://127.0.0.1:$POSTGRAPHILE_PORT/graphql" \
        env DATABASE_URL="$DATABASE_URL" PORT="$POSTGRAPHILE_PORT" NODE_ENV=production \
        GRAPHILE_ENV=production WORKERS="$(nproc)" "$NODE" "$POSTGRAPHILE/cluster.mjs"
    measure_all uncached postgraphile "http://127.0.0.1:$POSTGRAPHILE_PORT/graphql" \
        list="$PG_LIST" nested="$PG_NESTED" page="$PG_PAGE"
    stop_server postgraphile
fi
if selected bare; then
    start_server bare "http://127.0.0.1:$BARE_PORT/graphql" "$BARE" "127.0.0.1:$BARE_PORT"
    measure_all constant bare "http://127.0.0.1:$BARE_PORT/graphql" constant="{ hello }"
    stop_server bare
fi

if selected portal; then
    start_gateway CATALOGUE_CACHE_ANSWERS=0
    measure_portal "$GATEWAY_URL" "${SERVERS[gateway]}"
    stop_gateway
    python3 benches/load/portal_report.py "$PORTAL_ROWS" >"$WORK/portal.md"
    cat "$WORK/portal.md"
    replace_between_markers docs/BENCHMARKS.md portal-benchmark "$WORK/portal.md"
    echo "portal queries written into docs/BENCHMARKS.md" >&2
fi
if selected soak-memory; then
    soak_memory >"$WORK/soak-memory.md"
    cat "$WORK/soak-memory.md"
    replace_between_markers docs/BENCHMARKS.md memory-soak "$WORK/soak-memory.md"
    echo "memory soak written into docs/BENCHMARKS.md" >&2
fi

if [ -s "$ROWS" ]; then
    write_report "$ROWS" >"$REPORT"
    cat "$REPORT"
    if [ -z "$ONLY" ]; then
        replace_between_markers docs/BENCHMARKS.md load-benchmark "$REPORT"
        echo "written into docs/BENCHMARKS.md" >&2
    fi
fi
