"""What the running daemon knows about itself: written by the daemon's scheduler thread, read by its HTTP
endpoint (`/readyz`, the status page). Plain attribute writes of immutable values, so a reader never sees a
half-made value."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["DaemonState", "Role"]

#: starting: migrating or waiting for the store; leader: syncing; standby: another daemon leads this store;
#: stopping: SIGTERM received, the run in progress is finishing
Role = Literal["starting", "leader", "standby", "stopping"]


@dataclass
class DaemonState:
    """The daemon's own state (times are epoch seconds)."""

    interval_s: float
    started_at: float = field(default_factory=time.time)
    role: Role = "starting"
    #: the run in progress: its command ("sync", "sweep") and start, or None between runs
    running: str | None = None
    running_since: float | None = None
    last_run_at: float | None = None
    last_run_status: str | None = None
    #: the last run that completed (status "completed" or "partial": parked records are not a failure)
    last_success_at: float | None = None
    #: the daily API budget was spent at the last try: readiness says "paused" until then (each interval
    #: tries again, at no API cost, and a run that succeeds clears it)
    paused_until: float | None = None
    #: why the last mapping reload was refused (the previous mappings keep running), None once one succeeds
    mappings_problem: str | None = None
    mappings_loaded_at: float | None = None
    #: the funnel report the status page shows (`connector.report.funnel`), refreshed by the daemon
    funnel: dict[str, Any] | None = None
    funnel_at: float | None = None

    def ready(self, now: float | None = None) -> tuple[bool, str]:
        """Ready: the daemon is leading or standing by, and (as leader) its last successful run is younger
        than three intervals, counted from its start when none has succeeded yet."""
        now = time.time() if now is None else now
        if self.role == "starting":
            return False, "starting"
        if self.role == "stopping":
            return False, "stopping"
        if self.role == "standby":
            return True, "standby: another daemon leads this store"
        since = self.last_success_at if self.last_success_at is not None else self.started_at
        if self.paused_until is not None and self.paused_until > now:
            return True, "paused: the daily API budget is spent"
        if now - since > 3 * self.interval_s:
            return False, f"no successful run for {int(now - since)} s (more than three intervals)"
        return True, "ok"
