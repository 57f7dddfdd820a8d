"""The push stage against fake Sink ports: batches of the sink's size, and HubSpot opt-outs sent apart."""

from __future__ import annotations

from connector.push.engine import Pusher
from connector.reconcile.writes import RecordWrite, WritePlan
from connector.reconcile.loader import load_mappings
from connector.store import open_engine
from connector.systems.fakes import FakeSink

from .conftest import MAPPINGS

CONTACTS = load_mappings(MAPPINGS).contacts


def test_writes_go_in_batches_of_the_sinks_size_one_object_at_a_time(store_url: str) -> None:
    salesforce = FakeSink("salesforce", batch_size=2)
    pusher = Pusher(open_engine(store_url), sinks={"salesforce": salesforce}, mapping=CONTACTS, now_ms=lambda: 1_000)
    leads = tuple(RecordWrite("salesforce", "Lead", f"00Q00000000000{n}", f"p{n}", {"Title": f"T{n}"})
                  for n in range(3))
    contact = RecordWrite("salesforce", "Contact", "003000000000001", "p9", {"Title": "CTO"})
    result = pusher.push(WritePlan((), (*leads, contact), ()))
    assert [(object_type, operation, len(items)) for object_type, operation, items in salesforce.writes] == [
        ("Lead", "update", 2), ("Lead", "update", 1), ("Contact", "update", 1)]
    assert result.updated == {"salesforce:Lead": 3, "salesforce:Contact": 1} and result.rejected == {}


def test_a_hubspot_opt_out_goes_through_the_sinks_opt_out_not_a_property_write(store_url: str) -> None:
    hubspot = FakeSink("hubspot", batch_size=100)
    pusher = Pusher(open_engine(store_url), sinks={"hubspot": hubspot}, mapping=CONTACTS, now_ms=lambda: 1_000)
    write = RecordWrite("hubspot", "contacts", "101", "p1", {"hs_email_optout": True, "jobtitle": "CTO"},
                        old={"email": "ann@example.com"})
    result = pusher.push(WritePlan((), (write,), ()))
    assert hubspot.opted_out == ["ann@example.com"]
    assert [items[0].values for _, _, items in hubspot.writes] == [{"jobtitle": "CTO"}]
    assert result.fields_written["hubspot:contacts"] == 2  # the job title, and the opt-out


def test_an_update_reads_the_edited_fields_again_and_leaves_what_changed(store_url: str) -> None:
    """One check call per write call, only for writes that set a mapped field; a field someone changed
    since the read is left for the next run, a record gone since is left whole, the rest is written."""
    salesforce = FakeSink("salesforce", batch_size=2, holding={
        "00Q1": {"Title": "Buyer", "Email": "a@x.io"},      # as read: written
        "00Q2": {"Title": "Edited since", "Email": "b@x.io"},  # title edited since the read: left out
    })  # 00Q3 is gone
    pusher = Pusher(open_engine(store_url), sinks={"salesforce": salesforce}, mapping=CONTACTS, now_ms=lambda: 1_000)
    writes = (RecordWrite("salesforce", "Lead", "00Q1", "p1", {"Title": "CTO"}, old={"Title": "Buyer"}),
              RecordWrite("salesforce", "Lead", "00Q2", "p2", {"Title": "CFO", "City": "Oslo"},
                          old={"Title": "Buyer", "City": None}),
              RecordWrite("salesforce", "Lead", "00Q3", "p3", {"Title": "CEO"}, old={"Title": None}),
              RecordWrite("salesforce", "Lead", "00Q4", "p4", {"HubSpot_Contact_Id__c": "9"}))  # the connector's own
    result = pusher.push(WritePlan((), writes, ()))
    assert salesforce.checks == [("Lead", ["00Q1", "00Q2"]), ("Lead", ["00Q3"])]  # 00Q4 sets no mapped field
    assert [[(i.record_id, i.values) for i in items] for _, _, items in salesforce.writes] == [
        [("00Q1", {"Title": "CTO"}), ("00Q2", {"City": "Oslo"})], [("00Q4", {"HubSpot_Contact_Id__c": "9"})]]
    assert result.deferred == {"salesforce:Lead": 2} and result.updated == {"salesforce:Lead": 3}
    assert result.to_json()["deferred"] == {"salesforce:Lead": 2}


def test_the_updates_to_check_go_first_together_so_they_cost_one_read_per_full_batch(store_url: str) -> None:
    hubspot = FakeSink("hubspot", batch_size=2)
    pusher = Pusher(open_engine(store_url), sinks={"hubspot": hubspot}, mapping=CONTACTS, now_ms=lambda: 1_000)
    own, mapped = "connector_score", "jobtitle"
    writes = tuple(RecordWrite("hubspot", "contacts", str(n), f"p{n}", {own if n % 2 else mapped: f"v{n}"})
                   for n in range(1, 5))  # 1 and 3 set the connector's own field, 2 and 4 a mapped one
    result = pusher.push(WritePlan((), writes, ()))
    assert hubspot.checks == [("contacts", ["2", "4"])]  # one read, not one in each of the two batches
    assert [[i.record_id for i in items] for _, _, items in hubspot.writes] == [["2", "4"], ["1", "3"]]
    assert result.checked == {"hubspot:contacts": 2} and result.updated == {"hubspot:contacts": 4}
