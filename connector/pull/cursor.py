"""Incremental windows and how a cursor moves through them, as pure functions (after dlt's ``incremental``).

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
from dataclasses import replace

from ..store.cursors import Cursor
from ..systems.ports import Window

__all__ = ["MINUTE_MS", "CursorTracker", "next_window", "whole_minute"]

#: getUpdated and getDeleted ignore the seconds of their bounds: they answer in whole minutes
MINUTE_MS = 60_000


def whole_minute(ms: int) -> int:
    """`ms` rounded down to a whole minute (the grain of Salesforce's change probes)."""
    return ms // MINUTE_MS * MINUTE_MS


def next_window(cursor: Cursor, *, run_started_ms: int, lookback_ms: int, safety_lag_ms: int,
                recheck_once: bool = False) -> Window | None:
    """The window to read next, or None when the stream is up to date (or needs its initial load).

    The look-back re-reads what was read before, for records indexed or committed late: an instant t is
    last read by the first run whose ceiling passes t + lookback, whatever the runs between. With
    `recheck_once` and a cursor that knows how far that last read has gone (``rechecked``), the window
    leaves out the instants read once already whose last read is not yet due (``Window.skip``): each
    instant is then read twice at most, once when it passes the ceiling and once when it passes it by the
    look-back, at the same run as before. Cycles further apart than the look-back read what they did. A
    run asked to reach further back than that (the daemon's nightly sweep re-reads a day) reads its whole
    window: the skip holds only for a look-back the runs to come will also use.
    """
    if cursor.position is None:
        return None
    ceiling = run_started_ms - safety_lag_ms
    position = cursor.position
    start = position - lookback_ms
    if not recheck_once or cursor.rechecked is None or start < min(cursor.rechecked, position):
        return None if start >= ceiling else Window(start, ceiling)
    rechecked = min(cursor.rechecked, position)
    due = min(position, ceiling - lookback_ms)  # instants before this get their last read now
    if due <= rechecked:  # nothing due: read from the cursor only
        return Window(position, ceiling) if position < ceiling else None
    if position >= ceiling:
        return Window(rechecked, due)
    return Window(rechecked, ceiling, skip=(due, position) if due < position else None)


class CursorTracker:
    """Follows records of a window as they arrive sorted by (modified, id) and says how far is safe.

    After each stored page, ``cursor()`` is the furthest position such that everything before it in
    the window has been seen; only whole milliseconds are passed, the ids at the last one are kept.
    """

    def __init__(self, window: Window, previous: Cursor, *, settled: bool = False,
                 rechecked: int | None = None) -> None:
        self.window = window
        #: the window's end is settled (see Cursor): `finish` says so
        self.settled = settled
        #: how far the look-back's last read has gone once the window is read (`finish`); until then the
        #: previous cursor's
        self._rechecked_before = previous.rechecked
        self._rechecked_after = rechecked
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
        return Cursor(position=self._position, boundary_ids=frozenset(self._boundary),
                      rechecked=self._rechecked_before)

    def finish(self) -> Cursor:
        """The window was read to its end: everything before `end` is stored."""
        after = self._rechecked_after
        if after is not None and self._rechecked_before is not None:
            after = max(after, self._rechecked_before)
        if self._position >= self.window.end:
            return replace(self.cursor(), rechecked=after)
        return Cursor(position=self.window.end, boundary_ids=frozenset(), settled=self.settled, rechecked=after)
