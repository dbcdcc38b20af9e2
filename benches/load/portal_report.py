"""The Markdown report of the portal part of the load benchmarks
(benches/load/portal.sh writes its rows, tab-separated, in the file given as
argument): each query's first answer, its serial cost against the plain
list's, its throughput and p99 at 8 connections, and what the portal's
queries do to the plain list beside them, with the CPU each answer costs."""

import os
import statistics
import sys

from report import command_output, machine, milliseconds

# The goals of the project's issue 30.
MAX_SERIAL_RATIO = 3.0
MAX_P99_MS = 20.0
MAX_DEGRADATION = 0.20


def cpu_per_answer(values):
    """The microseconds of CPU per answer of the whole machine (busy), the
    gateway and PostgreSQL, from a `cost` row's values."""
    seconds, rps = float(values[0]), float(values[1])
    before, after = values[2:5], values[5:8]
    microseconds_per_tick = 1e6 / os.sysconf("SC_CLK_TCK")
    answers = seconds * rps
    return tuple((int(b) - int(a)) * microseconds_per_tick / answers for a, b in zip(before, after))


def main(rows_path):
    first, serial, loaded, mixed, cost = {}, {}, {}, {}, {}
    descriptions = {}
    with open(rows_path, encoding="utf-8") as rows:
        for line in rows:
            kind, label, description, *values = line.rstrip("\n").split("\t")
            descriptions[label] = description
            if kind == "first":
                first[label] = float(values[0])
                continue
            if kind == "cost":
                cost[label] = cpu_per_answer(values)
                continue
            connections = int(values[0])
            rps, mean, p50, p99 = float(values[1]), *(milliseconds(v) for v in values[2:5])
            if kind == "query":
                (serial if connections == 1 else loaded)[label] = (rps, mean, p50, p99)
            else:
                mixed.setdefault(label, []).append((rps, mean, p50, p99))
    postgres = command_output(
        "psql", os.environ.get("CATALOGUE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        "-Atc", "SHOW server_version",
    )
    print(f"Run on {command_output('date', '-u', '+%Y-%m-%d')}, commit `{command_output('git', 'rev-parse', '--short', 'HEAD')}`, "
          f"{machine()}; PostgreSQL {postgres}. The gateway (release, answer cache off) on the 10,000-project "
          "bench database; wrk, the gateway and PostgreSQL share the machine. "
          "Command: `BENCH_ONLY=portal bash benches/load/run.sh` (part of `make bench`).")
    print()
    print("| query | first answer ms | 1 connection: mean ms | p50 ms | mean / list's | 8 connections: req/s | p99 ms | CPU µs per answer: machine / gateway / PostgreSQL | goals (≤ 3× list, p99 < 20 ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    reference = serial["list"][1]
    for label, description in descriptions.items():
        if label not in serial:
            continue
        ratio = serial[label][1] / reference
        rps, _, _, p99 = loaded[label]
        missed = [what for what, ok in (("serial cost", ratio <= MAX_SERIAL_RATIO), ("p99", p99 < MAX_P99_MS)) if not ok]
        verdict = "met" if not missed else "missed: " + ", ".join(missed)
        machine_us, gateway_us, postgres_us = cost[label]
        print(f"| {description} | {first[label]:.1f} | {serial[label][1]:.2f} | {serial[label][2]:.2f} | "
              f"{ratio:.2f}× | {rps:,.0f} | {p99:.2f} | {machine_us:.0f} / {gateway_us:.0f} / {postgres_us:.0f} | {verdict} |")
    print()
    rounds = len(mixed["alone"])
    print(f"The plain list (a) at 8 connections, alone and beside a second wrk at 8 connections, in {rounds} "
          "interleaved rounds (medians; the last columns compare each round's measures):")
    print()
    print("| traffic | list req/s | list p50 ms | list p99 ms | other connections' req/s | list req/s against alone, each round | against beside (a), each round |")
    print("|---|---:|---:|---:|---:|---|---|")

    def median(label, column):
        return statistics.median(measure[column] for measure in mixed[label])

    def round_ratios(label, base):
        """Each round's list req/s in `label` over the same round's in `base`."""
        return [mine[0] / theirs[0] for mine, theirs in zip(mixed[label], mixed[base])]

    def each_round(label, base):
        return ", ".join(f"{ratio - 1:+.0%}" for ratio in round_ratios(label, base))

    for label in ("alone", "beside-list", "beside-portal"):
        others = f"{median(f'{label}-others', 0):,.0f}" if f"{label}-others" in mixed else "—"
        against_list = each_round(label, "beside-list") if label == "beside-portal" else "—"
        print(f"| {descriptions[label]} | {median(label, 0):,.0f} | {median(label, 2):.2f} | {median(label, 3):.2f} | "
              f"{others} | {each_round(label, 'alone')} | {against_list} |")
    portal_labels = [label for label in cost if label != "list"]
    relative_cost = sum(cost[label][0] for label in portal_labels) / len(portal_labels) / cost["list"][0]
    kept = statistics.median(round_ratios("beside-portal", "beside-list"))
    print()
    # Two closed loops of 8 connections sharing a saturated machine get
    # about as many answers each (docs/decisions/0032).
    print(f"The portal's queries cost the machine {relative_cost:.2f} times the list's CPU per answer on "
          f"average: beside them, the list can expect 2 / (1 + {relative_cost:.2f}) = "
          f"{2 / (1 + relative_cost):.0%} of its throughput beside itself (measured, median of the rounds: {kept:.0%}).")
    print()
    for against, base in (("the list alone", "alone"), ("the list beside as many connections asking the list", "beside-list")):
        drop = 1 - statistics.median(round_ratios("beside-portal", base))
        print(f"- Beside the portal's queries, against {against}: throughput {-drop:+.0%} (median of the rounds), "
              f"p99 {median('beside-portal', 3):.2f} against {median(base, 3):.2f} ms "
              f"(goal: at most {MAX_DEGRADATION:.0%} lower: {'met' if drop <= MAX_DEGRADATION else 'missed'}).")


if __name__ == "__main__":
    main(sys.argv[1])
