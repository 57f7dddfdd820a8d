"""Exact API call accounting, per system and per object, for one run.

Every request that leaves the process is recorded, whatever its outcome (a 429 or a timeout costs the
vendor's allowance too), so the figures on a sync run and in ``--json`` are the real cost. A listener
(``on_record``) hears of each call as it is counted: the sync commits its run's count there, so a run
killed at any point has charged the next run's daily budget with every call but the one in flight.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping

__all__ = ["CallLedger"]


class CallLedger:
    """Counts requests by (system, object); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        #: called with this ledger after each recorded call, before the caller goes on
        self.on_record: Callable[[CallLedger], None] | None = None

    def record(self, system: str, object_type: str, n: int = 1) -> None:
        with self._lock:
            self._counts[(system, object_type)] += n
        listener = self.on_record
        if listener is not None:
            listener(self)

    def total(self, system: str | None = None) -> int:
        with self._lock:
            return sum(n for (s, _), n in self._counts.items() if system is None or s == system)

    def mark(self) -> Counter[tuple[str, str]]:
        """The counts so far, to count one run's calls from (``snapshot(since=mark)``) when the adapters and
        their ledger serve several runs (the demo's two syncs; a scheduler's cycles)."""
        with self._lock:
            return Counter(self._counts)

    def snapshot(self, since: Mapping[tuple[str, str], int] | None = None) -> dict[str, dict[str, object]]:
        """``{"hubspot": {"total": 12, "by_object": {"contacts": 10, ...}}, ...}`` (for runs and --json);
        with `since` (a `mark`), only the calls made after it."""
        with self._lock:
            counts = self._counts - Counter(since) if since else self._counts
            out: dict[str, dict[str, object]] = {}
            for (system, object_type), n in sorted(counts.items()):
                entry = out.setdefault(system, {"total": 0, "by_object": {}})
                entry["total"] = int(entry["total"]) + n  # type: ignore[call-overload]
                entry["by_object"][object_type] = n  # type: ignore[index]
            return out
