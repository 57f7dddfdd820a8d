"""The write journal on SQLite and PostgreSQL: kept with each batch's outcome, read back for a revert, and
erased with its person (checked on the store's bytes, as test_erasure does for the rest)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from connector.reconcile.revert import JournalEntry, RecordNow
from connector.reconcile.writes import RecordWrite
from connector.store import open_engine
from connector.store.erasure import compact, erase_person
from connector.store.journal import forget_settled, journaled_run, prune_journal, records_now, run_entries
from connector.store.models import Link, Person, SourceRecord, SyncRun, WriteJournal
from connector.store.pushes import Rejected, Written, record_batch

from .test_erasure import EMAIL, FIRST, LAST, traces


def seed(engine: Engine) -> int:
    """Two people with a HubSpot contact each and a Salesforce Lead for the first; returns a run's id."""
    with Session(engine) as s, s.begin():
        run = SyncRun(command="sync", started_at=1, api_calls={}, counts={})
        s.add(run)
        for pid, rid, email in (("hs-1", "1", EMAIL), ("hs-2", "2", "bob@example.org")):
            s.add(Person(id=pid, email_norm=email, created_at=1, updated_at=1, inputs_digest="settled"))
            s.add(SourceRecord(system="hubspot", object_type="contacts", record_id=rid, modified_at=1, fetched_at=1,
                               email_norm=email, data={"email": email, "jobtitle": "Engineer", "firstname": FIRST
                                                       if pid == "hs-1" else "Bob"}))
        s.add(SourceRecord(system="salesforce", object_type="Lead", record_id="00Q1", modified_at=1, fetched_at=1,
                           email_norm=EMAIL, data={"Email": EMAIL, "LastName": LAST, "AnnualRevenue": 10}))
        s.flush()
        s.add_all([Link(person_id="hs-1", system="hubspot", object_type="contacts", record_id="1", reason="email",
                        linked_at=1),
                   Link(person_id="hs-1", system="salesforce", object_type="Lead", record_id="00Q1", reason="email",
                        linked_at=1),
                   Link(person_id="hs-2", system="hubspot", object_type="contacts", record_id="2", reason="email",
                        linked_at=1)])
        s.flush()
        assert run.id is not None
        return run.id


def push_batch(engine: Engine, run_id: int) -> None:
    """One batch: two updates, a create, and a rejected update (which writes nothing)."""
    written = [
        Written(RecordWrite("hubspot", "contacts", "1", "hs-1", {"jobtitle": "ENGINEER", "firstname": "Z"},
                            old={"jobtitle": "Engineer", "firstname": FIRST}), "1"),
        Written(RecordWrite("salesforce", "Lead", "00Q1", "hs-1", {"AnnualRevenue": 12.5},
                            old={"AnnualRevenue": 10}), "00Q1"),
        Written(RecordWrite("salesforce", "Lead", None, "hs-2", {"Email": "bob@example.org", "LastName": "Bob"}),
                "00Q2"),
    ]
    rejected = [Rejected(RecordWrite("hubspot", "contacts", "2", "hs-2", {"jobtitle": "x" * 300},
                                     old={"jobtitle": "Engineer"}), ("jobtitle",), "INVALID", "too long", "shorten it")]
    record_batch(engine, written, rejected, now_ms=5, run_id=run_id)


def test_each_written_value_is_journaled_with_the_one_it_replaced(store_url: str) -> None:
    engine = open_engine(store_url)
    run_id = seed(engine)
    push_batch(engine, run_id)
    with Session(engine) as s:
        rows = s.exec(select(WriteJournal).order_by(col(WriteJournal.id))).all()
        patched = s.get(SourceRecord, ("hubspot", "contacts", "1"))
    assert [(r.system, r.object_type, r.record_id, r.person_id, r.field, r.old_value, r.new_value, r.created,
             r.run_id, r.written_at) for r in rows] == [
        ("hubspot", "contacts", "1", "hs-1", "jobtitle", "Engineer", "ENGINEER", False, run_id, 5),
        ("hubspot", "contacts", "1", "hs-1", "firstname", FIRST, "Z", False, run_id, 5),
        ("salesforce", "Lead", "00Q1", "hs-1", "AnnualRevenue", 10, 12.5, False, run_id, 5),
        ("salesforce", "Lead", "00Q2", "hs-2", "Email", None, None, True, run_id, 5),  # created: no value kept
        ("salesforce", "Lead", "00Q2", "hs-2", "LastName", None, None, True, run_id, 5),
    ]  # the rejected write is not there: nothing was written
    assert patched is not None and patched.data["jobtitle"] == "ENGINEER"  # in the same transaction


def test_a_run_is_read_back_for_a_revert(store_url: str) -> None:
    engine = open_engine(store_url)
    run_id = seed(engine)
    push_batch(engine, run_id)
    run = journaled_run(engine, run_id)
    assert run is not None and run.command == "sync"
    assert run.fields == {("hubspot", "contacts", "jobtitle"): 1, ("hubspot", "contacts", "firstname"): 1,
                          ("salesforce", "Lead", "AnnualRevenue"): 1}
    assert run.created == {("salesforce", "Lead", "Email"): 1, ("salesforce", "Lead", "LastName"): 1}
    assert journaled_run(engine, run_id + 100) is None
    assert run_entries(engine, run_id, {("hubspot", "contacts", "jobtitle")}) == [
        JournalEntry("hubspot", "contacts", "1", "hs-1", "jobtitle", "Engineer", "ENGINEER")]
    assert [e.field for e in run_entries(engine, run_id)] == ["jobtitle", "firstname", "AnnualRevenue"]
    found = records_now(engine, [("hubspot", "contacts", "1"), ("salesforce", "Lead", "00Q1"),
                                 ("hubspot", "contacts", "404")])
    assert found[("hubspot", "contacts", "1")] == RecordNow(
        {"email": EMAIL, "jobtitle": "ENGINEER", "firstname": "Z"}, False)
    assert set(found) == {("hubspot", "contacts", "1"), ("salesforce", "Lead", "00Q1")}
    forget_settled(engine, ["hs-1"])
    with Session(engine) as s:
        assert [(p.id, p.inputs_digest) for p in s.exec(select(Person).order_by(Person.id)).all()] == [
            ("hs-1", None), ("hs-2", "settled")]


def test_an_erased_person_leaves_no_value_in_the_journal(store_url: str) -> None:
    engine = open_engine(store_url)
    run_id = seed(engine)
    push_batch(engine, run_id)
    with Session(engine) as s, s.begin():  # a value of theirs journaled on a record no longer linked to them
        s.add(WriteJournal(run_id=run_id, system="salesforce", object_type="Lead", record_id="00Q1", person_id="hs-9",
                           field="LastName", old_value=LAST, new_value="Q", written_at=5))
    assert FIRST in traces(engine, FIRST)
    erase_person(engine, "hs-1", salt="salt", source_system="hubspot", now_ms=6)
    compact(engine)
    assert traces(engine, EMAIL, FIRST, LAST) == []
    with Session(engine) as s:  # everyone else's stay
        assert [(r.person_id, r.field) for r in s.exec(select(WriteJournal).order_by(col(WriteJournal.id))).all()] == [
            ("hs-2", "Email"), ("hs-2", "LastName")]


def test_the_journal_forgets_the_runs_older_than_its_keeping_time(store_url: str) -> None:
    engine = open_engine(store_url)
    old_run = seed(engine)  # started at 1
    push_batch(engine, old_run)
    with Session(engine) as s, s.begin():
        recent = SyncRun(command="sync", started_at=10_000, api_calls={}, counts={})
        s.add(recent)
        s.flush()
        recent_id = recent.id
    assert recent_id is not None
    push_batch(engine, recent_id)
    with Session(engine) as s:
        before = len(s.exec(select(WriteJournal)).all())
    assert prune_journal(engine, before_ms=5_000) == before // 2
    with Session(engine) as s:
        assert {j.run_id for j in s.exec(select(WriteJournal)).all()} == {recent_id}
    assert prune_journal(engine, before_ms=5_000) == 0
