"""Look before creating (pure): what a planned create becomes once the target system has been asked.

The pull stops `safety_lag_seconds` short of the run's start, so a record changed in the last minute
is not in the store yet, and a person whose record in the other system is such a record looks new. A
create is therefore never sent on the store's word alone: push first looks the person up in the
target system by their identity keys (normalised e-mail, and the cross-reference id the create is
upserted on), and this module decides, for every planned create, from what came back:

- ``create``: nothing found; the create goes out (as an upsert on its cross-reference id).
- ``adopt``: exactly one record, of the planned object, already holding this create's cross-reference
  (the connector's own create whose answer was lost, or an admin who linked it by hand): it is
  recorded as the person's record, as a successful create would be, and nothing is written to it.
- ``link``: records with the person's e-mail that nobody else claims: they are staged as pulled and
  linked to the person, who is reconciled with them by the next cycle (normal identity and conflict
  rules); none of the person's writes go out in this run, since they were planned without them.
- ``hold``: a record that belongs to someone else (linked to another person, or cross-referencing
  another person's record, or claimed by an earlier create of this run): the create is parked for
  review; creating would make a duplicate, and linking would merge two people on an e-mail alone.

Identity's own rules still decide what a person's records are: linked records enter identity
resolution next cycle, which picks the primary (Contact over Lead, ...) and lists the others in the
duplicates report. No rule is restated here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ..reconcile.records import RecordKey
from ..reconcile.writes import RecordWrite, WritePlan, create_key

__all__ = [
    "EMAIL_FIELD",
    "Candidate",
    "Decision",
    "Verdict",
    "Wanted",
    "decide",
    "ref_key",
    "wanted_creates",
    "without_people",
]

Verdict = Literal["create", "adopt", "link", "hold"]

#: the e-mail field of each system's person records
EMAIL_FIELD = {"hubspot": "email", "salesforce": "Email"}


def normalise_email(value: object) -> str | None:
    """Trim and casefold: how identity compares addresses."""
    if not isinstance(value, str):
        return None
    return value.strip().casefold() or None


def ref_key(system: str, record_id: str) -> tuple[str, str]:
    """How a record id is compared: Salesforce ids by their case-sensitive 15-character form."""
    record_id = str(record_id).strip()
    return (system, record_id[:15] if system == "salesforce" else record_id)


@dataclass(frozen=True)
class Wanted:
    """A planned create, with the keys the target system is searched by."""

    write: RecordWrite
    email: str | None
    ref_field: str | None
    ref: str | None


@dataclass(frozen=True)
class Candidate:
    """A person record a look-up found in the target system."""

    key: RecordKey
    email: str | None
    #: the cross-reference fields it holds (field -> id of a record in the other system)
    refs: Mapping[str, str]


@dataclass(frozen=True)
class Decision:
    """What becomes of one planned create, the records that decided it, and why (ids only, no personal data)."""

    wanted: Wanted
    verdict: Verdict
    found: tuple[RecordKey, ...] = ()
    reason: str = ""


def wanted_creates(creates: Iterable[RecordWrite], id_fields: Mapping[tuple[str, str], Sequence[str]], *,
                   by_email: bool = True) -> list[Wanted]:
    """The look-up keys of each create: its normalised e-mail (unless identity does not match on e-mail)
    and the cross-reference id it is upserted on."""
    out: list[Wanted] = []
    for w in creates:
        if w.record_id is not None:
            continue
        field = create_key(w, id_fields.get((w.system, w.object_type), ()))
        email = normalise_email(w.values.get(EMAIL_FIELD.get(w.system, ""))) if by_email else None
        out.append(Wanted(w, email, field, str(w.values[field]).strip() if field else None))
    return out


def _other_system(system: str) -> str:
    return "salesforce" if system == "hubspot" else "hubspot"


def _holds_ref(candidate: Candidate, wanted: Wanted) -> bool:
    if wanted.ref_field is None or wanted.ref is None:
        return False
    held = candidate.refs.get(wanted.ref_field)
    source = _other_system(candidate.key.system)
    return bool(held) and ref_key(source, str(held)) == ref_key(source, wanted.ref)


def _matches(candidate: Candidate, wanted: Wanted) -> bool:
    if candidate.key.system != wanted.write.system:
        return False
    return bool(wanted.email and candidate.email == wanted.email) or _holds_ref(candidate, wanted)


def _claim_by_other(candidate: Candidate, wanted: Wanted, owners: Mapping[tuple[str, str], str],
                    claimed: Mapping[RecordKey, str]) -> str | None:
    """Why `candidate` belongs to someone other than the create's person, or None."""
    person = wanted.write.person_id
    key = candidate.key
    taken = claimed.get(key)
    if taken is not None and taken != person:
        return f"{key.object_type} {key.id} was found for another create of this run"
    owner = owners.get(ref_key(key.system, key.id))
    if owner is not None and owner != person:
        return f"{key.object_type} {key.id} is linked to another person"
    source = _other_system(key.system)
    for field, held in sorted(candidate.refs.items()):
        if not held or _holds_ref(candidate, wanted) and field == wanted.ref_field:
            continue
        target = owners.get(ref_key(source, str(held)))
        if target is not None and target != person:
            return f"{key.object_type} {key.id} cross-references a record of another person ({field})"
    return None


def decide(wanted: Sequence[Wanted], candidates: Sequence[Candidate], owners: Mapping[tuple[str, str], str]
           ) -> list[Decision]:
    """One decision per planned create, deterministic whatever the order of the inputs.

    `owners` maps ``ref_key(system, id)`` to the person the store links that record to; it must cover
    the candidates and the records their cross-references name. Creates are decided in person order, and
    a record found for two creates goes to the first; the second is held (someone must look at it)."""
    by_email: dict[str, list[Candidate]] = {}
    by_ref: dict[tuple[str, str, str], list[Candidate]] = {}
    for c in sorted(candidates, key=lambda c: c.key):
        if c.email:
            by_email.setdefault(c.email, []).append(c)
        for field, held in c.refs.items():
            if held:
                by_ref.setdefault((c.key.system, field,
                                   ref_key(_other_system(c.key.system), str(held))[1]), []).append(c)
    claimed: dict[RecordKey, str] = {}
    out: list[Decision] = []
    for w in sorted(wanted, key=lambda w: (w.write.person_id, w.write.system, w.write.object_type)):
        pool = list(by_email.get(w.email, ())) if w.email else []
        if w.ref_field and w.ref:
            pool += by_ref.get((w.write.system, w.ref_field, ref_key(_other_system(w.write.system), w.ref)[1]), ())
        hits = sorted({c.key: c for c in pool if _matches(c, w)}.values(), key=lambda c: c.key)
        if not hits:
            out.append(Decision(w, "create"))
            continue
        found = tuple(c.key for c in hits)
        conflict = next((why for c in hits if (why := _claim_by_other(c, w, owners, claimed))), None)
        if conflict is not None:
            out.append(Decision(w, "hold", found, conflict))
            continue
        for c in hits:
            claimed[c.key] = w.write.person_id
        only = hits[0]
        if len(hits) == 1 and only.key.object_type == w.write.object_type and _holds_ref(only, w):
            out.append(Decision(w, "adopt", found, "it already holds this create's cross-reference"))
        else:
            out.append(Decision(w, "link", found, "found by e-mail or cross-reference"))
    return out


def without_people(plan: WritePlan, people: Iterable[str], dropped_creates: Iterable[str] = ()) -> WritePlan:
    """The plan without any write of `people` (deferred to the next cycle) and without the creates whose
    keys are in `dropped_creates` (adopted: the record exists). What was held back stays held back."""
    skip = set(people)
    drop = set(dropped_creates)
    return replace(plan, creates=tuple(w for w in plan.creates if w.person_id not in skip and w.key not in drop),
                   updates=tuple(w for w in plan.updates if w.person_id not in skip))
