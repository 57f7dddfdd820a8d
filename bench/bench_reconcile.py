"""Benchmark: reconcile N synthetic people (pure, in memory, in chunks) and report people/s.

    python bench/bench_reconcile.py [--people 100000] [--chunk 5000] [--workers 1]

Each person has a HubSpot contact and (mostly) a Salesforce Lead or Contact, with realistic mixes of
agreeing values, conflicts in different native forms, blanks and cross-references. The target on
the 2-core dev machine is >= 20,000 people/s.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import time
from functools import lru_cache
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.reconcile import COMPILED, ContactMapping, OwnerDirectory, SourceRecord, load_mappings, reconcile  # noqa: E402

FIRST = ["Ann", "Bob", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana"]
LAST = ["Lee", "Kim", "Park", "Smith", "Jones", "Garcia", "Müller", "Rossi"]
COUNTRIES = [("United States", "USA"), ("Germany", "Deutschland"), ("France", "FR"), ("United Kingdom", "UK")]
STATUS = [("NEW", "Open - Not Contacted"), ("CONNECTED", "Working - Contacted"),
          ("UNQUALIFIED", "Closed - Not Converted")]
STAGES = ["lead", "marketingqualifiedlead", "salesqualifiedlead", "customer"]
OWNERS = OwnerDirectory(
    hubspot={str(100 + i): f"owner{i}@corp.example" for i in range(20)},
    salesforce={f"005{i:012d}AAA": f"owner{i}@corp.example" for i in range(20)},
)


def person(n: int, rnd: random.Random) -> list[SourceRecord]:
    """One synthetic person: HubSpot contact + (80%) a Salesforce Lead/Contact; ~30% fields conflict."""
    email = f"user{n}@example.com"
    phone = f"+1415{2_000_000 + n % 8_000_000:07d}"
    country_name, country_alias = rnd.choice(COUNTRIES)
    hs_status, sf_status = rnd.choice(STATUS)
    owner = rnd.randrange(20)
    hs_id = str(n + 1)
    kind = rnd.random()
    obj = "Lead" if kind < 0.6 else "Contact"
    sf_id = f"{'00Q' if obj == 'Lead' else '003'}{n:012d}AAA"
    linked = rnd.random() < 0.7
    hs_fields = {
        "email": email if rnd.random() < 0.9 else email.upper(),
        "firstname": rnd.choice(FIRST), "lastname": rnd.choice(LAST),
        "phone": phone if rnd.random() < 0.5 else None,
        "company": f"Company {n % 5000}", "jobtitle": "Engineer", "country": country_name,
        "numemployees": "25-50", "annualrevenue": "125000", "lifecyclestage": rnd.choice(STAGES),
        "hs_lead_status": hs_status, "hubspot_owner_id": str(100 + owner),
        "hs_email_optout": "false", "hs_analytics_source": "ORGANIC_SEARCH",
        "hs_legal_basis": "Legitimate interest – prospect/lead",
        "salesforce_lead_id": sf_id if linked and obj == "Lead" else None,
        "salesforce_contact_id": sf_id if linked and obj == "Contact" else None,
    }
    t = 1_700_000_000_000 + n
    records = [SourceRecord("hubspot", "contacts", hs_id, t, hs_fields, {"email": t - 5, "phone": t - 9})]
    if kind < 0.8:
        sf_fields: dict[str, Any] = {
            "Email": email, "FirstName": hs_fields["firstname"] if rnd.random() < 0.8 else rnd.choice(FIRST),
            "LastName": hs_fields["lastname"], "Phone": f"(415) {phone[5:8]}-{phone[8:]}",
            "Title": "Engineer" if rnd.random() < 0.7 else "Senior Engineer",
            "OwnerId": f"005{owner if rnd.random() < 0.9 else (owner + 1) % 20:012d}AAA",
            "HasOptedOutOfEmail": rnd.random() < 0.05, "LeadSource": "Web",
            "HubSpot_Contact_Id__c": hs_id if linked else None,
        }
        if obj == "Lead":
            sf_fields.update({"Company": hs_fields["company"], "Country": country_alias, "NumberOfEmployees": 37,
                              "AnnualRevenue": 125000.0, "Status": sf_status})
        else:
            sf_fields["MailingCountry"] = country_alias
        records.append(SourceRecord("salesforce", obj, sf_id, t + rnd.randrange(-50, 50), sf_fields))
    return records


def build(start: int, count: int) -> list[SourceRecord]:
    rnd = random.Random(start)
    out: list[SourceRecord] = []
    for n in range(start, start + count):
        out += person(n, rnd)
    return out


@lru_cache(maxsize=1)
def _mapping(mappings_dir: str) -> ContactMapping:
    """Loaded once per worker process, as a sync run does (its transform memos stay warm across chunks)."""
    return load_mappings(mappings_dir).contacts


def run_chunk(args: tuple[str, int, int]) -> tuple[int, int, int, float, float, int]:
    """Builds and reconciles one chunk; returns (people, changes, issues, wall s, CPU s, worker pid)."""
    mappings_dir, start, count = args
    mapping = _mapping(mappings_dir)
    records = build(start, count)
    gc.collect()
    gc.freeze()  # the input is long-lived: keep the cyclic GC from rescanning it (as a sync runner would)
    t0, c0 = time.perf_counter(), time.process_time()
    result = reconcile(records, mapping, owners=OWNERS)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    gc.unfreeze()
    return len(result.people), len(result.changes), len(result.issues), elapsed, cpu, os.getpid()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=1, help="processes (chunks are independent)")
    parser.add_argument("--mappings", default=str(ROOT / "mappings"))
    args = parser.parse_args(argv)
    jobs = [(args.mappings, s, min(args.chunk, args.people - s)) for s in range(0, args.people, args.chunk)]
    wall0 = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            results = list(pool.map(run_chunk, jobs))
    else:
        results = [run_chunk(j) for j in jobs]
    wall = time.perf_counter() - wall0
    people = sum(r[0] for r in results)
    changes = sum(r[1] for r in results)
    issues = sum(r[2] for r in results)
    busy = sum(r[3] for r in results)
    cpu = sum(r[4] for r in results)
    # each worker's own reconciling time, measured while the others ran: the slowest bounds the whole
    per_worker: dict[int, float] = {}
    for r in results:
        per_worker[r[5]] = per_worker.get(r[5], 0.0) + r[3]
    slowest = max(per_worker.values())
    core = "compiled (CONNECTOR_COMPILE=1)" if COMPILED else "pure Python"
    print(f"people={people} changes={changes} issues={issues} chunks={len(jobs)} workers={args.workers} core={core}")
    print(f"reconcile: wall {busy:.2f}s -> {people / busy:,.0f} people/s per worker; "
          f"CPU {cpu:.2f}s -> {people / cpu:,.0f} people/s per core")
    print(f"reconcile, all {len(per_worker)} worker(s) together: {people:,} people in {slowest:.2f}s of the "
          f"busiest worker's reconciling -> {people / slowest:,.0f} people/s")
    print(f"end to end wall incl. building the synthetic records: {wall:.2f}s -> {people / wall:,.0f} people/s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MB" + (f" (largest worker {workers:.0f} MB)" if args.workers > 1 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
