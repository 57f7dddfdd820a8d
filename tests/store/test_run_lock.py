"""One run at a time per store: a second one fails at once and writes nothing; a killed run's lock is freed
by its death, and the next run marks it interrupted. On SQLite and PostgreSQL, across real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlmodel import Session, select

from connector.cli import main
from connector.store import open_engine
from connector.store.models import SyncRun
from connector.store.runs import INTERRUPTED, StoreBusy, finish_run, start_run

ROOT = Path(__file__).resolve().parents[2]


def _runs(url: str) -> list[tuple[int, str, str]]:
    with Session(open_engine(url)) as s:
        return [(r.id, r.command, r.status) for r in s.exec(select(SyncRun).order_by(SyncRun.id))]  # type: ignore[arg-type,misc]


def test_a_second_run_fails_at_once_naming_the_first_and_records_nothing(store_url: str) -> None:
    first_engine, second_engine = open_engine(store_url), open_engine(store_url)  # as two processes would
    first = start_run(first_engine, "sync", 1_000)
    with pytest.raises(StoreBusy) as busy:
        start_run(second_engine, "pull", 2_000)
    assert f"pull did not start: run {first.id} (sync" in str(busy.value) and "connector status" in str(busy.value)
    assert busy.value.exit_code == 1
    assert _runs(store_url) == [(first.id, "sync", "running")]  # the refused run left no trace
    finish_run(first_engine, first, now_ms=3_000, status="ok", api_calls={}, counts={})
    second = start_run(second_engine, "pull", 4_000)  # free again once the first has finished
    finish_run(second_engine, second, now_ms=5_000, status="ok", api_calls={}, counts={})
    assert _runs(store_url) == [(first.id, "sync", "ok"), (second.id, "pull", "ok")]


def test_finish_run_releases_the_lock_even_when_its_record_cannot_be_written(store_url: str) -> None:
    engine = open_engine(store_url)
    run = start_run(engine, "reconcile", 1_000)
    with Session(engine) as s, s.begin():
        s.delete(s.get(SyncRun, run.id))
    with pytest.raises(LookupError):
        finish_run(engine, run, now_ms=2_000, status="ok", api_calls={}, counts={})
    finish_run(engine, start_run(engine, "reconcile", 3_000), now_ms=4_000, status="ok", api_calls={}, counts={})


def test_a_killed_run_frees_the_store_and_is_marked_interrupted(store_url: str) -> None:
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from connector.store import open_engine
        from connector.store.runs import start_run
        print(start_run(open_engine({store_url!r}), "sync", 1_000).id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # dies holding the lock, its run still "running"
    """)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    dead = int(killed.stdout)
    assert _runs(store_url) == [(dead, "sync", "running")]
    engine = open_engine(store_url)
    run = start_run(engine, "sync", 2_000)  # no wait: the dead process's lock went with it
    finish_run(engine, run, now_ms=3_000, status="ok", api_calls={}, counts={})
    assert _runs(store_url) == [(dead, "sync", "interrupted"), (run.id, "sync", "ok")]
    with Session(engine) as s:
        assert s.get(SyncRun, dead).error == INTERRUPTED  # type: ignore[union-attr]


def test_cli_refuses_with_exit_1_and_says_why_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/connector.db"
    config = tmp_path / "connector.toml"
    config.write_text(f'[sandbox]\nenabled = true\n\n[store]\nurl = "{url}"\n\n'
                      f'[mappings]\ndirectory = "{ROOT / "mappings"}"\n')
    for name in ("CONNECTOR_STORE_URL", "CONNECTOR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    engine = open_engine(url)
    holder = start_run(engine, "sync", 1_000)
    assert main(["reconcile", "--config", str(config), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["error"] == "StoreBusy" and f"run {holder.id} (sync" in out["message"]
    finish_run(engine, holder, now_ms=2_000, status="ok", api_calls={}, counts={})
    assert main(["reconcile", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
