"""A sync SIGKILLed at random points, then rerun, ends where an uninterrupted sync ends: no duplicates,
no lost update. The sync runs as a real `connector sync --once` process against a sandbox that outlives
it; a twin sandbox with the same seed is synced without interruption for comparison."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from connector.store.models import SyncRun

from .conftest import World, make_world
from .test_sync_e2e import HS_PROPS, hubspot_contacts, salesforce_people

PEOPLE, SEED = 600, 5
SYNC_SETTINGS = "\n[sync]\nsafety_lag_seconds = 0\nlookback_seconds = 0\n"


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("killed"), people=PEOPLE, seed=SEED, extra_config=SYNC_SETTINGS)


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("calm"), people=PEOPLE, seed=SEED, extra_config=SYNC_SETTINGS)


def sync_process(world: World, kill_after: float | None) -> tuple[int, dict[str, Any] | None]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "connector", "sync", "--once", "--json", "--config",
                             str(world.config_path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    if kill_after is None:
        out, _ = proc.communicate(timeout=120)
        return proc.returncode, json.loads(out)
    try:
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.returncode, None


def picture(world: World) -> dict[str, Any]:
    """Both systems' people by e-mail, without ids or times: what an uninterrupted sync must also reach."""
    hs = hubspot_contacts(world)
    sf = salesforce_people(world)
    hs_by_id = {i: (p.get("email") or "").lower() for i, p in hs.items()}
    sf_email = {i: (r.get("Email") or "").lower() for i, r in sf.items()}
    hubspot = sorted((
        (hs_by_id[i], tuple((k, p.get(k)) for k in HS_PROPS if k not in ("salesforce_lead_id", "salesforce_contact_id")),
         sf_email.get(p.get("salesforce_lead_id") or p.get("salesforce_contact_id") or "", None))
        for i, p in hs.items()), key=repr)
    salesforce = sorted((
        (sf_email[i], i[:3], tuple(sorted((k, v) for k, v in r.items() if k not in ("Id", "attributes",
                                                                                   "HubSpot_Contact_Id__c"))),
         hs_by_id.get(r.get("HubSpot_Contact_Id__c") or "", None))
        for i, r in sf.items()), key=repr)
    return {"hubspot": hubspot, "salesforce": salesforce}


def test_sigkill_at_random_points_then_rerun_ends_like_an_uninterrupted_sync(killed: World, calm: World) -> None:
    started = time.perf_counter()
    assert sync_process(calm, kill_after=None)[0] == 0
    whole = time.perf_counter() - started  # kill points are spread over what one whole sync takes here
    code, calm_again = sync_process(calm, kill_after=None)
    assert code == 0 and calm_again is not None and calm_again["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}

    rnd = random.Random(20261123)
    kills = 0
    for _ in range(5):
        code, _ = sync_process(killed, kill_after=rnd.uniform(0.3, 0.8) * whole)
        kills += code == -signal.SIGKILL
    assert kills >= 2  # attempts really were cut off (later ones have less left to do, so may finish)
    writes = {k: n for k, n in killed.sandbox.hubspot.counter.snapshot().items() if "batch/" in k}
    assert writes, "no killed run got as far as writing: the test would prove nothing about push"
    # a killed run's calls so far were recorded: the next run's daily budget counts them
    with Session(killed.engine) as session:
        interrupted = [r for r in session.exec(select(SyncRun)).all() if r.status in ("running", "interrupted")]
    assert any((r.api_calls or {}).get("hubspot", {}).get("total", 0) > 0 for r in interrupted)
    code, rerun = sync_process(killed, kill_after=None)  # a killed run's lock died with it: no wait, no refusal
    assert code == 0 and rerun is not None
    with Session(killed.engine) as session:  # and the rerun marked every killed run interrupted
        statuses = [r.status for r in session.exec(select(SyncRun)).all()]
    assert "running" not in statuses and 0 < statuses.count("interrupted") <= kills
    code, settled = sync_process(killed, kill_after=None)
    assert code == 0 and settled is not None and settled["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}

    assert picture(killed) == picture(calm)
