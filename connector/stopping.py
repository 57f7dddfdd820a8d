"""Stopping a run at its next batch boundary (SIGTERM in `connector run`, or in `connector sync --once`).

A stop is a process-wide request, as the signal that asks for it is: the pull checks it after each page it
stores (its cursor committed with it), the push before each batch it sends, and a cycle between objects.
What was committed stays committed, and the next run carries on from the cursors and the store: the same
ground a SIGKILL leaves (the crash tests), reached without losing the page or batch in flight.
"""

from __future__ import annotations

import threading

from .errors import RetryLater

__all__ = ["Stopped", "check_stop", "clear_stop", "request_stop", "stop_requested"]

_requested = threading.Event()


class Stopped(RetryLater):
    """A stop was requested: the run ended at a batch boundary, everything before it committed."""

    def __init__(self) -> None:
        super().__init__("stopped on request at a batch boundary; the next run resumes from here")


def request_stop() -> None:
    """Ask the run in progress (and any run after it) to stop at its next batch boundary."""
    _requested.set()


def clear_stop() -> None:
    """Forget a stop request (tests, and a daemon that starts over)."""
    _requested.clear()


def stop_requested() -> bool:
    return _requested.is_set()


def check_stop() -> None:
    """Raise `Stopped` if a stop was requested: call it where the work done so far is committed."""
    if _requested.is_set():
        raise Stopped()
