"""Carrying out deletion actions: erase or delete in the other system, or park the person for review.

Erasure removes the person from the other system (GDPR delete in HubSpot, delete in Salesforce) or,
with ``erase_action = "anonymise"``, blanks every mapped personal field there; then the store forgets
them (see store/erasure.py). A failure leaves the person in place and parked: erasure is retried
until it succeeds, and never half-forgotten in the store while a system still holds them.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..reconcile.mapping import ContactMapping
from ..reconcile.records import RecordKey
from ..store.erasure import compact, erase_person, mark_deleted
from ..store.models import ParkedRecord
from ..systems.writes import hubspot_delete, hubspot_write, salesforce_delete, salesforce_write
from ..systems.ports import Item, WriteOutcome
from .deletions import DeletionAction

__all__ = ["apply_deletions", "anonymised_values", "ERASED_PLACEHOLDER"]

log = logging.getLogger(__name__)

ERASED_PLACEHOLDER = "[erased]"
#: fields a Salesforce record cannot be saved without
_REQUIRED = {"Lead": ("LastName", "Company"), "Contact": ("LastName",)}


def anonymised_values(mapping: ContactMapping, key: RecordKey) -> dict[str, Any]:
    """Every mapped field of the record blanked (required ones set to a placeholder), cross-references too."""
    values: dict[str, Any] = {}
    for f in mapping.fields:
        name = f.native_name(key.system, key.object_type)
        # only what the connector may write there (read-only fields such as HubSpot's analytics source are
        # not the connector's to change); owner and opt-out are not personal data of the person
        if name and f.writes(key.system) and name not in ("OwnerId", "hubspot_owner_id", "HasOptedOutOfEmail",
                                                          "hs_email_optout"):
            values[name] = None
    ident = mapping.identity
    if key.system == "hubspot":
        values[ident.hubspot_lead_id_property] = values[ident.hubspot_contact_id_property] = None
    else:
        values[ident.salesforce_hubspot_id_field] = None
        values["HasOptedOutOfEmail"] = True  # an anonymised record is never mailed
        for name in _REQUIRED.get(key.object_type, ()):
            values[name] = ERASED_PLACEHOLDER
    return values


def apply_deletions(engine: Engine, actions: list[DeletionAction], *, hubspot: Any, salesforce: Any,
                    mapping: ContactMapping, erase_action: str, salt: str, now_ms: int,
                    run_id: int | None = None) -> dict[str, Any]:
    """Carry out `actions`; returns counts per action and outcome (for the run summary)."""
    counts: Counter[str] = Counter()
    parked_now: set[tuple[str, str, str]] = set()
    for a in actions:
        if a.action == "ignore":
            counts["ignored"] += 1
            continue
        if a.action == "quarantine":
            _park(engine, a, "QUARANTINED", _quarantine_hint(a), now_ms, run_id)
            parked_now.add((a.trigger.system, a.trigger.object_type, a.trigger.id))
            counts["quarantined"] += 1
            continue
        failures = _remove(a, hubspot, salesforce, mapping, erase=a.action == "erase", anonymise=erase_action == "anonymise")
        if failures:
            code, message = failures[0]
            _park(engine, a, code, f"{a.reason}; removing the person's other records failed ({code}: {message}); "
                                   "the next sync tries again", now_ms, run_id)
            parked_now.add((a.trigger.system, a.trigger.object_type, a.trigger.id))
            counts[f"{a.action}_failed"] += 1
            continue
        if a.action == "erase":
            erase_person(engine, a.person_id, salt=salt, source_system=a.trigger.system, now_ms=now_ms,
                         extra_keys=(a.trigger, *a.targets))
            counts["erased"] += 1
        else:
            mark_deleted(engine, a.targets, now_ms)
            counts["deleted"] += 1
    _resolve_stale(engine, parked_now, now_ms)
    if counts["erased"]:
        compact(engine)  # the erased people's bytes must not linger in a SQLite file's free pages
    return dict(counts)


def _remove(a: DeletionAction, hubspot: Any, salesforce: Any, mapping: ContactMapping, *, erase: bool,
            anonymise: bool) -> list[tuple[str, str]]:
    failures: list[tuple[str, str]] = []
    for key in a.targets:
        outcome: WriteOutcome
        if erase and anonymise:
            item = Item(key.id, key.id, anonymised_values(mapping, key))
            if key.system == "hubspot":
                outcome = hubspot_write(hubspot, key.object_type, "update", [item])[key.id]
            else:
                outcome = salesforce_write(salesforce, key.object_type, "update", [item], bulk_threshold=10**9)[key.id]
        elif key.system == "hubspot":
            outcome = hubspot_delete(hubspot, key.object_type, [key.id], gdpr=erase)[key.id]
        else:
            outcome = salesforce_delete(salesforce, key.object_type, [key.id])[key.id]
        if not outcome.ok:
            failures.append((outcome.code, outcome.message))
    return failures


def _quarantine_hint(a: DeletionAction) -> str:
    other = ", ".join(f"{'HubSpot' if k.system == 'hubspot' else 'Salesforce'} {k.object_type} {k.id}"
                      for k in a.targets)
    setting = "hubspot_archive" if a.trigger.system == "hubspot" else "salesforce_delete"
    return (f"{a.reason}, while {other} still holds the person: nothing is synced for them until a person decides. "
            f"Delete the other record too, or restore this one; or set [deletions] {setting} = \"propagate\" to "
            "do it automatically")


def _park(engine: Engine, a: DeletionAction, code: str, hint: str, now_ms: int, run_id: int | None) -> None:
    with Session(engine) as session, session.begin():
        row = session.execute(select(ParkedRecord).where(
            ParkedRecord.system == a.trigger.system, ParkedRecord.object_type == a.trigger.object_type,
            ParkedRecord.record_id == a.trigger.id, ParkedRecord.stage == "delete")).scalars().first()
        if row is None:
            row = ParkedRecord(system=a.trigger.system, object_type=a.trigger.object_type, record_id=a.trigger.id,
                               stage="delete", attempts=0, first_seen=now_ms, code=code, message=a.reason)
        row.attempts += 1
        row.code, row.message, row.hint, row.last_seen, row.resolved_at = code, a.reason, hint, now_ms, None
        row.next_retry_at, row.run_id = None, run_id
        row.payload = {"person_id": a.person_id, "action": a.action,
                       "targets": [f"{k.system}:{k.object_type}:{k.id}" for k in a.targets]}
        session.add(row)
        if code == "QUARANTINED":
            log.info("%s: held for review", a.reason)


def _resolve_stale(engine: Engine, current: set[tuple[str, str, str]], now_ms: int) -> None:
    """A deletion no longer in question (restored, deleted on both sides, or done) is no longer parked."""
    with Session(engine) as session, session.begin():
        rows = session.execute(select(ParkedRecord).where(
            ParkedRecord.stage == "delete", ParkedRecord.resolved_at.is_(None))).scalars().all()  # type: ignore[union-attr]
        for row in rows:
            if (row.system, row.object_type, row.record_id) not in current:
                row.resolved_at = now_ms
                session.add(row)
