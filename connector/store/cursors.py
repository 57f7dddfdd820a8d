"""Where each stream stands: the cursor value and its row in the store (one per stream).

A cursor moves only together with the records it covers: `save_cursor` runs in the transaction that
stages them (see `staging.stage_page`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .models import SyncCursor

__all__ = ["Cursor", "load_cursor", "read_cursor", "save_cursor", "write_cursor"]


@dataclass(frozen=True)
class Cursor:
    """Where one stream stands; ``position`` None means the initial load has not completed."""

    position: int | None = None
    boundary_ids: frozenset[str] = field(default_factory=frozenset)
    #: while an initial listing runs: the system's paging token to resume it after a crash
    resume_after: str | None = None
    #: nothing modified before `position` can still commit (Salesforce's latestDateCovered said so)
    settled: bool = False
    #: everything modified before this was read a look-back after the read that first passed it (its
    #: re-read for late-indexed records is done); None: not known, a look-back before `position`
    rechecked: int | None = None

    @property
    def initial_done(self) -> bool:
        return self.position is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"position": self.position, "boundary_ids": sorted(self.boundary_ids)}
        if self.resume_after is not None:
            out["resume_after"] = self.resume_after
        if self.settled:
            out["settled"] = True
        if self.rechecked is not None:
            out["rechecked"] = self.rechecked
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> Cursor:
        if not value:
            return cls()
        position = value.get("position")
        return cls(position=int(position) if position is not None else None,
                   boundary_ids=frozenset(str(i) for i in value.get("boundary_ids", ())),
                   resume_after=value.get("resume_after"), settled=bool(value.get("settled", False)),
                   rechecked=int(value["rechecked"]) if value.get("rechecked") is not None else None)



def save_cursor(session: Session, stream: str, cursor: Cursor, *, now_ms: int, run_id: int | None = None) -> None:
    """Record where `stream` stands; call in the same transaction as the records it covers."""
    row = session.get(SyncCursor, stream)
    if row is None:
        session.add(SyncCursor(stream=stream, value=cursor.to_json(), updated_at=now_ms, run_id=run_id))
    else:
        row.value = cursor.to_json()
        row.updated_at = now_ms
        row.run_id = run_id
        session.add(row)


def load_cursor(session: Session, stream: str) -> Cursor:
    row = session.get(SyncCursor, stream)
    return Cursor.from_json(row.value if row else None)


def read_cursor(engine: Engine, stream: str) -> Cursor:
    """Where `stream` stands (a fresh cursor when it never ran)."""
    with Session(engine) as session:
        return load_cursor(session, stream)


def write_cursor(engine: Engine, stream: str, cursor: Cursor, *, now_ms: int, run_id: int | None = None) -> None:
    """Move a cursor that covers no records of its own (a scan's cadence mark), in its own transaction."""
    with Session(engine) as session, session.begin():
        save_cursor(session, stream, cursor, now_ms=now_ms, run_id=run_id)
