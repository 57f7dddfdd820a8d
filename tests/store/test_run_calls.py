"""A run's API calls are on its record as they are made (issue #12): a run that never finishes (killed)
still charges the next run's daily budget. On SQLite and PostgreSQL; the end-to-end proof with real
SIGKILLs is tests/push/test_kill.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from connector.store import open_engine
from connector.store.models import SyncRun
from connector.store.runs import call_recorder, calls_since, finish_run, start_run
from connector.systems.ledger import CallLedger


def test_each_call_is_on_the_run_record_before_the_next_is_made(store_url: str) -> None:
    engine = open_engine(store_url)
    started = start_run(engine, "sync", 1_000)
    run_id = started.id
    try:
        ledger = CallLedger()
        ledger.on_record = call_recorder(engine, run_id)
        seen: list[object] = []
        for system, object_type in [("hubspot", "contacts"), ("hubspot", "contacts"), ("salesforce", "composite")]:
            ledger.record(system, object_type)
            with Session(engine) as session:  # what a process killed right now would leave behind
                run = session.get(SyncRun, run_id)
                assert run is not None and run.status == "running"
                seen.append(run.api_calls)
        assert seen == [
            {"hubspot": {"total": 1, "by_object": {"contacts": 1}}},
            {"hubspot": {"total": 2, "by_object": {"contacts": 2}}},
            {"hubspot": {"total": 2, "by_object": {"contacts": 2}},
             "salesforce": {"total": 1, "by_object": {"composite": 1}}},
        ]
        assert calls_since(engine, "hubspot", 0) == 2 and calls_since(engine, "salesforce", 0) == 1
    finally:
        finish_run(engine, started, now_ms=2_000, status="ok", api_calls={}, counts={})


def test_a_store_that_cannot_be_written_does_not_stop_the_calls(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    gone = create_engine(f"sqlite:///{tmp_path}/no/such/dir/state.db")
    ledger = CallLedger()
    ledger.on_record = call_recorder(gone, 7)
    with caplog.at_level(logging.WARNING, logger="connector.store.runs"):
        ledger.record("hubspot", "contacts")
        ledger.record("hubspot", "contacts")
    assert ledger.total() == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "connector.store.runs"]
    assert warnings == ["run 7: could not record its API calls so far (OperationalError); the next call tries again"]
