"""Benchmark of the HubSpot emulator: seed 100,000 contacts, then measure list, search, batch read/write.

Run: ``python bench/bench_sandbox_hubspot.py [--contacts N] [--seconds S] [--json PATH]``. Rate limits
are off so the numbers show the emulator's own throughput over real HTTPS on loopback (one httpx client,
keep-alive). The writes include those of a first sync: the connector's cross-reference id is a unique
property (``hasUniqueValue``), created after seeding as ``connector setup`` does, and every write of
one checks that no other contact holds the value. Results go to
``bench/results/sandbox-hubspot-<N/1000>k.json`` unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from connector.sandbox.clock import SandboxClock
from connector.sandbox.counters import CallCounter
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.faults import FaultPlan
from connector.sandbox.http import ServerThread
from connector.sandbox.hubspot import AccountSettings, HubSpotState, create_app
from connector.sandbox.tls import make_tls

T0 = 1_700_000_000_000
ROOT = Path(__file__).resolve().parent.parent
UNIQUE = "salesforce_lead_id"  # the connector's cross-reference property (see connector setup)


class _NoDelayServerThread(ServerThread):
    """ServerThread with a listening socket created with proto=IPPROTO_TCP.

    asyncio only sets TCP_NODELAY on accepted sockets whose proto is IPPROTO_TCP; the shared
    ServerThread creates its socket with proto 0, so every response waits ~40 ms for a delayed ACK
    (measured: 42 ms -> 0.6 ms per request). Remove this once connector/sandbox/http.py is fixed.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        port = self.port
        self._sock.close()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))


def _contacts(first: int, last: int) -> list[dict[str, Any]]:
    stages = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]
    return [{"id": str(i), "createdAt": T0 + i * 1000, "updatedAt": T0 + i * 1000 + 500, "properties": {
        "email": f"person{i}@example.com", "firstname": f"First{i}", "lastname": f"Last{i % 977}",
        "company": f"Company {i % 5000}", "jobtitle": "Engineer", "city": "Berlin", "country": "Germany",
        "lifecyclestage": stages[i % 6], "hs_lead_status": "OPEN", "annualrevenue": str(i * 10),
        "numemployees": "25-50", "phone": f"+49 30 {i:07d}"}} for i in range(first, last + 1)]


def _rate(name: str, seconds: float, fn: Callable[[int], None], out: dict[str, Any]) -> None:
    """Call `fn` for `seconds` (at least once) and record requests/s and the mean seconds per request."""
    n, start = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - start < seconds:
        fn(n)
        n += 1
    elapsed = time.perf_counter() - start
    out[name] = {"requests_per_s": round(n / elapsed, 2), "s_per_request": round(elapsed / n, 4), "requests": n}
    print(f"{name:<46} {n / elapsed:8.1f} req/s  {elapsed / n:8.3f} s/req  ({n} requests)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", type=Path, help="where to write the results "
                                                 "(default bench/results/sandbox-hubspot-<N/1000>k.json)")
    args = parser.parse_args()
    result: dict[str, Any] = {"contacts": args.contacts, "seconds_per_endpoint": args.seconds}
    rates: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        state = HubSpotState(base / "data", SandboxClock(), rate_limits=False, account=AccountSettings(search_lag_ms=0))
        start = time.perf_counter()
        for first in range(1, args.contacts + 1, 10_000):
            state.load(SeedBatch(hubspot={"contacts": _contacts(first, min(first + 9_999, args.contacts))}))
        result["seed_s"] = round(time.perf_counter() - start, 1)
        print(f"seeded {args.contacts} contacts in {result['seed_s']:.2f} s")
        tls = make_tls(base / "tls")
        server = _NoDelayServerThread(create_app(state, counter=CallCounter(), faults=FaultPlan()), tls).start()
        ctx = ssl.create_default_context(cafile=str(tls.ca_file))
        with httpx.Client(base_url=server.url, verify=ctx, trust_env=False, timeout=None,
                          headers={"Authorization": f"Bearer {state.access_token}"}) as http:
            start = time.perf_counter()
            http.post("/crm/v3/properties/contacts", json={
                "name": UNIQUE, "label": "Salesforce Lead Id", "type": "string", "fieldType": "text",
                "groupName": "contactinformation", "hasUniqueValue": True}).raise_for_status()
            result["create_unique_property_s"] = round(time.perf_counter() - start, 2)
            print(f"created unique property {UNIQUE} in {result['create_unique_property_s']:.2f} s")
            last = args.contacts
            def list_page(n: int) -> None:
                http.get("/crm/v3/objects/contacts", params={"limit": 100}).raise_for_status()

            def search_recent(n: int) -> None:
                since = T0 + (args.contacts - 5_000 - (n % 1000)) * 1000
                http.post("/crm/v3/objects/contacts/search", json={
                    "filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE",
                                                   "value": str(since)}]}],
                    "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                    "properties": ["email", "lifecyclestage"], "limit": 100}).raise_for_status()

            def search_email(n: int) -> None:
                http.post("/crm/v3/objects/contacts/search", json={"filterGroups": [{"filters": [
                    {"propertyName": "email", "operator": "EQ",
                     "value": f"person{n % args.contacts + 1}@example.com"}]}]
                }).raise_for_status()

            def batch_read(n: int) -> None:
                first = (n * 100) % (args.contacts - 100) + 1
                http.post("/crm/v3/objects/contacts/batch/read", json={
                    "inputs": [{"id": str(i)} for i in range(first, first + 100)],
                    "properties": ["email", "firstname", "lifecyclestage"]}).raise_for_status()

            def batch_update(n: int) -> None:
                first = (n * 100) % (args.contacts - 100) + 1
                http.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
                    {"id": str(i), "properties": {"jobtitle": f"Title {n}"}} for i in range(first, first + 100)]
                }).raise_for_status()

            def batch_update_unique(n: int) -> None:
                # a first sync: each contact gets its (new) cross-reference id; values differ per call
                first = (n * 100) % (args.contacts - 100) + 1
                http.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
                    {"id": str(i), "properties": {UNIQUE: f"00Q{n:05d}{i:09d}"}} for i in range(first, first + 100)]
                }).raise_for_status()

            def batch_read_unique(n: int) -> None:
                # ids written by the first batch_update_unique call (contacts 1..100)
                http.post("/crm/v3/objects/contacts/batch/read", json={
                    "idProperty": UNIQUE, "inputs": [{"id": f"00Q00000{i:09d}"} for i in range(1, 101)],
                    "properties": ["email", UNIQUE]}).raise_for_status()

            def batch_upsert_unique(n: int) -> None:
                # half existing (update), half new (create): both look the value up first
                inputs = [{"idProperty": UNIQUE, "id": f"00Q00000{i:09d}", "properties": {"jobtitle": f"T{n}"}}
                          for i in range(1, 51)]
                inputs += [{"idProperty": UNIQUE, "id": f"00Qu{n:05d}{i:03d}",
                            "properties": {"email": f"upsert{n}-{i}@example.com"}} for i in range(50)]
                http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs}).raise_for_status()

            def batch_upsert_email(n: int) -> None:
                first = (n * 100) % (args.contacts - 100) + 1
                http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
                    {"idProperty": "email", "id": f"person{i}@example.com", "properties": {"city": f"C{n}"}}
                    for i in range(first, first + 100)]}).raise_for_status()

            def batch_create(n: int) -> None:
                nonlocal last
                http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
                    {"properties": {"email": f"new{last + i}@example.com", "firstname": "New",
                                    UNIQUE: f"00Qn{last + i:09d}"}} for i in range(1, 101)]}).raise_for_status()
                last += 100

            def search_unique(n: int) -> None:
                http.post("/crm/v3/objects/contacts/search", json={"filterGroups": [{"filters": [
                    {"propertyName": UNIQUE, "operator": "EQ", "value": f"00Q00000{n % 100 + 1:09d}"}]}]
                }).raise_for_status()

            _rate("list (limit 100)", args.seconds, list_page, rates)
            _rate("search lastmodifieddate GTE, sorted (100)", args.seconds, search_recent, rates)
            _rate("search email EQ", args.seconds, search_email, rates)
            _rate("batch read (100 ids)", args.seconds, batch_read, rates)
            _rate("batch update (100 inputs)", args.seconds, batch_update, rates)
            _rate("batch update of a unique property (100)", args.seconds, batch_update_unique, rates)
            _rate("batch read by unique property (100)", args.seconds, batch_read_unique, rates)
            _rate("batch upsert by unique property (50+50)", args.seconds, batch_upsert_unique, rates)
            _rate("batch upsert by email (100)", args.seconds, batch_upsert_email, rates)
            _rate("batch create with a unique property (100)", args.seconds, batch_create, rates)
            _rate("search unique property EQ", args.seconds, search_unique, rates)
        server.stop()
        state.db.close()
    result["endpoints"] = rates
    out = args.json or ROOT / "bench" / "results" / f"sandbox-hubspot-{args.contacts // 1000}k.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
