"""Carrying out deletion actions: erase or delete in the other system, or park the person for review.

Erasure removes the person from the other system (GDPR delete in HubSpot, delete in Salesforce) or,
with ``erase_action = "anonymise"``, blanks every mapped personal field there; then the store forgets
them (see store/erasure.py). A failure leaves the person in place and parked: erasure is retried
until it succeeds, and never half-forgotten in the store while a system still holds them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from ..reconcile.mapping import ContactMapping
from ..reconcile.records import RecordKey
from ..store.erasure import compact, erase_person, mark_deleted, unlinked_records
from ..store.removals import park_deletion, resolve_stale_deletions
from ..systems.ports import Item, Sink
from ..reconcile.deletions import DeletionAction

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


def apply_deletions(engine: Engine, actions: list[DeletionAction], *, sinks: Mapping[str, Sink],
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
        failures = _remove(a, sinks, mapping, erase=a.action == "erase", anonymise=erase_action == "anonymise")
        if a.action == "erase" and erase_action != "anonymise" and not failures:
            failures = _erase_older(engine, a, sinks)
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
    resolve_stale_deletions(engine, parked_now, now_ms)
    if counts["erased"]:
        compact(engine)  # the erased people's bytes must not linger in a SQLite file's free pages
    return dict(counts)


def _remove(a: DeletionAction, sinks: Mapping[str, Sink], mapping: ContactMapping, *, erase: bool,
            anonymise: bool) -> list[tuple[str, str]]:
    """Each target record anonymised (an update) or deleted, one at a time; the failures' codes and messages."""
    failures: list[tuple[str, str]] = []
    for key in a.targets:
        sink = sinks[key.system]
        if erase and anonymise:
            item = Item(key.id, key.id, anonymised_values(mapping, key))
            outcome = sink.write(key.object_type, "update", [item], id_field=None)[key.id]
        else:
            outcome = sink.delete(key.object_type, [key.id], erase=erase)[key.id]
        if not outcome.ok:
            failures.append((outcome.code, outcome.message))
    return failures


def _erase_older(engine: Engine, a: DeletionAction, sinks: Mapping[str, Sink]) -> list[tuple[str, str]]:
    """GDPR-delete the person's older HubSpot contacts identity left unlinked (archived before the connector
    came, holding their address): an erasure leaves them nowhere. One already gone is no failure."""
    failures: list[tuple[str, str]] = []
    done = {a.trigger, *a.targets}
    for key in sorted(unlinked_records(engine, a.person_id, done)):
        if key.system != "hubspot" or "hubspot" not in sinks:
            continue  # Salesforce has no permanent delete: a deleted record there empties with its recycle bin
        outcome = sinks["hubspot"].delete(key.object_type, [key.id], erase=True)[key.id]
        if not outcome.ok:  # (a 404 is an ok outcome: the contact is gone already)
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
    payload = {"person_id": a.person_id, "action": a.action,
               "targets": [f"{k.system}:{k.object_type}:{k.id}" for k in a.targets]}
    park_deletion(engine, a.trigger, code=code, reason=a.reason, hint=hint, payload=payload, now_ms=now_ms,
                  run_id=run_id)
    if code == "QUARANTINED":
        log.info("%s: held for review", a.reason)
