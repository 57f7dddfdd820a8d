"""Pacing and budgets: staying under the vendors' limits instead of bouncing off them.

Pure logic with an injectable clock, so it is tested without sleeping:

- ``WindowPacer`` keeps at most ``headroom x limit`` requests in any rolling ``window`` seconds (HubSpot's
  burst limit per 10 s, its search limit per second), and also defers to the server's view
  (``X-HubSpot-RateLimit-Remaining``), which counts other processes of the same app: it pauses when no
  more than the unused share is left. The burst limit is per app, so the share left unused
  (``[hubspot] burst_share``, default 0.9) is what keeps a second process of the same app (a `connector
  plan` beside the daemon, an admin script with the same token) from meeting 429s.
- ``DailyBudget`` stops the connector once its share of a daily allowance is spent (counting its own
  calls, including earlier runs in the last 24 hours) or the account itself runs low, so other
  integrations keep working; its ``remaining()`` is the one "remaining today" figure (check and
  forecast alike). Salesforce reports org usage in ``Sforce-Limit-Info``; HubSpot in
  ``X-HubSpot-RateLimit-Daily(-Remaining)`` (not for OAuth calls). A configured limit is a ceiling
  those reports can lower, never raise.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import RetryLater

__all__ = ["WindowPacer", "DailyBudget", "BudgetExhausted", "DEFAULT_HEADROOM", "parse_sforce_limit_info",
           "usable"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class BudgetExhausted(RetryLater):
    """The connector's share of a daily API allowance is used up; it resumes on a later cycle."""


#: the share of a burst limit used when none is configured ([hubspot] burst_share's default)
DEFAULT_HEADROOM = 0.9


def usable(limit: int, headroom: float) -> int:
    """How many of `limit` requests a `headroom` share allows (at least one; 190 x 0.9 = 171). Rounded down,
    with a hair of tolerance so that a share meant exactly (0.29 x 100) is not lost to binary floats."""
    return max(1, min(limit, math.floor(limit * headroom + 1e-9)))


class WindowPacer:
    """At most `headroom x limit` requests per rolling `window` seconds (the rest is left to other processes)."""

    def __init__(self, limit: int, window: float, *, headroom: float = DEFAULT_HEADROOM,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        if not 0 < headroom <= 1:
            raise ValueError(f"headroom {headroom} is not within (0, 1]")
        self.headroom = headroom
        self.limit = usable(limit, headroom)
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._server_pause_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0

    def delay(self) -> float:
        """Seconds to wait before the next request may go (0 when it may go now)."""
        now = self._clock()
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        wait = max(0.0, self._server_pause_until - now)
        if len(self._sent) >= self.limit:
            wait = max(wait, self._sent[0] + self.window - now)
        return wait

    def acquire(self) -> None:
        """Block until a request may go, then count it (a pause of a second or more is logged as a warning:
        an admin sees why a run slows down; shorter ones are the steady pace of a large read)."""
        with self._lock:
            wait = self.delay()
            if wait > 0:
                self.waited += wait
                (log.warning if wait >= 1.0 else log.debug)(
                    "rate limit: pausing %.1f s (%d requests per %g s%s)", wait, self.limit, self.window,
                    ", as the server asked" if self._server_pause_until > self._clock() else "")
                self._sleep(wait)
            self._sent.append(self._clock())

    def observe(self, headers: Mapping[str, str]) -> None:
        """Follow HubSpot's own count: when no more than the unused share of the interval remains (19 of 190 at
        a headroom of 0.9; none at 1.0), pause until enough of it has rolled out of the window."""
        remaining = headers.get("x-hubspot-ratelimit-remaining")
        interval_ms = headers.get("x-hubspot-ratelimit-interval-milliseconds")
        maximum = headers.get("x-hubspot-ratelimit-max")
        if remaining is None or interval_ms is None or maximum is None:
            return
        try:
            left, interval, cap = int(remaining), int(interval_ms) / 1000.0, int(maximum)
        except ValueError:
            return
        if cap <= 0:
            return
        reserve = cap - usable(cap, self.headroom)
        if left <= reserve:
            with self._lock:
                # the window is rolling: at full use one call expires every interval/cap seconds, so
                # regaining the reserve takes that long per missing slot
                pause = interval * (reserve - left + 1) / cap
                self._server_pause_until = max(self._server_pause_until, self._clock() + pause)


_SF_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def parse_sforce_limit_info(value: str | None) -> tuple[int, int] | None:
    """``"api-usage=18/5000"`` -> (18, 5000)."""
    if not value:
        return None
    match = _SF_USAGE.search(value)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass
class DailyBudget:
    """The connector's share of one system's daily allowance, and what remains of it today.

    One definition serves the check before every call and every forecast (``remaining_today``)::

        limit     = the configured daily limit, lowered (never raised) by the limit the account reports
        remaining = share x limit - this connector's calls in the last 24 h (`prior_calls` from the
                    store's runs, plus `calls` of this run),
                    and at most: reported limit - reserve - the account's reported usage, whoever spent it

    floored at 0, so it never exceeds share x the configured limit. The account's figures come from
    Salesforce's ``Sforce-Limit-Info`` (or ``/limits``) and HubSpot's ``X-HubSpot-RateLimit-Daily(-Remaining)``
    (sent for private-app tokens only). Salesforce has no configured limit (`daily_limit` None): its limit
    is the org's own, unknown (``remaining()`` None, calls allowed) until the org reports it.
    `account_reserve` is the fraction of the account's allowance the connector never eats into, whatever
    its share, so the teams' other tools keep working.
    """

    system: str
    daily_limit: int | None  # configured ceiling; None: the account's reported limit
    share: float
    prior_calls: int = 0
    account_reserve: float = 0.05
    calls: int = 0
    reported_limit: int | None = None
    account_used: int | None = None

    @property
    def limit(self) -> int | None:
        """The daily limit in force: the configured one, lowered by the account's (never raised)."""
        known = [n for n in (self.daily_limit, self.reported_limit) if n is not None]
        return min(known) if known else None

    @property
    def allowance(self) -> int | None:
        limit = self.limit
        return None if limit is None else int(limit * self.share)

    @property
    def used(self) -> int:
        return self.prior_calls + self.calls

    def remaining(self) -> int | None:
        """Calls the connector may still make today (None while the limit is unknown)."""
        allowance = self.allowance
        if allowance is None:
            return None
        own = allowance - self.used
        if self.reported_limit is not None and self.account_used is not None:
            reserve = int(self.reported_limit * self.account_reserve)
            own = min(own, self.reported_limit - reserve - self.account_used)
        return max(0, own)

    def check(self, needed: int = 1) -> None:
        """Raise BudgetExhausted if `needed` more calls would pass the share or the account reserve."""
        remaining = self.remaining()
        if remaining is not None and remaining < needed:
            raise BudgetExhausted(
                f"{self.system}: the connector's daily API budget is used up ({self.used} of {self.allowance} "
                f"calls = {self.share:.0%} of {self.limit}"
                + (f"; the account has used {self.account_used} of {self.reported_limit}"
                   if self.account_used is not None else "")
                + "); the sync resumes on a later cycle. Raise daily_budget_share if this is too tight."
            )

    def spend(self, n: int = 1) -> None:
        self.calls += n

    def observe_account(self, *, limit: int, used: int) -> None:
        """The account's own figures: its daily limit and what it has used (all its integrations)."""
        if limit > 0:
            self.reported_limit, self.account_used = limit, max(0, used)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the account's real limit and usage from response headers."""
        info = parse_sforce_limit_info(headers.get("sforce-limit-info"))
        if info is not None:
            self.observe_account(limit=info[1], used=info[0])
            return
        daily, left = headers.get("x-hubspot-ratelimit-daily"), headers.get("x-hubspot-ratelimit-daily-remaining")
        if daily is not None and left is not None:
            try:
                self.observe_account(limit=int(daily), used=int(daily) - int(left))
            except ValueError:
                pass
