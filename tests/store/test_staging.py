"""Staging pages and cursors together, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from connector.store.cursors import Cursor
from connector.store import open_engine
from connector.store.models import SourceRecord
from connector.store.staging import stage_records
from connector.systems.ports import StagedRecord
from connector.store.cursors import load_cursor, save_cursor


def rec(record_id: str, modified: int, **data: object) -> StagedRecord:
    return StagedRecord(system="salesforce", object_type="Lead", record_id=record_id, modified_at=modified,
                        data=dict(data), email_norm=str(data.get("Email", "")).lower() or None)


def test_new_changed_unchanged_and_stale_records(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        counts = stage_records(s, [rec("a", 10, Email="A@x.io"), rec("b", 10)], fetched_at=100)
        assert (counts.new, counts.changed, counts.unchanged) == (2, 0, 0)
    with Session(engine) as s, s.begin():
        counts = stage_records(s, [rec("a", 10, Email="A@x.io"), rec("b", 20, Title="CEO"), rec("a", 5, Email="old")],
                               fetched_at=200)
        # "a" at 10 is the same snapshot again, "a" at 5 is older: neither is written
        assert (counts.new, counts.changed, counts.unchanged) == (0, 1, 2)
    with Session(engine) as s:
        rows = {r.record_id: r for r in s.exec(select(SourceRecord))}
        assert rows["a"].data == {"Email": "A@x.io"} and rows["a"].fetched_at == 100
        assert rows["b"].data == {"Title": "CEO"} and rows["b"].modified_at == 20


def test_a_deletion_with_the_same_modstamp_is_still_recorded(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        stage_records(s, [rec("a", 10)], fetched_at=1)
    with Session(engine) as s, s.begin():
        deleted = StagedRecord("salesforce", "Lead", "a", 10, {}, deleted=True, merged_into="00Qm")
        assert stage_records(s, [deleted], fetched_at=2).changed == 1
    with Session(engine) as s:
        row = s.get(SourceRecord, ("salesforce", "Lead", "a"))
        assert row is not None and row.deleted and row.merged_into == "00Qm"


def test_cursor_moves_only_with_its_records(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        stage_records(s, [rec("a", 10)], fetched_at=1)
        save_cursor(s, "salesforce:Lead", Cursor(10, frozenset({"a"})), now_ms=1)
    with pytest.raises(RuntimeError):
        with Session(engine) as s, s.begin():
            stage_records(s, [rec("b", 20)], fetched_at=2)
            save_cursor(s, "salesforce:Lead", Cursor(20, frozenset({"b"})), now_ms=2)
            raise RuntimeError("crash before commit")
    with Session(engine) as s:
        assert load_cursor(s, "salesforce:Lead") == Cursor(10, frozenset({"a"}))
        assert s.get(SourceRecord, ("salesforce", "Lead", "b")) is None
        assert load_cursor(s, "hubspot:contacts") == Cursor()


def test_large_page_is_staged_in_chunks(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        counts = stage_records(s, [rec(f"id{i}", i, Email=f"p{i}@x.io") for i in range(2_000)], fetched_at=1)
    assert counts.new == 2_000
    with Session(engine) as s:
        assert len(s.exec(select(SourceRecord.record_id)).all()) == 2_000
