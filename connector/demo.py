"""`connector demo`: the sandbox, a real pull of both systems, and what it found, in a few readable lines.

An edge like the CLI: it starts the built-in emulators (the only place besides `connector sandbox` that
does), points the connector at them over HTTPS exactly as at real systems, and runs the stages that
are built. Each later stage adds its part of the story here.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from .bounds import (
    hubspot_read_calls,
    hubspot_write_calls,
    salesforce_read_calls,
    salesforce_write_calls,
)
from .config import HubSpotConfig, SalesforceConfig, SyncConfig
from .reconcile import load_mappings
from .setup import run_setup
from .store import open_engine
from .store.lock import RunLock, acquire_run_lock
from .store.census import engagement_counts, live_addresses, live_record_counts, person_in_both
from .sync import CycleOptions, Systems, mark_setup_done, run_once
from .systems.hubspot import HubSpotSource
from .systems.ledger import CallLedger
from .systems.salesforce import SalesforceSource
from .wording import count

if TYPE_CHECKING:
    from .sandbox.runner import SandboxInfo

__all__ = ["OBJECT_PARTS", "run_demo", "sandbox_systems", "write_bounds"]

Say = Callable[[str], None]


def sandbox_systems(info: SandboxInfo) -> Systems:
    """Both systems' adapters on a running sandbox (its TLS CA, tokens and client; HubSpot at a Professional
    account's limits, as the sandbox emulates them), sharing one ledger."""
    ledger = CallLedger()
    return Systems(
        HubSpotSource(HubSpotConfig(
            base_url=info.hubspot_base_url, access_token=SecretStr(info.hubspot_access_token),
            ca_bundle=Path(info.ca_file), requests_per_10s=190, daily_limit=625_000), ledger),
        SalesforceSource(SalesforceConfig(
            instance_url=info.salesforce_instance_url, auth="client_credentials",
            client_id=info.salesforce_client_id, client_secret=SecretStr(info.salesforce_client_secret),
            ca_bundle=Path(info.ca_file)), ledger),
        ledger)


def _fresh_sqlite(url: str) -> None:
    """The demo's store belongs to the sandbox it pulled: start it empty every time."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)


@contextmanager
def _claimed(store_url: str) -> Iterator[RunLock]:
    """The store's run lock, held until released (at the latest on leaving): the demo empties the store."""
    lock = acquire_run_lock(create_engine(store_url))
    try:
        yield lock
    finally:
        lock.release()


def run_demo(*, people: int, seed: int, store_url: str, rate_limits: bool, mappings_dir: Path, say: Say,
             search_lag_ms: int | None = None, bulk_jobs: Literal["realistic", "instant"] = "realistic"
             ) -> dict[str, Any]:
    """Run the demo; `say` prints a line for people (the CLI passes a no-op for --json)."""
    from .sandbox.runner import Sandbox

    started = time.perf_counter()
    say(f"Starting the sandbox: HubSpot and Salesforce emulators on 127.0.0.1 over HTTPS, seeding {people:,} "
        f"people (seed {seed}, rate limits {'real' if rate_limits else 'off'})...")
    mappings = load_mappings(mappings_dir)
    mapping = mappings.contacts
    # a store another run is using is left alone (StoreBusy), before the sandbox starts or the store is emptied
    with _claimed(store_url) as claim, Sandbox(people=people, seed=seed, rate_limits=rate_limits,
                                               search_lag_ms=search_lag_ms, bulk_jobs=bulk_jobs) as sandbox:
        info = sandbox.info()
        say(f"  seeded in {info.seconds_to_seed:.1f} s: HubSpot at {info.hubspot_base_url}, "
            f"Salesforce at {info.salesforce_instance_url}")
        try:
            _fresh_sqlite(store_url)
            engine = open_engine(store_url)
        finally:
            claim.release()  # each sync below takes the run lock for itself
        systems = sandbox_systems(info)
        ledger = systems.ledger
        try:
            say("Setting up: the connector's own properties and fields (cross-reference ids, score, grade, status)...")
            setup = run_setup(systems.hubspot, systems.salesforce, mappings, apply=True,
                              create_salesforce_fields=True).to_json()
            mark_setup_done(engine, mapping, sandbox.clock.now_ms())
            shown = make_url(store_url).render_as_string(hide_password=True)
            say(f"Syncing: pull both systems into the state store ({shown}), "
                f"reconcile with the mapping files in {mappings_dir}/, write the changes back...")
            timing = SyncConfig()  # the shipped defaults, as a user's sync runs (safety lag, lookback)
            lag_ms, lookback_ms = timing.safety_lag_seconds * 1000, timing.lookback_seconds * 1000
            options = CycleOptions(mapping, command="demo", clock=sandbox.clock.now_ms, safety_lag_ms=lag_ms,
                                   lookback_ms=lookback_ms, deal_mapping=mappings.opportunities,
                                   scoring=mappings.scoring, company_mapping=mappings.companies)
            first = run_once(engine, systems, options).to_json()
            world = _world(engine)
            # the next scheduled syncs, each after the safety lag (the sandbox's clock moves, nobody waits): the
            # second writes what the first left to it, the third shows that agreement costs no writes
            later = []
            for words in ("again, as the next scheduled run would, for what the first left to it",
                          "a third time, to show that two systems in agreement cost no writes"):
                sandbox.clock.advance(lag_ms + 1_000)
                say(f"Syncing {words}...")
                later.append(run_once(engine, systems, options).to_json())
            second, third = later
        finally:
            systems.close()
    config = _store_config(store_url, mappings_dir)
    summary = {
        "ok": True,
        "people_seeded": people,
        "seed": seed,
        "store": store_url,
        "setup": setup,
        "world": world,
        "sync": first,
        "second_sync": _later(second),
        "third_sync": _later(third),
        "safety_lag_seconds": lag_ms // 1000,
        "api_calls": ledger.snapshot(),
        "api_calls_lower_bound": _lower_bound(world, first),
        "seconds": round(time.perf_counter() - started, 2),
        "not_built_yet": [],
        "config": str(config),
        "mappings": mappings_dir,
        "someone": _someone(engine),
    }
    _tell(summary, say)
    return summary


def _world(engine: Any) -> dict[str, Any]:
    """What the two systems held before the sync wrote anything, and how far they agreed on who is who (by
    normalised e-mail). Records the sync created are stored with modified_at 0 until a pull brings them."""
    counts = live_record_counts(engine)
    events = engagement_counts(engine)
    hs = {email for email, _obj, _data in live_addresses(engine, "hubspot", ["contacts"])}
    sf_rows = live_addresses(engine, "salesforce", ["Lead", "Contact"])
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


def _lower_bound(world: dict[str, Any], sync: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Fewest calls anyone could need (connector/bounds.py): reads from the records both systems held, writes
    from the records the sync had to create and update (each create looked up first, each update's edited
    fields read again first, and the deal-contact links it had to add), at the vendors' page sizes.
    Opt-outs count at 100 addresses a call (HubSpot's batch, on Enterprise accounts; one a call below, which
    a lower bound cannot assume)."""
    records = world["records"]
    pull = {"hubspot": hubspot_read_calls({o: n for o, n in records.items() if o[0].islower()},
                                          sum(world["marketing_events"].values())),
            "salesforce": salesforce_read_calls({o: n for o, n in records.items() if o[0].isupper()})}
    return {"pull": pull, "push": write_bounds(sync)}


#: the summary's objects besides people, whose writes and links a sync's write calls include
OBJECT_PARTS = ("companies", "deals")


def write_bounds(sync: dict[str, Any], *, opt_outs: int | None = None, batched_opt_outs: bool = True
                 ) -> dict[str, int]:
    """The fewest write calls (connector/bounds.py) for what one sync's summary says it wrote: every object's
    creates, updates and rejections, each create looked up first and each update's edited fields read again
    first, and the links it added (one batch per pair of object types: a company's contacts, a deal's
    contacts, a deal's companies; Salesforce contact roles as records). `opt_outs` (default: the summary's)
    at 100 addresses a call, or one a call without `batched_opt_outs`."""
    counts: dict[str, list[int]] = {"hubspot": [], "salesforce": []}
    checks = {"hubspot": 0, "salesforce": 0}  # records read again before their update
    parts = [sync] + [sync[name] for name in OBJECT_PARTS if sync.get(name)]
    for part in parts:
        push = part.get("push") or {}
        for system, objects in (push.get("written") or {}).items():
            for n in objects.values():
                counts[system] += [n["created"], n["updated"] + n["rejected"]]
        for key, n in (push.get("checked") or {}).items():
            checks[key.split(":", 1)[0]] += n
        for key, n in (part.get("links_added") or {}).items():
            system = key.split("_", 1)[0]
            if system in counts and not key.endswith("_failed"):
                counts[system].append(n)
    looked = sync["push"].get("lookup") or {}
    return {
        "hubspot": hubspot_write_calls(counts["hubspot"], (looked.get("hubspot") or {}).get("addresses", 0),
                                       checks["hubspot"],
                                       opt_outs=sync["push"].get("opt_outs", 0) if opt_outs is None else opt_outs,
                                       batched_opt_outs=batched_opt_outs),
        "salesforce": salesforce_write_calls(counts["salesforce"],
                                             (looked.get("salesforce") or {}).get("looked_up", 0),
                                             checks["salesforce"])}


def _later(run: dict[str, Any]) -> dict[str, Any]:
    """What a later sync of the demo wrote and cost (its whole summary is in the store's run record)."""
    return {"write_calls": run["push"]["write_calls"], "written": run["push"]["written"], "api_calls": run["api_calls"]}


def _tell(summary: dict[str, Any], say: Say) -> None:
    world, sync = summary["world"], summary["sync"]
    r = world["records"]
    say("")
    say(f"HubSpot holds {r.get('contacts', 0):,} contacts, {r.get('deals', 0):,} deals and "
        f"{sum(r.get(k, 0) for k in ('calls', 'meetings', 'emails', 'notes', 'tasks')):,} sales activities, "
        f"plus {sum(world['marketing_events'].values()):,} marketing touches.")
    say(f"Salesforce holds {r.get('Lead', 0):,} leads, {r.get('Contact', 0):,} contacts on {r.get('Account', 0):,} "
        f"accounts, {r.get('Opportunity', 0):,} opportunities and "
        f"{r.get('Task', 0) + r.get('Event', 0):,} tasks and events.")
    rec = sync["reconcile"]
    say(f"Reconciled into {rec['people']:,} people ({rec['linked_in_both']:,} linked across both systems; "
        f"{rec['duplicates']:,} duplicate records listed for review, never merged silently).")
    if rec["conflicts"]:
        top = ", ".join(f"{c['field']} for {count(c['people'], 'person')} ({c['rule']})" for c in rec["conflicts"][:4])
        say(f"Conflicts the mapping rules decided, the winning value written over the other system's: {top}.")
    for system, objects in sorted(sync["push"]["written"].items()):
        name = "HubSpot" if system == "hubspot" else "Salesforce"
        for obj, n in sorted(objects.items()):
            say(f"{name} {obj}: {n['created']:,} created, {n['updated']:,} updated ({n['fields_written']:,} values "
                f"written), {n['rejected']:,} rejected and parked.")
    companies = sync.get("companies")
    if companies and "push" in companies:
        made, links = companies["planned_creates"], companies.get("links_added", {})
        say(f"Companies: {companies['linked']:,} company-Account pairs ({companies['linked_by_domain']:,} found "
            f"by their domain in this run, cross-references written both ways), {made.get('hubspot', 0):,} "
            f"Accounts copied to HubSpot as companies and {made.get('salesforce', 0):,} companies to Salesforce, "
            f"{links.get('hubspot_contacts', 0):,} contacts associated with their Account's company; "
            f"{companies['name_suggestions']:,} same-name pairs left for review (a name never links on its own).")
    deals = sync.get("deals")
    if deals and "push" in deals:
        made = deals["push"]["written"].get("hubspot", {}).get("deals", {}).get("created", 0)
        added = sum(v for k, v in deals.get("links_added", {}).items() if k in ("hubspot", "salesforce"))
        with_company = deals.get("links_added", {}).get("hubspot_companies", 0)
        say(f"Deals: {deals['linked']:,} Opportunity-deal pairs already linked, {made:,} Opportunities copied to "
            f"HubSpot as deals, {added:,} contact links and {with_company:,} company links added; "
            f"{deals['issues']:,} notes "
            f"for review ({', '.join(deals['issue_kinds']) or 'none'}).")
    for rej in sync["push"]["rejections_sample"][:3]:
        say(f"  parked: {rej['hint']}")
    scores = sync.get("scores")
    if scores:
        statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(scores["statuses"].items(), key=lambda kv: -kv[1]))
        written = sum(scores["values_to_write"].values())
        say(f"Scored {count(scores['scored'], 'person')} with scoring.toml version {scores['model']['version']}: "
            f"{statuses}; score, grade, status and reasons written in the same record writes ({written:,} values).")
    bound = summary["api_calls_lower_bound"]
    first_calls = sync["api_calls"]
    for system, name in (("hubspot", "HubSpot"), ("salesforce", "Salesforce")):
        used = first_calls.get(system, {}).get("total", 0)
        writes = sync["push"]["write_calls"][system]
        history = first_calls.get(system, {}).get("by_object", {}).get("contacts:history", 0)
        extra = (f"; {history:,} reading the property history of {sync['field_history']['records']:,} contacts "
                 "whose most_recent conflicts needed real change times") if history else ""
        say(f"{name} API calls for the sync: {used:,} ({used - writes - history:,} reading, lower bound "
            f"{bound['pull'][system]:,}; {writes:,} writing, lower bound {bound['push'][system]:,}{extra}).")
    second, third = summary["second_sync"], summary["third_sync"]
    records = sum(n["created"] + n["updated"] for objects in second["written"].values() for n in objects.values())
    say(f"The second sync, the next scheduled run, wrote {count(records, 'record')} in "
        f"{count(sum(second['write_calls'].values()), 'write call')}: what the first left to it (records changed "
        f"within its safety lag of {summary['safety_lag_seconds']} s, and people its look-up before creating "
        "found and linked instead).")
    calls = third["write_calls"]
    say(f"The third sync made {count(sum(calls.values()), 'write call')} (HubSpot {calls['hubspot']}, Salesforce "
        f"{calls['salesforce']})" + (": both systems agree." if not sum(calls.values()) else "."))
    say(f"Done in {summary['seconds']:.1f} s. The store stays; {summary['config']} points at it, for the commands "
        "that need no system (the sandbox is gone). Try:")
    who = shlex.quote(summary["someone"] or "<e-mail, person id or record id>")
    config = shlex.quote(summary["config"])
    say(f"  connector explain {who} --config {config}")
    say(f"  connector status --config {config}")
    say(f"  connector score --config {config}")
    say(f"  connector score --backtest {shlex.quote(str(summary['mappings'] / 'scoring.toml'))} --config {config}")
    say(f"  connector report funnel --config {config}")
    say(f"  connector issues --config {config}")
    say("(`connector report sla` and `report scoring` too; --html FILE draws them.)")
    say("To keep both systems in step on a schedule: `connector run --config config.example.toml` (the daemon, on "
        "a sandbox of its own; README: Running it).")


def _store_config(store_url: str, mappings_dir: Path) -> Path:
    """A config holding only the demo's store and mappings (absolute: it works from any directory), for the
    commands that read the store alone (`explain`, `status`, `duplicates`): written beside a SQLite store,
    else in the working directory."""
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database).expanduser().resolve()
        store_url = url.set(database=str(database)).render_as_string(hide_password=False)
        path = database.with_suffix(".toml")
    else:
        path = Path.cwd() / "connector-demo.toml"
    path.write_text("# Written by `connector demo`: its state store, for the commands that read the store alone\n"
                    "# (explain, status, duplicates); the sandbox it synced is gone.\n"
                    f"[store]\nurl = {json.dumps(store_url)}\n\n[mappings]\n"
                    f"directory = {json.dumps(str(mappings_dir.resolve()))}\n", encoding="utf-8")
    return path


def _someone(engine: Any) -> str | None:
    """A person linked in both systems, by person id (no personal data on the screen), for the explain tip."""
    return person_in_both(engine)
