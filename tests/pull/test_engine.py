"""The pull stage end to end against a seeded sandbox: initial load, idle cost, incremental changes,
crash and resume."""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, func, select

from connector.pull.engine import Puller, PullSettings
from connector.objects.streams import ALL_STREAMS, COMPANY_STREAMS, PEOPLE_STREAMS, Stream
from connector.sandbox.faults import FaultRule
from connector.sandbox.runner import Sandbox
from connector.store import open_engine
from connector.store.cursors import Cursor, load_cursor
from connector.store.models import Engagement, SourceRecord
from connector.systems.http import RetryPolicy, TransientApiError
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.salesforce import SalesforceSource

from ..systems.conftest import hubspot_config
from ..systems.salesforce.test_source import sf_config

PEOPLE = 600


@pytest.fixture(scope="module")
def world() -> Iterator[Sandbox]:
    # the pulls here run right after each edit with no safety lag: they are not about the systems' lag
    # (HubSpot's search index, Salesforce's whole-second datetime literals)
    with Sandbox(people=PEOPLE, seed=3, rate_limits=False, search_lag_ms=0, soql_datetime_millis="honour") as sb:
        yield sb


#: the people's streams and their Contacts' Accounts
PERSON_READS = PEOPLE_STREAMS + tuple(s for s in COMPANY_STREAMS if s.object_type == "Account")


def run(sb: Sandbox, store_url: str, *, attempts: int = 4) -> tuple[dict[str, object], CallLedger]:
    ledger = CallLedger()
    hs = HubSpotSource(hubspot_config(sb), ledger, retry=RetryPolicy(attempts=attempts, initial=0.01, maximum=0.05))
    sf = SalesforceSource(sf_config(sb), ledger, retry=RetryPolicy(attempts=attempts, initial=0.01, maximum=0.05))
    try:
        settings = PullSettings(run_started_ms=sb.clock.now_ms() + 1, lookback_ms=5_000, safety_lag_ms=0)
        result = Puller(open_engine(store_url), hubspot=hs, salesforce=sf, settings=settings).pull(PERSON_READS)
        return result.to_json(), ledger
    finally:
        hs.close()
        sf.close()


def server_counts(sb: Sandbox) -> dict[str, int]:
    ctx = ssl.create_default_context(cafile=str(sb.tls.ca_file))
    totals = {}
    for sobject in ("Lead", "Contact", "Account"):
        r = httpx.get(sb.salesforce_url + "/services/data/v62.0/queryAll", verify=ctx,
                      params={"q": f"SELECT COUNT() FROM {sobject}"},
                      headers={"Authorization": f"Bearer {sb.salesforce.state.issue_token()}"})
        totals[sobject] = r.json()["totalSize"]
    r = httpx.post(sb.hubspot_url + "/crm/v3/objects/contacts/search", verify=ctx, json={"limit": 1},
                   headers={"Authorization": f"Bearer {sb.hubspot.state.access_token}"})
    totals["contacts"] = r.json()["total"]
    # the pull also stages a merged-away marker for every id a survivor absorbed (hs_merged_object_ids)
    r = httpx.post(sb.hubspot_url + "/crm/v3/objects/contacts/search", verify=ctx, json={
        "limit": 200, "properties": ["hs_merged_object_ids"],
        "filterGroups": [{"filters": [{"propertyName": "hs_merged_object_ids", "operator": "HAS_PROPERTY"}]}]},
        headers={"Authorization": f"Bearer {sb.hubspot.state.access_token}"})
    totals["contacts"] += sum(len(c["properties"]["hs_merged_object_ids"].split(";")) for c in r.json()["results"])
    return totals


def staged(store_url: str) -> dict[str, int]:
    with Session(open_engine(store_url)) as s:
        rows = s.exec(select(SourceRecord.object_type, func.count()).group_by(SourceRecord.object_type)).all()
    return dict(rows)


def test_initial_then_idle_then_incremental(world: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    expected = server_counts(world)
    first, ledger = run(world, url)
    got = staged(url)
    owners, users = got.pop("owners"), got.pop("User")
    assert got == expected and owners == 12 and users == 13  # 12 reps (+ the integration user)
    assert {k: v["mode"] for k, v in first.items()} == {  # type: ignore[index]
        "hubspot:contacts": "initial", "hubspot:owners": "full", "salesforce:Account": "initial",
        "salesforce:Contact": "initial", "salesforce:Lead": "initial", "salesforce:User": "initial"}
    lower_bound = -(-expected["contacts"] // 100) + 2  # list pages and owners, plus one composite
    assert ledger.total("hubspot") == -(-expected["contacts"] // 100) + 1
    assert ledger.total() <= lower_bound + sum(expected[o] // 2000 for o in ("Lead", "Contact", "Account"))

    idle, ledger = run(world, url)
    assert ledger.snapshot() == {"hubspot": {"total": 1, "by_object": {"contacts": 1}},  # owners: daily
                                 "salesforce": {"total": 1, "by_object": {"composite": 1}}}
    assert all(v["new"] == 0 and v["changed"] == 0 for v in idle.values())  # type: ignore[index]

    ctx = ssl.create_default_context(cafile=str(world.tls.ca_file))
    hs_headers = {"Authorization": f"Bearer {world.hubspot.state.access_token}"}
    sf_headers = {"Authorization": f"Bearer {world.salesforce.state.issue_token()}"}
    with httpx.Client(verify=ctx) as c:
        r = c.patch(world.hubspot_url + "/crm/v3/objects/contacts/1", json={"properties": {"jobtitle": "VP Sales"}},
                    headers=hs_headers)
        assert r.status_code == 200, r.text
        lead = c.get(world.salesforce_url + "/services/data/v62.0/query", headers=sf_headers,
                     params={"q": "SELECT Id FROM Lead WHERE IsConverted = false LIMIT 1"}).json()["records"][0]["Id"]
        r = c.patch(world.salesforce_url + f"/services/data/v62.0/sobjects/Lead/{lead}", json={"Title": "CFO"},
                    headers=sf_headers)
        assert r.status_code == 204, r.text
    changed, ledger = run(world, url)
    assert changed["hubspot:contacts"]["changed"] == 1  # type: ignore[index]
    assert changed["salesforce:Lead"]["changed"] == 1  # type: ignore[index]
    assert ledger.total() == 2
    with Session(open_engine(url)) as s:
        assert s.get(SourceRecord, ("hubspot", "contacts", "1")).data["jobtitle"] == "VP Sales"  # type: ignore[union-attr]
        assert s.get(SourceRecord, ("salesforce", "Lead", lead)).data["Title"] == "CFO"  # type: ignore[union-attr]


def test_crash_during_initial_listing_resumes_from_the_saved_page(world: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    world.hubspot.faults.add(FaultRule(kind="503", path="/crm/v3/objects/contacts", method="GET", count=10, after=3))
    with pytest.raises(TransientApiError):
        run(world, url, attempts=3)
    with Session(open_engine(url)) as s:  # owners come after contacts: never reached
        partial = s.exec(select(func.count()).select_from(SourceRecord).where(
            SourceRecord.object_type == "contacts", SourceRecord.merged_into.is_(None))).one()  # type: ignore[union-attr]
    assert partial == 300  # three pages were stored before the storm (not counting merged-away markers)
    world.hubspot.faults.clear()
    resumed, ledger = run(world, url)
    assert resumed["hubspot:contacts"]["mode"] == "initial (resumed)"  # type: ignore[index]
    after = staged(url)
    assert {k: after[k] for k in ("contacts", "Lead", "Contact", "Account")} == server_counts(world)
    assert ledger.total("hubspot") == -(-server_counts(world)["contacts"] // 100) - 3 + 1  # + owners


def pull_all(world: Sandbox, url: str, streams: Sequence[Stream] = ALL_STREAMS, *, salesforce_only: bool = False
             ) -> tuple[dict[str, Any], CallLedger]:
    """One pull of `streams` with the shipped defaults (lookback 120 s, safety lag 60 s)."""
    ledger = CallLedger()
    hs = None if salesforce_only else HubSpotSource(hubspot_config(world), ledger)
    sf = SalesforceSource(sf_config(world), ledger)
    settings = PullSettings(run_started_ms=world.clock.now_ms())
    try:
        return Puller(open_engine(url), hubspot=hs, salesforce=sf, settings=settings).pull(streams).to_json(), ledger
    finally:
        if hs is not None:
            hs.close()
        sf.close()


@contextmanager
def frozen_at_minute(world: Sandbox, minutes_ahead: int) -> Iterator[int]:
    """The sandbox clock stopped at a whole minute `minutes_ahead` from now (past every seeded change, so
    what the test sees is what it did); yields that minute and lets the clock run again afterwards."""
    base = (world.clock.now_ms() // 60_000 + minutes_ahead) * 60_000
    world.clock.freeze(base)
    try:
        yield base
    finally:
        world.clock.unfreeze()


def sf_patch(world: Sandbox, sobject: str, record_id: str, values: dict[str, Any]) -> None:
    ctx = ssl.create_default_context(cafile=str(world.tls.ca_file))
    headers = {"Authorization": f"Bearer {world.salesforce.state.issue_token()}"}
    r = httpx.patch(world.salesforce_url + f"/services/data/v62.0/sobjects/{sobject}/{record_id}", json=values,
                    headers=headers, verify=ctx)
    assert r.status_code == 204, r.text


def sf_first_id(world: Sandbox, sobject: str) -> str:
    ctx = ssl.create_default_context(cafile=str(world.tls.ca_file))
    headers = {"Authorization": f"Bearer {world.salesforce.state.issue_token()}"}
    r = httpx.get(world.salesforce_url + "/services/data/v62.0/query", headers=headers, verify=ctx,
                  params={"q": f"SELECT Id FROM {sobject} ORDER BY Id LIMIT 1"})
    return str(r.json()["records"][0]["Id"])


def test_all_streams_initial_counts_and_idle_cost(world: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    with frozen_at_minute(world, 5) as minute:
        world.clock.set(minute + 10_000)
        first, ledger = pull_all(world, url)
        got = staged(url)
        assert {"contacts", "deals", "calls", "meetings", "emails", "notes", "tasks", "Lead", "Contact", "Opportunity",
                "OpportunityContactRole", "Task", "Event", "CampaignMember"} <= set(got)
        with Session(open_engine(url)) as s:
            call = s.exec(select(SourceRecord).where(SourceRecord.object_type == "calls")).first()
            assert call is not None and call.data["_associations"]["contacts"]  # pulled along with the list call
            kinds = dict(s.exec(select(Engagement.kind, func.count()).group_by(Engagement.kind)).all())
        assert {"page_view", "email_open", "email_click"} <= set(kinds)
        assert first["hubspot:web_events"]["new"] == kinds["page_view"] + kinds.get("form_submission", 0)
        world.clock.advance(120_000)  # two whole minutes later: getDeleted wants more than one
        idle, ledger = pull_all(world, url)
    hubspot_types = {"contacts", "companies", "deals", "calls", "meetings", "emails", "notes", "tasks", "web_events",
                     "email_events"}
    assert ledger.snapshot()["hubspot"] == {"total": 10, "by_object": {t: 1 for t in hubspot_types}}
    assert ledger.snapshot()["salesforce"] == {"total": 1, "by_object": {"composite": 1}}  # 5 queries + 4 probes
    assert {k: v["mode"] for k, v in idle.items() if k.startswith("salesforce:")} == {
        "salesforce:Lead": "incremental", "salesforce:Contact": "incremental", "salesforce:Opportunity": "incremental",
        "salesforce:OpportunityContactRole": "incremental", "salesforce:Task": "incremental",
        "salesforce:User": "incremental (probed)", "salesforce:Account": "incremental (probed)",
        "salesforce:Event": "incremental (probed)", "salesforce:CampaignMember": "incremental (probed)"}


def test_a_probed_change_is_read_once_and_the_next_idle_poll_is_one_call(world: Sandbox, tmp_path: Path) -> None:
    """A probe starts where the last read of its object ended (settled by latestDateCovered), not a lookback
    before it: a change it found and read is not found again. Changes on either side of a whole-minute
    edge are all read, each exactly once."""
    url = f"sqlite:///{tmp_path}/c.db"
    sf_streams = [s for s in ALL_STREAMS if s.system == "salesforce"]
    event, member, account = (sf_first_id(world, sobject) for sobject in ("Event", "CampaignMember", "Account"))

    def pull() -> tuple[dict[str, Any], int]:
        result, ledger = pull_all(world, url, sf_streams, salesforce_only=True)
        return result, ledger.total("salesforce")

    def stored(sobject: str, record_id: str) -> dict[str, Any]:
        with Session(open_engine(url)) as s:
            row = s.get(SourceRecord, ("salesforce", sobject, record_id))
            assert row is not None
            return dict(row.data)

    with frozen_at_minute(world, 5) as m:
        world.clock.set(m + 10_000)
        pull()  # initial: two Composite calls (nine queries); probed objects read up to m - 60 s
        world.clock.set(m + 70_000)
        assert pull()[1] == 1  # idle (one minute more: too short to probe yet)
        world.clock.set(m + 75_000)
        sf_patch(world, "Event", event, {"Subject": "Demo booked"})
        world.clock.set(m + 200_000)  # the probes read [m - 60 s, m + 120 s)
        changed, calls = pull()
        assert calls == 2 and changed["salesforce:Event"]["changed"] == 1  # the poll, then the query of what changed
        assert stored("Event", event)["Subject"] == "Demo booked"
        world.clock.set(m + 320_000)  # [m + 120 s, m + 240 s): the Event's change lies a lookback before, not again
        idle, calls = pull()
        assert calls == 1 and idle["salesforce:Event"]["mode"] == "incremental (probed)"

        world.clock.set(m + 359_999)  # one millisecond before the next probe's end, and exactly on it
        sf_patch(world, "CampaignMember", member, {"Status": "Responded"})
        world.clock.set(m + 360_000)
        sf_patch(world, "Account", account, {"Industry": "Biotechnology"})
        world.clock.set(m + 440_000)  # probes read [m + 240 s, m + 360 s): the member, not yet the Account
        first_edge, calls = pull()
        assert calls == 2 and first_edge["salesforce:CampaignMember"]["changed"] == 1
        assert first_edge["salesforce:Account"]["mode"] == "incremental (probed)"
        world.clock.set(m + 560_000)  # [m + 360 s, m + 480 s): the Account
        second_edge, calls = pull()
        assert calls == 2 and second_edge["salesforce:Account"]["changed"] == 1
        assert second_edge["salesforce:CampaignMember"]["mode"] == "incremental (probed)"
        world.clock.set(m + 680_000)
        assert pull()[1] == 1
    with Session(open_engine(url)) as session:  # every probed object read up to the last probe's end, settled
        cursors = {o: load_cursor(session, f"salesforce:{o}") for o in ("User", "Account", "Event", "CampaignMember")}
    assert cursors == {o: Cursor(position=m + 600_000, settled=True) for o in cursors}
    assert stored("CampaignMember", member)["Status"] == "Responded"
    assert stored("Account", account)["Industry"] == "Biotechnology"


def test_hubspot_deletions_are_found_by_the_archived_scan_on_its_cadence(world: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    contacts = [s for s in PEOPLE_STREAMS if s.object_type == "contacts"]

    def pull(scan_ms: int) -> CallLedger:
        ledger = CallLedger()
        hs = HubSpotSource(hubspot_config(world), ledger)
        settings = PullSettings(run_started_ms=world.clock.now_ms() + 1, lookback_ms=0, safety_lag_ms=0,
                                deletion_scan_ms=scan_ms)
        try:
            Puller(open_engine(url), hubspot=hs, salesforce=None, settings=settings).pull(contacts)
        finally:
            hs.close()
        return ledger

    pull(3_600_000)
    ctx = ssl.create_default_context(cafile=str(world.tls.ca_file))
    r = httpx.delete(world.hubspot_url + "/crm/v3/objects/contacts/2", verify=ctx,
                     headers={"Authorization": f"Bearer {world.hubspot.state.access_token}"})
    assert r.status_code == 204
    assert pull(3_600_000).total() == 1  # within the cadence: only the change search
    with Session(open_engine(url)) as s:
        assert not s.get(SourceRecord, ("hubspot", "contacts", "2")).deleted  # type: ignore[union-attr]
    world.clock.advance(2_000)
    assert pull(1_000).total() == 2  # the search and one page of archived records
    with Session(open_engine(url)) as s:
        assert s.get(SourceRecord, ("hubspot", "contacts", "2")).deleted  # type: ignore[union-attr]


def test_lead_conversion_and_bulk_first_load(tmp_path: Path) -> None:
    with Sandbox(people=700, seed=11, rate_limits=False) as sb:
        url = f"sqlite:///{tmp_path}/c.db"
        ledger = CallLedger()
        sf = SalesforceSource(sf_config(sb, bulk_threshold=100), ledger)
        settings = PullSettings(run_started_ms=sb.clock.now_ms() + 1, lookback_ms=5_000, safety_lag_ms=0)
        leads = [s for s in PEOPLE_STREAMS if s.object_type == "Lead"]
        result = Puller(open_engine(url), hubspot=None, salesforce=sf, settings=settings).pull(leads).to_json()
        assert result["salesforce:Lead"]["mode"] == "initial (bulk)"
        assert staged(url)["Lead"] == server_counts(sb)["Lead"]
        assert "POST /services/data/v62.0/jobs/query" in sb.salesforce.counter.snapshot()

        ctx = ssl.create_default_context(cafile=str(sb.tls.ca_file))
        headers = {"Authorization": f"Bearer {sb.salesforce.state.issue_token()}"}
        with httpx.Client(base_url=sb.salesforce_url, verify=ctx, headers=headers) as c:
            lead = c.get("/services/data/v62.0/query", params={
                "q": "SELECT Id FROM Lead WHERE IsConverted = false LIMIT 1"}).json()["records"][0]["Id"]
            converted = c.post(f"/_sandbox/salesforce/leads/{lead}/convert", json={})
            assert converted.status_code == 200, converted.text
        sb.clock.advance(2_000)
        settings = PullSettings(run_started_ms=sb.clock.now_ms() + 1, lookback_ms=5_000, safety_lag_ms=0)
        Puller(open_engine(url), hubspot=None, salesforce=sf, settings=settings).pull(
            [s for s in PEOPLE_STREAMS if s.system == "salesforce"])
        sf.close()
        with Session(open_engine(url)) as s:
            row = s.get(SourceRecord, ("salesforce", "Lead", lead))
            assert row is not None and row.data["IsConverted"] is True
            contact = row.data["ConvertedContactId"]
            assert contact and s.get(SourceRecord, ("salesforce", "Contact", contact)) is not None
