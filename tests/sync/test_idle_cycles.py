"""What idle sync cycles cost, counted by the sandbox's own counters, with the shipped timing (issue #20).

Every cycle here runs with the config's [sync] defaults (look-back 120 s, safety lag 60 s, property history
on, metadata trusted 60 minutes), as `connector sync` and the daemon run it, with fresh adapters each cycle:
the live check before the pull reads the mapped objects' metadata (`METADATA`) in the first cycle only, and
again once `metadata_check_minutes` passed, which none of the later cycles here reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.bench_idle import burst as salesforce_burst
from connector.bounds import hubspot_read_calls
from connector.config import SyncConfig
from connector.sync import CycleOptions, run_once

from ..push.conftest import SAFETY_LAG_MS, World, make_world

#: the shipped interval between cycles, and cycles as close as the safety lag lets them matter
INTERVAL_MS = int(SyncConfig().interval_minutes * 60_000)
BACK_TO_BACK_MS = SAFETY_LAG_MS + 1_000

#: the incremental reads of HubSpot's streams (owners and the archived listing are read daily): one each
HUBSPOT_STREAMS = {**{f"POST /crm/v3/objects/{o}/search": 1
                      for o in ("contacts", "companies", "deals", "calls", "meetings", "emails", "notes", "tasks")},
                   "GET /events/v3/events": 1, "GET /email/public/v1/events": 1}
#: the live check before the pull (`check_live_fit`): one metadata read per mapped object, once an hour
METADATA = {"hubspot": {f"GET /crm/v3/properties/{o}": 1 for o in ("contacts", "deals", "companies")},
            "salesforce": {f"GET /services/data/v62.0/sobjects/{o}/describe": 1
                           for o in ("Lead", "Contact", "Opportunity", "Account")}}
#: an idle cycle: one read per HubSpot stream, one Salesforce Composite call
IDLE = {"hubspot": dict(HUBSPOT_STREAMS), "salesforce": {"POST /services/data/v62.0/composite": 1}}
TOKEN = "POST /services/oauth2/token"  # signing in: no API call


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path, people=300, seed=11)


def cycle(world: World) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """One `connector sync` cycle with the config's own options; its summary and the calls each emulator
    served during it."""
    sb = world.sandbox
    sb.hubspot.counter.reset()
    sb.salesforce.counter.reset()
    options = CycleOptions.from_config(world.config, world.mappings, clock=sb.clock.now_ms)
    defaults = SyncConfig()
    assert (options.lookback_ms, options.safety_lag_ms, options.field_history) == (
        defaults.lookback_seconds * 1000, defaults.safety_lag_seconds * 1000, defaults.field_history) == (
        120_000, 60_000, True)
    systems = world.systems()
    try:
        summary = run_once(world.engine, systems, options).to_json()
    finally:
        systems.close()
    calls = {"hubspot": sb.hubspot.counter.snapshot(),
             "salesforce": {k: v for k, v in sb.salesforce.counter.snapshot().items() if k != TOKEN}}
    assert_planned_is_written(summary)
    return summary, calls


def assert_planned_is_written(summary: dict[str, Any]) -> None:
    """The summary's planned writes are what the push wrote (or had refused and parked), nothing held."""
    planned = summary["reconcile"]["planned_writes"]
    written = summary["push"]["written"]
    for system in ("hubspot", "salesforce"):
        done = sum(n["created"] + n["updated"] + n["rejected"] for n in written.get(system, {}).values())
        assert planned[system]["creates"] + planned[system]["updates"] == done, (system, planned, written)


def searches(calls: dict[str, dict[str, int]], object_type: str) -> int:
    return calls["hubspot"].get(f"POST /crm/v3/objects/{object_type}/search", 0)


def test_idle_cycles_after_a_first_sync_cost_one_call_per_stream(world: World) -> None:
    _, first = cycle(world)  # the first sync: lists everything, writes both systems
    for system in ("hubspot", "salesforce"):  # and checks the mapped fields against both systems' metadata
        assert {k: v for k, v in first[system].items() if k in METADATA[system]} == METADATA[system]
    world.sandbox.clock.advance(INTERVAL_MS)
    echo, calls = cycle(world)
    streams = echo["pull"]["streams"]
    # the first re-read of what the first sync wrote is all echoes, deals included (HubSpot answers dates in
    # ISO-8601 where the push wrote epoch ms)
    assert streams["hubspot:deals"]["changed"] > 50 and streams["salesforce:Lead"]["changed"] > 100
    assert {n: s["changed"] for n, s in streams.items()} == {n: s["echoes"] for n, s in streams.items()}
    for name in ("contacts", "deals"):
        read = streams[f"hubspot:{name}"]
        assert searches(calls, name) == max(1, hubspot_read_calls({name: read["new"] + read["changed"]}))
    assert calls["salesforce"]["POST /services/data/v62.0/composite"] >= 1
    # then idle: one read per stream, no property history, nothing written; Salesforce one Composite
    idle = 0
    for gap in (INTERVAL_MS, INTERVAL_MS, BACK_TO_BACK_MS, BACK_TO_BACK_MS):
        world.sandbox.clock.advance(gap)
        summary, calls = cycle(world)
        if summary["push"]["written"]:  # the echo cycle's own few writes (a score, a handoff) come back once
            continue
        idle += 1
        assert calls == IDLE  # the metadata checked in the first cycle is trusted: no describe, no properties
        assert sum(calls["hubspot"].values()) == len(HUBSPOT_STREAMS)
        assert summary.get("field_history") is None  # asked nothing
    assert idle >= 3


def test_a_write_burst_is_re_read_once_and_once_more_a_look_back_later(world: World) -> None:
    cycle(world)
    world.sandbox.clock.advance(INTERVAL_MS)
    cycle(world)
    world.sandbox.clock.advance(INTERVAL_MS)
    # someone edits every Lead and Contact in Salesforce: the next cycle copies it to 250+ HubSpot contacts
    salesforce_burst(world.sandbox)
    world.sandbox.clock.advance(BACK_TO_BACK_MS)
    burst, _ = cycle(world)
    written = burst["push"]["written"]["hubspot"]["contacts"]["updated"]
    assert written > 200  # more than one search page of echoes
    per_cycle: list[int] = []
    echoes = 0
    for _ in range(6):  # cycles as close as the safety lag allows: each within the look-back of the burst
        world.sandbox.clock.advance(BACK_TO_BACK_MS)
        summary, calls = cycle(world)
        echoes = echoes or summary["pull"]["streams"]["hubspot:contacts"]["echoes"]
        per_cycle.append(searches(calls, "contacts"))
        others = {k: v for k, v in calls["hubspot"].items() if k in HUBSPOT_STREAMS and "/contacts/" not in k}
        assert others == {k: v for k, v in HUBSPOT_STREAMS.items() if "/contacts/" not in k}
        assert calls["salesforce"] == IDLE["salesforce"]  # the Salesforce echoes fit one Composite
        assert not summary["push"]["written"]
    pages = hubspot_read_calls({"contacts": echoes})
    assert echoes >= written and pages == 2
    # read when they pass the ceiling and once more when they pass it by the look-back; idle otherwise
    # (before issue #20: on every cycle within the look-back, [2, 2, 2, 1, 1, 1])
    assert sorted(per_cycle) == [1, 1, 1, 1, pages, pages] and per_cycle[0] == pages
