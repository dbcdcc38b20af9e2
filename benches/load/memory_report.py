"""The Markdown report of the memory soak (benches/load/memory_soak.sh).

Usage: python3 memory_report.py ROWS REQUESTS DISTINCT IDLE_SECONDS OTHER_BUDGETS
           CONSTANT
ROWS: a TSV of wrk's connections, answer cache, idle, peak, after the load, of which mapped
files, after idling (bytes), requests, req/s; OTHER_BUDGETS: the budgets of the other caches
the soak fills, in bytes; CONSTANT: what the gateway may hold beyond idle
and the budgets, in bytes.
"""

import sys
from datetime import date

MIB = 1024 * 1024


def mib(value):
    return f"{value / MIB:.1f} MiB"


def main():
    rows_file, requests, distinct, idle_seconds, others, constant = sys.argv[1:]
    others, constant = int(others), int(constant)
    print(
        f"{int(requests):,} requests of {int(distinct):,} distinct queries (each its own "
        f"document and answer: project pages, an organization's projects with their count, "
        f"searches, facet counts, 3-level lists; `benches/load/distinct_queries.py`) with wrk "
        f"at the row's connections, on the 10,000-project catalogue in PostgreSQL. "
        f"RSS is the gateway's (`/proc/<pid>/status`): idle {idle_seconds} s after it is "
        f"ready; the peak during the requests (`VmHWM`, reset before them); just after "
        f"them, with the part of it that is mapped files (`RssFile`: the search index's "
        f"pages, which the kernel reclaims under pressure); and after {idle_seconds} s "
        f"without requests. Budgets: the answer cache "
        f"(`CATALOGUE_CACHE_MEMORY_BYTES`) plus parsed documents, filtered counts, "
        f"facet counts and search pages ({mib(others)}). The bound is idle + budgets + "
        f"{mib(constant)}."
    )
    print()
    print(
        "| connections | answer cache | budgets | idle RSS | peak RSS | RSS after the load (mapped files) "
        f"| RSS after {idle_seconds} s idle | peak − idle − budgets | bound | held | req/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    held_everywhere = True
    for line in open(rows_file, encoding="utf-8"):
        connections, cache, idle, peak, loaded, mapped, rested, _, rate = line.split("\t")
        cache, idle, peak, loaded, mapped, rested = map(
            int, (cache, idle, peak, loaded, mapped, rested)
        )
        budgets = cache + others
        bound = idle + budgets + constant
        held = peak <= bound
        held_everywhere &= held
        print(
            f"| {connections} | {mib(cache)} | {mib(budgets)} | {mib(idle)} | {mib(peak)} "
            f"| {mib(loaded)} ({mib(mapped)}) "
            f"| {mib(rested)} | {mib(peak - idle - budgets)} | {mib(bound)} "
            f"| {'yes' if held else '**no**'} | {int(rate):,} |"
        )
    print()
    if held_everywhere:
        print("The bound held in every row above.", end=" ")
    else:
        print("The bound **did not hold** in a row above.", end=" ")
    print(
        f"Run on {date.today().isoformat()} with "
        "`BENCH_ONLY=soak-memory bash benches/load/run.sh`."
    )


if __name__ == "__main__":
    main()
