"""An erased person leaves nothing in the store but salted hashes, checked on the store's bytes: the
SQLite file (and its write-ahead log) or a pg_dump of the PostgreSQL database is searched for their
e-mail address, names and phone number; everyone else's data stays."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.store import open_engine
from connector.store.erasure import compact, erase_person
from connector.store.models import (
    Engagement,
    FieldAudit,
    Link,
    Opportunity,
    ParkedRecord,
    Person,
    PersonField,
    SourceRecord,
    SyncRun,
    WrittenValue,
)

EMAIL = "zoltanique.q@erasure-probe.example"
FIRST, LAST = "Zoltanique", "Quillfeather-Erasmo"
PHONE = "+1 303 555 0199"
CONTACT = "0035g00000AbCdEAAZ"  # the person's Salesforce Contact (18 characters; references may use 15)


def store_bytes(engine: Engine) -> bytes:
    """Everything the store holds, as bytes: the SQLite file and its write-ahead log as they are on disk
    (deleted rows linger in free pages), or a pg_dump of the PostgreSQL database."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--no-owner", f"--dbname={url}"], check=True, capture_output=True).stdout


def traces(engine: Engine, *needles: str) -> list[str]:
    """Which of `needles` (and the phone number in any punctuation) the store's bytes still hold."""
    data = store_bytes(engine)
    found = [n for n in needles if n.encode() in data]
    if re.search(rb"303\D{0,3}555\D{0,3}0199", data):
        found.append("phone")
    return found


def seed(engine: Engine) -> None:
    def record(system: str, object_type: str, rid: str, data: dict[str, object], email: str | None = None,
               merged_into: str | None = None) -> SourceRecord:
        return SourceRecord(system=system, object_type=object_type, record_id=rid, modified_at=1, fetched_at=1,
                            email_norm=email, data=data, merged_into=merged_into, deleted=merged_into is not None)

    with Session(engine) as s, s.begin():
        s.add(Person(id="hs-1", email_norm=EMAIL, created_at=1, updated_at=1))
        s.add(Person(id="hs-2", email_norm="bob@example.org", created_at=1, updated_at=1))
        s.flush()
        s.add_all([
            Link(person_id="hs-1", system="hubspot", object_type="contacts", record_id="1", reason="reconciled",
                 linked_at=1),
            Link(person_id="hs-1", system="salesforce", object_type="Contact", record_id=CONTACT, reason="reconciled",
                 linked_at=1),
            Link(person_id="hs-2", system="hubspot", object_type="contacts", record_id="2", reason="reconciled",
                 linked_at=1),
            record("hubspot", "contacts", "1", {"email": EMAIL, "firstname": FIRST, "lastname": LAST, "phone": PHONE},
                   EMAIL),
            record("hubspot", "contacts", "9", {}, merged_into="1"),
            record("salesforce", "Contact", CONTACT, {"Email": EMAIL, "FirstName": FIRST, "LastName": LAST,
                                                       "Phone": "(303) 555-0199"}, EMAIL),
            record("hubspot", "contacts", "2", {"email": "bob@example.org", "firstname": "Bob"}, "bob@example.org"),
            # records about them: their activity, campaign membership, contact role and HubSpot engagements
            record("salesforce", "Task", "00T1", {"WhoId": CONTACT[:15], "Subject": f"Call with {FIRST} {LAST}"}),
            record("salesforce", "Event", "00U1", {"WhoId": CONTACT, "Subject": f"Meeting: {LAST}"}),
            record("salesforce", "CampaignMember", "00v1", {"ContactId": CONTACT, "Status": "Responded"}),
            record("salesforce", "OpportunityContactRole", "00K1", {"ContactId": CONTACT, "OpportunityId": "006A"}),
            record("hubspot", "calls", "501", {"hs_call_title": f"Call with {FIRST}",
                                               "_associations": {"contacts": ["1"]}}),
            record("hubspot", "deals", "701", {"dealname": "Acme renewal", "_associations": {"contacts": ["1", "2"]}}),
            # someone else's
            record("salesforce", "Task", "00T2", {"WhoId": "0035g00000ZzZzZAAZ", "Subject": "Call with Bob"}),
            record("hubspot", "calls", "502", {"hs_call_title": "Call with Bob", "_associations": {"contacts": ["2"]}}),
            Engagement(system="hubspot", engagement_id="email:1", kind="email_open", subject_system="email",
                       subject_id=EMAIL, occurred_at=1, data={}),
            Engagement(system="hubspot", engagement_id="web:1", kind="page_view", subject_system="hubspot",
                       subject_id="1", occurred_at=1, data={"url": "https://example.org/?who=zoltanique"}),
            Engagement(system="hubspot", engagement_id="email:2", kind="email_open", subject_system="email",
                       subject_id="bob@example.org", occurred_at=1, data={}),
            PersonField(person_id="hs-1", field="last_name", value=LAST, source_system="salesforce", source_id=CONTACT,
                        rule="x", updated_at=1),
            FieldAudit(person_id="hs-1", field="phone", rule="x", winner_system="salesforce", winner_value=PHONE,
                       loser_system="hubspot", loser_value="+13035550199", decided_at=1),
            WrittenValue(system="hubspot", object_type="contacts", record_id="1", field="lastname", value_hash="h",
                         written_at=1),
            ParkedRecord(system="hubspot", object_type="contacts", record_id="1", stage="push", field="hs_email_optout",
                         code="UNAVAILABLE", message="down", first_seen=1, last_seen=1, payload={"person_id": "hs-1"}),
            ParkedRecord(system="salesforce", object_type="Lead", record_id="new:hs-1", stage="push", field="LastName",
                         code="STRING_TOO_LONG", message="x", first_seen=1, last_seen=1,
                         payload={"person_id": "hs-1", "values": {"LastName": LAST}}),
            SyncRun(command="sync", started_at=1, api_calls={}, error=f"something about {EMAIL}", counts={
                "push": {"rejections_sample": [
                    {"record": "1", "hint": f"HubSpot rejected contacts.lastname: {LAST}"},
                    {"record": "2", "hint": "HubSpot rejected contacts.jobtitle 'x'"}]}}),
            Opportunity(system="salesforce", record_id="006A", modified_at=1, data={}, person_ids=["hs-1", "hs-2"]),
        ])


def test_an_erased_person_leaves_no_email_name_or_phone_anywhere_in_the_store(store_url: str) -> None:
    engine = open_engine(store_url)
    seed(engine)
    assert traces(engine, EMAIL, FIRST, LAST) == [EMAIL, FIRST, LAST, "phone"]  # the search finds them
    erase_person(engine, "hs-1", salt="salt", source_system="hubspot", now_ms=2)
    compact(engine)
    assert traces(engine, EMAIL, FIRST, LAST, "zoltanique") == []
    with Session(engine) as s:
        assert s.exec(select(SourceRecord.record_id).order_by(SourceRecord.record_id)).all() == [
            "00T2", "2", "502", "701"]  # everyone else's records stay
        deal = s.get(SourceRecord, ("hubspot", "deals", "701"))
        assert deal is not None and deal.data["_associations"]["contacts"] == ["2"]
        assert [e.engagement_id for e in s.exec(select(Engagement)).all()] == ["email:2"]
        (run,) = s.exec(select(SyncRun)).all()
        assert [e["record"] for e in run.counts["push"]["rejections_sample"]] == ["2"]
        opportunity = s.get(Opportunity, ("salesforce", "006A"))
        assert opportunity is not None and opportunity.person_ids == ["hs-2"]
        assert s.exec(select(ParkedRecord)).all() == [] and s.exec(select(WrittenValue)).all() == []


def test_a_run_record_keeps_its_error_without_addresses_or_phone_numbers(store_url: str) -> None:
    from connector.store.runs import finish_run, start_run

    engine = open_engine(store_url)
    started = start_run(engine, "sync", 1)
    finish_run(engine, started, now_ms=2, status="failed", api_calls={}, counts={},
               error=f"hubspot POST /x/{EMAIL}/y answered 400: {PHONE} is not a number")
    with Session(engine) as s:
        run = s.get(SyncRun, started.id)
    assert run is not None and run.error == "hubspot POST /x/[email]/y answered 400: [phone] is not a number"
