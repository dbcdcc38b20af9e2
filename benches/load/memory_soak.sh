# The memory soak of run.sh (part "soak-memory"), sourced after lib.sh: the
# gateway's resident memory before, during and after requests of thousands
# of distinct queries, against the in-process caches' budgets.
#
# Settings: SOAK_REQUESTS (default 20000), SOAK_DISTINCT (distinct queries,
# default 5000), SOAK_IDLE_SECONDS (the wait before the first reading and after the requests, default 15),
# SOAK_SMALL_CACHE_BYTES (the small answer cache measured beside the default
# one, default 8 MiB), SOAK_CONNECTIONS (wrk's connections, each level in
# turn, default "8 64": each request in flight holds its own working memory).

SOAK_REQUESTS=${SOAK_REQUESTS:-20000}
SOAK_DISTINCT=${SOAK_DISTINCT:-5000}
SOAK_IDLE_SECONDS=${SOAK_IDLE_SECONDS:-15}
SOAK_SMALL_CACHE_BYTES=${SOAK_SMALL_CACHE_BYTES:-$((8 * 1024 * 1024))}
# The budgets of the caches the soak fills besides the answers (the code's
# constants): parsed documents (graphql/execution/documents.rs), filtered
# counts (store/counts.rs), facet counts (search/facets_kept.rs), search
# pages (search/pages_kept.rs).
SOAK_DOCUMENTS_BYTES=$((16 * 1024 * 1024))
SOAK_COUNTS_BYTES=$((4 * 1024 * 1024))
SOAK_FACETS_BYTES=$((8 * 1024 * 1024))
SOAK_SEARCH_PAGES_BYTES=$((8 * 1024 * 1024))
# What the gateway may hold beyond idle and those budgets while serving
# (docs/decisions/0030-memory-within-its-budget.md says what it covers).
SOAK_CONSTANT_BYTES=$((64 * 1024 * 1024))
# The answer cache's default (config/cache.rs, cache_memory_bytes).
SOAK_DEFAULT_CACHE_BYTES=$((64 * 1024 * 1024))
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-8 64}

# The field $2 (VmRSS, VmHWM) of /proc/$1/status, in bytes.
resident_bytes() {
    awk -v field="$2:" '$1 == field { print $2 * 1024 }' "/proc/$1/status"
}

# Sends SOAK_REQUESTS requests of the distinct queries to the gateway from
# $1 connections, and sets `output` to wrk's report.
run_distinct_queries() {
    local done=$WORK/wrk-done wrk_pid
    rm -rf "$done"
    mkdir "$done"
    WRK_BODIES_FILE=$WORK/distinct.jsonl WRK_THREADS=2 WRK_DONE_DIR=$done \
        WRK_REQUESTS_PER_THREAD=$((SOAK_REQUESTS / 2)) \
        wrk -t2 -c"$1" -d3600s -s benches/load/distinct.lua \
        "http://127.0.0.1:$GATEWAY_PORT/graphql" >"$WORK/wrk.txt" &
    wrk_pid=$!
    # wrk waits for its duration once its threads have stopped: stop it.
    while [ "$(find "$done" -type f | wc -l)" -lt 2 ]; do
        sleep 0.2
    done
    kill -INT "$wrk_pid"
    wait "$wrk_pid"
    output=$(cat "$WORK/wrk.txt")
}

# One soak of the gateway with the answer cache of $1 bytes, from $2
# connections; appends a row to $SOAK_ROWS: connections, answer cache, idle,
# peak, after the load, of which mapped files (the search index), after
# idling (bytes), requests, req/s.
soak_memory_once() {
    local cache_bytes=$1 connections=$2 pid idle peak loaded mapped rested output requests rate failed
    start_gateway CATALOGUE_CACHE_MEMORY_BYTES="$cache_bytes"
    pid=${SERVERS[gateway]}
    # The readiness answer and the search index build are behind; what
    # they freed has had time to be given back.
    sleep "$SOAK_IDLE_SECONDS"
    idle=$(resident_bytes "$pid" VmRSS)
    # From here on VmHWM is the peak of the soak (proc(5), clear_refs).
    echo 5 >"/proc/$pid/clear_refs"
    run_distinct_queries "$connections"
    peak=$(resident_bytes "$pid" VmHWM)
    loaded=$(resident_bytes "$pid" VmRSS)
    mapped=$(resident_bytes "$pid" RssFile)
    sleep "$SOAK_IDLE_SECONDS"
    rested=$(resident_bytes "$pid" VmRSS)
    requests=$(awk '/requests in/ { print $1 }' <<<"$output")
    rate=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$output")
    failed=$(awk '/Non-2xx/ { print $NF }' <<<"$output")
    if [ -n "$failed" ] && [ "$failed" != 0 ]; then
        echo "memory soak: $failed non-2xx answers; the run stops" >&2
        exit 1
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$connections" "$cache_bytes" "$idle" "$peak" "$loaded" \
        "$mapped" "$rested" "$requests" "$rate" >>"$SOAK_ROWS"
    stop_gateway
}

# The soak with the default answer cache and with a small one, at each
# level of connections; prints the Markdown report.
soak_memory() {
    SOAK_ROWS=$WORK/soak-memory.tsv
    : >"$SOAK_ROWS"
    python3 benches/load/distinct_queries.py "$SOAK_DISTINCT" >"$WORK/distinct.jsonl"
    # Queries of each kind beyond the soak's own must be answered without
    # errors (so a typo cannot be measured as cheap errors), on a gateway of
    # their own.
    start_gateway
    python3 benches/load/distinct_queries.py 5 "$SOAK_DISTINCT" |
        python3 benches/load/distinct_queries.py --check "$GATEWAY_URL"
    stop_gateway
    local connections
    for connections in $SOAK_CONNECTIONS; do
        soak_memory_once "$SOAK_DEFAULT_CACHE_BYTES" "$connections"
        soak_memory_once "$SOAK_SMALL_CACHE_BYTES" "$connections"
    done
    python3 benches/load/memory_report.py "$SOAK_ROWS" "$SOAK_REQUESTS" "$SOAK_DISTINCT" \
        "$SOAK_IDLE_SECONDS" "$((SOAK_DOCUMENTS_BYTES + SOAK_COUNTS_BYTES + SOAK_FACETS_BYTES + SOAK_SEARCH_PAGES_BYTES))" \
        "$SOAK_CONSTANT_BYTES"
}
