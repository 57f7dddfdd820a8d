"""Shared fixtures for the HubSpot emulator tests: one TLS server per module, a fresh account per test."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hubspot
import pytest

from connector.sandbox.clock import SandboxClock
from connector.sandbox.counters import CallCounter
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.faults import FaultPlan
from connector.sandbox.http import ServerThread
from connector.sandbox.hubspot import AccountSettings, HubSpotLimits, HubSpotState, create_app
from connector.sandbox.tls import TLSFiles, make_tls

__all__ = ["Hub", "hub_server", "hub", "seed_contacts", "T0"]

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


@dataclass
class Hub:
    """A running emulator plus ready clients (official SDK and raw httpx) for one test."""

    state: HubSpotState
    url: str
    tls: TLSFiles
    counter: CallCounter
    faults: FaultPlan
    clock: SandboxClock
    sdk: Any
    http: httpx.Client

    def client(self, token: str) -> Any:
        return hubspot.Client.create(access_token=token, host=self.url, ssl_ca_cert=str(self.tls.ca_file))

    def control(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, f"/_sandbox/hubspot{path}", **kw)


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubSpotState, ServerThread, TLSFiles,
                                                                              CallCounter, FaultPlan, SandboxClock]]:
    base: Path = tmp_path_factory.mktemp("hubspot")
    tls = make_tls(base / "tls")
    clock = SandboxClock()
    # searches here read right after writing and are not about index lag (test_hubspot_search_lag.py is)
    state = HubSpotState(base / "data", clock, rate_limits=False, account=AccountSettings(search_lag_ms=0))
    counter, faults = CallCounter(), FaultPlan()
    server = ServerThread(create_app(state, counter=counter, faults=faults), tls, name="hubspot-test").start()
    try:
        yield state, server, tls, counter, faults, clock
    finally:
        server.stop()
        state.db.close()


@pytest.fixture
def hub(hub_server: Any) -> Iterator[Hub]:
    state, server, tls, counter, faults, clock = hub_server
    clock.unfreeze()
    clock.set(T0 + 10_000_000)
    state.reset()
    state.rate_limits = False
    state.limits.__dict__.update(vars(HubSpotLimits()))
    counter.reset()
    faults.clear()
    state.load(SeedBatch(hubspot={
        "owners": [{"id": "501", "email": "ana@example.com", "firstName": "Ana", "lastName": "Ng", "userId": 9001},
                   {"id": "502", "email": "bo@example.com", "firstName": "Bo", "lastName": "Li", "userId": 9002}],
        "contacts": seed_contacts(1, 20),
        "deals": [{"id": "7001", "properties": {"dealname": "Big deal", "dealstage": "qualifiedtobuy",
                                                "amount": "5000", "pipeline": "default"},
                   "createdAt": T0, "updatedAt": T0}],
    }, hubspot_associations=[("contacts", "1", "deals", "7001")]))
    http = httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(tls.ca_file)),
                        trust_env=False,
                        headers={"Authorization": f"Bearer {state.access_token}"})
    sdk = hubspot.Client.create(access_token=state.access_token, host=server.url, ssl_ca_cert=str(tls.ca_file))
    try:
        yield Hub(state, server.url, tls, counter, faults, clock, sdk, http)
    finally:
        http.close()


def seed_contacts(first: int, last: int, *, created: int = T0) -> list[dict[str, Any]]:
    """Contacts `first`..`last` with predictable values (ids equal their number)."""
    stages = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead"]
    return [{"id": str(i), "properties": {
        "email": f"person{i}@example.com", "firstname": f"First{i}", "lastname": "Doe" if i % 2 else "Roe",
        "lifecyclestage": stages[i % 4], "annualrevenue": str(i * 1000), "hs_lead_status": "NEW",
        "company": f"Acme {i}", "numemployees": "25-50"},
        "createdAt": created + i, "updatedAt": created + 1000 + i} for i in range(first, last + 1)]
