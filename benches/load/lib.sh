# Helpers of the load benchmarks (run.sh), sourced from the repository root.
# They set globals: GATEWAY, BARE, NODE, POSTGRAPHILE, DATABASE_URL, WORK.

PG_ADMIN=${CATALOGUE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/catalogue-gateway
WORK=$(mktemp -d)

# A TCP port nothing listens on now, chosen by the kernel.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

GATEWAY_PORT=${BENCH_PORT:-$(free_port)}
export PGOPTIONS=--client-min-messages=warning
DATABASE=
declare -A SERVERS=()

cleanup() {
    local name
    for name in "${!SERVERS[@]}"; do
        kill "${SERVERS[$name]}" 2>/dev/null || true
        wait "${SERVERS[$name]}" 2>/dev/null || true
    done
    if [ -n "$DATABASE" ]; then
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null || true
    fi
    # The answers the Redis-cached gateway kept (run.sh's prefix).
    redis-cli -u "$REDIS" --scan --pattern "catalogue-bench:$$:*" 2>/dev/null |
        xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Installs the Debian package $1 when its command $2 is missing (as root),
# else says what to do.
ensure_command() {
    command -v "$2" >/dev/null && return
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
    else
        echo "$2 is missing: sudo apt-get install $1" >&2
        exit 1
    fi
}


# PostGraphile and Node.js 22 (PostGraphile 5 needs it; Debian has 20) from
# npm, at the versions locked in benches/load/postgraphile, in the cache.
ensure_postgraphile() {
    POSTGRAPHILE=$CACHE_DIR/postgraphile
    local source=benches/load/postgraphile
    mkdir -p "$POSTGRAPHILE"
    cp "$source/graphile.config.mjs" "$source/cluster.mjs" "$POSTGRAPHILE/"
    if ! cmp -s "$source/package-lock.json" "$POSTGRAPHILE/package-lock.json" ||
        [ ! -x "$POSTGRAPHILE/node_modules/.bin/postgraphile" ]; then
        ensure_command npm npm
        cp "$source/package.json" "$source/package-lock.json" "$POSTGRAPHILE/"
        echo "installing PostGraphile into $POSTGRAPHILE…" >&2
        (cd "$POSTGRAPHILE" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
    export NODE=$POSTGRAPHILE/node_modules/.bin/node
}

# Release builds of the binaries named, by default the gateway and the bare
# ceiling (benches/bare-ceiling).
build_release() {
    local bin bins=()
    for bin in ${*:-catalogue-gateway bare-ceiling}; do
        bins+=(--bin "$bin")
    done
    cargo build --release --locked --quiet --workspace "${bins[@]}"
    GATEWAY=${CARGO_TARGET_DIR:-target}/release/catalogue-gateway
    BARE=${CARGO_TARGET_DIR:-target}/release/bare-ceiling
}

# A new database holding the catalogue's projects and $1 synthetic ones, dropped
# on exit: a copy (CREATE DATABASE … TEMPLATE) of a template database loaded
# by an earlier run from the same migrations, catalogue files and generator,
# else loaded now (migrate, import; several minutes at 10,000 projects) and
# kept as that template. BENCH_RELOAD=1 loads it again anyway.
fresh_catalogue_database() {
    local projects=$1 fingerprint template
    fingerprint=$(cat migrations/src/*.rs src/tools/synthetic.rs catalogue/* | sha256sum | cut -c1-12)
    template=catalogue_bench_template_${projects}_$fingerprint
    if [ "${BENCH_RELOAD:-0}" = 1 ] || ! database_exists "$template"; then
        # Loaded under another name and renamed when complete: an interrupted
        # load is never taken for a template.
        local loading=catalogue_bench_loading url
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $loading" >/dev/null
        psql "$PG_ADMIN" -qc "CREATE DATABASE $loading" >/dev/null
        url="${PG_ADMIN%/*}/$loading"
        echo "loading the catalogue's projects and $projects synthetic ones (kept as $template)…" >&2
        "$GATEWAY" generate --projects "$projects" --out "$WORK/synthetic" >/dev/null
        CATALOGUE_DATABASE_URL=$url RUST_LOG=warn "$GATEWAY" migrate >&2
        CATALOGUE_DATABASE_URL=$url RUST_LOG=warn "$GATEWAY" import catalogue >/dev/null
        CATALOGUE_DATABASE_URL=$url RUST_LOG=warn "$GATEWAY" import "$WORK/synthetic" >/dev/null
        # Templates of other code or sizes are of no use any more.
        local old
        for old in $(psql "$PG_ADMIN" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'catalogue\_bench\_template\_%'"); do
            psql "$PG_ADMIN" -qc "DROP DATABASE $old" >/dev/null
        done
        psql "$PG_ADMIN" -qc "ALTER DATABASE $loading RENAME TO $template" >/dev/null
    fi
    DATABASE=catalogue_bench_$$
    psql "$PG_ADMIN" -qc "CREATE DATABASE $DATABASE TEMPLATE $template" >/dev/null
    # The planner setting of an SSD (PostgreSQL's default, 4, models spinning
    # disks), for every server measured on this database alike.
    psql "$PG_ADMIN" -qc "ALTER DATABASE $DATABASE SET random_page_cost = 1.1" >/dev/null
    DATABASE_URL="${PG_ADMIN%/*}/$DATABASE"
}

# A new empty database, dropped on exit, that `serve` migrates and seeds
# with the catalogue's projects (catalogue/).
fresh_seeded_database() {
    DATABASE=catalogue_bench_$$
    psql "$PG_ADMIN" -qc "CREATE DATABASE $DATABASE" >/dev/null
    DATABASE_URL="${PG_ADMIN%/*}/$DATABASE"
}

database_exists() {
    [ "$(psql "$PG_ADMIN" -Atc "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}

# Starts the server $1 with the command $3…, and waits until $2 answers a
# GraphQL request from that very process: the port must be free before, and
# the socket listening on it afterwards must belong to the started process or
# one of its children (a cluster's workers), so a run never measures another
# server that happens to answer there.
start_server() {
    local name=$1 url=$2 port
    shift 2
    port=$(port_of "$url")
    if listener_pids "$port" | grep -q .; then
        echo "$name: port $port is already taken by: $(listener_pids "$port" | tr '\n' ' ')" >&2
        exit 1
    fi
    "$@" >"$WORK/$name.log" 2>&1 &
    SERVERS[$name]=$!
    for _ in $(seq 600); do
        if curl -fs -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' \
            "$url" >/dev/null 2>&1; then
            owns_port "${SERVERS[$name]}" "$port" && return
            echo "$name: port $port answers, but not from the process started (pid ${SERVERS[$name]})" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$name did not start; its log:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

# The port of the URL $1.
port_of() {
    python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).port)' "$1"
}

# The pids of the processes listening on the TCP port $1, one per line.
listener_pids() {
    ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# Whether every process listening on the port $2 is $1 or a descendant of it.
owns_port() {
    local root=$1 port=$2 pid ancestor found=0
    for pid in $(listener_pids "$port"); do
        ancestor=$pid
        while [ "$ancestor" -gt 1 ] && [ "$ancestor" != "$root" ]; do
            ancestor=$(ps -o ppid= -p "$ancestor" | tr -d ' ')
            [ -n "$ancestor" ] || return 1
        done
        [ "$ancestor" = "$root" ] || return 1
        found=1
    done
    [ "$found" = 1 ]
}

stop_server() {
    kill "${SERVERS[$1]}"
    wait "${SERVERS[$1]}" 2>/dev/null || true
    unset "SERVERS[$1]"
}

# The gateway on the bench database, with the extra NAME=value settings given.
start_gateway() {
    # Without TLS to PostgreSQL, as PostGraphile's driver (ours would
    # otherwise prefer it, and Debian's PostgreSQL offers it). Without the
    # scheduled harvest: a minute after start, in the middle of the
    # measurements, it would try the forges for the 10,000 projects' links
    # (unreachable here) and write an outcome per link into the database.
    start_server gateway "http://127.0.0.1:$GATEWAY_PORT/graphql" \
        env -u CATALOGUE_TEST_POSTGRES_URL CATALOGUE_LISTEN="127.0.0.1:$GATEWAY_PORT" CATALOGUE_DATABASE_URL="$DATABASE_URL?sslmode=disable" \
        CATALOGUE_RATE_LIMIT_PER_MINUTE=0 CATALOGUE_HARVEST_INTERVAL_SECONDS=0 RUST_LOG=warn "$@" "$GATEWAY" serve
    # It answers while its search index and read model build: measure once
    # both are ready.
    local ready
    for _ in $(seq 1200); do
        ready=$(curl -fs "http://127.0.0.1:$GATEWAY_PORT/health/ready") &&
            [[ $ready != *'"readModel":{"status":"building"}'* ]] && return
        sleep 0.1
    done
    echo "the gateway did not get ready; its log:" >&2
    cat "$WORK/gateway.log" >&2
    exit 1
}

stop_gateway() {
    stop_server gateway
}

# The JSON body asking `query`.
request_body() {
    python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "$1"
}

# Fails unless `query` gets data and no error from $1 (so a typo in a query
# cannot be measured as fast errors).
check_answer() {
    local url=$1 query=$2 what=$3 answer
    answer=$(curl -s -H 'Content-Type: application/json' -d "$(request_body "$query")" "$url")
    if ! python3 -c 'import json, sys
answer = json.loads(sys.argv[1])
sys.exit(0 if "errors" not in answer and all(answer["data"].values()) else 1)' "$answer"; then
        echo "$what: the query does not get data: $answer" >&2
        exit 1
    fi
}

# One wrk run after a short warm-up; prints "req/s<TAB>p50<TAB>p99<TAB>non-2xx",
# and fails when any answer was not a 2xx (a rate-limited or failing server
# must not be measured as a fast one).
measure() {
    local url=$1 query=$2 connections=$3 seconds=$4 row
    request_body "$query" >"$WORK/body.json"
    export WRK_BODY_FILE=$WORK/body.json
    wrk -t2 -c"$connections" -d2s -s benches/load/post.lua "$url" >/dev/null
    row=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s benches/load/post.lua "$url" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        /Non-2xx/ { failed = $NF }
        END { printf "%.0f\t%s\t%s\t%d", rps, p50, p99, failed }')
    printf '%s' "$row"
    [ "${row##*$'\t'}" = 0 ]
}

# The REST route $2 of the gateway at $1 (http://host:port): fails unless
# it answers 200.
check_rest() {
    local base=$1 path=$2 status
    status=$(curl -s -o /dev/null -w '%{http_code}' "$base$path")
    if [ "$status" != 200 ]; then
        echo "GET $path: $status" >&2
        exit 1
    fi
}

# The JSON body running the document of the REST route whose OpenAPI path
# is $2, served by the gateway at $1, with the variables $3.
rest_twin_body() {
    curl -s "$1/api/v1/openapi.json" | python3 -c 'import json, sys
description = json.load(sys.stdin)
document = description["paths"][sys.argv[1]]["get"]["x-graphql-document"]
print(json.dumps({"query": document, "variables": json.loads(sys.argv[2])}))' "$2" "$3"
}

# Like `measure`, for a GET of the URL $1 (no body): "req/s<TAB>p50<TAB>p99<TAB>non-2xx".
measure_get() {
    local url=$1 connections=$2 seconds=$3
    wrk -t2 -c"$connections" -d2s "$url" >/dev/null
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        /Non-2xx/ { failed = $NF }
        END { printf "%.0f\t%s\t%s\t%d", rps, p50, p99, failed }'
}

# Like `measure`, POSTing the JSON body in the file $2 to $1.
measure_body() {
    local url=$1 body=$2 connections=$3 seconds=$4
    export WRK_BODY_FILE=$body
    wrk -t2 -c"$connections" -d2s -s benches/load/post.lua "$url" >/dev/null
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s benches/load/post.lua "$url" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        /Non-2xx/ { failed = $NF }
        END { printf "%.0f\t%s\t%s\t%d", rps, p50, p99, failed }'
}

# The Markdown report of the rows in $1 (see run.sh).
write_report() {
    python3 benches/load/report.py "$1"
}

# Replaces what lies between `<!-- $2:begin -->` and `<!-- $2:end -->` in
# the file $1 by the contents of the file $3.
replace_between_markers() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, marker, insert = sys.argv[1:]
text = open(path, encoding="utf-8").read()
begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
if begin not in text or end not in text:
    sys.exit(f"{path}: the markers {begin} and {end} are missing")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
body = open(insert, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(f"{head}{begin}\n{body}\n{end}{tail}")
EOF
}
