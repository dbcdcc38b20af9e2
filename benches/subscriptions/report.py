"""The Markdown report of benches/subscriptions/fanout.cjs's JSON (see run.sh).

argv: the JSON file, SSE subscribers, WebSocket subscribers, the journal
poll (ms), cores, load average at start.
"""

import datetime
import json
import sys

path, sse, ws, poll_ms, cores, load = sys.argv[1:]
sse, ws = int(sse), int(ws)
result = json.load(open(path, encoding="utf-8"))
memory, fanout = result["memory"], result["fanout"]


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def per_subscription(grown_kib, count):
    return f"{grown_kib / count:.1f} KiB" if count else "–"


rows = [
    ("Server-Sent Events", sse, memory["with_sse_kib"] - memory["before_kib"], fanout["sse"]),
    ("WebSocket", ws, memory["with_all_kib"] - memory["with_sse_kib"], fanout["ws"]),
    ("both", sse + ws, memory["with_all_kib"] - memory["before_kib"], fanout["all"]),
]

print(
    f"{sse + ws:,} idle `catalogueChanged` subscribers ({sse} over Server-Sent Events, "
    f"{ws} over WebSocket, one connection each, from one Node.js process on the same "
    f"machine), then one `createProject`. Journal read every {poll_ms} ms (the default). "
    f"Run on {datetime.date.today().isoformat()}, {cores} cores, load average "
    f"{load} at start."
)
print()
print(
    f"Gateway resident memory (VmRSS, idle): {mib(memory['before_kib'])} before, "
    f"{mib(memory['with_sse_kib'])} with the SSE subscribers, "
    f"{mib(memory['with_all_kib'])} with all of them."
)
print()
print(
    "| protocol | subscribers | memory per subscription "
    "| heard after the mutation was sent: min | p50 | p99 | max "
    "| after the first subscriber heard: p50 | p99 | max |"
)
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, count, grown, delays in rows:
    sent, first = delays["from_mutation"], delays["from_first"]
    print(
        f"| {name} | {count:,} | {per_subscription(grown, count)} "
        f"| {sent['min_ms']} ms | {sent['p50_ms']} ms | {sent['p99_ms']} ms | {sent['max_ms']} ms "
        f"| {first['p50_ms']} ms | {first['p99_ms']} ms | {first['max_ms']} ms |"
    )
print()
print(
    f"Every one of the {sse + ws:,} subscribers heard of the timed project exactly once, "
    "and of nothing else but the projects written while they were opened (the run fails "
    "otherwise). The delays run from just before the mutation is sent until the "
    "subscriber's client has parsed the event. They include the wait for the gateway's "
    f"next read of the journal (up to {poll_ms} ms; the script writes whole seconds after "
    "an event, itself sent just after a read, so the mutation tends to land just after "
    "one): the columns after "
    "the first subscriber heard are what the fan-out itself adds, the gateway's sending "
    "and the client's reading together."
)
