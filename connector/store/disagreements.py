"""Standing disagreements: values the two systems keep different because a rule says so.

A sync reports the conflicts it decided (it wrote the winning value over the other side). Some
conflicts are settled without a write, for good: `fill_blank_only` never overwrites a value, and a
one-way field never writes the side it reads from. They are no news in every run's summary, so
`connector status` lists them from the store, as the last reconciliation of each person left them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..reconcile.mapping import ContactMapping
from .models import FieldAudit, PersonField

__all__ = ["standing_conflicts"]


def standing_conflicts(engine: Engine, mapping: ContactMapping | None) -> list[dict[str, Any]]:
    """[{"field", "rule", "people"}], most people first: each person's field whose last recorded conflict
    still stands and that no rule writes over (without the mapping, only `fill_blank_only` ones are known
    to stand)."""
    writes = {f.name: {"hubspot": f.writes_hubspot, "salesforce": f.writes_salesforce}
              for f in (mapping.fields if mapping is not None else ())}
    audit, field = FieldAudit, PersonField
    same = and_(col(audit.person_id) == col(field.person_id), col(audit.field) == col(field.field),
                col(audit.decided_at) == col(field.updated_at), col(audit.rule) == col(field.rule))
    query = (select(col(field.field), col(field.rule), col(audit.loser_system),
                    func.count(func.distinct(col(field.person_id))))
             .join(audit, same)
             .where(col(field.rule) != "agreement", col(audit.loser_value).is_not(None))
             .group_by(col(field.field), col(field.rule), col(audit.loser_system)))
    counts: Counter[tuple[str, str]] = Counter()
    with Session(engine) as session:
        for name, rule, loser, people in session.execute(query).all():
            if rule == "fill_blank_only" or not writes.get(name, {}).get(loser, True):
                counts[(name, rule)] += int(people)
    return [{"field": f, "rule": r, "people": n} for (f, r), n in counts.most_common()]
