"""Benchmark: the reports (issue #17): `connector report funnel`, `report sla` and `report scoring` on a store
of N people, each computed as the CLI computes it.

    python bench/bench_reports.py [--people 100000] [--seed 17] [--store-url URL] [--rebuild]

The store: the people of `bench_score.stage` (person, fields, a HubSpot contact and a Salesforce Lead each,
10 marketing events each), plus what the reports read: a status history per person over the 420 days
before NOW (Lead, then for 45% an MQL, accepted (SAL, SQL, Opportunity, Customer), recycled, disqualified
or left open, re-MQLs after a recycle), the score and model version at each MQL, a current score with its
breakdown, the unified `lead_source` and `owner`, sales touches after the MQLs (HubSpot calls, meetings,
e-mails, tasks; Salesforce Tasks and Events: the first one usually within a working day, some late, some
never), won and lost Opportunities (through a Contact and its contact role) and HubSpot deals (some of
them the same deal as an Opportunity), and a finished sync run. A store is reused when it holds the same
size and seed (a SQLite file in the temp directory by default, named by both; a PostgreSQL URL is used
if it is empty or holds that store, and rebuilt with `--rebuild`).

Each report runs in a fresh process: `connector.cli._report` (what `connector report KIND` runs after
opening the store: the report, its tables and its text) three times over the 365 days before NOW; the
best time, every time and the child's peak RSS, with the report's headline counts so the store's
plausibility can be checked. Writes bench/results/reports-<N/1000>k.json (reports-<N/1000>k-postgresql.json
for a PostgreSQL store, which is ANALYZEd once built: the test server runs without autovacuum).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from bench.bench_score import DAY, NOW, _insert, rss_mb, shipped_model, stage  # noqa: E402
from connector.store import open_engine  # noqa: E402
from connector.store.models import (  # noqa: E402
    Engagement, Link, Person, PersonField, PersonScore, ScoringModelVersion, SourceRecord, StatusTransition, SyncRun)

HOUR = 3_600_000
SINCE = NOW - 365 * DAY  # the CLI's default period: the 12 months before now
CHUNK = 5_000
KINDS = ("funnel", "sla", "scoring")
MARKER = "bench_reports"  # the sync run's counts key that names the store's size and seed
_SOURCES = ["Web", "Web", "Paid Search", "Event", "Referral", "Partner", "Outbound", None]
_OWNERS = [f"rep{i:02d}@sales.example" for i in range(25)] + [None]
_RECYCLE = ["No response", "Bad timing", "No budget", "Nurture"]
_DISQUALIFY = ["Not a fit", "Student", "Competitor", "Duplicate", "No budget"]
_RULES = ["Senior title", "Manager", "100+ employees", "25-99 employees", "Target industry", "Free-mail address",
          "Pricing page", "Demo request", "Webinar", "Page views", "E-mail clicks"]
_HUBSPOT_SALES = {"calls": "hs_call_title", "meetings": "hs_meeting_title", "emails": "hs_email_subject",
                  "tasks": "hs_task_subject"}
_MODELS = (("bench-model-v1", 1, NOW - 420 * DAY), ("bench-model-v2", 2, NOW - 120 * DAY))


def _iso(ms: int, salesforce: bool) -> str:
    """A time as the system writes it (HubSpot "...Z", Salesforce "...+0000")."""
    text_ = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}"
    return text_ + ("+0000" if salesforce else "Z")


def _model_at(at: int) -> str:
    return _MODELS[1][0] if at >= _MODELS[1][2] else _MODELS[0][0]


# ------------------------------------------------------------------------------------------ the store


def _path(rng: random.Random) -> list[tuple[str, int, str, int | None]]:
    """One person's status history: (status, at, reason, score at MQL), in time order, none after NOW."""
    at = NOW - int(rng.uniform(10, 420) * DAY)
    moves: list[tuple[str, int, str, int | None]] = [("Lead", at, "created", None)]
    chance = 0.45
    for _ in range(3):  # the first MQL and up to two re-MQLs after recycles
        if rng.random() >= chance:
            break
        at += int(rng.expovariate(1 / 20) * DAY) + HOUR
        if rng.random() < 0.03:  # sales qualified the Lead straight away: Lead -> SQL
            moves.append(("SQL", at, "qualified by sales", None))
            stages = ["Opportunity", "Customer"]
        else:
            score = rng.randint(50, 100) if rng.random() < 0.9 else rng.randint(35, 49)  # some by an older threshold
            moves.append(("MQL", at, f"score {score}", score))
            fate = rng.random()
            if fate < 0.25:  # recycled: may come back as a new MQL
                at += int(rng.expovariate(1 / 30) * DAY)
                moves.append(("Recycled", at, rng.choice(_RECYCLE), None))
                chance = 0.5
                continue
            if fate < 0.35:
                at += int(rng.expovariate(1 / 3) * DAY)
                moves.append(("Disqualified", at, rng.choice(_DISQUALIFY), None))
                break
            if fate < 0.45:  # still open
                break
            stages = ["SAL", "SQL", "Opportunity", "Customer"]
        go_on = {"SAL": 1.0, "SQL": 0.65, "Opportunity": 0.6, "Customer": 0.4}
        stopped = False
        for status in stages:
            if rng.random() >= go_on[status] and status != stages[0]:
                at += int(rng.expovariate(1 / 20) * DAY)
                end = "Recycled" if rng.random() < 0.6 else "Disqualified"
                moves.append((end, at, rng.choice(_RECYCLE if end == "Recycled" else _DISQUALIFY), None))
                stopped = True
                break
            at += int(rng.expovariate(1 / (2 if status == "SAL" else 12)) * DAY)
            moves.append((status, at, f"{status} by sales", None))
        if not stopped or moves[-1][0] == "Disqualified":
            break
        chance = 0.5
    return [m for m in moves if m[1] <= NOW]


def _sales_touch(rng: random.Random, i: int, n: int, at: int, contact: str, lead: str) -> dict[str, Any]:
    """One sales activity record naming the person's contact (HubSpot) or Lead (Salesforce)."""
    owner = rng.randrange(25)
    if rng.random() < 0.5:
        obj = rng.choice(list(_HUBSPOT_SALES))
        rid = f"{obj}-{i}-{n}"
        data: dict[str, Any] = {"hs_timestamp": _iso(at, False), "hubspot_owner_id": str(9_000 + owner),
                                _HUBSPOT_SALES[obj]: "Follow-up", "_associations": {"contacts": [contact]}}
        system = "hubspot"
    else:
        obj = "Task" if rng.random() < 0.7 else "Event"
        rid = f"00T{i:09d}{n:03d}" if obj == "Task" else f"00U{i:09d}{n:03d}"
        data = {"WhoId": lead, "OwnerId": f"005{owner:012d}", "Subject": "Follow-up"}
        if obj == "Task":
            data.update(TaskSubtype=rng.choice(["Call", "Email", "Task"]), CompletedDateTime=_iso(at, True))
        else:
            data["StartDateTime"] = _iso(at, True)
        system = "salesforce"
    return {"system": system, "object_type": obj, "record_id": rid, "modified_at": at, "changed_at": at,
            "fetched_at": NOW - DAY, "deleted": False, "email_norm": None, "data": data}


def _deals(rng: random.Random, i: int, pid: str, contact: str, won: bool, fetched: int
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A person's Opportunity (through a Contact and its contact role) and/or HubSpot deal: (records, links)."""
    records: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    amount = round(rng.uniform(2_000, 80_000), 2)
    where = rng.random()
    opp = f"006{i:012d}AAA"
    if where < 0.85 or not won:  # in Salesforce: the converted Lead's Contact, the role, the Opportunity
        sf_contact = f"003{i:012d}AAA"
        links.append({"person_id": pid, "system": "salesforce", "object_type": "Contact", "record_id": sf_contact,
                      "role": "primary", "reason": "reconciled", "linked_at": fetched})
        for obj, rid, data in (("Contact", sf_contact, {"LastName": "-", "OwnerId": "005000000000001"}),
                               ("OpportunityContactRole", f"00K{i:012d}AAA",
                                {"ContactId": sf_contact, "OpportunityId": opp, "IsPrimary": True}),
                               ("Opportunity", opp, {"IsWon": won, "IsClosed": True, "Amount": amount,
                                                     "StageName": "Closed Won" if won else "Closed Lost"})):
            records.append({"system": "salesforce", "object_type": obj, "record_id": rid, "modified_at": fetched,
                            "changed_at": fetched, "fetched_at": fetched, "deleted": False, "email_norm": None,
                            "data": data})
    if won and where >= 0.6:  # in HubSpot too (the same deal, naming the Opportunity), or only there
        deal: dict[str, Any] = {"dealstage": "closedwon", "amount": str(amount),
                                "_associations": {"contacts": [contact]}}
        if where < 0.85:
            deal["salesforce_opportunity_id"] = opp
        records.append({"system": "hubspot", "object_type": "deals", "record_id": str(700_000 + i),
                        "modified_at": fetched, "changed_at": fetched, "fetched_at": fetched, "deleted": False,
                        "email_norm": None, "data": deal})
    return records, links


def _score_row(rng: random.Random, pid: str, moves: list[tuple[str, int, str, int | None]]) -> dict[str, Any]:
    fit, engagement = rng.randint(0, 60), rng.randint(0, 60)
    score = fit + engagement
    grade = "A" if fit >= 45 else "B" if fit >= 30 else "C" if fit >= 15 else "D"
    rules = rng.sample(_RULES, rng.randint(1, 5))
    mqls = [m for m in moves if m[0] == "MQL"]
    last = moves[-1]
    return {"person_id": pid, "score": score, "fit": fit, "engagement": engagement, "grade": grade,
            "status": last[0], "status_since": last[1], "status_reason": last[2], "status_by": "connector",
            "feedback": None, "reset_at": None, "mql_at": mqls[-1][1] if mqls else None, "mql_count": len(mqls),
            "reason": "", "breakdown": [[r, float(rng.randint(5, 25)), 1, "fit"] for r in rules],
            "model_hash": _model_at(NOW), "inputs_digest": f"{rng.getrandbits(64):016x}", "next_check_at": None,
            "last_touch_at": last[1], "scored_at": NOW - DAY}


def build(engine: Engine, n: int, seed: int) -> dict[str, Any]:
    """The people of `bench_score.stage`, then their report data (see the module's docstring)."""
    counts: dict[str, Any] = dict(stage(engine, n, seed))
    rng = random.Random(seed * 7 + 1)
    fetched = NOW - DAY
    extra = {"transitions": 0, "sales_touches": 0, "marketing_touches": 0, "deal_records": 0}
    for start in range(0, n, CHUNK):
        fields, transitions, scores, records, links, events = [], [], [], [], [], []
        for i in range(start, min(n, start + CHUNK)):
            pid, contact, lead = f"p{i:07d}", str(100_000 + i), f"00Q{i:012d}"
            for name, value in (("lead_source", rng.choice(_SOURCES)), ("owner", rng.choice(_OWNERS))):
                if value is not None:
                    fields.append({"person_id": pid, "field": name, "value": value, "source_system": "hubspot",
                                   "source_id": contact, "source_time": fetched, "rule": "newest",
                                   "updated_at": fetched})
            moves = _path(rng)
            before = None
            touch_n = 0
            for status, at, reason, score in moves:
                transitions.append({"person_id": pid, "from_status": before, "to_status": status, "at": at,
                                    "reason": reason, "system": "connector" if status in ("Lead", "MQL")
                                    else rng.choice(("salesforce", "hubspot")), "source_id": None, "score": score,
                                    "model_hash": _model_at(at), "recorded_at": at, "run_id": None})
                before = status
                if status != "MQL":
                    continue
                # the marketing touch that made the MQL, then the sales touches (usually within a working day)
                events.append({"system": "hubspot", "engagement_id": f"m{i}-{len(transitions)}",
                               "kind": "form_submission", "direction": "marketing", "subject_system": "hubspot",
                               "subject_id": contact, "occurred_at": at - HOUR,
                               "data": {"form_title": "Demo request"}, "fetched_at": fetched})
                extra["marketing_touches"] += 1
                if rng.random() < 0.85:
                    touch_at = at + int(rng.expovariate(1 / 14) * HOUR) + 60_000
                    for _ in range(rng.randint(1, 4)):
                        if touch_at > NOW:
                            break
                        records.append(_sales_touch(rng, i, touch_n, touch_at, contact, lead))
                        touch_n += 1
                        touch_at += int(rng.uniform(0.5, 10) * DAY)
            extra["sales_touches"] += touch_n
            scores.append(_score_row(rng, pid, moves))
            reached = {m[0] for m in moves}
            if "Opportunity" in reached:
                deal_records, deal_links = _deals(rng, i, pid, contact, "Customer" in reached, fetched)
                records += deal_records
                links += deal_links
                extra["deal_records"] += len(deal_records)
        extra["transitions"] += len(transitions)
        _insert(engine, PersonField, fields)
        _insert(engine, StatusTransition, transitions)
        _insert(engine, PersonScore, scores)
        _insert(engine, Link, links)
        _insert(engine, SourceRecord, records)
        _insert(engine, Engagement, events)
    _insert(engine, ScoringModelVersion, [{"model_hash": h, "version": v, "owners": {}, "text": "", "first_used": at,
                                           "last_used": NOW} for h, v, at in _MODELS])
    counts.update(extra)
    return counts


def built(engine: Engine, n: int, seed: int, started: float) -> dict[str, Any]:
    """`build` the store, then the finished run the reports' freshness reads: it also names the store's size
    and seed (for reuse) and keeps what was built (for the results of a run that reuses it)."""
    info = {**build(engine, n, seed), "build_s": round(time.perf_counter() - started, 1)}
    if engine.dialect.name == "postgresql":  # the statistics autovacuum would have gathered (the test server runs
        with engine.connect() as conn:  # without it): with none, the planner scans by the wrong index
            conn.execute(text("ANALYZE"))
            conn.commit()
    _insert(engine, SyncRun, [{"command": "sync", "started_at": NOW - 10 * 60_000, "finished_at": NOW - 5 * 60_000,
                               "status": "ok", "api_calls": {},
                               "counts": {MARKER: {"people": n, "seed": seed}, "store": info}}])
    return {"reused": False, **info}


def _marker(engine: Engine) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The size and seed the store was built with (None: not a bench store), and what was built."""
    with Session(engine) as session:
        for (counts,) in session.execute(select(col(SyncRun.counts)).where(col(SyncRun.command) == "sync")):
            if isinstance(counts, dict) and MARKER in counts:
                return dict(counts[MARKER]), dict(counts.get("store") or {})
    return None, {}


def _people(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Person)).scalar() or 0)


def ready_store(url: str | None, n: int, seed: int, rebuild: bool) -> tuple[str, dict[str, Any]]:
    """The store's URL, built unless it already holds these people: (url, how it was got)."""
    if url is None:  # a SQLite file per size and seed, built under another name and renamed once complete
        directory = Path(tempfile.gettempdir()) / "connector-bench-reports"
        directory.mkdir(exist_ok=True)
        path = directory / f"reports-{n}-{seed}.db"
        if path.exists() and not rebuild:
            engine = open_engine(f"sqlite:///{path}")
            marker, info = _marker(engine)
            engine.dispose()
            if marker == {"people": n, "seed": seed}:
                return f"sqlite:///{path}", {"reused": True, **info}
        partial = path.with_suffix(".partial.db")
        for p in (path, partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            p.unlink(missing_ok=True)
        engine = open_engine(f"sqlite:///{partial}")
        store = built(engine, n, seed, time.perf_counter())
        engine.dispose()
        partial.rename(path)
        return f"sqlite:///{path}", store
    engine = open_engine(url)
    marker, info = _marker(engine)
    if marker == {"people": n, "seed": seed} and not rebuild:
        engine.dispose()
        return url, {"reused": True, **info}
    if _people(engine) and not rebuild:
        raise SystemExit(f"{make_url(url).render_as_string()} holds another store: pass --rebuild to replace it")
    if _people(engine):
        if make_url(url).get_backend_name() != "postgresql":
            raise SystemExit("--rebuild replaces a PostgreSQL store only; delete the SQLite file instead")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            conn.commit()
        engine.dispose()
        engine = open_engine(url)
    store = built(engine, n, seed, time.perf_counter())
    engine.dispose()
    return url, store


# ------------------------------------------------------------------------------------------ the reports


def headline(kind: str, report: dict[str, Any]) -> dict[str, Any]:
    """The counts that show whether the store is plausible (no names, no addresses)."""
    if kind == "funnel":
        return {"people": report["people"], "stages": {r["stage"]: r["people"] for r in report["stages"]},
                "conversion": {r["stage"]: r["conversion_from_previous"] for r in report["stages"][1:]},
                "median_days_in_stage": {r["stage"]: r["median_days_in_stage"] for r in report["stages"]},
                "won_revenue": report["won_revenue"], "won_deals": report["won_deals"],
                "lead_sources": len(report["by"]["lead_source"]), "owners": len(report["by"]["owner"]),
                "months": len(report["by"]["month"])}
    if kind == "sla":
        keys = ("clocks", "met", "breached", "on_time", "due_soon", "ended", "breach_rate",
                "median_hours_to_first_touch")
        return {**{k: report[k] for k in keys}, "owners": len(report["by_owner"]), "weeks": len(report["by_week"]),
                "due_soon_listed": len(report["due_soon_list"])}
    s = report["suggested_threshold"]
    return {"mqls": report["mqls"], "overall": report["overall"], "bands": len(report["by_band"]),
            "grades": {r["grade"]: r["mqls"] for r in report["by_grade"]}, "rules": len(report["by_rule"]),
            "disqualified": sum(r["people"] for r in report["disqualified"]),
            "recycled": sum(r["people"] for r in report["recycled"]), "suggested_threshold": s["score"],
            "models": [m["version"] for m in report["models"]]}


def one_report(url: str, kind: str, repeat: int = 3) -> dict[str, Any]:
    """`kind` computed `repeat` times as `connector report KIND` computes it (no CSV, no HTML): best and all."""
    from connector.cli import _report

    model = shipped_model()
    engine = open_engine(url)
    times = []
    payload: dict[str, Any] = {}
    for _ in range(repeat):
        t = time.perf_counter()
        payload, lines = _report(kind, engine, SINCE, NOW, None, None, model.sla if kind == "sla" else None)
        times.append(time.perf_counter() - t)
    return {"best_s": round(min(times), 2), "runs_s": [round(x, 2) for x in times],
            "peak_rss_mb": round(rss_mb()), "text_lines": len(lines), "headline": headline(kind, payload["report"])}


def fresh_report(url: str, kind: str) -> dict[str, Any]:
    """`one_report` in a new process: its own imports, caches and peak RSS."""
    out = subprocess.run([sys.executable, __file__, "--store-url", url, "--one-report", kind],
                         check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000, help="people in the store")
    parser.add_argument("--seed", type=int, default=17, help="the store's random seed")
    parser.add_argument("--store-url", default=None,
                        help="database URL [default: a SQLite file in the temp directory, per size and seed]")
    parser.add_argument("--rebuild", action="store_true", help="build the store again even if it holds these people")
    parser.add_argument("--out", default=None, help="result file [default: bench/results/reports-<N>k.json]")
    parser.add_argument("--one-report", choices=KINDS, default=None, help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.one_report is not None:
        print(json.dumps(one_report(args.store_url, args.one_report)))
        return 0
    url, store = ready_store(args.store_url, args.people, args.seed, args.rebuild)
    backend = make_url(url).get_backend_name()
    result: dict[str, Any] = {"python": sys.version.split()[0], "backend": backend, "people": args.people,
                              "seed": args.seed, "store": store, "reports": {}}
    print("store:", json.dumps(store), flush=True)
    for kind in KINDS:
        result["reports"][kind] = fresh_report(url, kind)
        print(f"{kind}:", json.dumps(result["reports"][kind]), flush=True)
    text_ = json.dumps(result, indent=2)
    print(text_)
    suffix = "" if backend == "sqlite" else f"-{backend}"
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / f"reports-{args.people // 1000}k{suffix}.json"
    out.write_text(text_ + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
