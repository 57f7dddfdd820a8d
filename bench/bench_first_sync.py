"""HubSpot write calls of a first sync (issue #20), opt-outs included, against their lower bound.

    python bench/bench_first_sync.py [--people 10000] [--seed 42] [--tier professional|enterprise] [--json out.json]

The first sync of `connector demo` (the shipped timing: safety lag, lookback; the sandbox with
`--rate-limits off`, its search lag and Bulk job timing as shipped), on a HubSpot account of the given
Marketing Hub tier: on `enterprise` the connector opts people out 100 addresses a call (the batch
unsubscribe-all of communication preferences v4), below it one address a call after the batch is
refused once. Counts are the run's own ledger, cross-checked against the sandbox's per-endpoint
counters for the subscription calls. The bound is `connector.bounds.hubspot_write_calls` over what the
sync had to write (as the demo's), the look-up before creates, and the addresses it opted out (counted
in HubSpot afterwards: ``hs_email_optout`` is read-only, so the subscription API set every one).
"""

from __future__ import annotations

import argparse
import json
import re
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from connector.demo import sandbox_systems
from connector.config import SyncConfig
from connector.reconcile import load_mappings
from connector.sandbox.runner import Sandbox
from connector.setup import run_setup
from connector.store import open_engine
from connector.sync import CycleOptions, mark_setup_done, run_once

try:  # a tree from before the bound counted every object's writes has no `write_bounds` (a run for comparison)
    from connector.demo import write_bounds
except ImportError:  # pragma: no cover - older trees only
    write_bounds = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
_ADDRESS_IN_PATH = re.compile(r"/statuses/[^/]+@[^/]+/")


def endpoint(key: str) -> str:
    """A sandbox counter key with any e-mail address in it folded (older sandboxes kept it in the key)."""
    return _ADDRESS_IN_PATH.sub("/statuses/{subscriberIdString}/", key)


def opted_out(sandbox: Sandbox) -> int:
    """HubSpot contacts unsubscribed from all e-mail, by a search past the search index lag."""
    info = sandbox.info()
    sandbox.clock.advance(sandbox.hubspot.state.account.search_lag_ms + 1_000)
    with httpx.Client(base_url=info.hubspot_base_url, trust_env=False,
                      verify=ssl.create_default_context(cafile=info.ca_file),
                      headers={"Authorization": f"Bearer {info.hubspot_access_token}"}) as http:
        got = http.post("/crm/v3/objects/contacts/search", json={"limit": 1, "filterGroups": [{"filters": [
            {"propertyName": "hs_email_optout", "operator": "EQ", "value": "true"}]}]})
        got.raise_for_status()
        return int(got.json()["total"])


def bound(first: dict[str, Any], opt_outs: int, *, batched: bool) -> int | None:
    """The demo's write bound for HubSpot (connector/demo.py `write_bounds`: creates, updates and rejections
    per object, companies' and deals' links, the look-up before creates, the records read again before their
    update), with the opt-outs. None on a tree from before the bound took them (a run for comparison)."""
    if write_bounds is None:
        return None
    return int(write_bounds(first, opt_outs=opt_outs, batched_opt_outs=batched)["hubspot"])


def companies(mappings: Any) -> dict[str, Any]:
    """The companies mapping for the cycle's options (a tree from before companies were synced has none)."""
    if "company_mapping" in CycleOptions.__dataclass_fields__:
        return {"company_mapping": mappings.companies}
    return {}


def run(people: int, seed: int, tier: str) -> dict[str, Any]:
    mappings = load_mappings(ROOT / "mappings")
    with tempfile.TemporaryDirectory(prefix="bench-first-sync-") as tmp, \
            Sandbox(people=people, seed=seed, rate_limits=False) as sandbox:
        sandbox.hubspot.state.account.tier = tier
        info = sandbox.info()
        engine = open_engine(f"sqlite:///{tmp}/state.db")
        systems = sandbox_systems(info)  # as the demo connects: the bench measures the demo's first sync
        try:
            run_setup(systems.hubspot, systems.salesforce, mappings, apply=True, create_salesforce_fields=True)
            mark_setup_done(engine, mappings.contacts, sandbox.clock.now_ms())
            before = opted_out(sandbox)
            timing = SyncConfig()  # the shipped defaults, as the demo's first sync
            options = CycleOptions(mappings.contacts, command="bench", clock=sandbox.clock.now_ms,
                                   safety_lag_ms=timing.safety_lag_seconds * 1000,
                                   lookback_ms=timing.lookback_seconds * 1000,
                                   deal_mapping=mappings.opportunities, scoring=mappings.scoring,
                                   **companies(mappings))
            sandbox.hubspot.counter.reset()
            started = time.perf_counter()
            first = run_once(engine, systems, options).to_json()
            seconds = time.perf_counter() - started
            counted = sandbox.hubspot.counter.snapshot()
        finally:
            systems.close()
        addresses = opted_out(sandbox) - before
    writes = first["push"]["write_calls"]["hubspot"]  # the deals' writes included (connector/sync/cycle.py)
    subscription_calls = first["api_calls"]["hubspot"]["by_object"].get("subscriptions", 0)
    by_endpoint: dict[str, int] = {}
    for key, n in sorted(counted.items()):
        if "communication-preferences" in key:
            by_endpoint[endpoint(key)] = by_endpoint.get(endpoint(key), 0) + n
    assert subscription_calls == sum(by_endpoint.values()), (subscription_calls, by_endpoint)
    lower = bound(first, addresses, batched=tier == "enterprise")
    return {
        "people": people, "seed": seed, "tier": tier, "sync_seconds": round(seconds, 1),
        "hubspot_write_calls": writes, "opt_out_calls": subscription_calls, "opt_out_calls_by_endpoint": by_endpoint,
        "opt_out_addresses": addresses, "lower_bound": lower, "ratio": round(writes / lower, 3) if lower else None,
        "push": {k: v for k, v in first["push"].items() if k not in ("rejections_sample", "seconds")},
        **{part: {k: ({**v, "rejections_sample": None} if k == "push" else v)
                  for k, v in (first.get(part) or {}).items() if k in ("write_calls", "links_added", "push")}
           for part in ("companies", "deals")},
        "lower_bound_without_opt_outs": bound(first, 0, batched=True),
        "write_calls_without_opt_outs": writes - subscription_calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tier", choices=("starter", "professional", "enterprise"), default="enterprise")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run(args.people, args.seed, args.tier)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
