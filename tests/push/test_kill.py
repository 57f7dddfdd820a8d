"""A sync SIGKILLed at chosen points, then rerun, ends where an uninterrupted sync ends: no duplicates,
no lost update, and every API call a killed run made but one is on its record (the next run's daily
budget counts them).

The sync runs as a real `connector sync --once` process against a sandbox that outlives it; a twin
sandbox with the same seed is synced without interruption for comparison. Each kill waits for an event
the test observes (a call the sandbox counted, rows the store committed), never for a fraction of some
run's time, so the kills land in the same phases on a busy machine as on an idle one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, func, select

from connector.store.models import SyncRun, WrittenValue
from connector.store.runs import calls_since

from .conftest import World, make_world
from .test_sync_e2e import HS_PROPS, hubspot_contacts, salesforce_people

PEOPLE, SEED = 600, 5
SYNC_SETTINGS = "\n[sync]\nsafety_lag_seconds = 0\nlookback_seconds = 0\n"
#: the OAuth token grant is not an API call: Salesforce does not count it, and neither does the connector
NOT_API_CALLS = ("POST /services/oauth2/token",)
SF = "POST /services/data/v62.0/composite"


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("killed"), people=PEOPLE, seed=SEED, extra_config=SYNC_SETTINGS)


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("calm"), people=PEOPLE, seed=SEED, extra_config=SYNC_SETTINGS)


def made(world: World) -> dict[str, int]:
    """Every API call the sandbox has answered, by "system METHOD /path"."""
    out: dict[str, int] = {}
    for system in ("hubspot", "salesforce"):
        for key, n in getattr(world.sandbox, system).counter.snapshot().items():
            if key not in NOT_API_CALLS:
                out[f"{system} {key}"] = n
    return out


def written_values(world: World) -> int:
    with Session(world.engine) as session:
        return int(session.exec(select(func.count()).select_from(WrittenValue)).one())


@dataclass(frozen=True)
class KillPoint:
    """Kill the sync as soon as `reached(calls this run made by endpoint, world)` is true."""

    name: str
    reached: Callable[[dict[str, int], World, int], bool]


def calls(endpoint: str, n: int) -> Callable[[dict[str, int], World, int], bool]:
    return lambda delta, _world, _rows: delta.get(endpoint, 0) >= n


KILL_POINTS = (
    KillPoint("mid-pull: after the 4th of the first contact listing's 6 pages",
              calls("hubspot GET /crm/v3/objects/contacts", 4)),
    KillPoint("at the first write: a contact upsert batch answered",
              calls("hubspot POST /crm/v3/objects/contacts/batch/upsert", 1)),
    KillPoint("rows committed: the first written batch's values are in the store",
              lambda _delta, world, rows: written_values(world) > rows),
    KillPoint("mid-write: the 2nd contact update batch answered",
              calls("hubspot POST /crm/v3/objects/contacts/batch/update", 2)),
    KillPoint("Salesforce: the run's 2nd Composite answered (the 1st is the pull's poll)",
              calls(f"salesforce {SF}", 2)),
    KillPoint("deals: the first deal upsert batch answered",
              calls("hubspot POST /crm/v3/objects/deals/batch/upsert", 1)),
)

WRITES = ("batch/upsert", "batch/update", "batch/create", "unsubscribe", "associate", SF)


@dataclass
class Outcome:
    code: int
    summary: dict[str, Any] | None
    made: dict[str, int]  # by endpoint, this run only

    @property
    def total(self) -> int:
        return sum(self.made.values())

    @property
    def wrote(self) -> bool:
        return any(w in k and (w != SF or n > 1) for k, n in self.made.items() for w in WRITES)


def sync_process(world: World, kill: KillPoint | None) -> Outcome:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    before, rows = made(world), written_values(world)
    proc = subprocess.Popen([sys.executable, "-m", "connector", "sync", "--once", "--json", "--config",
                             str(world.config_path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    summary = None
    if kill is None:
        out, _ = proc.communicate(timeout=300)
        summary = json.loads(out)
    else:
        while proc.poll() is None:
            now = made(world)
            if kill.reached({k: n - before.get(k, 0) for k, n in now.items()}, world, rows):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)  # polling the counters: how often the test looks, not how long anything takes
        proc.communicate(timeout=300)
    after = made(world)
    return Outcome(proc.returncode, summary,
                   {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)})


def recorded_total(run: SyncRun) -> int:
    return sum(int(v.get("total", 0)) for v in (run.api_calls or {}).values())


def picture(world: World) -> dict[str, Any]:
    """Both systems' people by e-mail, without ids or times: what an uninterrupted sync must also reach."""
    hs = hubspot_contacts(world)
    sf = salesforce_people(world)
    hs_by_id = {i: (p.get("email") or "").lower() for i, p in hs.items()}
    sf_email = {i: (r.get("Email") or "").lower() for i, r in sf.items()}
    hubspot = sorted((
        (hs_by_id[i],
         tuple((k, p.get(k)) for k in HS_PROPS if k not in ("salesforce_lead_id", "salesforce_contact_id")),
         sf_email.get(p.get("salesforce_lead_id") or p.get("salesforce_contact_id") or "", None))
        for i, p in hs.items()), key=repr)
    salesforce = sorted((
        (sf_email[i], i[:3], tuple(sorted((k, v) for k, v in r.items() if k not in ("Id", "attributes",
                                                                                   "HubSpot_Contact_Id__c"))),
         hs_by_id.get(r.get("HubSpot_Contact_Id__c") or "", None))
        for i, r in sf.items()), key=repr)
    return {"hubspot": hubspot, "salesforce": salesforce}


def test_sigkill_at_chosen_points_then_rerun_ends_like_an_uninterrupted_sync(killed: World, calm: World) -> None:
    whole = sync_process(calm, None)
    assert whole.code == 0 and whole.summary is not None
    again = sync_process(calm, None)
    assert again.code == 0 and again.summary is not None
    assert again.summary["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}

    start = made(killed)
    outcomes: list[tuple[KillPoint, Outcome, SyncRun]] = []
    for point in KILL_POINTS:
        outcome = sync_process(killed, point)
        with Session(killed.engine) as session:
            run = session.exec(select(SyncRun).order_by(SyncRun.id.desc())).first()  # type: ignore[union-attr]
        assert run is not None
        outcomes.append((point, outcome, run))
    kills = [(p, o, r) for p, o, r in outcomes if o.code == -signal.SIGKILL]
    report = [(p.name, o.code, o.total, recorded_total(r)) for p, o, r in outcomes]
    # every point but the last two is reached long before a run ends; a rerun may have too little left
    # to do for the last ones
    assert len(kills) >= 4, report
    assert kills[0][0] is KILL_POINTS[0] and not kills[0][1].wrote, report  # one before anything was written
    assert sum(o.wrote for _, o, _ in kills) >= 3, report  # and several with a write made and more to come
    for point, outcome, run in kills:
        # a killed run recorded its calls as it made them: all of them but the one in flight (or whose count
        # was being committed) when the kill came; one more when that orphan of the previous kill was only
        # answered once this run had started
        assert run.status == "running" and recorded_total(run) <= outcome.total <= recorded_total(run) + 2, (
            point.name, outcome.made, run.api_calls)

    rerun = sync_process(killed, None)  # a killed run's lock died with it: no wait, no refusal
    assert rerun.code == 0 and rerun.summary is not None
    with Session(killed.engine) as session:  # and the rerun marked every killed run interrupted
        runs = session.exec(select(SyncRun)).all()
    assert "running" not in [r.status for r in runs] and [r.status for r in runs].count("interrupted") == len(kills)
    settled = sync_process(killed, None)
    assert settled.code == 0 and settled.summary is not None
    assert settled.summary["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}

    # the daily budget of the next run counts every call made here but at most one per killed run
    total_made = sum(made(killed).values()) - sum(start.values())
    charged = calls_since(killed.engine, "hubspot", 0) + calls_since(killed.engine, "salesforce", 0)
    assert total_made - len(kills) <= charged <= total_made, (total_made, charged, report)

    assert picture(killed) == picture(calm)
