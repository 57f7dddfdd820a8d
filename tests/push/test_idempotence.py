"""Creates are idempotent: an answer lost after the system accepted a create is replayed, the look-up
before the creates finds the record (and, were it missed, the create is an upsert on the cross-reference
id). And the Bulk API 2.0 path writes what Composite would."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

import connector.sync.cycle as sync_module
from connector.systems.hubspot import HubSpotSink
from connector.systems.salesforce import SalesforceSink
from connector.systems.ports import Item, Operation, WriteOutcome

from .conftest import World, make_world
from .test_sync_e2e import hubspot_contacts, salesforce_people


class LostAnswer(Exception):
    """The connection died after the system had accepted the batch."""


@pytest.fixture
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # call counts per Bulk job are asserted here; how the connector meets jobs that take time is
    # tests/sandbox/test_connector_realism.py's
    yield from make_world(tmp_path_factory.mktemp("replay"), people=250, seed=3, bulk_jobs="instant")


def losing(real: Any) -> Any:
    """A sink class whose upserts reach the system, then lose the answer."""
    class Lossy(real):
        def write(self, object_type: str, operation: Operation, items: Sequence[Item], *, id_field: str | None
                  ) -> dict[str, WriteOutcome]:
            outcomes: dict[str, WriteOutcome] = super().write(object_type, operation, items, id_field=id_field)
            if operation == "upsert":
                raise LostAnswer(f"{len(outcomes)} {object_type} accepted, answer lost")
            return outcomes
    return Lossy


def refusing(real: Any) -> Any:
    """A sink class that refuses every create (so the other system's creates get their turn)."""
    class Refusing(real):
        def write(self, object_type: str, operation: Operation, items: Sequence[Item], *, id_field: str | None
                  ) -> dict[str, WriteOutcome]:
            if operation == "upsert":
                return {i.key: WriteOutcome(False, code="UNAVAILABLE", message="test") for i in items}
            outcomes: dict[str, WriteOutcome] = super().write(object_type, operation, items, id_field=id_field)
            return outcomes
    return Refusing


def test_a_hubspot_create_whose_answer_was_lost_is_not_duplicated(fresh: World, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    contacts = len(hubspot_contacts(fresh))
    monkeypatch.setattr(sync_module, "HubSpotSink", losing(HubSpotSink))
    with pytest.raises(LostAnswer):
        fresh.sync()
    monkeypatch.setattr(sync_module, "HubSpotSink", HubSpotSink)
    assert len(hubspot_contacts(fresh)) > contacts  # the lost batch was accepted
    # replayed from the store alone (no pull, so nothing tells the connector the records exist): the
    # look-up before the creates finds them (by e-mail, holding this create's salesforce_lead_id /
    # salesforce_contact_id) and adopts them, so each person exists once
    replayed = fresh.sync(pull=False)
    created = replayed["push"]["written"]["hubspot"]["contacts"]["created"]
    adopted = replayed["push"]["lookup"]["adopted"]
    assert created > 0 and adopted > 0 and len(hubspot_contacts(fresh)) == contacts + created + adopted
    assert_converged(fresh)


def test_a_salesforce_create_whose_answer_was_lost_is_not_duplicated(fresh: World, monkeypatch: pytest.MonkeyPatch
                                                                      ) -> None:
    people = len(salesforce_people(fresh))
    monkeypatch.setattr(sync_module, "HubSpotSink", refusing(HubSpotSink))
    monkeypatch.setattr(sync_module, "SalesforceSink", losing(SalesforceSink))
    with pytest.raises(LostAnswer):
        fresh.sync()
    monkeypatch.setattr(sync_module, "SalesforceSink", SalesforceSink)
    assert len(salesforce_people(fresh)) > people
    replayed = fresh.sync(pull=False)  # the look-up finds the Leads by HubSpot_Contact_Id__c and adopts them
    created = replayed["push"]["written"]["salesforce"]["Lead"]["created"]
    adopted = replayed["push"]["lookup"]["adopted"]
    assert adopted > 0 and len(salesforce_people(fresh)) == people + created + adopted
    monkeypatch.setattr(sync_module, "HubSpotSink", HubSpotSink)
    assert_converged(fresh)


def assert_converged(world: World) -> None:
    from connector.cli import main

    assert main(["retry", "--config", str(world.config_path)]) == 0  # the refused creates, parked, go again
    final = world.sync()
    # the only records still refused are the world's own unwritable values (job titles longer than
    # Lead.Title takes, parked with a hint), never one of the creates the test refused or lost
    too_long = [r for r in final["push"]["rejections_sample"] if r["code"] == "STRING_TOO_LONG"]
    assert final["ok"] and final["push"]["rejected"] == len(too_long)
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    emails = Counter((p.get("email") or "").lower() for p in hs.values() if p.get("email"))
    assert max(emails.values()) == 1
    refs = Counter(r["HubSpot_Contact_Id__c"] for r in sf.values()
                   if r["HubSpot_Contact_Id__c"] and r["Id"][:3] == "00Q")
    assert max(refs.values()) == 1
    assert world.sync()["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}


def test_bulk_ingest_path_writes_and_converges(fresh: World) -> None:
    first = fresh.sync(bulk_threshold=20)
    by_object = fresh.sandbox.salesforce.counter.snapshot()
    assert any("jobs/ingest" in k for k in by_object), by_object
    written = first["push"]["written"]["salesforce"]
    too_long = [r for r in first["push"]["rejections_sample"] if r["code"] == "STRING_TOO_LONG"]  # the world's data
    assert written["Lead"]["updated"] > 20 and first["push"]["rejected"] == len(too_long)
    # a few calls per job, not per record: create, upload, close, poll, successes, failures; plus the Composite
    # calls of the writes under the threshold (every object's writes count: people's, companies', deals')
    pushes = [first["push"]] + [first[p]["push"] for p in ("companies", "deals") if first.get(p)]
    jobs = sum(1 for push in pushes for n in push["written"].get("salesforce", {}).values()
               for op in ("created", "updated") if n[op] >= 20)
    assert jobs >= 3 and first["push"]["write_calls"]["salesforce"] <= 6 * jobs + 2
    again = fresh.sync(bulk_threshold=20)
    assert again["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}


def test_writes_ride_out_throttling_and_outages(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The pull's HTTP layer serves the writes too: 429 with Retry-After, 503s and dropped connections on
    the write endpoints are retried, and nothing is written twice."""
    from connector.sandbox.faults import FaultRule

    for world in make_world(tmp_path_factory.mktemp("faults"), people=150, seed=9):
        hs_faults, sf_faults = world.sandbox.hubspot.faults, world.sandbox.salesforce.faults
        hs_faults.add(FaultRule("429-retry", path="*/batch/update", count=2, retry_after=0.1))
        hs_faults.add(FaultRule("503", path="*/batch/upsert", count=1))
        sf_faults.add(FaultRule("503", path="*/composite", count=2, after=1))  # the first composite is the pull's
        result = world.sync()
        assert result["ok"] and result["push"]["rejected"] == 0
        fired = [r["fired"] for r in hs_faults.rules() + sf_faults.rules()]
        assert fired == [2, 1, 2]
        hs = hubspot_contacts(world)
        emails = Counter((p.get("email") or "").lower() for p in hs.values() if p.get("email"))
        assert max(emails.values()) == 1
        assert world.sync()["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
