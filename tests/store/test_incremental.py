"""Incremental reconciliation in the store, on SQLite and PostgreSQL: a person whose last reconciliation
left nothing to write or report is skipped while its inputs stay the same, and skipping never changes
the outcome (checked against a full reconciliation of the same store after every cycle)."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from connector.reconcile import ContactMapping, SourceRecord, load_mappings
from connector.store import open_engine
from connector.store.models import Person
from connector.sync.reconciling import Reconciled, reconcile_store
from connector.store.runs import finish_run, start_run
from connector.store.staging import stage_records
from connector.systems.ports import StagedRecord

from ..reconcile.factories import MAPPINGS_DIR, OWNERS, contacts_mapping, hs, lead_id, sf


def _stage(engine: Engine, records: list[SourceRecord], run_id: int | None = None, now: int = 1) -> None:
    with Session(engine) as session, session.begin():
        for kind in {(r.system, r.object_type) for r in records}:
            stage_records(session, [StagedRecord(r.system, r.object_type, r.id, r.modified_at, dict(r.fields),
                                                 deleted=r.deleted)
                                    for r in records if (r.system, r.object_type) == kind], fetched_at=now,
                          run_id=run_id)


def _stage_owners(engine: Engine, extra: dict[str, str] | None = None) -> None:
    owners = {**OWNERS.hubspot, **(extra or {})}
    with Session(engine) as session, session.begin():
        stage_records(session, [StagedRecord("hubspot", "owners", oid, 0, {"email": e}) for oid, e in owners.items()],
                      fetched_at=0)
        stage_records(session, [StagedRecord("salesforce", "User", uid, 0, {"Email": e})
                                for uid, e in OWNERS.salesforce.items()], fetched_at=0)


def _pair(n: int, t: int = 1_000, **hs_fields: Any) -> list[SourceRecord]:
    """A linked, agreeing HubSpot contact and Salesforce Lead (nothing to write once cross-referenced)."""
    fields = {"email": f"p{n}@acme.io", "firstname": "Ann", "lastname": f"Lee{n}", "company": "Acme",
              "salesforce_lead_id": lead_id(n), **hs_fields}
    return [hs(str(n), t=t, **fields),
            sf(lead_id(n), t=t, Email=f"p{n}@acme.io", FirstName="Ann", LastName=f"Lee{n}", Company="Acme",
               HubSpot_Contact_Id__c=str(n))]


def _outcome(done: Reconciled) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    changes = {(c.system, c.object_type, c.record_id, c.field, repr(c.new), c.person_id) for c in done.result.changes}
    issues = {(i.system, i.record_id, i.field, i.message) for i in done.result.issues}
    people = {(p.person_id, p.links) for p in done.result.people}
    return changes, issues, people


def _full(engine: Engine, mapping: ContactMapping) -> Reconciled:
    """A dry run that reconciles everyone (the saved digests are set aside meanwhile and put back)."""
    with Session(engine) as session, session.begin():
        kept = dict(session.execute(select(col(Person.id), col(Person.inputs_digest))).all())
        session.execute(update(Person).values(inputs_digest=None))
    try:
        done = reconcile_store(engine, mapping)
        assert done.summary.unchanged == 0
        return done
    finally:
        with Session(engine) as session, session.begin():
            for pid, digest in kept.items():
                session.execute(update(Person).where(col(Person.id) == pid).values(inputs_digest=digest))


def test_settled_people_are_skipped_until_their_inputs_change(store_url: str) -> None:
    engine = open_engine(store_url)
    mapping = contacts_mapping()
    _stage_owners(engine)
    _stage(engine, _pair(1) + _pair(2) + [hs("3", email="solo@acme.io", lastname="Solo", lifecyclestage="lead")])
    first = reconcile_store(engine, mapping, save_at=(10, None))
    assert first.summary.unchanged == 0 and first.summary.people == 3 and not first.result.changes

    again = reconcile_store(engine, mapping, save_at=(20, None))
    assert again.summary.unchanged == 3 and again.summary.people == 3
    assert _outcome(again) == _outcome(first)  # the same people and links, still nothing to write

    # someone edits the first person's title in HubSpot: only that person is reconciled again
    run = start_run(engine, "sync", 30)
    _stage(engine, [hs("1", t=2_000, **{**_pair(1)[0].fields, "jobtitle": "CTO"})], run_id=run.id, now=30)
    edited = reconcile_store(engine, mapping, save_at=(30, run.id))
    finish_run(engine, run, now_ms=30, status="ok", api_calls={}, counts={})
    assert edited.summary.unchanged == 2
    assert [(c.system, c.field, c.new) for c in edited.result.changes] == [("salesforce", "Title", "CTO")]
    assert _outcome(edited) == _outcome(_full(engine, mapping))

    # the change is still pending (push has not written it): the person is not settled yet
    assert reconcile_store(engine, mapping, save_at=(40, None)).summary.unchanged == 2


def test_a_person_with_an_issue_is_reconciled_every_time(store_url: str) -> None:
    engine = open_engine(store_url)
    mapping = contacts_mapping()
    _stage_owners(engine)
    _stage(engine, _pair(1) + _pair(2, hubspot_owner_id="999"))  # no owner 999: an issue, reported every cycle
    first = reconcile_store(engine, mapping, save_at=(10, None))
    assert [i.field for i in first.result.issues] == ["hubspot_owner_id"]
    again = reconcile_store(engine, mapping, save_at=(20, None))
    assert again.summary.unchanged == 1 and [i.field for i in again.result.issues] == ["hubspot_owner_id"]


def test_new_mapping_or_owners_reconcile_everyone_again(store_url: str, tmp_path: Any) -> None:
    engine = open_engine(store_url)
    mapping = contacts_mapping()
    _stage_owners(engine)
    _stage(engine, _pair(1) + _pair(2))
    reconcile_store(engine, mapping, save_at=(10, None))
    assert reconcile_store(engine, mapping, save_at=(20, None)).summary.unchanged == 2

    _stage_owners(engine, {"103": "new@corp.example"})  # a new owner in HubSpot
    assert reconcile_store(engine, mapping, save_at=(30, None)).summary.unchanged == 0
    assert reconcile_store(engine, mapping, save_at=(40, None)).summary.unchanged == 2

    edited = tmp_path / "mappings"
    edited.mkdir()
    for f in MAPPINGS_DIR.glob("*.toml"):
        (edited / f.name).write_text(f.read_text())
    (edited / "contacts.toml").write_text((edited / "contacts.toml").read_text() + "\n# RevOps touched this file\n")
    changed = load_mappings(edited).contacts
    assert reconcile_store(engine, changed, save_at=(50, None)).summary.unchanged == 0


def test_a_dry_run_skips_settled_people_but_saves_nothing(store_url: str) -> None:
    engine = open_engine(store_url)
    mapping = contacts_mapping()
    _stage_owners(engine)
    _stage(engine, _pair(1))
    assert reconcile_store(engine, mapping).summary.unchanged == 0  # nothing saved yet
    assert reconcile_store(engine, mapping).summary.unchanged == 0
    reconcile_store(engine, mapping, save_at=(10, None))
    assert reconcile_store(engine, mapping).summary.unchanged == 1


def test_skipping_never_changes_the_outcome(store_url: str) -> None:
    """Random edits, deletions, new records and written-back changes over several cycles: after every
    incremental cycle its changes, issues, people and links equal a full reconciliation's."""
    engine = open_engine(store_url)
    mapping = contacts_mapping()
    rnd = random.Random(7)
    _stage_owners(engine)
    records: dict[tuple[str, str, str], SourceRecord] = {}
    for n in range(1, 41):
        pair = _pair(n, jobtitle=rnd.choice(["CEO", "CTO", None]), hubspot_owner_id=rnd.choice(["101", "102", None]))
        if rnd.random() < 0.3:  # not cross-referenced yet: joined by e-mail, xrefs to write
            pair = [hs(pair[0].id, **{**pair[0].fields, "salesforce_lead_id": None}),
                    sf(pair[1].id, **{**pair[1].fields, "HubSpot_Contact_Id__c": None})]
        if rnd.random() < 0.2:
            pair = pair[:1]
        for r in pair:
            records[(r.system, r.object_type, r.id)] = r
    _stage(engine, list(records.values()))
    now = 10
    for cycle in range(6):
        now += 10
        run = start_run(engine, "sync", now)
        done = reconcile_store(engine, mapping, save_at=(now, run.id))
        finish_run(engine, run, now_ms=now, status="ok", api_calls={}, counts={})
        assert _outcome(done) == _outcome(_full(engine, mapping)), f"cycle {cycle}"
        if cycle:
            assert done.summary.unchanged > 0
        # what push would write, pulled back; plus someone else's edits and a deletion
        touched: dict[tuple[str, str, str], dict[str, Any]] = {}
        for c in done.result.changes:
            if c.record_id is not None and rnd.random() < 0.7 and isinstance(c.new, (str, int, float, bool)):
                touched.setdefault((c.system, c.object_type, c.record_id), {})[c.field] = c.new
        for key in rnd.sample(sorted(records), 3):
            field = "firstname" if key[0] == "hubspot" else "FirstName"
            touched.setdefault(key, {})[field] = rnd.choice(["Ann", "Anne", "Bo"])
        staged = []
        for key, values in touched.items():
            old = records[key]
            new = SourceRecord(old.system, old.object_type, old.id, old.modified_at + now, {**old.fields, **values})
            records[key] = new
            staged.append(new)
        if cycle == 3:
            key = rnd.choice(sorted(k for k in records if k[0] == "salesforce"))
            gone = records.pop(key)
            staged.append(SourceRecord(gone.system, gone.object_type, gone.id, gone.modified_at + now, gone.fields,
                                       deleted=True))
        _stage(engine, staged, run_id=run.id, now=now)
