"""Benchmark: the sync's reconcile stage on a real store: N people staged in SQLite (or PostgreSQL),
then read, reconciled and saved exactly as `connector sync` does (no API calls).

    python bench/bench_reconcile_store.py [--people 100000] [--store sqlite:///tmp/x.db]

The people are bench_reconcile.py's synthetic ones. Reports staging time (not part of the stage),
the stage's time (read, identity, resolve and plan, save: chunk by chunk), people/s and the process's
peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_reconcile import build  # noqa: E402
from connector.reconcile import load_mappings  # noqa: E402
from connector.store import open_engine  # noqa: E402
from connector.store.people import reconcile_store  # noqa: E402
from connector.store.staging import StagedRecord, stage_records  # noqa: E402
from sqlmodel import Session  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--store", default=None, help="database URL [default: a fresh SQLite file]")
    parser.add_argument("--chunk", type=int, default=5_000, help="people resolved and saved at a time")
    args = parser.parse_args(argv)
    url = args.store or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = open_engine(url)
    mapping = load_mappings(ROOT / "mappings").contacts
    t0 = time.perf_counter()
    for start in range(0, args.people, 5_000):
        groups: dict[tuple[str, str], list[StagedRecord]] = {}
        for r in build(start, min(5_000, args.people - start)):
            email = r.fields.get("email") or r.fields.get("Email")
            groups.setdefault((r.system, r.object_type), []).append(StagedRecord(
                r.system, r.object_type, r.id, r.modified_at, dict(r.fields),
                email_norm=str(email).strip().casefold() if email else None))
        with Session(engine) as session, session.begin():
            for rows in groups.values():
                stage_records(session, rows, fetched_at=0)
    staged = time.perf_counter() - t0
    base = rss_mb()
    t1 = time.perf_counter()
    done = reconcile_store(engine, mapping, save_at=(1, None), chunk=args.chunk)
    seconds = time.perf_counter() - t1
    people = done.summary["people"]
    del done
    t2 = time.perf_counter()  # the next cycle: nothing new to save
    again = reconcile_store(engine, mapping, save_at=(2, None), chunk=args.chunk)
    steady = time.perf_counter() - t2
    out = {"people": people, "store": url.split(":", 1)[0], "chunk": args.chunk, "staging_s": round(staged, 1),
           "first_run_s": round(seconds, 1), "first_people_per_s": round(people / seconds),
           "next_run_s": round(steady, 1), "next_people_per_s": round(people / steady),
           "next_fields_saved": again.summary["fields_changed"], "rss_before_mb": round(base),
           "peak_rss_mb": round(rss_mb()), "changes": sum(w["field_changes"] for w in again.summary["planned_writes"].values())}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
