# The portal part of the load benchmarks (BENCH_ONLY=portal), sourced by
# run.sh after lib.sh and queries.sh: the queries a portal sends (queries.sh,
# (f)), each alone at 1 and 8 connections, then the plain list (a) at 8
# connections alone, beside 8 more connections asking the plain list, and
# beside 8 more connections asking the portal's queries in turn, in
# PORTAL_MIXED_ROUNDS interleaved rounds (BENCH_MIXED_ROUNDS, default 3): the
# machine's speed drifts between runs, less between neighbouring measures.
# Rows, tab-separated, in $PORTAL_ROWS:
#   first   label  description  ms                 the first answer after start
#   query   label  description  connections  req/s  mean  p50  p99
#   mixed   label  description  connections  req/s  mean  p50  p99  (one row a round)
#   cost    label  description  seconds  req/s  then the CPU clock ticks of the
#           whole machine (busy), the gateway and PostgreSQL, before and after
#           the query's run at 8 connections

PORTAL_ROWS=$WORK/portal.tsv
PORTAL_LEVELS="1 8"
PORTAL_MIXED_ROUNDS=${BENCH_MIXED_ROUNDS:-3}

# One wrk run of the JSON bodies in the file $2 (one a line, asked in turn)
# against $1 at $3 connections for $4 s; prints "req/s<TAB>mean<TAB>p50<TAB>p99"
# and fails, saying why, when an answer was not a 2xx or carried GraphQL errors.
wrk_bodies() {
    local url=$1 bodies=$2 connections=$3 seconds=$4 threads=2 output failed
    [ "$connections" -ge 2 ] || threads=1
    output=$(WRK_BODIES_FILE=$bodies wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency \
        -s benches/load/portal.lua "$url") || return 1
    failed=$(awk '/Non-2xx/ { n += $NF } /GraphQL errors/ { n += $NF } END { print n + 0 }' <<<"$output")
    if [ "$failed" != 0 ]; then
        echo "$failed answers were not 2xx or carried GraphQL errors" >&2
        return 1
    fi
    awk '
        /^ +Latency +[0-9]/ { mean = $2 }
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        END { printf "%.0f\t%s\t%s\t%s", rps, mean, p50, p99 }' <<<"$output"
}

# The CPU clock ticks used so far by the whole machine (busy, not idle or
# waiting), by the process $1 and by PostgreSQL's processes, tab-separated.
cpu_ticks() {
    local gateway postgres=0 pid
    gateway=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
    for pid in $(pgrep -x postgres); do
        postgres=$((postgres + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    printf '%s\t%s\t%s' "$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)" \
        "$gateway" "$postgres"
}

# The first answer to `query` from $1, in ms; fails unless it gets data
# and no error.
first_answer_ms() {
    local url=$1 query=$2 what=$3 seconds
    seconds=$(curl -s -o "$WORK/first.json" -w '%{time_total}' -H 'Content-Type: application/json' \
        -d "$(request_body "$query")" "$url")
    if ! python3 -c 'import json, sys
answer = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if "errors" not in answer and all(answer["data"].values()) else 1)' "$WORK/first.json"; then
        echo "$what: the query does not get data: $(cat "$WORK/first.json")" >&2
        exit 1
    fi
    python3 -c 'import sys; print(f"{float(sys.argv[1]) * 1000:.2f}")' "$seconds"
}

# The endCursor of page $2 - 1 of `projects(first: 20)` at $1, walked page by
# page: what a portal holds when its reader asks for page $2.
cursor_before_page() {
    python3 - "$1" "$2" <<'EOF'
import json, sys, urllib.request
url, page = sys.argv[1], int(sys.argv[2])
query = "query($after: String) { projects(first: 20, after: $after) { pageInfo { endCursor } } }"
after = None
for _ in range(page - 1):
    body = json.dumps({"query": query, "variables": {"after": after}}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        after = json.load(answer)["data"]["projects"]["pageInfo"]["endCursor"]
print(after)
EOF
}

# The slug of the organization taking part in the most projects, and how many.
busiest_organization() {
    psql "$DATABASE_URL" -AtF $'\t' -c "SELECT o.slug, count(*) FROM organization o
        JOIN project_organization po ON po.organization_id = o.id
        GROUP BY o.slug ORDER BY count(*) DESC, o.slug LIMIT 1"
}

PORTAL_LABELS=()
PORTAL_DESCRIPTIONS=()
PORTAL_QUERIES=()
# Adds the query $3, labelled $1 and described $2, to those measured.
portal_query() {
    PORTAL_LABELS+=("$1")
    PORTAL_DESCRIPTIONS+=("$2")
    PORTAL_QUERIES+=("$3")
}

# Measures the portal's queries on the gateway at $1 (answer cache off),
# whose process is $2.
measure_portal() {
    local url=$1 pid=$2 cursor organization projects words i label description ms connections row
    local ticks
    cursor=$(cursor_before_page "$url" 50)
    IFS=$'\t' read -r organization projects < <(busiest_organization)
    portal_query list "(a) list of 20 projects" "$OURS_LIST"
    portal_query has-code "projects with code (\`hasCode: true\`) + totalCount" "$PORTAL_HAS_CODE"
    portal_query forge "projects on a forge (\`forge: GITLAB\`) + totalCount" "$PORTAL_FORGE"
    portal_query language "repositories by language (\`Python\`) + totalCount" "$PORTAL_LANGUAGE"
    portal_query provider "datasets by provider (\`API\`) + totalCount" "$PORTAL_PROVIDER"
    portal_query facets-empty "\`facets(query: \"\")\`, the portal's 10 dimensions" \
        "$(printf "$PORTAL_FACETS" "")"
    for words in "${PORTAL_COMMON_WORDS[@]}"; do
        portal_query "facets-$words" "\`facets(query: \"$words\")\`" "$(printf "$PORTAL_FACETS" "$words")"
    done
    portal_query search-empty "\`search(query: \"\")\`, the portal's first page of hits" \
        "$(printf "$PORTAL_SEARCH" "")"
    portal_query deep-page "page 50 of \`projects(first: 20)\`, by a cursor walked to, + totalCount" \
        "$(printf "$PORTAL_DEEP_PAGE" "$cursor")"
    portal_query organization "organization page (\`$organization\`, $projects projects)" \
        "$(printf "$PORTAL_ORGANIZATION" "$organization")"
    : >"$WORK/portal-bodies.json"
    for i in "${!PORTAL_LABELS[@]}"; do
        label=${PORTAL_LABELS[$i]}
        description=${PORTAL_DESCRIPTIONS[$i]}
        ms=$(first_answer_ms "$url" "${PORTAL_QUERIES[$i]}" "portal $label") || exit 1
        printf '%s\t%s\t%s\t%s\n' first "$label" "$description" "$ms" >>"$PORTAL_ROWS"
        request_body "${PORTAL_QUERIES[$i]}" >"$WORK/body.json"
        [ "$label" = list ] || cat "$WORK/body.json" >>"$WORK/portal-bodies.json"
        wrk_bodies "$url" "$WORK/body.json" 8 2 >/dev/null || exit 1
        for connections in $PORTAL_LEVELS; do
            ticks=$(cpu_ticks "$pid")
            if ! row=$(wrk_bodies "$url" "$WORK/body.json" "$connections" "$SECONDS_PER_RUN"); then
                echo "portal $label at $connections connections: the run stops" >&2
                exit 1
            fi
            printf '%s\t%s\t%s\t%s\t%s\n' query "$label" "$description" "$connections" "$row" >>"$PORTAL_ROWS"
            if [ "$connections" = 8 ]; then
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' cost "$label" "$description" "$SECONDS_PER_RUN" \
                    "${row%%$'\t'*}" "$ticks" "$(cpu_ticks "$pid")" >>"$PORTAL_ROWS"
            fi
        done
    done
    request_body "$OURS_LIST" >"$WORK/list.json"
    for _ in $(seq "$PORTAL_MIXED_ROUNDS"); do
        measure_beside "$url" alone "(a) alone" ""
        measure_beside "$url" beside-list "(a) beside 8 more connections asking (a)" "$WORK/list.json"
        measure_beside "$url" beside-portal "(a) beside 8 connections asking the portal's queries in turn" \
            "$WORK/portal-bodies.json"
    done
}

# The plain list at 8 connections from $1, while a second wrk asks the
# bodies in the file $4 at 8 connections (none when $4 is empty); rows
# labelled $2, described $3, for both.
measure_beside() {
    local url=$1 label=$2 description=$3 others=$4 other_pid row
    if [ -n "$others" ]; then
        # Started first and running longer: it loads the whole measurement.
        wrk_bodies "$url" "$others" 8 $((SECONDS_PER_RUN + 4)) >"$WORK/others.tsv" &
        other_pid=$!
    fi
    wrk_bodies "$url" "$WORK/list.json" 8 2 >/dev/null || exit 1
    if ! row=$(wrk_bodies "$url" "$WORK/list.json" 8 "$SECONDS_PER_RUN"); then
        echo "portal: the list $description: the run stops" >&2
        exit 1
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' mixed "$label" "$description" 8 "$row" >>"$PORTAL_ROWS"
    if [ -n "$others" ]; then
        if ! wait "$other_pid"; then
            echo "portal: the traffic beside the list ($label): the run stops" >&2
            exit 1
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' mixed "$label-others" "what the 8 other connections got" 8 \
            "$(cat "$WORK/others.tsv")" >>"$PORTAL_ROWS"
    fi
}
