"""Benchmark of the Salesforce sandbox: seed load, REST query pages, collection writes, look-ups, Bulk query rows.

Run: ``python bench/bench_sandbox_salesforce.py [--people 100000] [--json PATH]``. Everything goes over
real HTTPS through simple-salesforce (queries, Bulk 2.0) and httpx (collections), as a connector would.
The writes and look-ups include those of a first sync: collection upserts on the external id
``HubSpot_Contact_Id__c`` and the connector's look-up before creating (``Email IN (...) OR
HubSpot_Contact_Id__c IN (...)``, 200 of each). Results go to
``bench/results/sandbox-salesforce-<N/1000>k.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.sandbox.dataset import SeedBatch
from connector.sandbox.salesforce import SalesforceLimits
from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.testing import SalesforceSandbox

T0 = 1_767_225_600_000
ROOT = Path(__file__).resolve().parent.parent
V = "/services/data/v62.0"


def _people(start: int, n: int) -> SeedBatch:
    leads: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for i in range(start, start + n):
        ms = T0 + i * 1000
        audit = {"CreatedDate": ms, "LastModifiedDate": ms, "SystemModstamp": ms}
        if i % 2:
            leads.append({"Id": make_id("Lead", i + 1), "FirstName": "Lea", "LastName": f"Lead{i}", "Company": f"Co{i}",
                          "Email": f"lead{i}@example.com", "Status": "Working - Contacted", "LeadSource": "Web",
                          "HubSpot_Contact_Id__c": str(i), "Phone": "555-0100", "City": "Paris", **audit})
        else:
            acc = make_id("Account", i + 1)
            accounts.append({"Id": acc, "Name": f"Account {i}", "Industry": "Technology", **audit})
            contacts.append({"Id": make_id("Contact", i + 1), "FirstName": "Con", "LastName": f"Contact{i}",
                             "Email": f"contact{i}@example.com", "AccountId": acc,
                             "HubSpot_Contact_Id__c": str(i), "Title": "VP", **audit})
    return SeedBatch(salesforce={"Account": accounts, "Lead": leads, "Contact": contacts})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--people", type=int, default=100_000, help="people to seed (half Leads, half Contacts)")
    ap.add_argument("--json", type=Path, help="where to write the results "
                                             "(default bench/results/sandbox-salesforce-<N/1000>k.json)")
    args = ap.parse_args(argv)
    result: dict[str, Any] = {"people": args.people}
    with tempfile.TemporaryDirectory() as tmp, SalesforceSandbox.start(
            Path(tmp), limits=SalesforceLimits(base_daily_requests=10_000_000), bulk_timing="instant") as sb:
        t = time.perf_counter()
        for start in range(0, args.people, 10_000):
            sb.state.load(_people(start, min(10_000, args.people - start)))
        load_s = time.perf_counter() - t
        records = sum(sb.state.store.counts().values())
        print(f"seed load: {args.people:,} people ({records:,} records) in {load_s:.1f} s")
        result["seed_load_s"] = round(load_s, 1)

        sf = sb.simple_salesforce()
        t = time.perf_counter()
        pages = rows = 0
        res = sf.query("SELECT Id, Email, LastName, SystemModstamp, Account.Name FROM Contact "
                       "ORDER BY SystemModstamp, Id")
        while True:
            pages += 1
            rows += len(res["records"])
            if res["done"]:
                break
            res = sf.query_more(res["nextRecordsUrl"], identifier_is_url=True)
        dt = time.perf_counter() - t
        print(f"REST query: {rows:,} rows in {pages} pages, {pages / dt:.1f} pages/s ({rows / dt:,.0f} rows/s)")
        result["rest_query_pages_per_s"] = round(pages / dt, 2)

        cutoff = T0 + (args.people - 2_000) * 1000
        t = time.perf_counter()
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff / 1000))
        inc = sf.query(f"SELECT Id FROM Lead WHERE SystemModstamp > {since}")
        result["incremental_query_ms"] = round((time.perf_counter() - t) * 1000)
        print(f"incremental query (index): {inc['totalSize']:,} rows in {result['incremental_query_ms']} ms")

        ids = [make_id("Lead", i + 1) for i in range(1, min(args.people, 20_000), 2)]
        http = sb.http
        t = time.perf_counter()
        n = 0
        for i in range(0, len(ids), 200):
            chunk = ids[i:i + 200]
            body = {"allOrNone": False,
                    "records": [{"attributes": {"type": "Lead"}, "id": x, "Rating": "Hot"} for x in chunk]}
            r = http.patch("/services/data/v62.0/composite/sobjects", json=body)
            r.raise_for_status()
            n += len(chunk)
        dt = time.perf_counter() - t
        print(f"collection updates: {n:,} records in {dt:.1f} s, {n / dt:,.0f} records/s ({n / 200 / dt:.1f} calls/s)")
        result["collection_updates_records_per_s"] = round(n / dt)

        # a first sync's writes: upserts on the external id (half existing Leads, half new ones)
        t = time.perf_counter()
        n = 0
        for call in range(50):
            body = {"allOrNone": False, "records": [
                {"attributes": {"type": "Lead"}, "HubSpot_Contact_Id__c": str(2 * (call * 100 + k) + 1),
                 "Rating": "Warm"} for k in range(100)] + [
                {"attributes": {"type": "Lead"}, "HubSpot_Contact_Id__c": f"new-{call}-{k}", "LastName": "New",
                 "Company": "Co", "Email": f"new{call}-{k}@example.com"} for k in range(100)]}
            r = http.patch(f"{V}/composite/sobjects/Lead/HubSpot_Contact_Id__c", json=body)
            r.raise_for_status()
            assert all(x["success"] for x in r.json()), r.text[:300]
            n += 200
        dt = time.perf_counter() - t
        print(f"collection upserts on an external id: {n:,} records in {dt:.1f} s, {n / dt:,.0f} records/s "
              f"({n / 200 / dt:.1f} calls/s)")
        result["collection_upserts_external_id_records_per_s"] = round(n / dt)

        t = time.perf_counter()
        for i in range(1, 201, 2):
            http.get(f"{V}/sobjects/Lead/HubSpot_Contact_Id__c/{i}").raise_for_status()
        dt = time.perf_counter() - t
        print(f"GET by external id: {100 / dt:.1f} requests/s")
        result["get_by_external_id_per_s"] = round(100 / dt, 1)

        # the connector's look-up before creating (connector/systems/salesforce/lookups.py): 200 + 200 keys
        t = time.perf_counter()
        calls = 0
        for call in range(5):
            odd = [2 * (call * 200 + k) + 1 for k in range(200)]
            emails = ", ".join(f"'lead{i}@example.com'" for i in odd)
            refs = ", ".join(f"'{i}'" for i in odd)
            res = sf.query(f"SELECT Id, Email, HubSpot_Contact_Id__c FROM Lead WHERE (Email IN ({emails}) "
                           f"OR HubSpot_Contact_Id__c IN ({refs})) AND IsConverted = false")
            assert res["totalSize"] == len([i for i in odd if i < args.people]), res["totalSize"]
            calls += 1
        dt = time.perf_counter() - t
        print(f"look-up query (200 Email OR 200 external id): {dt / calls * 1000:.0f} ms per query")
        result["lookup_query_ms"] = round(dt / calls * 1000)

        t = time.perf_counter()
        rows = 0
        for page in sf.bulk2.Lead.query("SELECT Id, Email, LastName, Status, SystemModstamp FROM Lead",
                                        max_records=50_000, wait=0):
            rows += page.count("\n") - 1
        dt = time.perf_counter() - t
        print(f"Bulk 2.0 query: {rows:,} rows in {dt:.1f} s, {rows / dt:,.0f} rows/s")
        result["bulk_query_rows_per_s"] = round(rows / dt)
    out = args.json or ROOT / "bench" / "results" / f"sandbox-salesforce-{args.people // 1000}k.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
