"""The push stage's bookkeeping on both backends: snapshots, hashes, links, parking, backoff, requeue."""

from __future__ import annotations

from sqlmodel import Session, select

from connector.reconcile.writes import RecordWrite
from connector.store import open_engine
from connector.store.models import Link, ParkedRecord, Person, SourceRecord, WrittenValue
from connector.store.pushes import Rejected, Written, held_fields, parked_rows, record_batch, requeue, retry_delay_ms
from connector.store.staging import CREATED_MARK, stage_records
from connector.systems.ports import StagedRecord


def test_written_records_patch_the_snapshot_so_their_echo_is_no_change(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        stage_records(s, [StagedRecord("salesforce", "Lead", "00Q1", 1_000, {"Email": "a@b.c", "City": "Bergen"})],
                      fetched_at=1)
    update = RecordWrite("salesforce", "Lead", "00Q1", "p1", {"City": "Oslo"})
    record_batch(engine, [Written(update, "00Q1")], [], now_ms=5_000, run_id=None)
    with Session(engine) as s:
        row = s.get(SourceRecord, ("salesforce", "Lead", "00Q1"))
        assert row is not None and row.data["City"] == "Oslo" and row.modified_at == 1_000
        assert s.get(WrittenValue, ("salesforce", "Lead", "00Q1", "City")) is not None
    # the system's answer to the pull: same content, new stamp -> an echo: content time stays 1,000
    with Session(engine) as s, s.begin():
        counts = stage_records(s, [StagedRecord("salesforce", "Lead", "00Q1", 6_000,
                                                {"Email": "a@b.c", "City": "Oslo", "SystemModstamp": "x"})],
                               fetched_at=2)
    assert counts.echoes == 1
    with Session(engine) as s:
        row = s.get(SourceRecord, ("salesforce", "Lead", "00Q1"))
        assert row is not None and row.modified_at == 6_000 and row.changed_at == 1_000
    # someone else's edit afterwards is a change with its own time
    with Session(engine) as s, s.begin():
        counts = stage_records(s, [StagedRecord("salesforce", "Lead", "00Q1", 7_000,
                                                {"Email": "a@b.c", "City": "Bergen"})], fetched_at=3)
    assert counts.echoes == 0
    with Session(engine) as s:
        row = s.get(SourceRecord, ("salesforce", "Lead", "00Q1"))
        assert row is not None and row.changed_at == 7_000


def test_a_create_is_linked_and_stored_as_never_changed_by_anyone_else(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        s.add(Person(id="p1", created_at=1, updated_at=1))
    create = RecordWrite("salesforce", "Lead", None, "p1", {"LastName": "Lee", "Email": "Lee@X.io"})
    record_batch(engine, [Written(create, "00QNEW")], [], now_ms=5_000, run_id=None)
    record_batch(engine, [Written(create, "00QNEW")], [], now_ms=6_000, run_id=None)  # a replay changes nothing
    with Session(engine) as s:
        links = s.exec(select(Link).where(Link.record_id == "00QNEW")).all()
        assert [(link.person_id, link.reason) for link in links] == [("p1", "created")]
        row = s.get(SourceRecord, ("salesforce", "Lead", "00QNEW"))
        assert row is not None and row.changed_at == 0 and row.data[CREATED_MARK] and row.email_norm == "lee@x.io"


def test_rejections_are_parked_with_backoff_held_requeued_and_resolved(store_url: str) -> None:
    engine = open_engine(store_url)
    write = RecordWrite("salesforce", "Lead", "00Q1", "p1", {"Title": "x" * 200, "City": "Oslo"})
    rejected = Rejected(write, ("Title",), "STRING_TOO_LONG", "too long", "Salesforce rejected Lead.Title ...")
    record_batch(engine, [], [rejected], now_ms=1_000, run_id=None)
    assert held_fields(engine, now_ms=1_001) == {("salesforce", "Lead", "00Q1"): frozenset({"Title"})}
    assert held_fields(engine, now_ms=1_000 + retry_delay_ms(1)) == {}
    record_batch(engine, [], [rejected], now_ms=2_000, run_id=None)
    (row,) = parked_rows(engine)
    assert row["attempts"] == 2 and row["next_retry_at"] == 2_000 + retry_delay_ms(2) > 2_000 + retry_delay_ms(1)
    assert row["hint"].startswith("Salesforce rejected") and row["person_id"] == "p1"
    assert requeue(engine, now_ms=3_000) == 1 and held_fields(engine, now_ms=3_000) == {}
    # a later write of only the other field does not resolve it; writing the parked field does
    record_batch(engine, [Written(RecordWrite("salesforce", "Lead", "00Q1", "p1", {"City": "Oslo"}), "00Q1")], [],
                 now_ms=4_000, run_id=None)
    assert len(parked_rows(engine)) == 1
    record_batch(engine, [Written(RecordWrite("salesforce", "Lead", "00Q1", "p1", {"Title": "CEO"}), "00Q1")], [],
                 now_ms=5_000, run_id=None)
    assert parked_rows(engine) == [] and parked_rows(engine, include_resolved=True)[0]["resolved_at"] == 5_000
    with Session(engine) as s:
        assert s.exec(select(ParkedRecord)).one().resolved_at == 5_000
