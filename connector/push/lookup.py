"""The look-up step between planning and the creates: ask the target system before creating anyone.

Why: the pull stops ``safety_lag_seconds`` short of the run's start, and a first sync reads Salesforce
only up to there, so the store may not know a record changed or created in the last minute. Its twin
in the other system then looks new, and a create would duplicate the person. So every planned create
is looked up in its target system, batched, right before the creates go out; ``matching`` decides what
each becomes, and this step carries that out:

- adopted records are stored as created and their ids given to the Pusher, so the cross-references
  to them are written in this same run, as after a create;
- linked records are staged and linked; the person's writes wait for the next cycle, which reconciles
  them with the found record by the normal rules (a blind write of the create's values onto an
  existing record would overwrite data no rule chose);
- held creates are parked for review, with the record ids that stopped them.

Cost: Salesforce, two queries (Lead, Contact) per 200 creates, five to a Composite call; HubSpot,
one batch read per 100 addresses. A plan without creates costs nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ..objects.streams import PEOPLE_STREAMS, with_mapped_fields
from ..reconcile.mapping import ContactMapping
from ..reconcile.records import RecordKey
from ..store.found import linked_people, record_found
from ..store.pushes import Rejected, record_batch
from ..systems.ports import Source, StagedRecord
from .matching import (
    EMAIL_FIELD,
    Candidate,
    Decision,
    Wanted,
    decide,
    normalise_email,
    ref_key,
    wanted_creates,
    without_people,
)
from ..reconcile.writes import WritePlan

__all__ = ["HELD_CODE", "Finder", "Looked", "look_before_create", "people_finders", "people_id_fields"]

log = logging.getLogger(__name__)

#: the parking code of a create held because the target system holds the person under someone else
HELD_CODE = "EXISTS_ELSEWHERE"

#: finds the records a target system holds for some planned creates (as the pull would stage them)
Finder = Callable[[Sequence[Wanted]], list[StagedRecord]]


@dataclass
class Looked:
    """The plan left after the look-ups, the ids of adopted records and what was decided."""

    plan: WritePlan
    #: (person id, system, object type) -> id of the record adopted for that create (for Pusher.created)
    adopted: dict[tuple[str, str, str], str] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    deferred_writes: int = 0

    def to_json(self) -> dict[str, Any]:
        """Totals, and per system the creates looked up, the e-mail addresses asked for, and the verdicts."""
        verdicts = Counter(d.verdict for d in self.decisions)
        out: dict[str, Any] = {"looked_up": len(self.decisions), "created": verdicts["create"],
                               "adopted": verdicts["adopt"], "linked": verdicts["link"], "held": verdicts["hold"],
                               "deferred_writes": self.deferred_writes}
        for system in ("hubspot", "salesforce"):
            mine = [d for d in self.decisions if d.wanted.write.system == system]
            out[system] = {"looked_up": len(mine), "addresses": len({d.wanted.email for d in mine if d.wanted.email}),
                           **{k: sum(1 for d in mine if d.verdict == v) for k, v in
                              (("created", "create"), ("adopted", "adopt"), ("linked", "link"), ("held", "hold"))}}
        return out


def people_id_fields(mapping: ContactMapping) -> dict[tuple[str, str], tuple[str, ...]]:
    """The cross-reference fields of person records: what creates are upserted on, and what identity reads."""
    ident = mapping.identity
    return {("salesforce", "Lead"): (ident.salesforce_hubspot_id_field,),
            ("salesforce", "Contact"): (ident.salesforce_hubspot_id_field,),
            ("hubspot", "contacts"): (ident.hubspot_contact_id_property, ident.hubspot_lead_id_property)}


def people_finders(hubspot: Source, salesforce: Source, mapping: ContactMapping) -> dict[str, Finder]:
    """Look-ups of person records in both systems, reading what the pull reads."""
    fields = {s.object_type: with_mapped_fields(s, mapping).fields for s in PEOPLE_STREAMS
              if s.object_type in ("contacts", "Lead", "Contact")}
    ref_field = mapping.identity.salesforce_hubspot_id_field

    def in_salesforce(wanted: Sequence[Wanted]) -> list[StagedRecord]:
        return salesforce.find([(w.email, w.ref) for w in wanted],
                               fields={"Lead": fields["Lead"], "Contact": fields["Contact"]}, ref_field=ref_field)

    def in_hubspot(wanted: Sequence[Wanted]) -> list[StagedRecord]:
        return hubspot.find([(w.email, w.ref) for w in wanted], fields={"contacts": fields["contacts"]},
                            ref_field=ref_field)

    return {"salesforce": in_salesforce, "hubspot": in_hubspot}


def look_before_create(engine: Engine, plan: WritePlan, finders: Mapping[str, Finder], *,
                       id_fields: Mapping[tuple[str, str], Sequence[str]], by_email: bool = True,
                       now_ms: int, run_id: int | None, dry_run: bool = False) -> Looked:
    """Look every planned create up in its target system and act on the decisions (see the module doc);
    with `dry_run` (`connector plan`), decide the same and store nothing.

    Raises what the finders raise (ApiError, MalformedResponse): no create is sent unlooked, so a failed
    look-up stops the run before any write; the next cycle looks again."""
    wanted = wanted_creates(plan.creates, id_fields, by_email=by_email)
    if not wanted:
        return Looked(plan)
    found: dict[RecordKey, list[StagedRecord]] = {}
    for system in sorted({w.write.system for w in wanted}):
        finder = finders.get(system)
        if finder is None:
            raise ValueError(f"no look-up for {system}: creates there cannot be checked for duplicates")
        for record in finder([w for w in wanted if w.write.system == system]):
            parent = record.merged_into if record.merged_into and not record.data else record.record_id
            key = RecordKey(record.system, record.object_type, parent)
            found.setdefault(key, []).append(record)
    xrefs: dict[str, set[str]] = {}
    for (target, _), names in id_fields.items():
        xrefs.setdefault(target, set()).update(names)
    candidates = []
    for key, records in sorted(found.items()):
        live = next((r for r in records if r.record_id == key.id and not r.deleted), None)
        if live is None:
            continue
        record = live
        found[key] = [record, *(r for r in records if r is not record)]
        refs = {f: str(record.data[f]).strip() for f in sorted(xrefs.get(key.system, ()))
                if record.data.get(f) not in (None, "")}
        candidates.append(Candidate(key, normalise_email(record.data.get(EMAIL_FIELD[key.system])), refs))
    asked = {ref_key(c.key.system, c.key.id) for c in candidates}
    asked |= {ref_key("salesforce" if c.key.system == "hubspot" else "hubspot", v) for c in candidates
              for v in c.refs.values()}
    decisions = decide(wanted, candidates, linked_people(engine, asked) if asked else {})
    return _carry_out(engine, plan, decisions, found, now_ms=now_ms, run_id=run_id, dry_run=dry_run)


def _carry_out(engine: Engine, plan: WritePlan, decisions: Sequence[Decision],
               found: Mapping[RecordKey, Sequence[StagedRecord]], *, now_ms: int, run_id: int | None,
               dry_run: bool = False) -> Looked:
    adopted: dict[tuple[str, str, str], str] = {}
    to_adopt: list[tuple[str, Sequence[StagedRecord]]] = []
    to_link: list[tuple[str, Sequence[StagedRecord]]] = []
    held: list[Rejected] = []
    deferred: set[str] = set()
    for d in decisions:
        write = d.wanted.write
        if d.verdict == "adopt":
            adopted[(write.person_id, write.system, write.object_type)] = d.found[0].id
            to_adopt.append((write.person_id, found[d.found[0]]))
        elif d.verdict == "link":
            to_link += [(write.person_id, found[k]) for k in d.found]
            deferred.add(write.person_id)
        elif d.verdict == "hold":
            held.append(Rejected(write, (), HELD_CODE, f"not created: {d.reason}", _hint(write.system, d)))
            deferred.add(write.person_id)
    if (to_adopt or to_link) and not dry_run:
        record_found(engine, linked=to_link, adopted=to_adopt, now_ms=now_ms, run_id=run_id)
    if held and not dry_run:
        record_batch(engine, [], held, now_ms=now_ms, run_id=run_id)
    left = without_people(plan, deferred, {d.wanted.write.key for d in decisions if d.verdict == "adopt"})
    looked = Looked(left, adopted, list(decisions),
                    deferred_writes=len(plan.creates) + len(plan.updates) - len(left.creates) - len(left.updates)
                    - len(adopted))
    counts = looked.to_json()
    if (counts["adopted"] or counts["linked"] or counts["held"]) and not dry_run:
        log.info("looked up %d creates: %d created, %d adopted (already there), %d linked to records found "
                 "(their writes wait for the next sync), %d held for review", counts["looked_up"],
                 counts["created"], counts["adopted"], counts["linked"], counts["held"])
    return looked


def _hint(system: str, decision: Decision) -> str:
    name = "Salesforce" if system == "salesforce" else "HubSpot"
    record = decision.found[0].id if decision.found else ""
    return (f"{name} already holds this person under a record that belongs to someone else; `connector explain "
            f"{record}` shows whose it is. If they are one person, merge the records in {name}; then `connector "
            "retry` looks again (creating it would make a duplicate)")
