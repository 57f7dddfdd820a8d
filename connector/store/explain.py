"""What `connector explain` adds to a person's unified record: why they are missing from a system, and
when the record shown was reconciled.

Kept apart from ``people.explain_person`` (which finds the person and reads their values): these lines
only read the person's primary records and the runs, and ask the reconciliation core the same question
its planner asks (``should_create_in_salesforce`` / ``should_create_in_hubspot``), so the answer is the
one the next sync acts on.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.mapping import ContactMapping
from ..reconcile.plan import (
    salesforce_object_for,
    should_create_in_hubspot,
    should_create_in_salesforce,
)
from .db import in_chunks
from .models import Link, ParkedRecord, Person, PersonField, SyncRun
from .models import SourceRecord as StoredRecord
from .people import _domain

__all__ = ["RECONCILING_COMMANDS", "creation_and_reconciliation", "left_out"]

#: the commands that reconcile the store and save people (a `plan` is a dry run and saves nothing)
RECONCILING_COMMANDS = ("reconcile", "sync", "push", "demo")
_OTHER = {"hubspot": "salesforce", "salesforce": "hubspot"}


def creation_and_reconciliation(engine: Engine, person_id: str, mapping: ContactMapping | None) -> dict[str, Any]:
    """``{"not_created": [{"system", "will_create", "reason"}], "reconciled": {"run_id", "at",
    "record_changed_at"}}`` for one person.

    ``not_created`` names the system a person linked in one system only is missing from, and why: the
    inclusion rule or the lawful-basis gate that keeps them out, or that the next sync creates them (or
    that its create was refused and parked). Without a loadable mapping the reason says so.
    ``reconciled``: the last run that reconciled the store (the record shown is that run's outcome: a
    person whose inputs did not change is confirmed, not rewritten) and when the shown values last changed.
    """
    with Session(engine) as session:
        person = session.get(Person, person_id)
        links = session.execute(select(Link).where(col(Link.person_id) == person_id,
                                                   col(Link.role) == "primary")).scalars().all()
        systems = {link.system for link in links}
        not_created: list[dict[str, Any]] = []
        if len(systems) == 1:
            link = links[0]
            row = session.get(StoredRecord, (link.system, link.object_type, link.record_id))
            missing = _OTHER[link.system]
            if mapping is None:
                not_created.append({"system": missing, "will_create": False,
                                    "reason": "unknown: the mapping files do not load (`connector validate`)"})
            elif row is not None:
                parked = session.execute(select(ParkedRecord).where(
                    col(ParkedRecord.stage) == "push", col(ParkedRecord.record_id) == f"new:{person_id}",
                    col(ParkedRecord.system) == missing, col(ParkedRecord.resolved_at).is_(None))).scalars().first()
                unified = _unified_values(session, [person_id])[person_id] if mapping.only_when else None
                not_created.append(_verdict(_domain(row), missing, mapping, parked, unified))
        run = session.execute(select(SyncRun).where(
            col(SyncRun.command).in_(RECONCILING_COMMANDS), col(SyncRun.status).in_(("ok", "partial")))
            .order_by(col(SyncRun.id).desc()).limit(1)).scalars().first()
    reconciled = {"run_id": run.id if run else None, "at": run.finished_at if run else None,
                  "record_changed_at": person.updated_at if person else None}
    return {"not_created": not_created, "reconciled": reconciled}


def left_out(engine: Engine, mapping: ContactMapping) -> dict[str, dict[str, int]]:
    """The people in one system only whom the inclusion rule or the lawful-basis gate keeps out of the other,
    counted per missing system and reason (the same verdict `explain` gives one person), most first."""
    systems: dict[str, set[str]] = {}
    primary: dict[str, tuple[str, str, str]] = {}
    with Session(engine) as session:
        for pid, system, object_type, record_id in session.execute(select(
                col(Link.person_id), col(Link.system), col(Link.object_type), col(Link.record_id)).where(
                col(Link.role) == "primary")):
            systems.setdefault(pid, set()).add(system)
            primary[pid] = (system, object_type, record_id)
        lonely_people = sorted(pid for pid, found in systems.items() if len(found) == 1)
        person_of = {primary[pid]: pid for pid in lonely_people}
        lonely = [primary[pid] for pid in lonely_people]
        unified = _unified_values(session, lonely_people) if mapping.only_when else {}
        counts: dict[str, Counter[str]] = {}
        for system in ("hubspot", "salesforce"):
            keys = [(o, r) for s, o, r in lonely if s == system]
            for object_type in sorted({o for o, _ in keys}):
                ids = [r for o, r in keys if o == object_type]
                for part in in_chunks(ids):
                    for row in session.execute(select(StoredRecord).where(
                            col(StoredRecord.system) == system, col(StoredRecord.object_type) == object_type,
                            col(StoredRecord.record_id).in_(part))).scalars():
                        values = unified.get(person_of[(system, object_type, row.record_id)]) \
                            if mapping.only_when else None
                        verdict = _verdict(_domain(row), _OTHER[system], mapping, None, values)
                        if not verdict["will_create"]:
                            counts.setdefault(verdict["system"], Counter())[verdict["reason"]] += 1
    return {system: dict(c.most_common()) for system, c in sorted(counts.items())}


def _unified_values(session: Session, person_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The people's stored unified values (what `[inclusion] only_when` tests), by person."""
    out: dict[str, dict[str, Any]] = {pid: {} for pid in person_ids}
    for part in in_chunks(person_ids):
        for pid, name, value in session.execute(select(col(PersonField.person_id), col(PersonField.field),
                                                       col(PersonField.value)).where(
                col(PersonField.person_id).in_(part))):
            out[pid][name] = value
    return out


def _verdict(source: Any, missing: str, mapping: ContactMapping, parked: ParkedRecord | None,
             unified: dict[str, Any] | None = None) -> dict[str, Any]:
    if missing == "salesforce":
        ok, why = should_create_in_salesforce(source, mapping, unified)
        what = f"a {salesforce_object_for(source, mapping)}" if ok else ""
    else:
        ok, why = should_create_in_hubspot(source, mapping, unified)
        what = "a contact"
    if not ok:
        return {"system": missing, "will_create": False, "reason": why}
    if parked is not None:
        return {"system": missing, "will_create": True,
                "reason": f"included, but the create was refused and parked (#{parked.id}, {parked.code}): "
                          "see `connector status`"}
    return {"system": missing, "will_create": True, "reason": f"included: the next sync creates it ({what})"}
