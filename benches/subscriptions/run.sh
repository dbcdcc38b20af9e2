#!/usr/bin/env bash
# Part of `make bench`: what `catalogueChanged` subscribers cost the release
# gateway. On a fresh PostgreSQL database seeded with the catalogue's
# projects, benches/subscriptions/fanout.cjs opens BENCH_SSE_SUBSCRIBERS
# subscriptions over Server-Sent Events and BENCH_WS_SUBSCRIBERS over
# WebSocket (500 each by default, one connection each, all from 127.0.0.1),
# reads the gateway's resident memory (VmRSS) before and after, idle, then
# times one project written by an administrator until every subscriber has
# heard of it; the run fails unless each heard of it exactly once.
# Prints a Markdown report and writes it into docs/BENCHMARKS.md between the
# `subscriptions-benchmark` markers (not when BENCH_ONLY is set).
#
# Settings: BENCH_SSE_SUBSCRIBERS, BENCH_WS_SUBSCRIBERS, BENCH_ONLY (runs
# when empty or naming "subscriptions"), CATALOGUE_TEST_POSTGRES_URL,
# BENCH_PORT, CATALOGUE_NODE_DIR (where the npm packages are installed).
set -euo pipefail
cd "$(dirname "$0")/../.."

ONLY=${BENCH_ONLY:-}
if [ -n "$ONLY" ] && [[ " $ONLY " != *" subscriptions "* ]]; then
    exit 0
fi

source benches/load/lib.sh

SSE=${BENCH_SSE_SUBSCRIBERS:-500}
WS=${BENCH_WS_SUBSCRIBERS:-500}
# The gateway's default CATALOGUE_CHANGES_POLL_MILLISECONDS, kept for the run.
POLL_MS=500
NODE_MODULES=${CATALOGUE_NODE_DIR:-$CACHE_DIR/node}/node_modules

ensure_command python3 python3
ensure_command iproute2 ss
if [ ! -d "$NODE_MODULES/graphql-sse" ] || [ ! -d "$NODE_MODULES/graphql-ws" ]; then
    bash scripts/ensure-node-deps.sh
fi
build_release catalogue-gateway
fresh_seeded_database

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
KEY=$WORK/dev-signing-key.pem
TOKEN=$(CATALOGUE_DEV_KEY_FILE=$KEY "$GATEWAY" dev-token --email banc@numerique.gouv.fr --admin --minutes 60)
# Every subscriber comes from 127.0.0.1, one client for the per-client
# bound: raised to hold them all for this run.
start_gateway CATALOGUE_DEV_AUTH=1 CATALOGUE_DEV_KEY_FILE="$KEY" \
    CATALOGUE_SUBSCRIPTIONS_PER_CLIENT=$((SSE + WS)) CATALOGUE_CHANGES_POLL_MILLISECONDS=$POLL_MS
NODE_PATH=$NODE_MODULES node benches/subscriptions/fanout.cjs \
    "http://127.0.0.1:$GATEWAY_PORT" "${SERVERS[gateway]}" "$SSE" "$WS" "$TOKEN" "$POLL_MS" \
    >"$WORK/fanout.json"
stop_gateway

REPORT=$WORK/report.md
python3 benches/subscriptions/report.py "$WORK/fanout.json" "$SSE" "$WS" "$POLL_MS" \
    "$(nproc)" "$LOAD_AT_START" >"$REPORT"
cat "$REPORT"
if [ -z "$ONLY" ]; then
    replace_between_markers docs/BENCHMARKS.md subscriptions-benchmark "$REPORT"
    echo "written into docs/BENCHMARKS.md" >&2
fi
