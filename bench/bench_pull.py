"""Pull benchmark: API calls against the batch lower bound, wall time and peak RSS, against the sandbox.

The sandbox runs in its own process (`connector sandbox`), so the RSS measured here is the connector's.
Three phases per size: the initial pull of everything, an incremental pull after 1% of contacts and
leads changed, and an idle pull.

    python bench/bench_pull.py --people 10000 [--people 100000] [--rate-limits off|real] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402

from connector.config import HubSpotConfig, SalesforceConfig  # noqa: E402
from connector.pull.engine import Puller, PullSettings  # noqa: E402
from connector.objects.streams import ALL_STREAMS  # noqa: E402
from connector.bounds import hubspot_read_calls, salesforce_read_calls  # noqa: E402
from connector.store import open_engine  # noqa: E402
from connector.store.models import Engagement, SourceRecord  # noqa: E402
from connector.systems.hubspot import HubSpotSource  # noqa: E402
from connector.systems.ledger import CallLedger  # noqa: E402
from connector.systems.salesforce import SalesforceSource  # noqa: E402
from bench.sandbox_process import start_sandbox, stop_sandbox  # noqa: E402


BULK_THRESHOLD = 50_000


def sources(info: dict[str, Any], ledger: CallLedger) -> tuple[HubSpotSource, SalesforceSource]:
    hs = HubSpotSource(HubSpotConfig(base_url=info["hubspot"]["base_url"],
                                     access_token=SecretStr(info["hubspot"]["access_token"]),
                                     ca_bundle=info["ca_file"], requests_per_10s=190, daily_limit=1_000_000,
                                     daily_budget_share=1.0), ledger)
    sf = SalesforceSource(SalesforceConfig(instance_url=info["salesforce"]["instance_url"], auth="client_credentials",
                                           client_id=info["salesforce"]["client_id"],
                                           client_secret=SecretStr(info["salesforce"]["client_secret"]),
                                           ca_bundle=info["ca_file"], daily_budget_share=1.0,
                                           bulk_threshold=BULK_THRESHOLD), ledger, daily_limit=10_000_000)
    return hs, sf


def pull(info: dict[str, Any], url: str, *, lookback_ms: int) -> tuple[CallLedger, float, dict[str, Any]]:
    ledger = CallLedger()
    hs, sf = sources(info, ledger)
    started = time.perf_counter()
    settings = PullSettings(run_started_ms=int(time.time() * 1000) + 1, lookback_ms=lookback_ms, safety_lag_ms=0)
    try:
        result = Puller(open_engine(url), hubspot=hs, salesforce=sf, settings=settings).pull(ALL_STREAMS)
    finally:
        hs.close()
        sf.close()
    return ledger, time.perf_counter() - started, result.to_json()


def lower_bound(url: str) -> dict[str, Any]:
    """Fewest calls that could read what is stored (connector/bounds.py): HubSpot at search's 200 records a
    call (owners 500, events 1,000), Salesforce at the cheapest mix of Composite (five queries of 2,000 rows
    a call) and Bulk 2.0 query jobs (two calls each)."""
    with Session(open_engine(url)) as s:
        counts = dict(s.exec(select(SourceRecord.object_type, func.count()).where(~col(SourceRecord.deleted))
                             .group_by(SourceRecord.object_type)).all())
        web = col(Engagement.engagement_id).startswith("web:")
        events = dict(s.exec(select(web, func.count()).group_by(web)).all())
    hubspot = hubspot_read_calls({o: n for o, n in counts.items() if o[0].islower()}, sum(events.values()))
    salesforce = salesforce_read_calls({o: n for o, n in counts.items() if o[0].isupper()})
    return {"hubspot": hubspot, "salesforce": salesforce, "records": sum(counts.values()),
            "events": sum(events.values()), "salesforce_rows": {o: n for o, n in counts.items() if o[0].isupper()},
            "companies": counts.get("companies", 0), "accounts": counts.get("Account", 0)}


def company_part(calls: dict[str, Any], bound: dict[str, Any]) -> dict[str, Any]:
    """The companies' share of a pull: HubSpot's company reads (listing pages with their contacts and deals,
    or searches and the v4 association reads after them) against the bound for that many companies; the
    Accounts ride in the Composite calls every Salesforce object shares, so they have no calls of their own."""
    hubspot = calls["hubspot"]["by_object"]
    own = sum(n for o, n in hubspot.items() if o == "companies" or o.startswith("companies>"))
    least = hubspot_read_calls({"companies": bound["companies"]})
    return {"companies": bound["companies"], "accounts": bound["accounts"], "hubspot_calls": own,
            "hubspot_bound": least, "ratio_hubspot": round(own / least, 3) if least else None}


def change_one_percent(info: dict[str, Any], people: int) -> int:
    """Update 1% of HubSpot contacts (batch update) and of Salesforce leads (sObject Collections)."""
    ctx = ssl.create_default_context(cafile=info["ca_file"])
    n = max(1, people // 100)
    with httpx.Client(verify=ctx, timeout=120) as c:
        hs = {"Authorization": f"Bearer {info['hubspot']['access_token']}"}
        ids = [str(i) for i in range(1, n + 1)]
        for start in range(0, len(ids), 100):
            r = c.post(info["hubspot"]["base_url"] + "/crm/v3/objects/contacts/batch/update", headers=hs,
                       json={"inputs": [{"id": i,
                                         "properties": {"jobtitle": "Changed"}} for i in ids[start:start + 100]]})
            r.raise_for_status()
        sf = {"Authorization": f"Bearer {info['salesforce']['access_token']}"}
        base = info["salesforce"]["instance_url"] + "/services/data/v62.0"
        leads = c.get(base + "/query", headers=sf,
                      params={"q": f"SELECT Id FROM Lead WHERE IsConverted = false LIMIT {n}"}).json()["records"]
        for start in range(0, len(leads), 200):
            r = c.patch(base + "/composite/sobjects", headers=sf, json={"allOrNone": False, "records": [
                {"attributes": {"type": "Lead"}, "id": lead["Id"],
                 "Title": "Changed"} for lead in leads[start:start + 200]]})
            r.raise_for_status()
    return n


def run(people: int, rate_limits: str) -> dict[str, Any]:
    # engine speed: the systems' settling time (search lag, Bulk job time) off
    proc, info, boot_s = start_sandbox(people, 1, "--rate-limits", rate_limits, "--search-lag", "0",
                                       "--bulk-jobs", "instant")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            ledger, seconds, streams = pull(info, url, lookback_ms=0)
            bound = lower_bound(url)
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            initial = {"seconds": round(seconds, 1), "calls": ledger.snapshot(), "lower_bound": bound,
                       "ratio_hubspot": round(ledger.total("hubspot") / bound["hubspot"], 3),
                       "ratio_salesforce": round(ledger.total("salesforce") / max(1, bound["salesforce"]), 3),
                       "peak_rss_mb": round(rss_mb, 1), "companies": company_part(ledger.snapshot(), bound),
                       "records_per_s": round((bound["records"] + bound["events"]) / seconds)}
            changed = change_one_percent(info, people)
            time.sleep(1.1)  # Salesforce stamps whole seconds
            ledger, seconds, streams = pull(info, url, lookback_ms=2_000)
            incremental = {"changed_per_system": changed, "seconds": round(seconds, 2), "calls": ledger.snapshot(),
                           "staged": {k: v for k, v in streams.items() if v["changed"] or v["new"]}}
            ledger, seconds, _ = pull(info, url, lookback_ms=2_000)
            idle = {"seconds": round(seconds, 2), "calls": ledger.snapshot()}
    finally:
        stop_sandbox(proc, timeout=60)
    return {"people": people, "rate_limits": rate_limits, "sandbox_boot_and_seed_s": round(boot_s, 1),
            "initial": initial, "incremental_1pct": incremental, "idle": idle,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, action="append", help="population size (repeatable)")
    parser.add_argument("--rate-limits", choices=["off", "real"], default="off")
    parser.add_argument("--bulk-threshold", type=int, default=BULK_THRESHOLD,
                        help="Salesforce rows above which Bulk 2.0 reads")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = []
    for people in args.people or [10_000]:
        # each size in a fresh process, so peak RSS is that size's own
        out = subprocess.run([sys.executable, __file__, "--single", str(people), args.rate_limits,
                              str(args.bulk_threshold)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1], indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--single":
        BULK_THRESHOLD = int(sys.argv[4])
        print(json.dumps(run(int(sys.argv[2]), sys.argv[3])))
    else:
        main()
