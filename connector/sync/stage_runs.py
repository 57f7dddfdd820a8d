"""Runs of one stage alone, recorded like a cycle (`recorded_run`): `connector pull` and `connector reconcile`."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

from ..reconcile.mapping import ContactMapping
from .cycle import CycleOptions, pull_stage
from .reconciling import reconcile_store
from .recording import recorded_run
from .results import PullRun, ReconcileRun
from .systems import Systems

__all__ = ["run_pull", "run_reconcile"]


def run_pull(engine: Engine, systems: Callable[[], Systems], options: CycleOptions) -> PullRun:
    """Pull what changed in both systems into the store, as a recorded run named `options.command`: the
    streams a sync's pull reads (its groups, the mapping's fields), nothing written to either system.
    `systems` opens them once the store's run lock is held (a busy store touches neither system)."""
    started = time.perf_counter()
    with recorded_run(engine, options.command, options.clock, systems) as recording:
        streams = pull_stage(engine, recording, options).streams
        recording.status, recording.counts = "ok", streams
    return PullRun(recording.run_id, round(time.perf_counter() - started, 3), streams, recording.api_calls())


def run_reconcile(engine: Engine, mapping: ContactMapping, clock: Callable[[], int]) -> ReconcileRun:
    """Reconcile what the store holds into people and save them, as a recorded run (no API calls, nothing
    written to either system)."""
    started = time.perf_counter()
    # not announced: `connector reconcile` says what it did in its summary alone
    with recorded_run(engine, "reconcile", clock, announce=False) as recording:
        summary = reconcile_store(engine, mapping, save_at=(clock(), recording.run_id)).summary
        result = ReconcileRun(recording.run_id, round(time.perf_counter() - started, 3), summary)
        recording.status, recording.counts = "ok", result.to_json()
    return result
