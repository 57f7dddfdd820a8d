"""The query plans of what an emulator action ran: every distinct statement traced on its SQLite connection,
with SQLite's own `EXPLAIN QUERY PLAN`, so a test can say "no full scan" of the real statements."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

_STATEMENT = re.compile(r"\s*(SELECT|UPDATE|DELETE|INSERT)", re.IGNORECASE)


def query_plans(conn: sqlite3.Connection, action: Callable[[], Any]) -> list[tuple[str, str]]:
    """(statement, plan) of every distinct read/write statement `action` made on `conn`."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        conn.set_trace_callback(None)
    return [(sql, " / ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql)))
            for sql in dict.fromkeys(seen) if _STATEMENT.match(sql)]
