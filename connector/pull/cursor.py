"""Incremental cursors and windows, as pure values (after dlt's ``incremental``).

A stream's cursor says: every record modified before ``position`` is stored, and so are the records
at exactly ``position`` whose ids are in ``boundary_ids``. Re-reading from there (minus a lookback for
late-indexed or late-committed records) can therefore never lose a record, and de-duplicating by
(id, modified time) makes the overlap free.

Windows are half-open ``[start, end)`` and never reach past the sync's start time minus a safety lag:
both vendors' indexes lag a little behind their writes.

A *settled* cursor goes further: Salesforce's getUpdated/getDeleted said (``latestDateCovered``) that no
transaction can still commit a change before ``position``, so the next read starts exactly there, with
no lookback, and a change probe from it reports only changes the store has not seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MINUTE_MS", "Cursor", "CursorTracker", "Window", "next_window", "whole_minute"]

#: getUpdated and getDeleted ignore the seconds of their bounds: they answer in whole minutes
MINUTE_MS = 60_000


def whole_minute(ms: int) -> int:
    """`ms` rounded down to a whole minute (the grain of Salesforce's change probes)."""
    return ms // MINUTE_MS * MINUTE_MS


@dataclass(frozen=True)
class Window:
    """The half-open time range [start, end) of one incremental read, in epoch ms."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty window [{self.start}, {self.end})")

    def halves(self) -> tuple[Window, Window]:
        """Two adjacent windows covering this one (for result caps); a 1 ms window cannot be split."""
        if self.end - self.start < 2:
            raise ValueError("a window of one millisecond cannot be split")
        middle = self.start + (self.end - self.start) // 2
        return Window(self.start, middle), Window(middle, self.end)

    @property
    def span_ms(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Cursor:
    """Where one stream stands; ``position`` None means the initial load has not completed."""

    position: int | None = None
    boundary_ids: frozenset[str] = field(default_factory=frozenset)
    #: while an initial listing runs: the system's paging token to resume it after a crash
    resume_after: str | None = None
    #: nothing modified before `position` can still commit (Salesforce's latestDateCovered said so)
    settled: bool = False

    @property
    def initial_done(self) -> bool:
        return self.position is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"position": self.position, "boundary_ids": sorted(self.boundary_ids)}
        if self.resume_after is not None:
            out["resume_after"] = self.resume_after
        if self.settled:
            out["settled"] = True
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> Cursor:
        if not value:
            return cls()
        position = value.get("position")
        return cls(position=int(position) if position is not None else None,
                   boundary_ids=frozenset(str(i) for i in value.get("boundary_ids", ())),
                   resume_after=value.get("resume_after"), settled=bool(value.get("settled", False)))


def next_window(cursor: Cursor, *, run_started_ms: int, lookback_ms: int, safety_lag_ms: int) -> Window | None:
    """The window to read next, or None when the stream is up to date (or needs its initial load)."""
    if cursor.position is None:
        return None
    ceiling = run_started_ms - safety_lag_ms
    start = cursor.position - lookback_ms
    if start >= ceiling:
        return None
    return Window(start, ceiling)


class CursorTracker:
    """Follows records of a window as they arrive sorted by (modified, id) and says how far is safe.

    After each stored page, ``cursor()`` is the furthest position such that everything before it in
    the window has been seen; only whole milliseconds are passed, the ids at the last one are kept.
    """

    def __init__(self, window: Window, previous: Cursor, *, settled: bool = False) -> None:
        self.window = window
        #: the window's end is settled (see Cursor): `finish` says so
        self.settled = settled
        self._position = previous.position if previous.position is not None else window.start
        self._boundary: set[str] = set(previous.boundary_ids)
        self._last_seen: tuple[int, str] | None = None

    def observe(self, records: Iterable[tuple[str, int]]) -> None:
        """Take (id, modified_ms) pairs of a stored page, in the order the system sorted them."""
        for record_id, modified in records:
            if self._last_seen is not None and modified < self._last_seen[0]:
                raise ValueError(
                    f"records arrived out of order ({record_id} at {modified} after {self._last_seen}); "
                    "the system did not honour the ascending sort"
                )
            self._last_seen = (modified, record_id)
            if modified > self._position:
                self._position = modified
                self._boundary = {record_id}
            elif modified == self._position:
                self._boundary.add(record_id)

    def cursor(self) -> Cursor:
        return Cursor(position=self._position, boundary_ids=frozenset(self._boundary))

    def finish(self) -> Cursor:
        """The window was read to its end: everything before `end` is stored."""
        if self._position >= self.window.end:
            return self.cursor()
        return Cursor(position=self.window.end, boundary_ids=frozenset(), settled=self.settled)
