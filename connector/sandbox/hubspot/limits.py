"""HubSpot's API rate limits: the per-app 10-second burst, the per-account daily quota, search's 5/s.

Burst and search windows use time.monotonic(); the daily window follows the sandbox clock and resets
at midnight UTC (the sandbox account's time zone).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from ..clock import SandboxClock

__all__ = ["HubSpotLimits", "RateLimiter", "Verdict"]


@dataclass
class HubSpotLimits:
    """The account's limits (defaults: a Professional account with a private app)."""

    burst_max: int = 190
    burst_window_ms: int = 10_000
    daily_max: int = 625_000
    search_per_second: int = 5


@dataclass
class Verdict:
    """Whether a request may run, which policy refused it, and the header values to send."""

    allowed: bool
    policy: str | None
    burst_remaining: int
    daily_remaining: int


class RateLimiter:
    """Rolling-window counters per app (burst, search) and per account (daily)."""

    def __init__(self, limits: HubSpotLimits, clock: SandboxClock) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._burst: dict[str, deque[float]] = {}
        self._search: deque[float] = deque()
        self._day = -1
        self._daily = 0

    def reset(self) -> None:
        with self._lock:
            self._burst.clear()
            self._search.clear()
            self._daily = 0

    def check(self, app_id: str, *, search: bool) -> Verdict:
        """Count one request if allowed; refused requests are not counted."""
        now = time.monotonic()
        day = self._clock.now_ms() // 86_400_000
        lim = self.limits
        with self._lock:
            if day != self._day:
                self._day, self._daily = day, 0
            burst = self._burst.setdefault(app_id, deque())
            while burst and burst[0] <= now - lim.burst_window_ms / 1000:
                burst.popleft()
            while self._search and self._search[0] <= now - 1.0:
                self._search.popleft()
            if self._daily >= lim.daily_max:
                return Verdict(False, "DAILY", max(0, lim.burst_max - len(burst)), 0)
            if search:
                if len(self._search) >= lim.search_per_second:
                    return Verdict(False, "SECONDLY", lim.burst_max - len(burst), lim.daily_max - self._daily)
                self._search.append(now)
            else:
                if len(burst) >= lim.burst_max:
                    return Verdict(False, "TEN_SECONDLY_ROLLING", 0, lim.daily_max - self._daily)
                burst.append(now)
            self._daily += 1
            return Verdict(True, None, max(0, lim.burst_max - len(burst)), lim.daily_max - self._daily)
