"""Benchmark of the seed generator: people per second and peak RSS, each size in a fresh process.

    python bench/bench_seed.py                 # 10,000 and 100,000 people
    python bench/bench_seed.py 1000000 --json  # any sizes; one JSON line per size

Peak RSS comes from resource.getrusage in the child, so one size does not inherit another's peak;
flat memory means the 100,000-people peak is close to the 10,000-people peak. Besides wall seconds it
reports the child's CPU seconds, which other work on a shared machine disturbs far less.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

NOW_MS = 1_795_000_000_000


def measure(people: int, seed: int, batch_people: int) -> dict[str, float]:
    """Generate `people` in this process, consuming and dropping each batch as an emulator would."""
    from connector.sandbox.seed import generate

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    records = events = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for batch in generate(people, seed, now_ms=NOW_MS, batch_people=batch_people):
        records += batch.size()
        events += len(batch.marketing_events)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "people": people,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),  # this process's CPU time: steadier than wall time on a shared machine
        "people_per_s": round(people / elapsed),
        "records": records,
        "records_per_s": round(records / elapsed),
        "marketing_events": events,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_before_mb": round(baseline_kb / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-people", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="one JSON object per size instead of a table")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.sizes[0], args.seed, args.batch_people)))
        return 0
    rows = []
    for size in args.sizes:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                str(size),
                "--child",
                "--seed",
                str(args.seed),
                "--batch-people",
                str(args.batch_people),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out))
        if args.json:
            print(out.strip(), flush=True)
    if not args.json:
        print(f"{'people':>10} {'seconds':>8} {'people/s':>9} {'records':>11} {'records/s':>10} {'peak RSS MB':>12}")
        for r in rows:
            print(
                f"{r['people']:>10,} {r['seconds']:>8} {r['people_per_s']:>9,} {r['records']:>11,} "
                f"{r['records_per_s']:>10,} {r['peak_rss_mb']:>12}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
