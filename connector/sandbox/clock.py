"""A controllable clock shared by both emulators.

Tests need records that share a millisecond, windows that close exactly at an edge and tokens that
expire on demand; a wall clock gives none of that. The clock runs in real time by default and can be
frozen, set or advanced through the control API.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

__all__ = ["SandboxClock", "ms_to_datetime", "datetime_to_ms"]


class SandboxClock:
    """Milliseconds since the epoch, real or controlled; strictly thread-safe."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._lock = threading.Lock()
        self._offset_ms = 0 if start_ms is None else start_ms - _wall_ms()
        self._frozen_at: int | None = None

    def now_ms(self) -> int:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return _wall_ms() + self._offset_ms

    def now(self) -> datetime:
        return ms_to_datetime(self.now_ms())

    def freeze(self, at_ms: int | None = None) -> int:
        """Stop the clock (at the current time unless `at_ms` is given); returns the frozen time."""
        now = self.now_ms() if at_ms is None else at_ms
        with self._lock:
            self._frozen_at = now
        return now

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset_ms = self._frozen_at - _wall_ms()
                self._frozen_at = None

    def set(self, at_ms: int) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = at_ms
            else:
                self._offset_ms = at_ms - _wall_ms()

    def advance(self, ms: int) -> int:
        """Move the clock forward by `ms` (frozen or not); returns the new time."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += ms
                return self._frozen_at
            self._offset_ms += ms
            return _wall_ms() + self._offset_ms

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def state(self) -> dict[str, object]:
        now = self.now_ms()
        return {"now_ms": now, "now": ms_to_datetime(now).isoformat(), "frozen": self.frozen}


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def datetime_to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)
