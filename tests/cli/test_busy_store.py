"""A run refused because the store is busy touches neither system: not even a token grant.

The README promises that `pull`, `plan`, `push` and `sync` started while another run holds the store's
run lock exit 1 (`StoreBusy`) "without touching the store or either system". The sandbox counts every
request it receives, token grants included, so "touches neither system" is checked as zero requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from connector.cli import main
from connector.sandbox.runner import Sandbox
from connector.store import open_engine
from connector.store.lock import acquire_run_lock
from connector.store.models import SyncRun

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(people=20, seed=5, rate_limits=False) as sb:
        yield sb


def _requests(sb: Sandbox) -> dict[str, int]:
    return {"hubspot": sb.hubspot.counter.total(), "salesforce": sb.salesforce.counter.total()}


@pytest.mark.parametrize("command", [["pull"], ["plan"], ["plan", "--pull"], ["push"], ["sync", "--once"]])
def test_a_busy_store_makes_no_request_to_either_system(
        sandbox: Sandbox, store_url: str, tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "connector.toml"
    config.write_text(sandbox.connector_config(store_url))
    engine = open_engine(store_url)
    held = acquire_run_lock(engine)  # another run is using the store
    try:
        sandbox.hubspot.counter.reset()
        sandbox.salesforce.counter.reset()
        code = main([*command, "--json", "--config", str(config)])
        out = json.loads(capsys.readouterr().out)
        assert code == 1 and out["error"] == "StoreBusy", out
        assert _requests(sandbox) == {"hubspot": 0, "salesforce": 0}
    finally:
        held.release()
    # and with the store free, the same command does reach the systems (the counters do count)
    main([*command, "--json", "--config", str(config)])
    capsys.readouterr()
    assert _requests(sandbox)["salesforce"] > 0


def test_a_demo_leaves_a_busy_store_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/busy.db"
    engine = open_engine(url)
    held = acquire_run_lock(engine)
    try:
        with Session(engine) as s, s.begin():
            s.add(SyncRun(command="sync", started_at=1, api_calls={}, counts={}))  # the holder's record
        code = main(["demo", "--people", "5", "--rate-limits", "off", "--store", url, "--json",
                     "--mappings", str(MAPPINGS)])
        out = json.loads(capsys.readouterr().out)
        assert code == 1 and out["error"] == "StoreBusy", out
        with Session(open_engine(url)) as s:  # not emptied under the run that holds it
            assert [r.command for r in s.exec(select(SyncRun)).all()] == ["sync"]
    finally:
        held.release()
