"""The store's run lock: one recorded run at a time works on a store, and through it on both systems.

Two syncs over one store (an overlapping cron job, a second container) would pull, plan and push the
same changes twice: the second would create every new person again. So a run holds this lock from
`start_run` to `finish_run`, and a second run fails at once (`StoreBusy`, exit code 1) instead of
working beside it. The lock belongs to the holding process: the operating system or the database
releases it when that process ends, however it ends, so a killed run never blocks the next one (the
next run marks it "interrupted").

- PostgreSQL: a session-level advisory lock, held on a connection of its own. Stores in different
  databases do not share it.
- SQLite: an exclusive ``flock`` on ``<database file>.lock`` beside the database. An in-memory
  database cannot be shared by two processes and needs none.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ..errors import ConnectorError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX (the connector runs on Linux; no lock elsewhere)
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunLock", "StoreBusy", "acquire_run_lock", "try_leadership"]

#: the advisory lock's key: a fixed 64-bit number of this connector's own
ADVISORY_KEY = int.from_bytes(hashlib.blake2b(b"hubspot-salesforce-connector: run lock", digest_size=8).digest(),
                              "big", signed=True)
#: the daemons' leadership lock's key
LEADER_KEY = int.from_bytes(hashlib.blake2b(b"hubspot-salesforce-connector: leader", digest_size=8).digest(),
                            "big", signed=True)


class StoreBusy(ConnectorError):
    """Another run holds the store's run lock; this one did nothing."""


class RunLock:
    """A held lock; `release` gives it up (at most once); `alive` says whether it is still held."""

    def __init__(self, release: Any, alive: Any = None) -> None:
        self._release = release
        self._alive = alive
        self._held = True

    def alive(self) -> bool:
        return self._held and (self._alive is None or bool(self._alive()))

    def release(self) -> None:
        self._held = False
        release, self._release = self._release, None
        if release is not None:
            release()


def lock_file(engine: Engine) -> Path | None:
    """The lock file of a SQLite store (None for an in-memory one)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().with_name(Path(database).name + ".lock")


def acquire_run_lock(engine: Engine) -> RunLock:
    """Takes the store's run lock without waiting; raises `StoreBusy` if another process, or another open
    run of this one, holds it."""
    lock = _try_lock(engine, ADVISORY_KEY, ".lock")
    if lock is None:
        raise StoreBusy("another run holds this store's run lock")
    return lock


def try_leadership(engine: Engine) -> RunLock | None:
    """The daemons' leadership of this store (`connector run`), taken without waiting: None while another
    daemon holds it. A lock of its own beside the run lock: the leader takes the run lock for each run, so a
    `connector sync --once` beside a daemon still finds the store busy only while a run is on.
    `RunLock.alive` says whether it is still held (a PostgreSQL connection can be lost with it)."""
    return _try_lock(engine, LEADER_KEY, ".daemon.lock")


def _try_lock(engine: Engine, key: int, suffix: str) -> RunLock | None:
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return None

        def unlock() -> None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
            finally:
                conn.close()  # a closed session releases its advisory locks anyway

        def alive() -> bool:
            """A session's advisory lock lasts as long as the session: a working connection still holds it."""
            try:
                conn.execute(text("SELECT 1"))
                conn.commit()
                return True
            except Exception:  # the connection is gone, and the lock with it
                return False

        return RunLock(unlock, alive)
    path = lock_file(engine)
    if path is None or fcntl is None:
        return RunLock(None)
    path = path.with_name(path.name.removesuffix(".lock") + suffix)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return RunLock(lambda: os.close(fd))  # closing the descriptor releases the flock
