"""A seeded sandbox the connector has set up, and helpers to run sync cycles against it in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ssl

import httpx
import hubspot
import pytest
import requests
from simple_salesforce import Salesforce, SFType
from sqlalchemy.engine import Engine

from connector.config import ConnectorConfig, load_config
from connector.reconcile import Mappings, load_mappings
from connector.sandbox.runner import Sandbox
from connector.setup import run_setup
from connector.store import open_engine
from connector.sync import Systems, open_systems, run_cycle

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SAFETY_LAG_MS = 60_000  # the shipped [sync].safety_lag_seconds


@dataclass
class World:
    """A sandbox, a config pointing at it, a store, and the official SDKs to look at both systems."""

    sandbox: Sandbox
    config_path: Path
    config: ConnectorConfig
    engine: Engine
    mappings: Mappings

    def systems(self) -> Systems:
        return open_systems(self.config, self.engine, self.sandbox.clock.now_ms())

    def sync(self, **kwargs: Any) -> dict[str, Any]:
        """One sync as the scheduler's next run makes it: past the shipped safety lag (60 s of sandbox time)
        since whatever the test just changed, so the systems' search lag and whole-second modstamps are met
        as a user meets them."""
        self.sandbox.clock.advance(SAFETY_LAG_MS + 1_000)
        systems = self.systems()
        try:
            kwargs.setdefault("deal_mapping", self.mappings.opportunities)
            kwargs.setdefault("company_mapping", self.mappings.companies)
            return run_cycle(self.engine, systems, self.mappings.contacts, clock=self.sandbox.clock.now_ms,
                             safety_lag_ms=SAFETY_LAG_MS, lookback_ms=0, **kwargs)
        finally:
            systems.close()

    def hubspot_sdk(self) -> hubspot.Client:
        return hubspot_sdk(self.sandbox)

    def salesforce_sdk(self) -> Salesforce:
        return salesforce_sdk(self.sandbox)


def hubspot_sdk(sandbox: Sandbox) -> hubspot.Client:
    """HubSpot's official SDK, unmodified, pointed at the sandbox."""
    info = sandbox.info()
    return hubspot.Client.create(access_token=info.hubspot_access_token, host=info.hubspot_base_url,
                                 ssl_ca_cert=info.ca_file)


def salesforce_sdk(sandbox: Sandbox) -> Salesforce:
    """simple-salesforce, unmodified, signed in to the sandbox with the client-credentials flow."""
    info = sandbox.info()
    token = httpx.post(f"{info.salesforce_instance_url}/services/oauth2/token",
                       verify=ssl.create_default_context(cafile=info.ca_file), data={
        "grant_type": "client_credentials", "client_id": info.salesforce_client_id,
        "client_secret": info.salesforce_client_secret}).json()["access_token"]
    session = requests.Session()
    session.trust_env = False
    session.verify = info.ca_file
    return Salesforce(instance_url=info.salesforce_instance_url, session_id=token, session=session,
                      version=info.salesforce_api_version)


def hubspot_contacts(sandbox: Sandbox, properties: list[str]) -> dict[str, dict[str, Any]]:
    """Every HubSpot contact's `properties`, by id, listed page by page through the official SDK."""
    return hubspot_records(sandbox, "contacts", properties)


def hubspot_records(sandbox: Sandbox, object_type: str, properties: list[str]) -> dict[str, dict[str, Any]]:
    """Every HubSpot record's `properties` of a CRM object ("contacts", "companies", "deals"), by id, listed
    page by page through the official SDK."""
    api = getattr(hubspot_sdk(sandbox).crm, object_type).basic_api
    out: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = api.get_page(limit=100, after=after, properties=properties)
        out.update({c.id: c.properties for c in page.results})
        if not page.paging or not page.paging.next:
            return out
        after = page.paging.next.after


def sf_type(sf: Salesforce, name: str) -> SFType:
    """`sf.<name>` (`sf.Lead`) typed: simple-salesforce types its attribute lookup as a bulk handler or an
    SFType for any name, and only an SFType has create, get, update and delete."""
    handle = getattr(sf, name)
    assert isinstance(handle, SFType), name
    return handle


def make_world(tmp: Path, *, people: int, seed: int, extra_config: str = "", **sandbox_options: Any
               ) -> Iterator[World]:
    with Sandbox(people=people, seed=seed, rate_limits=False, **sandbox_options) as sb:
        path = tmp / "connector.toml"
        text = sb.connector_config(f"sqlite:///{tmp}/state.db")
        if "[mappings]" not in text:
            text += f'\n[mappings]\ndirectory = "{MAPPINGS}"\n'
        path.write_text(text + extra_config)
        cfg = load_config(path)
        mappings = load_mappings(MAPPINGS)
        world = World(sb, path, cfg, open_engine(cfg.store.url), mappings)
        systems = world.systems()
        try:
            report = run_setup(systems.hubspot, systems.salesforce, mappings, apply=True, create_salesforce_fields=True)
            assert report.ok, report.to_json()
        finally:
            systems.close()
        yield world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """300 seeded people, set up, synced once (the module's tests look at that first sync)."""
    yield from make_world(tmp_path_factory.mktemp("push"), people=300, seed=11)
