"""`connector demo`: the sandbox, a real pull of both systems, and what it found, in a few readable lines.

An edge like the CLI: it starts the built-in emulators (the only place besides `connector sandbox` that
does), points the connector at them over HTTPS exactly as at real systems, and runs the stages that
are built. Each later stage adds its part of the story here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select

from .config import HubSpotConfig, SalesforceConfig
from .pull.engine import Puller, PullSettings
from .reconcile import load_mappings
from .pull.streams import ALL_STREAMS
from .store import open_engine
from .store.models import Engagement, SourceRecord
from .store.people import reconcile_stored
from .store.runs import finish_run, start_run
from .systems.hubspot import HubSpotSource
from .systems.ledger import CallLedger
from .systems.salesforce import SalesforceSource

__all__ = ["run_demo"]

Say = Callable[[str], None]


def _fresh_sqlite(url: str) -> None:
    """The demo's store belongs to the sandbox it pulled: start it empty every time."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)


def run_demo(*, people: int, seed: int, store_url: str, rate_limits: bool, mappings_dir: Path, say: Say
             ) -> dict[str, Any]:
    """Run the demo; `say` prints a line for people (the CLI passes a no-op for --json)."""
    from .sandbox.runner import Sandbox

    started = time.perf_counter()
    say(f"Starting the sandbox: HubSpot and Salesforce emulators on 127.0.0.1 over HTTPS, seeding {people:,} "
        f"people (seed {seed}, rate limits {'real' if rate_limits else 'off'})...")
    with Sandbox(people=people, seed=seed, rate_limits=rate_limits) as sandbox:
        info = sandbox.info()
        say(f"  seeded in {info.seconds_to_seed:.1f} s: HubSpot at {info.hubspot_base_url}, "
            f"Salesforce at {info.salesforce_instance_url}")
        _fresh_sqlite(store_url)
        engine = open_engine(store_url)
        ledger = CallLedger()
        hubspot = HubSpotSource(HubSpotConfig(
            base_url=info.hubspot_base_url, access_token=SecretStr(info.hubspot_access_token),
            ca_bundle=Path(info.ca_file), requests_per_10s=190, daily_limit=625_000), ledger)
        salesforce = SalesforceSource(SalesforceConfig(
            instance_url=info.salesforce_instance_url, auth="client_credentials",
            client_id=info.salesforce_client_id, client_secret=SecretStr(info.salesforce_client_secret),
            ca_bundle=Path(info.ca_file)), ledger)
        say("Pulling everything from both systems into the state store "
            f"({make_url(store_url).render_as_string(hide_password=True)})...")
        now_ms = sandbox.clock.now_ms()
        run_id = start_run(engine, "demo", now_ms)
        pull_started = time.perf_counter()
        try:
            result = Puller(engine, hubspot=hubspot, salesforce=salesforce,
                            settings=PullSettings(run_started_ms=now_ms + 1, safety_lag_ms=0, run_id=run_id)
                            ).pull(ALL_STREAMS)
        finally:
            hubspot.close()
            salesforce.close()
        pull_seconds = time.perf_counter() - pull_started
        finish_run(engine, run_id, now_ms=sandbox.clock.now_ms(), status="ok", api_calls=ledger.snapshot(),
                   counts=result.to_json())
        world = _world(engine)
        bound = _lower_bound(world)
        say(f"Reconciling people with the mapping files in {mappings_dir}/ (nothing is written to the systems yet)...")
        # the unified people are saved, so `connector explain` works on the demo's store
        plan = reconcile_stored(engine, load_mappings(mappings_dir).contacts, now_ms=sandbox.clock.now_ms())
    summary = {
        "ok": True,
        "people_seeded": people,
        "seed": seed,
        "store": store_url,
        "pull": {"seconds": round(pull_seconds, 2), "streams": result.to_json()},
        "world": world,
        "api_calls": ledger.snapshot(),
        "api_calls_lower_bound": bound,
        "reconcile_preview": plan,
        "seconds": round(time.perf_counter() - started, 2),
        "not_built_yet": ["writing the planned changes (issue #6)", "scoring", "reports"],
    }
    _tell(summary, say)
    return summary


def _world(engine: Any) -> dict[str, Any]:
    """What the two systems hold and how far they agree on who is who (by normalised e-mail)."""
    with Session(engine) as s:
        counts = dict(s.exec(select(SourceRecord.object_type, func.count()).where(~SourceRecord.deleted)
                             .group_by(SourceRecord.object_type)).all())
        events = dict(s.exec(select(Engagement.kind, func.count()).group_by(Engagement.kind)).all())
        hs = set(s.exec(select(SourceRecord.email_norm).where(
            SourceRecord.system == "hubspot", SourceRecord.object_type == "contacts", ~SourceRecord.deleted,
            SourceRecord.email_norm.is_not(None))).all())  # type: ignore[union-attr]
        sf_rows = s.exec(select(SourceRecord.email_norm, SourceRecord.object_type, SourceRecord.data).where(
            SourceRecord.system == "salesforce", SourceRecord.object_type.in_(["Lead", "Contact"]),  # type: ignore[attr-defined]
            ~SourceRecord.deleted, SourceRecord.email_norm.is_not(None))).all()  # type: ignore[union-attr]
    sf_people: dict[str, int] = {}
    for email, object_type, data in sf_rows:
        if object_type == "Lead" and data.get("IsConverted"):
            continue  # a converted lead lives on as its contact
        sf_people[email] = sf_people.get(email, 0) + 1
    sf = set(sf_people)
    return {
        "records": counts,
        "marketing_events": events,
        "people_by_email": {"hubspot_only": len(hs - sf), "salesforce_only": len(sf - hs), "both": len(hs & sf),
                            "salesforce_duplicates": sum(1 for n in sf_people.values() if n > 1)},
    }


def _lower_bound(world: dict[str, Any]) -> dict[str, int]:
    records = world["records"]
    hubspot = sum(-(-n // 100) for o, n in records.items() if o[0].islower())
    hubspot += -(-sum(world["marketing_events"].values()) // 1000)
    salesforce = sum(-(-n // 2000) for o, n in records.items() if o[0].isupper())
    return {"hubspot": hubspot, "salesforce": salesforce}


def _tell(summary: dict[str, Any], say: Say) -> None:
    world, calls, bound = summary["world"], summary["api_calls"], summary["api_calls_lower_bound"]
    r = world["records"]
    say("")
    say(f"HubSpot holds {r.get('contacts', 0):,} contacts, {r.get('deals', 0):,} deals and "
        f"{sum(r.get(k, 0) for k in ('calls', 'meetings', 'emails', 'notes', 'tasks')):,} sales activities, "
        f"plus {sum(world['marketing_events'].values()):,} marketing touches.")
    say(f"Salesforce holds {r.get('Lead', 0):,} leads, {r.get('Contact', 0):,} contacts on {r.get('Account', 0):,} "
        f"accounts, {r.get('Opportunity', 0):,} opportunities and "
        f"{r.get('Task', 0) + r.get('Event', 0):,} tasks and events.")
    p = world["people_by_email"]
    say(f"By e-mail address, {p['both']:,} people are in both systems, {p['hubspot_only']:,} only in HubSpot and "
        f"{p['salesforce_only']:,} only in Salesforce; {p['salesforce_duplicates']:,} addresses appear more than "
        "once in Salesforce.")
    hs_used = calls.get("hubspot", {}).get("total", 0)
    sf_used = calls.get("salesforce", {}).get("total", 0)
    say(f"API calls: HubSpot {hs_used:,} (lower bound at 100 records per call: {bound['hubspot']:,}); Salesforce "
        f"{sf_used:,} (lower bound at 2,000 rows per query: {bound['salesforce']:,}; Composite carries five "
        "queries in one call).")
    plan = summary["reconcile_preview"]
    say(f"Reconciled into {plan['people']:,} people ({plan['linked_in_both']:,} linked across both systems; "
        f"{plan['duplicates']:,} duplicate records listed for review, never merged silently).")
    if plan["conflicts"]:
        top = ", ".join(f"{c['field']} for {c['people']:,} ({c['rule']})" for c in plan["conflicts"][:4])
        say(f"Conflicting values settled by the mapping rules: {top}.")
    for system, w in plan["planned_writes"].items():
        name = "HubSpot" if system == "hubspot" else "Salesforce"
        say(f"{name} would get {w['creates']:,} new records and {w['updates']:,} updated ones "
            f"({w['field_changes']:,} field changes).")
    if plan["issues"]:
        kinds = "; ".join(f"{k} ({n})" for k, n in plan["issue_kinds"].items())
        say(f"{plan['issues']:,} values need a person's attention and are left untouched: {kinds}.")
    say(f"Done in {summary['seconds']:.1f} s. Writing these changes back (push), scoring and reports are the next "
        "stages to land; see the README.")
