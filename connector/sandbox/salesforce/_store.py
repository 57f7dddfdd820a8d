"""SQLite storage of sObject records: one JSON row per record plus indexed columns for what is filtered.

The sandbox must hold a million people, so records live on disk, never in dicts. Indexed columns:
SystemModstamp, CreatedDate, lower(Email), the deleted flag and time, and a side table of external-id
values (unique ones enforced by the write layer). LastModifiedDate has a column but, as in Salesforce,
no index: filter on SystemModstamp for incremental reads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Store", "INDEXED_COLUMNS"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rec (
  id TEXT PRIMARY KEY,
  sobject TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  modstamp_ms INTEGER NOT NULL,
  lastmod_ms INTEGER NOT NULL,
  email_lower TEXT,
  is_deleted INTEGER NOT NULL DEFAULT 0,
  deleted_ms INTEGER,
  data TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rec_obj ON rec(sobject, is_deleted, id);
CREATE INDEX IF NOT EXISTS rec_mod ON rec(sobject, modstamp_ms, id);
CREATE INDEX IF NOT EXISTS rec_created ON rec(sobject, created_ms, id);
CREATE INDEX IF NOT EXISTS rec_email ON rec(sobject, email_lower);
CREATE INDEX IF NOT EXISTS rec_deleted ON rec(sobject, deleted_ms) WHERE is_deleted = 1;
CREATE TABLE IF NOT EXISTS extid (
  sobject TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (sobject, field, value, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS extid_id ON extid(id);
"""

#: SOQL field -> indexed column
INDEXED_COLUMNS: dict[str, str] = {
    "Id": "id",
    "SystemModstamp": "modstamp_ms",
    "LastModifiedDate": "lastmod_ms",
    "CreatedDate": "created_ms",
    "Email": "email_lower",
}


_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _row(sobject: str, rec: dict[str, Any]) -> tuple[Any, ...]:
    email = rec.get("Email")
    deleted = bool(rec.get("IsDeleted"))
    return (
        rec["Id"], sobject, rec["CreatedDate"], rec["SystemModstamp"], rec["LastModifiedDate"],
        email.lower() if isinstance(email, str) else None, int(deleted),
        rec.get("_DeletedDate") if deleted else None,
        _encode({k: v for k, v in rec.items() if v is not None}),  # absent = null: smaller rows
    )


class Store:
    """Thread-safe record storage; callers hold `lock` across multi-step operations."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def reset(self) -> None:
        with self.lock:
            self._db.execute("DELETE FROM rec")
            self._db.execute("DELETE FROM extid")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block (nests as savepoints)."""
        with self.lock:
            name = f"sp{self._depth}"
            self._db.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._db.execute(f"ROLLBACK TO {name}")
                self._db.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            self._db.execute(f"RELEASE {name}")

    # ---- reads ---------------------------------------------------------------------------------------
    def get(self, record_id: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._db.execute("SELECT data FROM rec WHERE id = ?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        with self.lock:
            for i in range(0, len(ids), 500):
                chunk = list(ids[i:i + 500])
                marks = ",".join("?" * len(chunk))
                for rid, data in self._db.execute(f"SELECT id, data FROM rec WHERE id IN ({marks})", chunk):
                    out[rid] = json.loads(data)
        return out

    def scan(self, sql_where: str, params: Sequence[Any], order: str, chunk: int = 1000,
             index: str | None = None) -> Iterator[dict[str, Any]]:
        """Records matching a SQL condition in SQL order, fetched in chunks (the lock is released between)."""
        using = f" INDEXED BY {index}" if index else ""
        sql = f"SELECT data FROM rec{using} WHERE {sql_where} ORDER BY {order}"
        with self.lock:
            cur = self._db.execute(sql, list(params))
            rows = cur.fetchmany(chunk)
        while rows:
            for (data,) in rows:
                yield json.loads(data)
            if len(rows) < chunk:
                return
            with self.lock:
                rows = cur.fetchmany(chunk)

    def count(self, sql_where: str, params: Sequence[Any], index: str | None = None) -> int:
        using = f" INDEXED BY {index}" if index else ""
        with self.lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM rec{using} WHERE {sql_where}",
                                        list(params)).fetchone()[0])

    def ids(self, sql_where: str, params: Sequence[Any], order: str, limit: int) -> list[tuple[str, Any]]:
        with self.lock:
            return list(self._db.execute(
                f"SELECT id, deleted_ms FROM rec WHERE {sql_where} ORDER BY {order} LIMIT ?", [*params, limit]))

    def max_id(self, prefix: str) -> str | None:
        with self.lock:
            row = self._db.execute("SELECT MAX(id) FROM rec WHERE id >= ? AND id < ?",
                                   (prefix, prefix + "~")).fetchone()
        return row[0] if row else None

    def ext_lookup(self, sobject: str, field: str, value: str) -> list[str]:
        with self.lock:
            rows = self._db.execute("SELECT id FROM extid WHERE sobject = ? AND field = ? AND value = ?",
                                    (sobject, field, value.lower())).fetchall()
        return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {s: n for s, n in self._db.execute("SELECT sobject, COUNT(*) FROM rec GROUP BY sobject")}

    # ---- writes --------------------------------------------------------------------------------------
    def put(self, sobject: str, rec: dict[str, Any], ext: Iterable[tuple[str, str]] = ()) -> None:
        """Insert or replace one record and its external-id values."""
        with self.lock:
            self._db.execute("INSERT OR REPLACE INTO rec VALUES (?,?,?,?,?,?,?,?,?)", _row(sobject, rec))
            self._db.execute("DELETE FROM extid WHERE id = ?", (rec["Id"],))
            self._db.executemany("INSERT OR IGNORE INTO extid VALUES (?,?,?,?)",
                                 [(sobject, f, v.lower(), rec["Id"]) for f, v in ext])

    def put_many(self, sobject: str, recs: Sequence[dict[str, Any]], ext: Sequence[tuple[str, str, str]]) -> None:
        """Bulk insert (seed load): one transaction, executemany; ext rows are (field, value, id)."""
        with self.lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR REPLACE INTO rec VALUES (?,?,?,?,?,?,?,?,?)",
                                     [_row(sobject, r) for r in recs])
                self._db.executemany("INSERT OR IGNORE INTO extid VALUES (?,?,?,?)",
                                     [(sobject, f, v.lower(), i) for f, v, i in ext])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def delete_hard(self, record_id: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM rec WHERE id = ?", (record_id,))
            self._db.execute("DELETE FROM extid WHERE id = ?", (record_id,))
