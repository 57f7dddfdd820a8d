"""What the store holds, counted: live records per object, engagement per kind, people's addresses per system."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from .models import Engagement, Link, SourceRecord

__all__ = ["engagement_counts", "live_addresses", "live_record_counts", "person_in_both"]


def _live() -> tuple[Any, ...]:
    """Pulled and not deleted (a record the sync created is stored with modified_at 0 until a pull brings it)."""
    return ~col(SourceRecord.deleted), col(SourceRecord.modified_at) > 0


def live_record_counts(engine: Engine) -> dict[str, int]:
    """Pulled, undeleted records per object type."""
    with Session(engine) as s:
        return {str(k): int(n) for k, n in s.execute(select(col(SourceRecord.object_type), func.count()).where(
            *_live()).group_by(col(SourceRecord.object_type))).all()}


def engagement_counts(engine: Engine) -> dict[str, int]:
    """Engagement events per kind."""
    with Session(engine) as s:
        return {str(k): int(n) for k, n in s.execute(select(col(Engagement.kind), func.count()).group_by(
            col(Engagement.kind))).all()}


def live_addresses(engine: Engine, system: str, object_types: Sequence[str]
                   ) -> list[tuple[str, str, dict[str, Any]]]:
    """(normalised e-mail, object type, data) of the pulled, undeleted records of these objects that have one."""
    with Session(engine) as s:
        return [(str(e), str(o), d) for e, o, d in s.execute(select(
            col(SourceRecord.email_norm), col(SourceRecord.object_type), col(SourceRecord.data)).where(
            col(SourceRecord.system) == system, col(SourceRecord.object_type).in_(list(object_types)), *_live(),
            col(SourceRecord.email_norm).is_not(None))).all()]


def person_in_both(engine: Engine) -> str | None:
    """The first person (by id) linked to records in both systems."""
    with Session(engine) as s:
        row = s.execute(select(col(Link.person_id)).group_by(col(Link.person_id)).having(
            func.count(func.distinct(col(Link.system))) == 2).order_by(col(Link.person_id)).limit(1)).first()
    return str(row[0]) if row is not None else None
