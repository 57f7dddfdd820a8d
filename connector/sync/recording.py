"""One recorded run, shared by every kind of run (a cycle, a pull, a reconciliation): the store's run lock
first, the systems opened under it, every API call on the run's record as it is made, and the record
finished (the lock released, the systems it opened closed) however the run ends."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ..errors import ConnectorError
from ..store.runs import abandon_run, call_recorder, finish_run, start_run
from .results import RunStatus
from .systems import Systems

__all__ = ["Recording", "recorded_run"]

#: the runs' INFO lines are the package's (`progress.py` listens to "connector.sync")
log = logging.getLogger("connector.sync")


@dataclass
class Recording:
    """A run holding the store's run lock: its id, when it started, its systems (when it uses any), and what
    its record will say when it ends (`status` stays "failed" unless the run sets it; `counts`)."""

    run_id: int
    started_ms: int
    systems: Systems | None = None
    #: the ledger's counts when the run began: the adapters may serve several runs (the demo's two syncs)
    since: Counter[tuple[str, str]] | None = None
    status: RunStatus = "failed"
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def api_calls(self) -> dict[str, Any]:
        """This run's API calls so far, per system (`{}` for a run that opened no system)."""
        return {} if self.systems is None else self.systems.ledger.snapshot(self.since)


@contextmanager
def recorded_run(engine: Engine, command: str, clock: Callable[[], int],
                 systems: Systems | Callable[[], Systems] | None = None, *, announce: bool = True
                 ) -> Iterator[Recording]:
    """Records a run of `command` around the block; raises `StoreBusy` (having touched neither system) while
    another run holds the store's lock.

    `systems` may be a function that opens them (`open_systems`): it is called once the lock is held, and
    when a system refuses the sign-in the run never started (it is forgotten); systems opened here are
    closed here. A `ConnectorError` out of the block is kept as the run's error. With `announce`, the run's
    start and end are logged (INFO lines the terminal's progress shows).
    """
    started = time.perf_counter()
    now_ms = clock()
    handle = start_run(engine, command, now_ms)  # holds the store's run lock until finish_run, below
    run_id = handle.id
    ready: Systems | None
    if systems is None or isinstance(systems, Systems):
        opened, ready = False, systems  # given: whoever opened them closes them
    else:
        try:
            opened, ready = True, systems()
        except BaseException:
            abandon_run(engine, handle)  # refused or unreachable: the run never started
            raise
    run = Recording(run_id, now_ms, ready)
    if ready is not None:
        run.since = ready.ledger.mark()
        ready.ledger.on_record = call_recorder(engine, run_id, run.since)  # on the record as each is made
    if announce:
        log.info("%s run %d started", command, run_id)
    try:
        yield run
    except ConnectorError as exc:
        run.error = str(exc)
        raise
    finally:
        if ready is not None:
            ready.ledger.on_record = None  # calls after this run (another run's, setup's) are not this run's
        try:
            finish_run(engine, handle, now_ms=clock(), status=run.status, api_calls=run.api_calls(),
                       counts=run.counts, error=run.error)
        finally:
            if opened and ready is not None:
                ready.close()
        if announce:
            log.info("%s run %d %s in %.1f s", command, run_id, run.status, time.perf_counter() - started)
