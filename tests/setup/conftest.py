"""Sandboxes for the setup tests: one as shipped (the org already has the connector's custom fields) and
one whose Salesforce org starts without them (a fresh customer org)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import hubspot
import pytest
from pydantic import SecretStr

from connector.config import HubSpotConfig, SalesforceConfig
from connector.reconcile import Mappings, load_mappings
from connector.sandbox.runner import Sandbox
from connector.setup import run_setup
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.salesforce import SalesforceSource

PEOPLE = 300
SEED = 42
MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"


def hubspot_config(sb: Sandbox) -> HubSpotConfig:
    info = sb.info()
    return HubSpotConfig.model_validate({
        "base_url": info.hubspot_base_url, "access_token": SecretStr(info.hubspot_access_token),
        "ca_bundle": info.ca_file, "requests_per_10s": 190, "daily_limit": 1_000_000})


def salesforce_config(sb: Sandbox) -> SalesforceConfig:
    info = sb.info()
    return SalesforceConfig.model_validate({
        "instance_url": info.salesforce_instance_url, "auth": "client_credentials",
        "client_id": info.salesforce_client_id, "client_secret": SecretStr(info.salesforce_client_secret),
        "ca_bundle": info.ca_file, "api_version": "62.0"})


class Sources:
    """Fresh adapters (so no metadata cache carries over between runs) sharing one ledger."""

    def __init__(self, sb: Sandbox) -> None:
        self.ledger = CallLedger()
        self.hubspot = HubSpotSource(hubspot_config(sb), self.ledger)
        self.salesforce = SalesforceSource(salesforce_config(sb), self.ledger)

    def close(self) -> None:
        self.hubspot.close()
        self.salesforce.close()


MakeSources = Callable[[Sandbox], Sources]
#: the scorer's outputs: HubSpot contact properties and Salesforce Lead/Contact fields
SCORER_PROPERTIES = ("connector_score", "connector_grade", "connector_status", "connector_mql_date",
                     "connector_status_reason", "connector_score_reason", "connector_sla_state", "connector_sla_due",
                     "connector_touches_before_mql", "connector_first_touch", "connector_last_touch")
SCORER_FIELDS = ("Connector_Score__c", "Connector_Grade__c", "Connector_Status__c", "Connector_MQL_Date__c",
                 "Connector_Status_Reason__c", "Connector_Score_Reason__c", "Connector_SLA_State__c",
                 "Connector_SLA_Due__c", "Connector_Touches_Before_MQL__c", "Connector_First_Touch__c",
                 "Connector_Last_Touch__c")
#: the HubSpot properties the shipped mappings need, as (object, name)
HS_NAMES = {("contacts", "salesforce_lead_id"), ("contacts", "salesforce_contact_id"),
            ("deals", "salesforce_opportunity_id"), ("companies", "salesforce_account_id")} | {
    ("contacts", n) for n in SCORER_PROPERTIES}
#: the Salesforce fields the shipped mappings need, as (object, api name)
SF_NAMES = {(o, n) for o in ("Lead", "Contact") for n in ("HubSpot_Contact_Id__c", *SCORER_FIELDS)} | {
    ("Opportunity", "HubSpot_Deal_Id__c"), ("Account", "HubSpot_Company_Id__c")}


def sdk(sb: Sandbox) -> hubspot.Client:
    """HubSpot's official client on the sandbox: sees what setup did through another implementation."""
    info = sb.info()
    return hubspot.Client.create(access_token=info.hubspot_access_token, host=info.hubspot_base_url,
                                 ssl_ca_cert=info.ca_file)


def names(entries: list[dict[str, object]], key: str = "name") -> set[tuple[str, str]]:
    """(object, name) of the report entries that are not groups."""
    return {(str(e["object"]), str(e[key])) for e in entries if e.get("kind") != "group"}


def copy_mappings(tmp_path: Path, extra: str = "", *replace: tuple[str, str], opportunities: bool = True
                  ) -> Mappings:
    """The shipped mapping files copied to tmp_path (opportunities.toml only with `opportunities`), contacts.toml
    edited: each `replace` (old, new) must match, then `extra` is appended."""
    if opportunities:
        shutil.copy(MAPPINGS_DIR / "opportunities.toml", tmp_path / "opportunities.toml")
    text = (MAPPINGS_DIR / "contacts.toml").read_text(encoding="utf-8")
    for old, new in replace:
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "contacts.toml").write_text(text + extra, encoding="utf-8")
    return load_mappings(tmp_path)


def set_up(sb: Sandbox, mappings: Mappings, sources_for: MakeSources) -> Sources:
    """Fresh sources on ``sb`` after a full `connector setup --apply` (sandbox: Salesforce fields too)."""
    src = sources_for(sb)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=True)
    assert report.ok, report.to_json()
    return src


@pytest.fixture
def sources_for() -> Iterator[Callable[[Sandbox], Sources]]:
    opened: list[Sources] = []

    def make(sb: Sandbox) -> Sources:
        opened.append(Sources(sb))
        return opened[-1]

    yield make
    for s in opened:
        s.close()


@pytest.fixture(scope="module")
def shipped_sandbox() -> Iterator[Sandbox]:
    with Sandbox(people=PEOPLE, seed=SEED, rate_limits=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def bare_sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(people=PEOPLE, seed=SEED, rate_limits=False)
    # The Sandbox has no public switch for an org without the connector's custom fields; the org's schema
    # is rebuilt from this tuple on every reset/seed.
    sb.salesforce.state._custom_fields = ()
    with sb:
        yield sb


def _reseed(sb: Sandbox) -> Sandbox:
    """Back to a freshly seeded portal and org: drops created properties, groups and added fields."""
    sb.seed_people(PEOPLE, SEED)
    sb.hubspot.counter.reset()
    sb.salesforce.counter.reset()
    return sb


@pytest.fixture
def shipped(shipped_sandbox: Sandbox) -> Sandbox:
    return _reseed(shipped_sandbox)


@pytest.fixture
def bare(bare_sandbox: Sandbox) -> Sandbox:
    return _reseed(bare_sandbox)


@pytest.fixture(scope="session")
def mappings() -> Mappings:
    return load_mappings(MAPPINGS_DIR)
