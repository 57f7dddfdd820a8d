"""The SQLite file behind the HubSpot emulator: tables, indexes and the connection lock.

Records live on disk (one JSON column of property values plus indexed columns for what search and
paging filter or sort on), so the sandbox can hold a million contacts without holding them in memory.
Every lookup a write makes (by id, email, a unique property, an association's either end, a merge's
survivor, an alias's contact) is an index search, never a scan: tests/sandbox/test_hubspot_index.py
checks the plans.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["Database"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    type TEXT NOT NULL, id INTEGER NOT NULL, archived INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL, modified INTEGER NOT NULL, archived_at INTEGER,
    email TEXT, props TEXT NOT NULL, history TEXT,
    PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_modified ON records (type, archived, modified, id);
CREATE INDEX IF NOT EXISTS records_created ON records (type, archived, created, id);
CREATE INDEX IF NOT EXISTS records_archived ON records (type, archived, id);
CREATE INDEX IF NOT EXISTS records_email_lookup ON records (type, archived, email);
CREATE UNIQUE INDEX IF NOT EXISTS records_email ON records (email)
    WHERE type = 'contacts' AND archived = 0 AND email IS NOT NULL;
CREATE TABLE IF NOT EXISTS merged (
    type TEXT NOT NULL, old_id INTEGER NOT NULL, survivor_id INTEGER NOT NULL, PRIMARY KEY (type, old_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS merged_survivor ON merged (type, survivor_id);
CREATE TABLE IF NOT EXISTS aliases (email TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_id ON aliases (id);
CREATE TABLE IF NOT EXISTS assoc (
    from_type TEXT NOT NULL, from_id INTEGER NOT NULL, to_type TEXT NOT NULL, to_id INTEGER NOT NULL,
    type_id INTEGER NOT NULL, category TEXT NOT NULL,
    PRIMARY KEY (from_type, from_id, to_type, to_id, type_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assoc_to ON assoc (to_type, to_id);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, contact_id INTEGER NOT NULL,
    email TEXT, occurred INTEGER NOT NULL, props TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_contact ON events (contact_id, kind, occurred);
CREATE INDEX IF NOT EXISTS events_email ON events (email, occurred);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, occurred);
CREATE TABLE IF NOT EXISTS owners (id INTEGER PRIMARY KEY, email TEXT, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS custom_props (type TEXT, name TEXT, json TEXT NOT NULL, PRIMARY KEY (type, name));
CREATE TABLE IF NOT EXISTS custom_groups (type TEXT, name TEXT, json TEXT NOT NULL, PRIMARY KEY (type, name));
CREATE TABLE IF NOT EXISTS subscriptions (
    email TEXT NOT NULL, subscription_id TEXT NOT NULL, status TEXT NOT NULL, timestamp INTEGER, source TEXT,
    PRIMARY KEY (email, subscription_id)
);
CREATE TABLE IF NOT EXISTS wide_status (
    email TEXT PRIMARY KEY, status TEXT NOT NULL, timestamp INTEGER NOT NULL, source TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocklist (email TEXT PRIMARY KEY);
"""

_TABLES = ("records", "merged", "aliases", "assoc", "events", "owners", "custom_props", "custom_groups",
           "subscriptions", "wide_status", "blocklist")
_TOKEN_SPLIT = re.compile(r"[^0-9a-z]+")


def _token_match(value: object, pattern: object) -> int:
    """HubSpot CONTAINS_TOKEN: a whole-word match, `*` as wildcard, case-insensitive."""
    if value is None or pattern is None:
        return 0
    text = str(value).lower()
    pat = str(pattern).lower()
    if fnmatch.fnmatchcase(text, pat):
        return 1
    tokens = [t for t in _TOKEN_SPLIT.split(text) if t]
    pat_tokens = [t for t in re.split(r"[^0-9a-z*]+", pat) if t]
    if not pat_tokens:
        return 0
    if len(pat_tokens) == 1:
        return int(any(fnmatch.fnmatchcase(t, pat_tokens[0]) for t in tokens))
    joined = " ".join(tokens)
    return int(fnmatch.fnmatchcase(f" {joined} ", f"* {' '.join(pat_tokens)} *"))


class Database:
    """One SQLite connection shared by the server threads, serialised by a re-entrant lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.create_function("hs_token", 2, _token_match, deterministic=True)
        self.conn.executescript(_SCHEMA)
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(subscriptions)")}
        for column, kind in (("timestamp", "INTEGER"), ("source", "TEXT")):  # a data dir made before they existed
            if column not in columns:
                self.conn.execute(f"ALTER TABLE subscriptions ADD COLUMN {column} {kind}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Lock, BEGIN, yield the connection, COMMIT (ROLLBACK on error); re-entrant."""
        with self.lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def clear(self) -> None:
        with self.transaction() as conn:
            for table in _TABLES:
                conn.execute(f"DELETE FROM {table}")
            for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'records_unique_%'").fetchall():
                conn.execute(f"DROP INDEX {name}")

    def ensure_unique_index(self, object_type: str, prop: str) -> None:
        """An expression index for a custom unique property, so the uniqueness check and lookups by it stay indexed.

        Shape ``(json_extract(props, '$.prop'), archived)``: SQLite (3.40) never used the old
        ``(type, json_extract(...))`` on this WITHOUT ROWID table, nor any index naming ``type``, a
        primary-key column, besides; it searched the primary key's ``type=?`` range instead, a scan of
        every record of the type per value checked. The primary key ``(type, id)`` ends every index
        entry anyway, so all three equalities of ``find_by_property`` are answered from this one
        (``EXPLAIN QUERY PLAN``: ``USING INDEX ... (<expr>=? AND archived=? AND type=?)``). An index of
        the old shape (a data dir made before) is rebuilt.
        """
        name = f"records_unique_{object_type}_{prop}"
        sql = f"CREATE INDEX {name} ON records (json_extract(props, '$.{prop}'), archived)"
        with self.lock:
            row = self.conn.execute("SELECT sql FROM sqlite_master WHERE type='index' AND name=?", (name,)).fetchone()
            if row is not None and row[0] == sql:
                return
            if row is not None:
                self.conn.execute(f"DROP INDEX {name}")
            self.conn.execute(sql)

    def close(self) -> None:
        with self.lock:
            self.conn.close()
