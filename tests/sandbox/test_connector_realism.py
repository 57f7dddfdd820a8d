"""The connector's adapters against the sandbox's realistic behaviours and both readings of what the
vendors' docs leave open: HubSpot batch reads of missing ids, batch writes without trace ids, search
index lag; Salesforce datetime literals to the second, and Bulk 2.0 jobs that take time.

These are the connector's own code paths (connector.systems, connector.pull) meeting the emulators; the
emulators' own behaviour is tested in test_hubspot_realism.py and test_salesforce_realism.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import Session, select

from connector.pull.engine import Puller, PullSettings
from connector.objects.streams import PEOPLE_STREAMS
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.runner import Sandbox
from connector.sandbox.salesforce.ids import make_id
from connector.store import open_engine
from connector.store.models import SourceRecord
from connector.systems.hubspot import HubSpotSink, HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.salesforce import SalesforceSink, SalesforceSource
from connector.systems.ports import Item

from tests.systems.conftest import hubspot_config
from tests.systems.salesforce.test_source import sf_config

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a whole second
SAFETY_LAG_MS = 60_000  # the shipped [sync].safety_lag_seconds
LEADS = [s for s in PEOPLE_STREAMS if s.object_type == "Lead"]
CONTACTS = [s for s in PEOPLE_STREAMS if s.object_type == "contacts"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(people=0, rate_limits=False) as sb:  # the shipped defaults: realistic
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.hubspot.state.reset()
    sandbox.salesforce.state.reset()
    sandbox.clock.freeze(T0 + 3_600_000)
    try:
        yield sandbox
    finally:
        sandbox.clock.unfreeze()


def _contacts(sb: Sandbox, n: int, *, updated: int = T0) -> None:
    sb.hubspot.state.load(SeedBatch(hubspot={"contacts": [
        {"id": str(i), "createdAt": T0, "updatedAt": updated, "properties": {"email": f"c{i}@x.io", "lastname": "L"}}
        for i in range(1, n + 1)]}))


@contextmanager
def _hubspot(sb: Sandbox) -> Iterator[HubSpotSource]:
    """A HubSpot source on the sandbox whose waits move the sandbox clock, closed on leaving."""
    src = HubSpotSource(hubspot_config(sb), CallLedger(), sleep=lambda s: sb.clock.advance(int(s * 1000)))
    try:
        yield src
    finally:
        src.close()


@contextmanager
def _salesforce(sb: Sandbox) -> Iterator[SalesforceSource]:
    """A Salesforce source on the sandbox whose waits move the sandbox clock, closed on leaving."""
    src = SalesforceSource(sf_config(sb), CallLedger(), sleep=lambda s: sb.clock.advance(int(s * 1000)))
    try:
        yield src
    finally:
        src.close()


# ---- HubSpot batch read of missing ids: both readings ------------------------------------------------


@pytest.mark.parametrize("reading", ["error-207", "omit-200"])
def test_presence_check_tells_missing_ids_under_both_readings(sb: Sandbox, reading: str) -> None:
    _contacts(sb, 3)
    sb.hubspot.state.account.update({"batch_read_missing": reading})
    with _hubspot(sb) as src:
        assert src.present("contacts", ["1", "2", "3", "404", "405"]) == {"1", "2", "3"}


@pytest.mark.parametrize("reading", ["error-207", "omit-200"])
def test_presence_check_counts_a_merged_away_id_under_both_readings(sb: Sandbox, reading: str) -> None:
    """A merge gives the survivor a new id (HubSpot's default): the old ids read as it, and are present."""
    _contacts(sb, 3)
    sb.hubspot.state.account.update({"batch_read_missing": reading})
    with _hubspot(sb) as src:
        merged = src.http.json("POST", "/crm/v3/objects/contacts/merge", object_type="contacts",
                               json_body={"primaryObjectId": "1", "objectIdToMerge": "2"})
        survivor = str(merged["id"])
        assert survivor not in ("1", "2")
        assert src.present("contacts", ["1", "2", "3", survivor, "404"]) == {"1", "2", "3", survivor}


# ---- HubSpot batch write without trace ids: the connector always sends them --------------------------


@pytest.mark.parametrize("reading", ["all-or-nothing", "partial-207"])
def test_batch_update_reports_each_record_under_both_readings(sb: Sandbox, reading: str) -> None:
    _contacts(sb, 3)
    sb.hubspot.state.account.update({"untraced_batch": reading})
    with _hubspot(sb) as src:
        out = HubSpotSink(src).write("contacts", "update", [
            Item("a", "1", {"jobtitle": "CTO"}), Item("b", "2", {"no_such_property": "x"}),
            Item("c", "3", {"jobtitle": "CFO"})], id_field=None)
    assert (out["a"].ok, out["b"].ok, out["c"].ok) == (True, False, True)
    assert out["b"].code == "PROPERTY_DOESNT_EXIST"


# ---- HubSpot search index lag against the pull's safety lag --------------------------------------------


def test_with_the_shipped_safety_lag_an_edit_inside_the_search_lag_is_pulled_by_the_next_run(
        sb: Sandbox, tmp_path: Path) -> None:
    """Source: HubSpot's search guide (records changed a moment ago may not be in search yet)."""
    _contacts(sb, 5, updated=T0)
    url = f"sqlite:///{tmp_path}/c.db"

    def pull() -> None:
        with _hubspot(sb) as src:
            settings = PullSettings(run_started_ms=sb.clock.now_ms(), lookback_ms=120_000, safety_lag_ms=SAFETY_LAG_MS)
            Puller(open_engine(url), hubspot=src, salesforce=None, settings=settings).pull(CONTACTS)

    pull()  # initial load
    sb.clock.advance(SAFETY_LAG_MS)
    pull()  # the cursor is now incremental
    sb.hubspot.state.records.update(sb.hubspot.state.records.get_row("contacts", 3), {"jobtitle": "VP"},
                                    sb.hubspot.state.api_source(None))
    sb.clock.advance(1_000)  # inside HubSpot's search lag: the change is not searchable yet
    pull()
    for _ in range(3):  # the scheduler's next runs
        sb.clock.advance(SAFETY_LAG_MS)
        pull()
    with Session(open_engine(url)) as s:
        record = s.get(SourceRecord, ("hubspot", "contacts", "3"))
    assert record is not None and record.data.get("jobtitle") == "VP"


# ---- Salesforce datetime literals: half-open windows lose nothing either way ----------------------------


@pytest.mark.parametrize("millis", ["truncate", "honour"])
@pytest.mark.parametrize("safety_lag_ms", [SAFETY_LAG_MS, 1_000])
def test_whole_second_modstamps_and_window_ends_inside_a_second_lose_nothing(
        sb: Sandbox, tmp_path: Path, millis: str, safety_lag_ms: int) -> None:
    """Each run's window ends at a millisecond inside a second; records are stamped to the second, some in
    that very second before the run and some after it. Every record is pulled, under both readings of a
    literal's milliseconds, with the shipped safety lag and with a lag of one second."""
    sb.salesforce.state.soql_datetime_millis = millis
    url = f"sqlite:///{tmp_path}/c.db"
    lead = 0

    def add_lead() -> None:
        nonlocal lead
        lead += 1
        stamp = sb.clock.now_ms() // 1000 * 1000  # Salesforce stamps whole seconds
        sb.salesforce.state.load(SeedBatch(salesforce={"Lead": [{
            "Id": make_id("Lead", lead), "LastName": f"L{lead}", "Company": "Acme", "Email": f"l{lead}@x.io",
            "CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp}]}))

    def pull() -> None:
        with _salesforce(sb) as src:
            settings = PullSettings(run_started_ms=sb.clock.now_ms(), lookback_ms=0, safety_lag_ms=safety_lag_ms)
            Puller(open_engine(url), hubspot=None, salesforce=src, settings=settings).pull(LEADS)

    add_lead()
    pull()  # initial load
    for step in (250, 500, 250, 700, 300, 999, 1, 400):  # runs and records land at odd milliseconds
        sb.clock.advance(step)
        add_lead()
        sb.clock.advance(safety_lag_ms + 137)
        add_lead()  # stamped in the second the next window ends in
        pull()
    sb.clock.advance(safety_lag_ms + 2_000)
    pull()
    with Session(open_engine(url)) as s:
        pulled = set(s.exec(select(SourceRecord.record_id).where(SourceRecord.object_type == "Lead")).all())
    assert pulled == {make_id("Lead", i) for i in range(1, lead + 1)}


# ---- Bulk 2.0 jobs that take time ------------------------------------------------------------------------


def test_a_bulk_query_is_polled_until_complete_and_read_whole(sb: Sandbox) -> None:
    """Source: Bulk API 2.0 job states (UploadComplete -> InProgress -> JobComplete)."""
    sb.salesforce.state.load(SeedBatch(salesforce={"Lead": [
        {"Id": make_id("Lead", i), "LastName": f"L{i}", "Company": "Acme", "CreatedDate": T0, "LastModifiedDate": T0,
         "SystemModstamp": T0} for i in range(1, 3_001)]}))
    before = sb.clock.now_ms()
    with _salesforce(sb) as src:
        rows = [r for page in src.bulk_query_pages("SELECT Id, LastName FROM Lead", object_type="Lead")
                for r in page]
    assert len(rows) == 3_000 and len({r["Id"] for r in rows}) == 3_000
    polls = sum(n for k, n in sb.salesforce.counter.snapshot().items() if k.startswith("GET") and "jobs/query/" in k
                and not k.endswith("/results"))
    assert polls >= 2 and sb.clock.now_ms() - before >= 2_000  # it waited while the job was in progress


def test_a_bulk_ingest_is_polled_until_complete_and_every_record_reported(sb: Sandbox) -> None:
    sb.salesforce.state.load(SeedBatch(salesforce={"Lead": [
        {"Id": make_id("Lead", i), "LastName": f"L{i}", "Company": "Acme", "Email": f"l{i}@x.io", "CreatedDate": T0,
         "LastModifiedDate": T0, "SystemModstamp": T0} for i in range(1, 301)]}))
    items = [Item(f"k{i}", make_id("Lead", i), {"Title": f"T{i}"}) for i in range(1, 301)]
    items.append(Item("bad", make_id("Lead", 301), {"Title": "nobody"}))
    with _salesforce(sb) as src:
        out = SalesforceSink(src, bulk_threshold=10).write("Lead", "update", items, id_field=None)
    assert sum(o.ok for o in out.values()) == 300 and not out["bad"].ok
    assert sb.salesforce.state.store.get(make_id("Lead", 300))["Title"] == "T300"
    polls = sb.salesforce.counter.snapshot()["GET /services/data/v62.0/jobs/ingest/{jobId}"]
    assert polls >= 2  # it met the job in progress and waited
