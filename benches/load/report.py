"""The Markdown report of a `make bench` run: the measurements (rows of
system, mode, query, connections, req/s, p50, p99, non-2xx, tab-separated,
in the file given as argument), the ratios the goals are stated in, and
where and when it ran."""

import datetime
import os
import platform
import subprocess
import sys
from collections import OrderedDict

QUERIES = {
    "list": "(a) list of 20 projects",
    "nested": "(b) 3 levels: 20 projects → organizations, repositories, datasets",
    "page": "(c) project page by slug",
    "search": "(d) search",
    "constant": "constant `{ hello }`",
    "rest": "(e) REST list of 20 projects, `GET /api/v1/projects?first=20`",
    "rest-twin": "(e) its GraphQL document, `POST /graphql`",
}
SYSTEMS = {
    ("gateway", "uncached"): "gateway, uncached",
    ("gateway", "cached in process"): "gateway, cached in process",
    ("gateway", "cached in Redis"): "gateway, cached in Redis",
    ("postgraphile", "uncached"): "PostGraphile 5",
    ("bare", "constant"): "bare async-graphql + poem",
}


def milliseconds(wrk_duration):
    """wrk's `850.00us`, `12.34ms` or `1.02s`, in ms."""
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if wrk_duration.endswith(suffix):
            return float(wrk_duration[: -len(suffix)]) * factor
    raise ValueError(f"not a wrk duration: {wrk_duration}")


def command_output(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def redis_version():
    """`7.0.15` out of `Redis server v=7.0.15 sha=…`."""
    for word in command_output("redis-server", "--version").split():
        if word.startswith("v="):
            return word.removeprefix("v=")
    return "unknown"


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        kib = int(meminfo.readline().split()[1])
    return f"{os.cpu_count()} cores ({model}), {kib / 1024 / 1024:.0f} GiB, {platform.system()} {platform.release()}"


def main(rows_path):
    results = OrderedDict()
    with open(rows_path, encoding="utf-8") as rows:
        for line in rows:
            system, mode, query, connections, rps, p50, p99, failed = line.rstrip("\n").split("\t")
            results[(system, mode, query, int(connections))] = (
                float(rps),
                milliseconds(p50),
                milliseconds(p99),
                int(failed),
            )
    postgres = command_output(
        "psql", os.environ.get("CATALOGUE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        "-Atc", "SHOW server_version",
    )
    print(f"Run on {datetime.date.today().isoformat()}, commit `{command_output('git', 'rev-parse', '--short', 'HEAD')}`, "
          f"{machine()}; PostgreSQL {postgres}, Redis {redis_version()}, "
          f"PostGraphile 5.1.5 on Node.js {command_output(os.environ.get('NODE', 'node'), '--version')}. "
          "Load generator, servers, PostgreSQL and Redis share the machine. Command: `make bench`.")
    print()
    print("| query | system | connections | req/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (system, mode, query, connections), (rps, p50, p99, failed) in results.items():
        print(f"| {QUERIES[query]} | {SYSTEMS[(system, mode)]} | {connections} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {failed} |")
    print()
    print("Ratios (req/s; p99 in brackets):")
    print()
    print("| query | connections | gateway uncached / PostGraphile | gateway cached in process / bare | gateway cached in Redis / bare |")
    print("|---|---:|---:|---:|---:|")
    connection_levels = sorted({key[3] for key in results})
    for query in ("list", "nested", "page", "search"):
        for connections in connection_levels:
            ours = results.get(("gateway", "uncached", query, connections))
            theirs = results.get(("postgraphile", "uncached", query, connections))
            bare = results.get(("bare", "constant", "constant", connections))
            cells = []
            if ours and theirs:
                cells.append(f"{ours[0] / theirs[0]:.2f}× ({ours[2]:.1f} vs {theirs[2]:.1f} ms)")
            else:
                cells.append("—")
            for mode in ("cached in process", "cached in Redis"):
                cached = results.get(("gateway", mode, query, connections))
                cells.append(f"{cached[0] / bare[0]:.0%}" if cached and bare else "—")
            print(f"| {QUERIES[query]} | {connections} | {' | '.join(cells)} |")
    print()
    print("The REST layer (req/s and p50 of the REST list over its GraphQL twin's):")
    print()
    print("| mode | connections | REST / GraphQL req/s | REST p50 / GraphQL p50 |")
    print("|---|---:|---:|---:|")
    for mode in ("uncached", "cached in process"):
        for connections in connection_levels:
            rest = results.get(("gateway", mode, "rest", connections))
            twin = results.get(("gateway", mode, "rest-twin", connections))
            if rest and twin:
                print(f"| {mode} | {connections} | {rest[0] / twin[0]:.0%} | {rest[1] / twin[1]:.0%} |")


if __name__ == "__main__":
    main(sys.argv[1])
