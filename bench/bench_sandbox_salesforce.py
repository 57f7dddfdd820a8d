"""Benchmark of the Salesforce sandbox: seed load, REST query pages, collection updates, Bulk query rows.

Run: ``python bench/bench_sandbox_salesforce.py [--people 100000]``. Everything goes over real HTTPS
through simple-salesforce (queries, Bulk 2.0) and httpx (collections), as a connector would.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from connector.sandbox.dataset import SeedBatch
from connector.sandbox.salesforce import SalesforceLimits
from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.testing import SalesforceSandbox

T0 = 1_767_225_600_000


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
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, SalesforceSandbox.start(
            Path(tmp), limits=SalesforceLimits(base_daily_requests=10_000_000), bulk_timing="instant") as sb:
        t = time.perf_counter()
        for start in range(0, args.people, 10_000):
            sb.state.load(_people(start, min(10_000, args.people - start)))
        load_s = time.perf_counter() - t
        records = sum(sb.state.store.counts().values())
        print(f"seed load: {args.people:,} people ({records:,} records) in {load_s:.1f} s")

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

        cutoff = T0 + (args.people - 2_000) * 1000
        t = time.perf_counter()
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cutoff / 1000))
        inc = sf.query(f"SELECT Id FROM Lead WHERE SystemModstamp > {since}")
        print(f"incremental query (index): {inc['totalSize']:,} rows in {(time.perf_counter() - t) * 1000:.0f} ms")

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

        t = time.perf_counter()
        rows = 0
        for page in sf.bulk2.Lead.query("SELECT Id, Email, LastName, Status, SystemModstamp FROM Lead",
                                        max_records=50_000, wait=0):
            rows += page.count("\n") - 1
        dt = time.perf_counter() - t
        print(f"Bulk 2.0 query: {rows:,} rows in {dt:.1f} s, {rows / dt:,.0f} rows/s")


if __name__ == "__main__":
    main()
