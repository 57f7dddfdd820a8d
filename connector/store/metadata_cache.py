"""Both systems' field metadata as last read, with when: what `connector fields` lists without asking again.

Kept in ``store_state`` (one row per system and object, ``metadata:<system>:<object>``), so no migration: the
value is the listing's own rows (``connector.setup.fields``), not the vendors' raw answers, and carries a
format number so that rows an older version wrote are read again rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from .models import StoreState
from .state import read_state, write_state

__all__ = ["CachedMetadata", "forget_metadata", "read_metadata", "write_metadata"]

_PREFIX = "metadata:"
#: the shape of the cached rows; a different number is a cache miss
FORMAT = 1


@dataclass(frozen=True)
class CachedMetadata:
    """One object's fields as read at ``fetched_at`` (epoch ms)."""

    fetched_at: int
    fields: list[dict[str, Any]]


def _name(system: str, object_type: str) -> str:
    return f"{_PREFIX}{system}:{object_type}"


def read_metadata(engine: Engine, system: str, object_type: str) -> CachedMetadata | None:
    """The cached fields of ``object_type``, if they were ever read (by this format)."""
    value = read_state(engine, _name(system, object_type))
    if value is None or value.get("format") != FORMAT or not isinstance(value.get("fields"), list):
        return None
    return CachedMetadata(int(value.get("fetched_at") or 0), list(value["fields"]))


def write_metadata(engine: Engine, system: str, object_type: str, fields: list[dict[str, Any]], now_ms: int) -> None:
    """Keep the fields just read from ``system``, stamped ``now_ms``."""
    write_state(engine, _name(system, object_type), {"format": FORMAT, "fetched_at": now_ms, "fields": fields}, now_ms)


def forget_metadata(engine: Engine) -> int:
    """Drop every cached object (after `connector setup --apply` changed the metadata); returns how many."""
    with Session(engine) as session, session.begin():
        result = session.execute(delete(StoreState).where(col(StoreState.name).startswith(_PREFIX)))
        return int(getattr(result, "rowcount", 0) or 0)
