"""`connector run` (issue 18): the daemon syncs a sandbox on its interval, stops at a batch boundary on SIGTERM
(exit 0) and the next start resumes; one daemon leads a store (a second refuses on SQLite, stands by on
PostgreSQL and takes over when the leader is killed); a bad mapping file keeps the running ones; a spent
daily budget pauses it. Every wait ends on something the daemon logged or stored, never on elapsed time."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, col, select

from connector.cli import main
from connector.config import load_config
from connector.operate.daemon import Daemon, DaemonTiming
from connector.operate.state import DaemonState
from connector.sandbox.faults import FaultRule
from connector.stopping import clear_stop
from connector.sandbox.runner import Sandbox
from connector.store import open_engine
from connector.store.lock import RunLock
from connector.store.models import Link, SyncCursor, SyncRun
from connector.sync.admin import configured_mappings
from connector.systems.pacing import BudgetExhausted

from ..push.conftest import hubspot_contacts, salesforce_sdk, sf_type
from .daemon_process import DaemonProcess, daemon_config


def _is_run_summary(record: dict[str, object]) -> bool:
    return record.get("logger") == "connector.daemon" and str(record.get("message", "")).startswith("sync run ")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(people=120, seed=18, rate_limits=False) as sb:
        yield sb


def _configured(sandbox: Sandbox, store_url: str, path: Path) -> Path:
    path.write_text(daemon_config(sandbox.connector_config(store_url)))
    assert main(["setup", "--apply", "--config", str(path), "--json"]) == 0
    return path


def _runs(store_url: str) -> list[SyncRun]:
    engine = open_engine(store_url)
    try:
        with Session(engine) as s:
            return list(s.exec(select(SyncRun).order_by(col(SyncRun.id))).all())
    finally:
        engine.dispose()


def test_sigterm_mid_run_stops_at_a_batch_boundary_exits_0_and_the_next_start_resumes(
        sandbox: Sandbox, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/store.db"
    config = _configured(sandbox, store_url, tmp_path / "c.toml")
    # every HubSpot contact read takes 3 s: the pull is between pages when SIGTERM comes
    sandbox.hubspot.faults.add(FaultRule(kind="slow", path="/crm/v3/objects/contacts*", rate=1.0, delay=3.0))
    first = DaemonProcess(config)
    try:
        first.message("leading")
        first.message("pull: reading")
        assert first.term() == 0
    finally:
        first.close()
    stopped = _runs(store_url)
    assert [r.status for r in stopped] == ["stopped"]
    assert any(str(r["message"]).startswith("stop requested") for r in first.records)
    engine = open_engine(store_url)
    with Session(engine) as s:
        committed = s.exec(select(SyncCursor)).all()
    engine.dispose()
    assert committed, "the pages read before the stop were committed with their cursors"

    sandbox.hubspot.faults.clear()
    second = DaemonProcess(config)
    try:
        summary = second.wait_for(_is_run_summary, "a run's summary")
        assert " ok;" in summary["message"] or " partial;" in summary["message"], summary
        second.wait_for(_is_run_summary, "the next interval's run")  # runs on its interval
        assert second.term() == 0
    finally:
        second.close()
    runs = _runs(store_url)
    assert runs[0].status == "stopped" and all(r.status in ("ok", "partial") for r in runs[1:]) and len(runs) >= 3
    assert not second.other, second.other  # nothing on stderr, nothing on stdout but JSON lines


def test_a_second_daemon_on_a_sqlite_store_refuses_to_start(sandbox: Sandbox, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/store.db"
    config = _configured(sandbox, store_url, tmp_path / "c.toml")
    leader = DaemonProcess(config)
    try:
        leader.message("leading")
        second = DaemonProcess(config)
        assert second.proc.wait(timeout=120) == 1
        said = "".join(second.other)
        assert "another `connector run` leads the store" in said and "Traceback" not in said, said
        assert leader.term() == 0
    finally:
        leader.close()


@pytest.mark.postgres
def test_two_daemons_on_postgresql_one_leads_the_other_takes_over_when_it_is_killed(
        sandbox: Sandbox, tmp_path: Path, postgres_database: str) -> None:
    admin = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    admin.dispose()
    config = _configured(sandbox, postgres_database, tmp_path / "c.toml")
    first = DaemonProcess(config)
    second: DaemonProcess | None = None
    try:
        first.message("leading")
        first.wait_for(_is_run_summary, "the leader's first run")
        second = DaemonProcess(config)
        second.message("standing by")
        first.wait_for(_is_run_summary, "the leader's next run, the standby watching")
        assert not any(_is_run_summary(r) for r in second.records), "only the leader syncs"
        first.kill()
        second.message("leading")
        summary = second.wait_for(_is_run_summary, "the new leader's run")
        assert " ok;" in summary["message"] or " partial;" in summary["message"], summary
        assert second.term() == 0
    finally:
        first.close()
        if second is not None:
            second.close()
    statuses = [r.status for r in _runs(postgres_database)]
    # the killed leader's run (if one was on) is marked interrupted by the next run; nothing else failed
    assert set(statuses) <= {"ok", "partial", "interrupted"} and statuses[-1] in ("ok", "partial"), statuses


# ------------------------------------------------------------------------------------------ in process


def _daemon(tmp_path: Path, mappings_dir: Path) -> Daemon:
    path = tmp_path / "c.toml"
    path.write_text(f'[sandbox]\nenabled = true\n[store]\nurl = "sqlite:///{tmp_path}/s.db"\n'
                    f'[mappings]\ndirectory = "{mappings_dir}"\n')
    cfg = load_config(path, environ={})
    return Daemon(cfg, configured_mappings(cfg), timing=DaemonTiming(interval_s=60))


def test_a_bad_mapping_file_keeps_the_running_mappings_and_says_why(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(Path(__file__).resolve().parents[2] / "connector" / "mappings", mappings)
    daemon = _daemon(tmp_path, mappings)
    running = daemon.mappings
    contacts = mappings / "contacts.toml"
    good = contacts.read_text()
    contacts.write_text(good.replace('rule = "most_recent"', 'rule = "most_recnt"', 1))
    daemon._watch()
    assert daemon.mappings is running
    assert daemon.state.mappings_problem is not None and "most_recnt" in daemon.state.mappings_problem
    contacts.write_text(good + "\n")
    daemon._watch()
    assert daemon.mappings is not running and daemon.state.mappings_problem is None
    reloaded = daemon.mappings
    daemon.reload()  # SIGHUP: reloaded though no file changed
    daemon._watch()
    assert daemon.mappings is not reloaded


def test_a_spent_daily_budget_pauses_the_daemon_and_each_interval_tries_again(tmp_path: Path) -> None:
    mappings = Path(__file__).resolve().parents[2] / "connector" / "mappings"
    daemon = _daemon(tmp_path, mappings)
    opened = []

    def spent(_engine: object) -> object:
        opened.append(1)
        raise BudgetExhausted("hubspot: the connector's share of the daily allowance is used")

    daemon._opener = spent
    daemon._lead = RunLock(None)
    daemon.state.role = "leader"
    daemon.engine = open_engine(daemon.cfg.store.url)
    before = time.time()
    daemon._cycle("sync")
    assert daemon.state.last_run_status == "paused" and opened == [1]
    assert daemon.state.paused_until is not None and daemon.state.paused_until >= before + 120
    daemon._cycle("sync")  # the next interval tries again
    assert opened == [1, 1] and daemon.state.last_run_status == "paused"
    assert daemon.state.ready(now=before + 30) == (True, "paused: the daily API budget is spent")


def test_readiness_follows_the_role_and_the_last_successful_run() -> None:
    state = DaemonState(interval_s=60, started_at=1_000)
    assert state.ready(now=1_001) == (False, "starting")
    state.role = "standby"
    assert state.ready(now=1_001)[0]
    state.role = "leader"
    assert state.ready(now=1_100) == (True, "ok")  # no run yet, but not three intervals since the start
    assert not state.ready(now=1_181)[0]
    state.last_success_at = 1_170
    assert state.ready(now=1_300) == (True, "ok")
    state.role = "stopping"
    assert state.ready(now=1_300) == (False, "stopping")


def test_an_unreachable_store_keeps_the_daemon_waiting_not_crashing(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[sandbox]\nenabled = true\n[store]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    cfg = load_config(path, environ={})
    daemon = Daemon(cfg, configured_mappings(cfg), timing=DaemonTiming(interval_s=60, standby_poll_s=0.2))
    said = threading.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "the store is unreachable" in record.getMessage():
                said.set()

    handler = Seen()
    logging.getLogger("connector.daemon").addHandler(handler)
    codes: list[int] = []
    serving = threading.Thread(target=lambda: codes.append(daemon.serve()))
    try:
        serving.start()
        assert said.wait(120), "the daemon never said the store is unreachable"
        assert daemon.state.role == "starting" and not daemon.state.ready()[0]
        daemon.stop()
        serving.join(120)
    finally:
        logging.getLogger("connector.daemon").removeHandler(handler)
        clear_stop()
    assert codes == [0]


def test_the_nightly_sweep_catches_an_edit_the_incremental_read_missed(sandbox: Sandbox, tmp_path: Path) -> None:
    """An edit stamped before the cursor (a record indexed or committed late: here the sandbox's clock set back
    15 minutes for it) is outside every incremental window; the sweep re-reads the last day and carries it."""
    store_url = f"sqlite:///{tmp_path}/store.db"
    path = _configured(sandbox, store_url, tmp_path / "c.toml")
    cfg = load_config(path, environ={})
    daemon = Daemon(cfg, configured_mappings(cfg), timing=DaemonTiming(interval_s=60))
    daemon.engine = open_engine(store_url)
    daemon._lead, daemon.state.role = RunLock(None), "leader"
    daemon._cycle("sync")
    assert daemon.state.last_run_status in ("ok", "partial")
    with Session(daemon.engine) as s:
        lead = s.exec(select(Link).where(col(Link.object_type) == "Lead", col(Link.role) == "primary")).first()
        assert lead is not None
        contact = s.exec(select(Link).where(col(Link.person_id) == lead.person_id,
                                            col(Link.object_type) == "contacts")).one()
    sandbox.clock.set(int(time.time() * 1000) - 15 * 60_000)
    sf_type(salesforce_sdk(sandbox), "Lead").update(lead.record_id, {"Title": "Drifted Title"})
    sandbox.clock.set(int(time.time() * 1000))

    def hubspot_title() -> object:
        return hubspot_contacts(sandbox, ["jobtitle"])[contact.record_id].get("jobtitle")

    daemon._cycle("sync")
    assert daemon.state.last_run_status in ("ok", "partial") and hubspot_title() != "Drifted Title"
    daemon._sweep()
    assert daemon.state.last_run_status in ("ok", "partial") and hubspot_title() == "Drifted Title"


def test_a_cycle_longer_than_the_interval_brings_the_next_forward(tmp_path: Path) -> None:
    """APScheduler skips the runs an overlong cycle overlapped; the daemon starts the next one at once."""
    mappings = Path(__file__).resolve().parents[2] / "connector" / "mappings"
    moved: list[str] = []

    class Scheduler:
        def modify_job(self, job_id: str, **changes: object) -> None:
            moved.append(job_id)

    def spent(_engine: object) -> object:
        raise BudgetExhausted("spent")

    for interval, expected in ((0.0, ["sync"]), (3600.0, [])):
        moved.clear()
        daemon = _daemon(tmp_path, mappings)
        daemon.timing = DaemonTiming(interval_s=interval)
        daemon._opener, daemon._lead, daemon._scheduler = spent, RunLock(None), Scheduler()
        daemon.engine = open_engine(daemon.cfg.store.url)
        daemon._sync()
        assert moved == expected, interval
