#!/usr/bin/env bash
# Throughput of one public list query through the real gateway (release
# build, PostgreSQL, loopback, wrk): uncached, cached in Redis, cached in
# process. Prints a Markdown table. Run with `make bench-cache`.
set -euo pipefail
cd "$(dirname "$0")/../.."

PG_ADMIN=${CATALOGUE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${CATALOGUE_BENCH_REDIS_URL:-redis://127.0.0.1:6379}
PORT=${CATALOGUE_BENCH_PORT:-18080}
DURATION=${CATALOGUE_BENCH_SECONDS:-15}
CONNECTIONS=${CATALOGUE_BENCH_CONNECTIONS:-32}
QUERY='{ projects(first: 20) { totalCount edges { node { slug name summary organizations { role organization { slug name } } } } } }'

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is missing: sudo apt-get install wrk" >&2
        exit 1
    fi
fi

cargo build --release --locked --quiet --bin catalogue-gateway
BIN=${CARGO_TARGET_DIR:-target}/release/catalogue-gateway

DATABASE=catalogue_bench_$$
psql "$PG_ADMIN" -qc "CREATE DATABASE $DATABASE" >/dev/null
DATABASE_URL="${PG_ADMIN%/*}/$DATABASE"
GATEWAY_PID=
cleanup() {
    [ -n "$GATEWAY_PID" ] && kill "$GATEWAY_PID" 2>/dev/null && wait "$GATEWAY_PID" 2>/dev/null
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DATABASE" >/dev/null
}
trap cleanup EXIT

ENCODED=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$QUERY")
URL="http://127.0.0.1:$PORT/graphql?query=$ENCODED"

# Starts the gateway with the extra settings given as NAME=value arguments.
start() {
    env CATALOGUE_LISTEN="127.0.0.1:$PORT" CATALOGUE_DATABASE_URL="$DATABASE_URL" \
        CATALOGUE_RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn "$@" "$BIN" serve &
    GATEWAY_PID=$!
    for _ in $(seq 200); do
        curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null && return
        sleep 0.05
    done
    echo "the gateway did not start" >&2
    exit 1
}

stop() {
    kill "$GATEWAY_PID"
    wait "$GATEWAY_PID" 2>/dev/null || true
    GATEWAY_PID=
}

# One wrk run; prints "req/s | p50 | p99".
measure() {
    wrk -t1 -c4 -d2s "$URL" >/dev/null # warm-up
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        END { printf "%.0f | %s | %s", rps, p50, p99 }'
}

echo "| mode | req/s | p50 | p99 |"
echo "|---|---|---|---|"
start CATALOGUE_CACHE_ANSWERS=0
echo "| uncached (PostgreSQL every time) | $(measure) |"
stop
start CATALOGUE_REDIS_URL="$REDIS" CATALOGUE_REDIS_PREFIX="catalogue-bench:$$:"
echo "| cached in Redis | $(measure) |"
stop
start
echo "| cached in process | $(measure) |"
stop
