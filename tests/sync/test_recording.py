"""Every kind of run is recorded the same way: the lock before the systems, a refused sign-in forgotten, the
record finished (and the lock released) however the block ends, with the run's own API calls only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from connector.errors import ConfigError, ConnectorError
from connector.store import open_engine
from connector.store.lock import acquire_run_lock
from connector.store.models import SyncRun
from connector.store.runs import StoreBusy
from connector.sync.recording import recorded_run
from connector.sync.systems import Systems
from connector.systems.ledger import CallLedger


class _Closable:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def _systems(ledger: CallLedger) -> Any:
    return Systems(_Closable(), _Closable(), ledger)  # type: ignore[arg-type]


def _runs(url: str) -> list[tuple[str, str, dict[str, Any], str | None]]:
    with Session(open_engine(url)) as s:
        return [(r.command, r.status, r.api_calls, r.error) for r in s.exec(select(SyncRun))]


def _counts(url: str) -> list[dict[str, Any]]:
    with Session(open_engine(url)) as s:
        return [r.counts for r in s.exec(select(SyncRun))]


def test_a_busy_store_never_opens_the_systems(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/busy.db"
    held = acquire_run_lock(open_engine(url))
    opened: list[bool] = []

    def open_both() -> Systems:
        opened.append(True)
        return _systems(CallLedger())

    try:
        with pytest.raises(StoreBusy), recorded_run(open_engine(url), "pull", lambda: 1, open_both):
            pass
    finally:
        held.release()
    assert opened == [] and _runs(url) == []


def test_a_refused_sign_in_leaves_no_run_and_frees_the_lock(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/refused.db"

    def refuse() -> Systems:
        raise ConfigError("credentials refused")

    with pytest.raises(ConfigError), recorded_run(open_engine(url), "sync", lambda: 1, refuse):
        pass
    assert _runs(url) == []
    acquire_run_lock(open_engine(url)).release()  # free again


def test_a_failed_run_keeps_its_error_and_only_its_own_calls(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/failed.db"
    ledger = CallLedger()
    ledger.record("hubspot", "contacts")  # an earlier run's call, on adapters serving several runs
    systems = _systems(ledger)
    with pytest.raises(ConnectorError), recorded_run(open_engine(url), "sync", lambda: 1, lambda: systems) as run:
        ledger.record("salesforce", "Lead")
        raise ConnectorError("the store went away")
    assert _runs(url) == [("sync", "failed", {"salesforce": {"total": 1, "by_object": {"Lead": 1}}},
                           "the store went away")]
    assert systems.hubspot.closed and systems.salesforce.closed and ledger.on_record is None
    assert run.api_calls() == {"salesforce": {"total": 1, "by_object": {"Lead": 1}}}


def test_a_run_without_systems_records_its_status_and_counts(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/ok.db"
    with recorded_run(open_engine(url), "reconcile", lambda: 1, announce=False) as run:
        run.status, run.counts = "ok", {"people": 3}
    assert _runs(url) == [("reconcile", "ok", {}, None)] and _counts(url) == [{"people": 3}]
    acquire_run_lock(open_engine(url)).release()
