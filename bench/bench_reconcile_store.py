"""Benchmark: the sync's reconcile stage on a real store: N people staged in SQLite (or PostgreSQL),
then read, reconciled and saved exactly as `connector sync` does (no API calls).

    python bench/bench_reconcile_store.py [--people 100000] [--store sqlite:///tmp/x.db]

The people (and their owners) are bench_reconcile.py's synthetic ones. Reports staging time (not part of
the stage), then the stage's time (read, identity, resolve and plan, save: chunk by chunk) and people/s
for four cycles: the first; the next with nothing new; the one after the planned updates were written
back (staged again as the next pull would bring them; creates are left out); and a steady-state cycle
where nothing changed anywhere. Also the process's peak RSS.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from itertools import groupby
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_reconcile import OWNERS, build  # noqa: E402
from connector.reconcile import load_mappings  # noqa: E402
from connector.store import open_engine  # noqa: E402
from connector.sync.reconciling import reconcile_store  # noqa: E402
from connector.store.staging import stage_records  # noqa: E402
from connector.systems.ports import StagedRecord  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from connector.reconcile import FieldChange, NewRecordId  # noqa: E402
from connector.store.models import SourceRecord as StoredRow  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def apply_updates(engine: Engine, changes: Sequence[FieldChange]) -> int:
    """Stages the records the planned updates touch again, with the new values and a newer modified time, as
    if push had written them and the next pull brought them back (creates are left out: no new records)."""
    by_record: dict[tuple[str, str, str], dict[str, object]] = {}
    for c in changes:
        if c.record_id is not None and not isinstance(c.new, NewRecordId):
            by_record.setdefault((c.system, c.object_type, c.record_id), {})[c.field] = c.new
    with Session(engine) as session, session.begin():
        for (system, object_type), keys in groupby(sorted(by_record), key=lambda k: k[:2]):
            ids = [k[2] for k in keys]
            rows = session.execute(select(StoredRow).where(
                StoredRow.system == system, StoredRow.object_type == object_type,
                StoredRow.record_id.in_(ids))).scalars().all()  # type: ignore[attr-defined]
            stage_records(session, [StagedRecord(system, object_type, row.record_id, row.modified_at + 1,
                                                 {**row.data, **by_record[(system, object_type, row.record_id)]},
                                                 email_norm=row.email_norm) for row in rows], fetched_at=1)
    return len(by_record)


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
    with Session(engine) as session, session.begin():  # the owners both systems hold (owner fields map through them)
        stage_records(session, [StagedRecord("hubspot", "owners", oid, 0, {"email": email})
                                for oid, email in OWNERS.hubspot.items()], fetched_at=0)
        stage_records(session, [StagedRecord("salesforce", "User", uid, 0, {"Email": email})
                                for uid, email in OWNERS.salesforce.items()], fetched_at=0)
    staged = time.perf_counter() - t0
    base = rss_mb()
    t1 = time.perf_counter()
    done = reconcile_store(engine, mapping, save_at=(1, None), chunk=args.chunk)
    seconds = time.perf_counter() - t1
    people = done.summary.people
    del done
    t2 = time.perf_counter()  # the next cycle: nothing new to save, nothing written yet
    again = reconcile_store(engine, mapping, save_at=(2, None), chunk=args.chunk)
    steady = time.perf_counter() - t2
    peak_two_runs = rss_mb()  # the stage's own peak (what follows adds the bench's write-back emulation)
    applied = apply_updates(engine, again.result.changes)  # what push would write, pulled back
    del again
    t3 = time.perf_counter()  # the cycle after push: the people written to are reconciled again
    converged = reconcile_store(engine, mapping, save_at=(3, None), chunk=args.chunk)
    converge_s = time.perf_counter() - t3
    after_push_changes = len(converged.result.changes)
    del converged
    t4 = time.perf_counter()  # a steady-state cycle: nothing changed anywhere
    settled = reconcile_store(engine, mapping, save_at=(4, None), chunk=args.chunk)
    settled_s = time.perf_counter() - t4
    out = {"people": people, "store": url.split(":", 1)[0], "chunk": args.chunk, "staging_s": round(staged, 1),
           "first_run_s": round(seconds, 1), "first_people_per_s": round(people / seconds),
           "next_run_s": round(steady, 1), "next_people_per_s": round(people / steady),
           "records_updated_as_push_would": applied,
           "after_push_run_s": round(converge_s, 1), "after_push_changes": after_push_changes,
           "steady_run_s": round(settled_s, 1), "steady_people_per_s": round(people / settled_s),
           "steady_unchanged_people": settled.summary.unchanged, "steady_changes": len(settled.result.changes),
           "rss_before_mb": round(base), "peak_rss_mb_first_two_runs": round(peak_two_runs),
           "peak_rss_mb": round(rss_mb())}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
