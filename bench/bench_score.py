"""Benchmark: lead scoring (issue #16): the pure core on in-memory people, then the scoring stage on a real store.

    python bench/bench_score.py [--people 100000] [--store sqlite:///tmp/x.db] [--core-people 50000]

(a) The core alone, on one core: `score_person` and `decide` (prior none, so every output is a write; and
again with the outputs held and the prior saved, as a steady-state cycle sees a person) over synthetic
people with 10 touches each (mixed kinds, in the store's time order), under the shipped model.

(b) The scoring stage on a store: N people staged with bulk inserts (person, person_field, link and
source_record for a HubSpot contact and a Salesforce Lead each, ~10 engagement rows each), then three
passes of `score_people(..., save=True)` (each followed by `finish_pass`, as a sync run does), each in a
fresh process: the first full pass; a steady-state pass a minute later with nothing changed (it scores
only the few people whose decay or inactivity falls due); and a pass after 1% of the people got a new
touch (engagement rows fetched after the last pass). Prints a JSON result and writes it to
bench/results/score-<N/1000>k.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from importlib.machinery import EXTENSION_SUFFIXES  # noqa: E402
from itertools import groupby  # noqa: E402

from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from connector.objects.scores import finish_pass, score_people  # noqa: E402
from connector.reconcile import FieldChange, load_mappings  # noqa: E402
from connector.score.decide import Prior, decide  # noqa: E402
from connector.score.model import ScoringModel  # noqa: E402
from connector.score import scorer as scorer_module  # noqa: E402
from connector.score.scorer import score_person  # noqa: E402
from connector.score.signals import LinkedRecord  # noqa: E402
from connector.score.timeline import Touch  # noqa: E402
from connector.store import open_engine  # noqa: E402
from connector.store.models import Engagement, Link, Person, PersonField, SourceRecord  # noqa: E402

DAY = 86_400_000
NOW = 1_780_000_000_000  # the first pass's time (2026-05-28); touches fall in the 200 days before
TOUCHES = 10
#: touch kinds by weight (page views and opens dominate real timelines), with the details rules match on
_KINDS = ["page_view"] * 4 + ["email_open"] * 2 + ["email_click", "form_submission", "campaign_response", "call",
                                                  "meeting", "email", "task", "note"]
_PAGES = ["/pricing", "/blog/scoring", "/docs/start", "/", "/customers"]
_FORMS = ["Demo request", "Webinar signup", "Newsletter", "Contact us"]
_TITLES = ["VP Sales", "Marketing Manager", "Engineer", "Chief Executive Officer", "", None, "Head of Ops", "Analyst"]
_EMPLOYEES = ["1-5", "25-50", "100-500", "1000+", None, "500-1000", "5-25"]
_INDUSTRIES = ["Finance", "Retail", "Machinery", None, "Shipping", "Education"]
_DOMAINS = ["gmail.com", "acme.example", "uni.edu", "corp.example", "northwind.example", "contoso.example"]


def shipped_model() -> ScoringModel:
    model = load_mappings(ROOT / "mappings").scoring
    assert model is not None, "mappings/scoring.toml is missing"
    return model


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fields(rng: random.Random, i: int) -> dict[str, Any]:
    return {"job_title": rng.choice(_TITLES), "employees": rng.choice(_EMPLOYEES),
            "industry": rng.choice(_INDUSTRIES), "email": f"person{i}@{rng.choice(_DOMAINS)}"}


def _detail(rng: random.Random, kind: str) -> str:
    if kind == "page_view":
        return rng.choice(_PAGES)
    if kind == "form_submission":
        return rng.choice(_FORMS)
    return rng.choice(["c-1", "c-2", "call about pricing", ""])


# ------------------------------------------------------------------------------------------ (a) the core


def core_people(n: int, seed: int = 16) -> list[tuple[str, dict[str, Any], list[LinkedRecord], list[Touch]]]:
    """`n` people: fields, a HubSpot contact and a Salesforce Lead, and 10 touches in the store's time order."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        touches = [Touch(kind, NOW - rng.randrange(0, 200 * DAY), rng.choice(("hubspot", "salesforce")), f"t{i}-{j}",
                         detail=_detail(rng, kind))
                   for j, kind in enumerate(rng.choice(_KINDS) for _ in range(TOUCHES))]
        touches.sort(key=lambda t: (t.at, t.system, t.kind, t.source_id))  # as `dedupe` returns them
        records = [LinkedRecord("hubspot", "contacts", str(100_000 + i), "primary", NOW - 30 * DAY, False,
                                {"hs_lead_status": rng.choice([None, "NEW", "IN_PROGRESS"])}),
                   LinkedRecord("salesforce", "Lead", f"00Q{i:012d}", "primary", NOW - 30 * DAY, False,
                                {"Status": rng.choice(["Open - Not Contacted", "Working - Contacted"])})]
        out.append((f"p{i:07d}", _fields(rng, i), records, touches))
    return out


def _rate(n: int, run: Callable[[], None], repeat: int = 3) -> float:
    """People/s of the best of `repeat` runs over `n` people (the least disturbed by the machine's other work).
    The inputs are frozen out of the garbage collector's reach first: a pass holds one chunk of people, not
    all of them, and scanning the bench's own inputs is not the core's cost."""
    gc.collect()
    gc.freeze()
    best = float("inf")
    try:
        for _ in range(repeat):
            t = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - t)
    finally:
        gc.unfreeze()
    return round(n / best)


def bench_core(model: ScoringModel, n: int) -> dict[str, Any]:
    people = core_people(n)
    first = [decide(model, pid, f, recs, ts, (), None, NOW) for pid, f, recs, ts in people]
    # the same people a cycle later: their records hold the outputs, the store holds their prior
    again = []
    for (pid, f, recs, ts), d in zip(people, first, strict=True):
        held: dict[tuple[str, str], dict[str, Any]] = {}
        for c in d.changes:
            held.setdefault((c.system, c.record_id or ""), {})[c.field] = c.new
        recs2 = [LinkedRecord(r.system, r.object_type, r.record_id, r.role, r.changed_at, r.deleted,
                              {**r.data, **held.get((r.system, r.record_id), {})}) for r in recs]
        again.append((pid, f, recs2, ts, Prior(d.published, d.state, d.reason)))
    later = NOW + 60_000
    rewrites = sum(bool(decide(model, pid, f, recs, ts, (), prior, later).changes)
                   for pid, f, recs, ts, prior in again)

    def scores() -> None:
        for _, f, _, ts in people:
            score_person(model, f, ts, NOW)

    def decisions() -> None:
        for pid, f, recs, ts in people:
            decide(model, pid, f, recs, ts, (), None, NOW)

    def decisions_again() -> None:
        for pid, f, recs, ts, prior in again:
            decide(model, pid, f, recs, ts, (), prior, later)

    return {
        "people": n, "touches_per_person": TOUCHES, "score_person_per_s": _rate(n, scores),
        "decide_first_per_s": _rate(n, decisions), "decide_again_per_s": _rate(n, decisions_again),
        "writes_first": sum(len(d.changes) for d in first), "people_rewritten_again": rewrites,
    }


# ------------------------------------------------------------------------------------------ (b) the store


def _insert(engine: Engine, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        with engine.begin() as conn:
            conn.execute(table.__table__.insert(), list(rows))


def stage(engine: Engine, n: int, seed: int = 16) -> dict[str, int]:
    """N people as the reconcile stage leaves them, with their marketing events, all fetched before NOW."""
    rng = random.Random(seed)
    fetched = NOW - DAY
    counts = {"people": 0, "records": 0, "engagement": 0}
    for start in range(0, n, 5_000):
        people, fields, links, records, events = [], [], [], [], []
        for i in range(start, min(n, start + 5_000)):
            pid, contact, lead = f"p{i:07d}", str(100_000 + i), f"00Q{i:012d}"
            f = _fields(rng, i)
            email = f["email"]
            people.append({"id": pid, "email_norm": email, "created_at": fetched, "updated_at": fetched})
            fields += [{"person_id": pid, "field": name, "value": value, "source_system": "hubspot",
                        "source_id": contact, "source_time": fetched, "rule": "newest", "updated_at": fetched}
                       for name, value in f.items() if value is not None]
            status = rng.choice(["Open - Not Contacted", "Working - Contacted"])
            for system, obj, rid, data in (
                    ("hubspot", "contacts", contact, {"email": email, "jobtitle": f["job_title"]}),
                    ("salesforce", "Lead", lead, {"Email": email, "Title": f["job_title"], "Status": status,
                                                  "IsConverted": False})):
                links.append({"person_id": pid, "system": system, "object_type": obj, "record_id": rid,
                              "role": "primary", "reason": "reconciled", "linked_at": fetched})
                records.append({"system": system, "object_type": obj, "record_id": rid, "modified_at": fetched,
                                "changed_at": fetched, "fetched_at": fetched, "deleted": False,
                                "email_norm": email, "data": data})
            for j in range(TOUCHES):
                events.append(_event(rng, f"e{i}-{j}", contact, email, NOW - rng.randrange(DAY, 200 * DAY), fetched))
        _insert(engine, Person, people)
        _insert(engine, PersonField, fields)
        _insert(engine, Link, links)
        _insert(engine, SourceRecord, records)
        _insert(engine, Engagement, events)
        counts["people"] += len(people)
        counts["records"] += len(records)
        counts["engagement"] += len(events)
    return counts


def _event(rng: random.Random, eid: str, contact: str, email: str, at: int, fetched: int) -> dict[str, Any]:
    """A marketing event: e-mail events name the address (as HubSpot's e-mail events do), the others the contact."""
    kind = rng.choice(["page_view"] * 4 + ["email_open"] * 2 + ["email_click", "form_submission"])
    by_address = kind.startswith("email_")
    data: dict[str, Any] = {"emailCampaignId": "c-1"} if by_address else {}
    if kind == "page_view":
        data["hs_url"] = rng.choice(_PAGES)
    elif kind == "form_submission":
        data["form_title"] = rng.choice(_FORMS)
    return {"system": "hubspot", "engagement_id": eid, "kind": kind, "direction": "marketing",
            "subject_system": "email" if by_address else "hubspot", "subject_id": email if by_address else contact,
            "occurred_at": at, "data": data, "fetched_at": fetched}


def touch_some(engine: Engine, n: int, share: float, at: int) -> int:
    """A new page view for every 1/share-th person, fetched at `at` (after the last pass started)."""
    step = max(1, round(1 / share))
    rows = [{"system": "hubspot", "engagement_id": f"new-{i}", "kind": "page_view", "direction": "marketing",
             "subject_system": "hubspot", "subject_id": str(100_000 + i), "occurred_at": at - 1_000,
             "data": {"hs_url": "/pricing"}, "fetched_at": at} for i in range(0, n, step)]
    for start in range(0, len(rows), 5_000):
        _insert(engine, Engagement, rows[start:start + 5_000])
    return len(rows)


def write_back(engine: Engine, changes: Sequence[FieldChange]) -> int:
    """The planned values into the stored records, as if the push had written them and a pull had read them
    back (untimed; the fetch time is left as it was, so the next pass is not made to look at everyone)."""
    by_record: dict[tuple[str, str, str], dict[str, Any]] = {}
    for c in changes:
        if c.record_id is not None:
            by_record.setdefault((c.system, c.object_type, c.record_id), {})[c.field] = c.new
    with Session(engine) as session, session.begin():
        for (system, object_type), keys in groupby(sorted(by_record), key=lambda k: k[:2]):
            ids = [k[2] for k in keys]
            for start in range(0, len(ids), 500):
                for row in session.execute(select(SourceRecord).where(
                        col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
                        col(SourceRecord.record_id).in_(ids[start:start + 500]))).scalars():
                    row.data = {**row.data, **by_record[(system, object_type, row.record_id)]}
                    session.add(row)
    return len(by_record)


def one_pass(url: str, now: int, apply: bool = False) -> dict[str, Any]:
    """One scoring pass as a sync run makes it (score and save, then record the pass), timed; with `apply`,
    its writes then reach the stored records (`write_back`)."""
    engine = open_engine(url)
    model = shipped_model()
    t = time.perf_counter()
    done = score_people(engine, model, now, save=True)
    scored_s = time.perf_counter() - t
    finish_pass(engine, model, now, now)
    total = time.perf_counter() - t
    if apply:
        write_back(engine, done.changes)
    return {"candidates": done.counts["candidates"], "scored": len(done.decisions),
            "full_pass": bool(done.counts["full_pass"]), "values_to_write": len(done.changes),
            "moved": done.counts["moved"], "seconds": round(scored_s, 2), "with_finish_s": round(total, 2),
            "people_per_s": round(len(done.decisions) / scored_s) if done.decisions else None,
            "peak_rss_mb": round(rss_mb())}


def fresh_pass(url: str, now: int, apply: bool = False) -> dict[str, Any]:
    """`one_pass` in a new process: nothing cached, every import and read paid as a scheduled run pays it."""
    out = subprocess.run([sys.executable, __file__, "--store", url, "--one-pass", str(now)]
                         + (["--write-back"] if apply else []), check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000, help="people in the store")
    parser.add_argument("--core-people", type=int, default=50_000, help="people for the core alone")
    parser.add_argument("--store", default=None, help="database URL [default: a fresh SQLite file]")
    parser.add_argument("--out", default=None, help="result file [default: bench/results/score-<N>k.json]")
    parser.add_argument("--one-pass", type=int, default=None, help=argparse.SUPPRESS)  # the child's part
    parser.add_argument("--write-back", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_pass is not None:
        print(json.dumps(one_pass(args.store, args.one_pass, args.write_back)))
        return 0
    model = shipped_model()
    compiled = str(getattr(scorer_module, "__file__", "")).endswith(tuple(EXTENSION_SUFFIXES))
    result: dict[str, Any] = {"python": sys.version.split()[0], "compiled_score_core": compiled,
                              "core": bench_core(model, args.core_people)}
    print("core:", json.dumps(result["core"]), flush=True)
    url = args.store or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = open_engine(url)
    t = time.perf_counter()
    staged = stage(engine, args.people)
    engine.dispose()
    result["store"] = {"url": url.split("///")[0] + "///…", **staged, "staging_s": round(time.perf_counter() - t, 1)}
    print("staged:", json.dumps(result["store"]), flush=True)
    passes: dict[str, Any] = {}
    passes["first"] = fresh_pass(url, NOW, apply=True)
    print("first pass:", json.dumps(passes["first"]), flush=True)
    passes["steady"] = fresh_pass(url, NOW + 60_000)
    print("steady-state pass:", json.dumps(passes["steady"]), flush=True)
    engine = open_engine(url)
    touched = touch_some(engine, args.people, 0.01, NOW + 120_000)
    engine.dispose()
    passes["after_1pct_touched"] = {"touched": touched, **fresh_pass(url, NOW + 180_000)}
    print("after 1% touched:", json.dumps(passes["after_1pct_touched"]), flush=True)
    result["passes"] = passes
    text = json.dumps(result, indent=2)
    print(text)
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / f"score-{args.people // 1000}k.json"
    out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
