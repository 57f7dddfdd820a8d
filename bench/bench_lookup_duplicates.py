"""Duplicates made by a sync started soon after edits (issue #12 item 1), with the defaults a user runs.

    python bench/bench_lookup_duplicates.py [--people 2000] [--seed 13] [--delays 0,10,30,60] [--edits 10]
                                            [--json out.json]

For each delay, a fresh sandbox is seeded (as `connector sandbox --seed 13`; seeding itself touches
records up to the moment it ends) and set up (as `connector setup --apply`). Right after, a salesperson
edits the Salesforce twins of `--edits` HubSpot contacts that the shipped mappings would create in
Salesforce. The sandbox clock is then moved on by the delay, as if `connector sync --once` were started
that many seconds after the edits, and the sync runs with the shipped config's safety lag (60 s) and
lookback (120 s). Three more syncs follow: one at once (within the lag), two after the lag has passed.

Reported per delay: e-mail addresses on more than one live person record (HubSpot contacts; Salesforce
Leads not converted, and Contacts) that were not so before the first sync, after the first sync and after
the last; the records parked; and the look-up counts where the code has them.

To measure another version (the code before the look-up, say), put its checkout first on the path:

    git archive 958aae2 | tar -x -C /tmp/old && PYTHONPATH=/tmp/old python bench/bench_lookup_duplicates.py
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

import connector
from connector.config import load_config
from connector.reconcile import load_mappings
from connector.reconcile.plan import should_create_in_salesforce
from connector.reconcile.records import SourceRecord
from connector.sandbox.runner import Sandbox
from connector.setup import run_setup
from connector.store import open_engine
from connector.sync import open_systems, run_cycle

MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"
LAG_PASSED_MS = 65_000


def clients(sb: Sandbox) -> tuple[httpx.Client, httpx.Client, str]:
    info = sb.info()
    verify = ssl.create_default_context(cafile=info.ca_file)
    hubspot = httpx.Client(base_url=info.hubspot_base_url, verify=verify, trust_env=False, timeout=60,
                           headers={"Authorization": f"Bearer {info.hubspot_access_token}"})
    salesforce = httpx.Client(base_url=info.salesforce_instance_url, verify=verify, trust_env=False, timeout=60,
                              headers={"Authorization": f"Bearer {info.salesforce_access_token}"})
    return hubspot, salesforce, f"/services/data/v{info.salesforce_api_version}"


def hubspot_contacts(hubspot: httpx.Client) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        params: dict[str, Any] = {"limit": 100, "properties": "email,lifecyclestage,hs_legal_basis"}
        if after:
            params["after"] = after
        body = hubspot.get("/crm/v3/objects/contacts", params=params).json()
        out.update({r["id"]: r["properties"] for r in body["results"]})
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return out


def salesforce_people(salesforce: httpx.Client, base: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for soql in ("SELECT Id, Email FROM Lead WHERE IsConverted = false", "SELECT Id, Email FROM Contact"):
        body = salesforce.get(f"{base}/query/", params={"q": soql}).json()
        while True:
            out.update({r["Id"]: r for r in body["records"]})
            if body.get("done", True):
                break
            body = salesforce.get(body["nextRecordsUrl"]).json()
    return out


def duplicate_emails(hubspot: httpx.Client, salesforce: httpx.Client, base: str) -> dict[str, set[str]]:
    hs = Counter(str(p.get("email") or "").strip().casefold() for p in hubspot_contacts(hubspot).values())
    sf = Counter(str(r.get("Email") or "").strip().casefold() for r in salesforce_people(salesforce, base).values())
    return {"hubspot": {e for e, n in hs.items() if e and n > 1},
            "salesforce": {e for e, n in sf.items() if e and n > 1}}


def one_delay(people: int, seed: int, delay_s: int, edits: int) -> dict[str, Any]:
    mappings = load_mappings(MAPPINGS)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(people=people, seed=seed, rate_limits=False) as sb:
        path = Path(tmp) / "connector.toml"
        text = sb.connector_config(f"sqlite:///{tmp}/state.db")
        path.write_text(text if "[mappings]" in text else text + f'\n[mappings]\ndirectory = "{MAPPINGS}"\n')
        cfg = load_config(path)
        engine = open_engine(cfg.store.url)
        systems = open_systems(cfg, engine, sb.clock.now_ms())
        try:
            run_setup(systems.hubspot, systems.salesforce, mappings, apply=True, create_salesforce_fields=True)
        finally:
            systems.close()
        hubspot, salesforce, base = clients(sb)
        contacts = hubspot_contacts(hubspot)
        by_email: dict[str, list[str]] = {}
        for rid, r in salesforce_people(salesforce, base).items():
            by_email.setdefault(str(r.get("Email") or "").strip().casefold(), []).append(rid)
        twins = sorted(by_email[e][0] for i, p in contacts.items()
                       if len(by_email.get(e := str(p.get("email") or "").strip().casefold(), ())) == 1
                       and should_create_in_salesforce(SourceRecord("hubspot", "contacts", i, 0, {
                           k: v for k, v in p.items() if v is not None}), mappings.contacts)[0])[:edits]
        for rid in twins:  # edited as a salesperson would, right now
            salesforce.patch(f"/_sandbox/salesforce/records/{rid}",
                             json={"fields": {"Title": "Edited before the sync"}}).raise_for_status()
        before = duplicate_emails(hubspot, salesforce, base)
        sb.clock.advance(delay_s * 1000)

        def sync() -> dict[str, Any]:
            systems = open_systems(cfg, engine, sb.clock.now_ms())
            try:
                return run_cycle(engine, systems, mappings.contacts, clock=sb.clock.now_ms,
                                 objects=list(cfg.sync.objects), lookback_ms=cfg.sync.lookback_seconds * 1000,
                                 safety_lag_ms=cfg.sync.safety_lag_seconds * 1000, deletions=cfg.deletions,
                                 field_history=cfg.sync.field_history, deal_mapping=mappings.opportunities,
                                 closed_opportunities_days=cfg.sync.closed_opportunities_days)
            finally:
                systems.close()

        def new_duplicates() -> dict[str, int]:
            now = duplicate_emails(hubspot, salesforce, base)
            return {s: len(now[s] - before[s]) for s in now}

        first = sync()
        after_first = new_duplicates()
        runs = [first, sync()]
        sb.clock.advance(LAG_PASSED_MS)
        runs += [sync(), sync()]
        return {"delay_s": delay_s, "edited_twins": len(twins),
                "safety_lag_s": cfg.sync.safety_lag_seconds, "lookback_s": cfg.sync.lookback_seconds,
                "new_duplicate_emails_after_first_sync": after_first,
                "new_duplicate_emails_after_four_syncs": new_duplicates(),
                "parked_after_each_sync": [r["parked"] for r in runs],
                "lookup_first_sync": first["push"].get("lookup"),
                "write_calls_first_sync": first["push"]["write_calls"],
                "write_calls_last_sync": runs[-1]["push"]["write_calls"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--delays", default="0,10,30,60")
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = {"code": str(Path(connector.__file__).parent), "people": args.people, "seed": args.seed, "runs": []}
    for delay in (int(d) for d in args.delays.split(",")):
        run = one_delay(args.people, args.seed, delay, args.edits)
        print(json.dumps(run), flush=True)
        results["runs"].append(run)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
