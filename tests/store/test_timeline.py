"""People's timelines from the store, on SQLite and PostgreSQL: every source mapped to its touch, resolved to
the person through any link, deduplicated across systems; and who was touched since a fetch time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.score.timeline import Touch
from connector.store import open_engine
from connector.store.models import Engagement, Link, Person, SourceRecord
from connector.store.timeline import CHUNK, people_touched_since, touches_for

T0 = 1_780_000_000_000
FETCHED = 1_790_000_000_000
LEAD, CONTACT, OLD_LEAD = "00Q000000000001AAA", "0030000000000001AA", "00Q000000000009AAA"


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _person(s: Session, pid: str, email: str | None, *records: tuple[str, str, str, str, str | None]) -> None:
    """A person and its linked records: (system, object type, id, role, the record's e-mail)."""
    s.add(Person(id=pid, email_norm=email, created_at=T0, updated_at=T0))
    s.flush()  # the links' foreign key needs the person first
    for system, object_type, rid, role, rec_email in records:
        s.add(SourceRecord(system=system, object_type=object_type, record_id=rid, modified_at=T0, fetched_at=T0,
                           email_norm=rec_email, data={"email": rec_email}))
        s.add(Link(person_id=pid, system=system, object_type=object_type, record_id=rid, role=role,
                   reason="reconciled", linked_at=T0))


def _record(s: Session, system: str, object_type: str, rid: str, data: dict[str, Any], *, deleted: bool = False,
            fetched: int = T0) -> None:
    s.add(SourceRecord(system=system, object_type=object_type, record_id=rid, modified_at=T0, fetched_at=fetched,
                       deleted=deleted, data=data))


def _event(s: Session, eid: str, kind: str, subject_system: str, subject_id: str, at: int, data: dict[str, Any],
           fetched: int | None = T0) -> None:
    s.add(Engagement(system="hubspot", engagement_id=eid, kind=kind, direction="marketing",
                     subject_system=subject_system, subject_id=subject_id, occurred_at=at, data=data,
                     fetched_at=fetched))


def _store(store_url: str) -> Engine:
    """Ann: HubSpot contact 1 (+ merged-away contact 2 as history), Salesforce Contact converted from a Lead
    (history) and a duplicate Lead; e-mail ann@new.example now, ann@old.example on the old Lead. Bob: contact 3."""
    engine = open_engine(store_url)
    with Session(engine) as s:
        _person(s, "p-ann", "ann@new.example",
                ("hubspot", "contacts", "1", "primary", "ann@new.example"),
                ("hubspot", "contacts", "2", "history", "ann@new.example"),
                ("salesforce", "Contact", CONTACT, "primary", "ann@new.example"),
                ("salesforce", "Lead", LEAD, "history", "ann@old.example"),
                ("salesforce", "Lead", OLD_LEAD, "duplicate", None))
        _person(s, "p-bob", "bob@example.org", ("hubspot", "contacts", "3", "primary", "bob@example.org"))
        s.commit()
    return engine


def test_marketing_events_map_by_contact_and_address(store_url: str) -> None:
    engine = _store(store_url)
    with Session(engine) as s:
        _event(s, "web:1", "page_view", "hubspot", "1", T0 + 1, {"hs_url": "https://x.example/pricing",
                                                                  "hs_page_title": "Pricing"})
        _event(s, "web:2", "form_submission", "hubspot", "2", T0 + 2,
               {"form_id": "f-demo", "form_title": "Demo request", "page_url": "https://x.example/demo"})
        _event(s, "email:1", "email_open", "email", "ann@new.example", T0 + 3, {"emailCampaignId": 77})
        _event(s, "email:2", "email_click", "email", "ann@old.example", T0 + 4,
               {"emailCampaignId": 77, "url": "https://x.example/offer"})
        _event(s, "email:3", "email_delivered", "email", "ann@new.example", T0 + 5, {"emailCampaignId": 77})
        _event(s, "email:4", "email_bounce", "email", "ann@new.example", T0 + 6,
               {"emailCampaignId": 78, "category": "UNKNOWN_USER", "hard": True})
        _event(s, "email:5", "email_bounce", "email", "bob@example.org", T0 + 7,
               {"emailCampaignId": 78, "category": "MAILBOX_FULL"})
        _event(s, "email:6", "unsubscribe", "email", "bob@example.org", T0 + 8, {"source": "SOURCE_RECIPIENT"})
        _event(s, "web:3", "page_view", "hubspot", "99", T0 + 9, {"hs_url": "https://x.example/"})  # no one's
        s.commit()
    got = touches_for(engine, ["p-ann", "p-bob", "p-nobody"])
    assert got["p-ann"] == [
        Touch("page_view", T0 + 1, "hubspot", "web:1", detail="https://x.example/pricing"),
        Touch("form_submission", T0 + 2, "hubspot", "web:2",
              detail="Demo request https://x.example/demo f-demo"),  # merged-away contact
        Touch("email_open", T0 + 3, "hubspot", "email:1", detail="77"),
        Touch("email_click", T0 + 4, "hubspot", "email:2", detail="https://x.example/offer"),  # an old address
        Touch("email_bounce", T0 + 6, "hubspot", "email:4", detail="78", hard=True),
    ]
    assert got["p-bob"] == [Touch("email_bounce", T0 + 7, "hubspot", "email:5", detail="78"),
                            Touch("unsubscribe", T0 + 8, "hubspot", "email:6")]
    assert got["p-nobody"] == []


def test_an_old_address_now_someone_elses_goes_to_its_current_holder(store_url: str) -> None:
    engine = _store(store_url)
    with Session(engine) as s:
        _person(s, "p-cat", "ann@old.example", ("hubspot", "contacts", "4", "primary", "ann@old.example"))
        _event(s, "email:1", "email_open", "email", "ann@old.example", T0, {"emailCampaignId": 1})
        s.commit()
    assert touches_for(engine, ["p-ann"]) == {"p-ann": []}
    assert [t.source_id for t in touches_for(engine, ["p-cat"])["p-cat"]] == ["email:1"]


def test_hubspot_activities_map_to_their_contacts_people(store_url: str) -> None:
    engine = _store(store_url)
    with Session(engine) as s:
        assoc = {"_associations": {"contacts": ["1", "3"]}}
        _record(s, "hubspot", "calls", "c1", {"hs_timestamp": "2026-05-01T10:00:00.000Z", "hubspot_owner_id": "70",
                                              "hs_call_title": "Discovery", **assoc})
        _record(s, "hubspot", "meetings", "m1", {"hs_timestamp": "2026-05-02T10:00:00Z", "hs_meeting_title": "QBR",
                                                 "_associations": {"contacts": ["2"]}})
        _record(s, "hubspot", "emails", "e1", {"hs_timestamp": "1777802400000", "hs_email_subject": "Proposal",
                                               "_associations": {"contacts": ["1"]}})
        _record(s, "hubspot", "notes", "n1", {"hs_createdate": "2026-05-04T10:00:00Z", "hubspot_owner_id": "71",
                                              "_associations": {"contacts": ["1"]}})
        _record(s, "hubspot", "tasks", "t1", {"hs_timestamp": "2026-05-05T10:00:00Z", "hs_task_subject": "Send deck",
                                              "_associations": {"contacts": ["1"]}})
        _record(s, "hubspot", "tasks", "t2", {"hs_timestamp": "2026-05-06T10:00:00Z", "hs_task_subject": "Gone",
                                              "_associations": {"contacts": ["1"]}}, deleted=True)
        _record(s, "hubspot", "calls", "c2", {"hs_timestamp": "2026-05-07T10:00:00Z", "_associations": {}})
        s.commit()
    got = touches_for(engine, ["p-ann", "p-bob"])
    assert got["p-ann"] == [
        Touch("call", _ms("2026-05-01T10:00:00Z"), "hubspot", "c1", owner="70", detail="Discovery"),
        Touch("meeting", _ms("2026-05-02T10:00:00Z"), "hubspot", "m1", detail="QBR"),
        Touch("email", 1777802400000, "hubspot", "e1", detail="Proposal"),
        Touch("note", _ms("2026-05-04T10:00:00Z"), "hubspot", "n1", owner="71"),
        Touch("task", _ms("2026-05-05T10:00:00Z"), "hubspot", "t1", detail="Send deck"),
    ]
    assert [t.source_id for t in got["p-bob"]] == ["c1"]  # associated with both people: on both timelines


def test_salesforce_activities_and_campaign_responses(store_url: str) -> None:
    engine = _store(store_url)
    with Session(engine) as s:
        _record(s, "salesforce", "Task", "00T1", {"WhoId": LEAD, "TaskSubtype": "Call", "Subject": "Intro call",
                                                  "OwnerId": "005A",
                                                  "CompletedDateTime": "2026-05-01T10:00:00.000+0000",
                                                  "CreatedDate": "2026-04-30T10:00:00.000+0000"})
        _record(s, "salesforce", "Task", "00T2", {"WhoId": CONTACT, "TaskSubtype": "Task", "Type": "Call",
                                                  "Subject": "Call back",
                                                  "CreatedDate": "2026-05-02T10:00:00.000+0000"})
        _record(s, "salesforce", "Task", "00T3", {"WhoId": CONTACT, "TaskSubtype": "Email", "Subject": "Re: pricing",
                                                  "CreatedDate": "2026-05-03T10:00:00.000+0000"})
        _record(s, "salesforce", "Task", "00T4", {"WhoId": OLD_LEAD, "TaskSubtype": "Task", "Subject": "Research",
                                                  "ActivityDate": "2026-05-04"})
        _record(s, "salesforce", "Task", "00T5", {"WhoId": CONTACT, "TaskSubtype": "Call", "Subject": "Deleted",
                                                  "CreatedDate": "2026-05-05T10:00:00.000+0000"}, deleted=True)
        _record(s, "salesforce", "Event", "00U1", {"WhoId": CONTACT, "Subject": "Demo", "OwnerId": "005B",
                                                   "StartDateTime": "2026-05-06T10:00:00.000+0000",
                                                   "CreatedDate": "2026-05-01T10:00:00.000+0000"})
        _record(s, "salesforce", "Event", "00U2", {"WhoId": LEAD, "Subject": "All day",
                                                   "ActivityDateTime": "2026-05-07T10:00:00.000+0000"})
        _record(s, "salesforce", "CampaignMember", "00v1", {"LeadId": LEAD, "ContactId": None, "HasResponded": True,
                                                            "FirstRespondedDate": "2026-05-08", "CampaignId": "701A",
                                                            "CreatedDate": "2026-05-01T10:00:00.000+0000"})
        _record(s, "salesforce", "CampaignMember", "00v2", {"LeadId": None, "ContactId": CONTACT, "HasResponded": True,
                                                            "FirstRespondedDate": None, "CampaignId": "701B",
                                                            "CreatedDate": "2026-05-09T10:00:00.000+0000"})
        _record(s, "salesforce", "CampaignMember", "00v3", {"LeadId": LEAD, "HasResponded": False,
                                                            "CampaignId": "701C",
                                                            "CreatedDate": "2026-05-01T10:00:00.000+0000"})
        s.commit()
    assert touches_for(engine, ["p-ann"])["p-ann"] == [
        Touch("call", _ms("2026-05-01T10:00:00Z"), "salesforce", "00T1", owner="005A", detail="Intro call"),
        Touch("call", _ms("2026-05-02T10:00:00Z"), "salesforce", "00T2", detail="Call back"),
        Touch("email", _ms("2026-05-03T10:00:00Z"), "salesforce", "00T3", detail="Re: pricing"),
        Touch("task", _ms("2026-05-04T12:00:00Z"), "salesforce", "00T4", detail="Research"),  # a date: noon UTC
        Touch("meeting", _ms("2026-05-06T10:00:00Z"), "salesforce", "00U1", owner="005B", detail="Demo"),
        Touch("meeting", _ms("2026-05-07T10:00:00Z"), "salesforce", "00U2", detail="All day"),
        Touch("campaign_response", _ms("2026-05-08T12:00:00Z"), "salesforce", "00v1", detail="701A"),
        Touch("campaign_response", _ms("2026-05-09T10:00:00Z"), "salesforce", "00v2", detail="701B"),
    ]


def test_a_call_logged_in_both_systems_counts_once(store_url: str) -> None:
    engine = _store(store_url)
    with Session(engine) as s:
        _record(s, "hubspot", "calls", "c1", {"hs_timestamp": "2026-05-01T10:00:00.000Z", "hs_call_title": "Discovery",
                                              "_associations": {"contacts": ["1"]}})
        _record(s, "salesforce", "Task", "00T1", {"WhoId": CONTACT, "TaskSubtype": "Call", "Subject": "discovery",
                                                  "CompletedDateTime": "2026-05-01T10:01:00.000+0000"})
        _record(s, "salesforce", "Task", "00T2", {"WhoId": CONTACT, "TaskSubtype": "Call", "Subject": "Discovery",
                                                  "CompletedDateTime": "2026-05-02T10:00:00.000+0000"})  # another day
        s.commit()
    got = touches_for(engine, ["p-ann"])["p-ann"]
    assert [(t.system, t.source_id) for t in got] == [("hubspot", "c1"), ("salesforce", "00T2")]


def test_many_people_are_read_in_chunks(store_url: str) -> None:
    """More people than one IN list holds: everyone still gets their own touches, and only theirs."""
    engine = open_engine(store_url)
    n = CHUNK * 2 + 7
    with Session(engine) as s:
        for i in range(n):
            _person(s, f"p{i}", f"u{i}@example.org", ("hubspot", "contacts", str(i), "primary", f"u{i}@example.org"))
            _event(s, f"web:{i}", "page_view", "hubspot", str(i), T0 + i, {"hs_url": f"https://x.example/{i}"})
            _event(s, f"email:{i}", "email_open", "email", f"u{i}@example.org", T0 + i, {"emailCampaignId": i})
            _record(s, "hubspot", "calls", f"c{i}", {"hs_timestamp": str(T0 + i), "hs_call_title": "x",
                                                     "_associations": {"contacts": [str(i)]}})
        s.commit()
    got = touches_for(engine, [f"p{i}" for i in range(n)])
    assert len(got) == n
    for i in (0, CHUNK, n - 1):
        assert sorted(t.source_id for t in got[f"p{i}"]) == sorted([f"web:{i}", f"email:{i}", f"c{i}"])


def test_people_touched_since_a_fetch_time(store_url: str) -> None:
    engine = _store(store_url)
    with Session(engine) as s:
        _person(s, "p-cat", "cat@example.org", ("salesforce", "Lead", "00Q000000000003AAA", "primary", None))
        _person(s, "p-dan", "dan@example.org", ("hubspot", "contacts", "5", "primary", "dan@example.org"))
        _person(s, "p-eve", "eve@example.org", ("hubspot", "contacts", "6", "primary", "eve@example.org"))
        # before the mark: nobody new
        _event(s, "web:1", "page_view", "hubspot", "5", T0, {"hs_url": "https://x.example/"})
        _record(s, "hubspot", "calls", "c0", {"hs_timestamp": str(T0), "_associations": {"contacts": ["6"]}})
        # after the mark
        _event(s, "web:2", "page_view", "hubspot", "2", T0, {}, fetched=FETCHED)  # Ann's merged-away contact
        _event(s, "email:1", "email_open", "email", "bob@example.org", T0, {}, fetched=FETCHED)
        _event(s, "email:2", "email_delivered", "email", "eve@example.org", T0, {}, fetched=FETCHED)  # no touch
        _record(s, "salesforce", "CampaignMember", "00v1", {"LeadId": "00Q000000000003AAA", "HasResponded": True},
                fetched=FETCHED)
        _record(s, "hubspot", "tasks", "t1", {"_associations": {"contacts": ["5"]}}, deleted=True, fetched=FETCHED)
        s.commit()
    assert people_touched_since(engine, FETCHED - 1) == {"p-ann", "p-bob", "p-cat", "p-dan"}
    assert people_touched_since(engine, FETCHED) == set()
    assert people_touched_since(engine, 0) == {"p-ann", "p-bob", "p-cat", "p-dan", "p-eve"}


def test_touches_of_some_kinds_are_those_of_the_whole_timeline(store_url: str) -> None:
    """`kinds` leaves the marketing events unread when none is of those kinds, and reads them when one is:
    either way the answer is the whole timeline's touches of those kinds."""
    engine = _store(store_url)
    with Session(engine) as s:
        _event(s, "e1", "page_view", "hubspot", "1", T0, {})
        _event(s, "e2", "email_open", "email", "bob@example.org", T0 + 1, {})
        _record(s, "salesforce", "Task", "00T1", {"WhoId": LEAD, "TaskSubtype": "Call", "Subject": "Intro call",
                                                  "CompletedDateTime": "2026-05-01T10:00:00.000+0000"})
        _record(s, "salesforce", "Event", "00U1", {"WhoId": CONTACT, "Subject": "Demo",
                                                   "StartDateTime": "2026-05-06T10:00:00.000+0000"})
        s.commit()
    people = ["p-ann", "p-bob"]
    whole = touches_for(engine, people)
    assert {t.kind for ts in whole.values() for t in ts} >= {"page_view", "email_open", "call", "meeting"}
    for kinds in ({"call", "meeting", "email", "task"}, {"page_view", "call"}, {"email_open"}):
        assert touches_for(engine, people, kinds=kinds) == {
            pid: [t for t in ts if t.kind in kinds] for pid, ts in whole.items()}
