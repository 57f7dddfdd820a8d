"""The values the connector cannot carry (`value_issue`), as of each person's last reconciliation: replaced
person by person as they are reconciled, read by `connector issues` and counted by `plan`, `status` and
`explain`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.issues import describe
from ..reconcile.records import Issue
from .db import in_chunks
from .models import ValueIssue
from .people import _jsonable

__all__ = ["replace_value_issues", "value_issue_count", "value_issues"]


def replace_value_issues(engine: Engine, person_ids: Sequence[str], issues: Sequence[tuple[str, Issue]], *,
                         now_ms: int, run_id: int | None) -> None:
    """`person_ids` were reconciled: their issues are now `issues` ((person id, issue) pairs) and no others."""
    rows = []
    for person_id, issue in issues:
        d = describe(issue)
        rows.append({"person_id": person_id, "system": issue.system, "record_id": issue.record_id[:64],
                     "field": issue.field[:128], "unified_field": d.unified_field[:128], "kind": d.kind[:64],
                     "value": _jsonable(issue.value), "reason": d.reason, "seen_at": now_ms, "run_id": run_id})
    with Session(engine) as session, session.begin():
        for part in in_chunks(sorted(set(person_ids))):
            session.execute(delete(ValueIssue).where(col(ValueIssue.person_id).in_(part)))
        if rows:
            session.execute(insert(ValueIssue), rows)


def value_issues(engine: Engine, *, field: str | None = None, kind: str | None = None,
                 person_id: str | None = None) -> list[ValueIssue]:
    """The current issues, by field, kind and person; `field` matches the unified or the system's field name,
    `kind` the transform, both case-insensitive; `person_id` one person's."""
    query = select(ValueIssue)
    if person_id is not None:
        query = query.where(col(ValueIssue.person_id) == person_id)
    if field:
        query = query.where((func.lower(col(ValueIssue.unified_field)) == field.casefold())
                            | (func.lower(col(ValueIssue.field)) == field.casefold()))
    if kind:
        query = query.where(func.lower(col(ValueIssue.kind)) == kind.casefold())
    with Session(engine) as session:
        return list(session.execute(query.order_by(col(ValueIssue.unified_field), col(ValueIssue.kind),
                                                   col(ValueIssue.person_id), col(ValueIssue.id))).scalars())


def value_issue_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(ValueIssue)).scalar_one())
