"""Identity by cross-reference ids between a HubSpot object and a Salesforce object. Pure (no I/O).

Deals and Opportunities, companies and Accounts are linked the same way: each side may hold the other's id
(HubSpot ``salesforce_opportunity_id`` / ``salesforce_account_id``; Salesforce ``HubSpot_Deal_Id__c`` /
``HubSpot_Company_Id__c``), and either direction suffices. A `CrossRef` names the two fields and how the
records are called in messages; the functions here are what both objects' reconciliations share:

* When cross-references disagree (typically a cloned record that kept its source's id), each record is
  linked at most once: links claimed by both sides first, then claims made by the tie-breaker's side, then
  lowest ids. Every claim left out is reported; the record that lost it is then treated as unlinked.
* Deleted records never match and are never re-created: an unlinked record whose cross-reference points at
  a deleted (or unknown) record, or that a deleted record claims, is blocked, not created.
  Merged-away records are skipped; references to them follow ``merged_into`` to the survivor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import TransformError
from .mapping import FieldMapping
from .records import FieldChange, Issue, NewRecordId, SourceRecord, System, other_system
from .resolve import resolve_fields
from .transforms import TransformContext, is_blank

__all__ = ["CrossRef", "Edge", "blocked", "by_id", "dead_claims", "hs_id", "link", "live", "new_partner", "new_record",
           "report_conflicts", "sf15"]

#: (HubSpot id, Salesforce 15-character id)
Edge = tuple[str, str]


@dataclass(frozen=True)
class CrossRef:
    """The two cross-reference fields of one object pair, and the records' names in messages."""

    #: the HubSpot property holding the Salesforce id
    hubspot_field: str
    #: the Salesforce field holding the HubSpot id
    salesforce_field: str
    #: "deal", "company": a HubSpot record in messages ("deal 12 is linked to ...")
    hubspot_noun: str
    #: "Opportunity", "Account"
    salesforce_noun: str

    def field_of(self, system: str) -> str:
        """The cross-reference field a record of `system` holds."""
        return self.hubspot_field if system == "hubspot" else self.salesforce_field


def sf15(value: Any) -> str | None:
    """A Salesforce id compared on its case-sensitive 15-character form (18-char ids add a checksum)."""
    return value.strip()[:15] if isinstance(value, str) and value.strip() else None


def hs_id(value: Any) -> str | None:
    """A HubSpot id as held in a Salesforce text field (None when blank)."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def live(rec: SourceRecord) -> bool:
    return not rec.deleted and rec.merged_into is None


def by_id(records: Iterable[SourceRecord], short: bool = False) -> dict[str, SourceRecord]:
    """Records by id (15-char for Salesforce); a duplicated id keeps the latest version, whatever the order."""
    out: dict[str, SourceRecord] = {}
    for rec in records:
        key = rec.id[:15] if short else rec.id
        held = out.get(key)
        if held is None or (rec.modified_at, rec.deleted, rec.id) > (held.modified_at, held.deleted, held.id):
            out[key] = rec
    return out


def follow(ref: str | None, records: Mapping[str, SourceRecord], short: bool) -> tuple[str, SourceRecord | None]:
    """Where a reference leads: ("live", record), ("deleted", record), ("unknown", None) or ("blank", None).

    Follows merged-away records to their survivor (bounded, so a merge cycle cannot loop).
    """
    if ref is None:
        return "blank", None
    key = ref[:15] if short else ref
    for _ in range(16):
        rec = records.get(key)
        if rec is None:
            return "unknown", None
        if rec.deleted:
            return "deleted", rec
        if rec.merged_into is None:
            return "live", rec
        key = rec.merged_into[:15] if short else rec.merged_into
    return "unknown", None


def _survivor(rec: SourceRecord, records: Mapping[str, SourceRecord], short: bool) -> SourceRecord | None:
    """The live record a merged-away record ended in (None when deleted or not in the input)."""
    state, found = follow(rec.merged_into, records, short)
    return found if state == "live" else None


def link(hs: Mapping[str, SourceRecord], sf: Mapping[str, SourceRecord], tie: System, ref: CrossRef
         ) -> tuple[list[Edge], dict[Edge, set[str]]]:
    """One-to-one links from the cross-references of both sides; returns (pairs, claims left out).

    `hs` by id, `sf` by 15-character id (`by_id`). A merged-away record's claim counts for its survivor (a
    merge can leave the id on the loser).
    """
    claims: dict[Edge, set[str]] = {}
    for rec in hs.values():
        owner = rec if live(rec) else _survivor(rec, hs, False) if not rec.deleted else None
        state, other = follow(sf15(rec.fields.get(ref.hubspot_field)), sf, True)
        if owner is not None and state == "live" and other is not None:
            claims.setdefault((owner.id, other.id[:15]), set()).add("hubspot")
    for rec in sf.values():
        owner = rec if live(rec) else _survivor(rec, sf, True) if not rec.deleted else None
        state, other = follow(hs_id(rec.fields.get(ref.salesforce_field)), hs, False)
        if owner is not None and state == "live" and other is not None:
            claims.setdefault((other.id, owner.id[:15]), set()).add("salesforce")
    pairs: list[Edge] = []
    taken_h: set[str] = set()
    taken_s: set[str] = set()
    dropped: dict[Edge, set[str]] = {}
    for edge, by in sorted(claims.items(), key=lambda kv: (-len(kv[1]), tie not in kv[1], kv[0])):
        h, s = edge
        if h in taken_h or s in taken_s:
            dropped[edge] = by
            continue
        taken_h.add(h)
        taken_s.add(s)
        pairs.append(edge)
    return pairs, dropped


def report_conflicts(dropped: Mapping[Edge, set[str]], hs: Mapping[str, SourceRecord],
                     sf: Mapping[str, SourceRecord], pairs: Iterable[Edge], ref: CrossRef, issues: list[Issue]
                     ) -> None:
    """One Issue per cross-reference claim that was not used because a stronger link took a side."""
    linked_h = dict(pairs)
    linked_s = {s: h for h, s in linked_h.items()}
    for (h, s), by in sorted(dropped.items()):
        hrec, srec = hs[h], sf[s]
        other_s = linked_h.get(h)
        other_h = linked_s.get(s)
        where = "; ".join(
            part for part in (
                f"{ref.hubspot_noun} {h} is linked to {ref.salesforce_noun} {sf[other_s].id}" if other_s else "",
                f"{ref.salesforce_noun} {srec.id} is linked to {ref.hubspot_noun} {other_h}" if other_h else "",
            ) if part
        )
        if "hubspot" in by:
            issues.append(Issue("hubspot", hrec.id, ref.hubspot_field, hrec.fields.get(ref.hubspot_field),
                                f"conflicting cross-reference to {ref.salesforce_noun} {srec.id} ignored: {where}"))
        if "salesforce" in by:
            issues.append(Issue("salesforce", srec.id, ref.salesforce_field, srec.fields.get(ref.salesforce_field),
                                f"conflicting cross-reference to {ref.hubspot_noun} {hrec.id} ignored: {where}"))


def dead_claims(hs: Mapping[str, SourceRecord], sf: Mapping[str, SourceRecord], ref: CrossRef
                ) -> dict[tuple[str, str], str]:
    """Records claimed by a deleted record of the other system: (system, key) -> the deleted record's name."""
    out: dict[tuple[str, str], str] = {}
    for rec in sorted(hs.values(), key=lambda r: r.id):
        target = sf15(rec.fields.get(ref.hubspot_field))
        if rec.deleted and target is not None:
            out.setdefault(("salesforce", target), f"deleted HubSpot {ref.hubspot_noun} {rec.id}")
    for rec in sorted(sf.values(), key=lambda r: r.id):
        target = hs_id(rec.fields.get(ref.salesforce_field))
        if rec.deleted and target is not None:
            out.setdefault(("hubspot", target), f"deleted {ref.salesforce_noun} {rec.id}")
    return out


def blocked(rec: SourceRecord, others: Mapping[str, SourceRecord], dead_claim: str | None, ref: CrossRef) -> str:
    """Why an unlinked record must not get a new partner ("" when it may): its partner was deleted or is unknown."""
    if rec.system == "salesforce":
        target, short, kind = hs_id(rec.fields.get(ref.salesforce_field)), False, f"HubSpot {ref.hubspot_noun}"
    else:
        target, short, kind = sf15(rec.fields.get(ref.hubspot_field)), True, ref.salesforce_noun
    state, _ = follow(target, others, short)
    if state == "deleted":
        return f"its {kind} {target} was deleted"
    if state == "unknown":
        return f"its {kind} {target} is not in the input (deleted, or not pulled)"
    if dead_claim is not None:
        return f"the {dead_claim} referenced it"
    return ""  # blank, or a live record linked elsewhere (a conflict, reported): gets its own partner


def new_record(fields: Sequence[FieldMapping], source: SourceRecord, system: System, object_type: str,
               ctx: TransformContext, tie: System, group: str, required: Sequence[str], issues: list[Issue]
               ) -> dict[str, FieldChange]:
    """The mapped fields of a record created in `system` for an unlinked `source`, in the target's native form
    (like plan._plan_create for people); empty, with an Issue, when a field the target requires would be
    missing (the system would refuse the record)."""
    hs, sf = (None, source) if source.system == "salesforce" else (source, None)
    resolved, _ = resolve_fields(fields, hs, sf, ctx, tie, None, issues)
    out: dict[str, FieldChange] = {}
    for r in resolved:
        f = r.mapping
        name = f.native_name(system, object_type)
        if name is None or not f.writes(system) or r.provenance.value is None:
            continue
        try:
            new = f.chain.encode(r.provenance.value, system, ctx)
        except TransformError as exc:
            issues.append(Issue(system, source.id, name, r.provenance.value, f"{f.name}: {exc}"))
            continue
        if not is_blank(new):
            out[name] = FieldChange(system, object_type, None, name, None, new, f"create: {f.name}", group)
    missing = [n for n in required if n not in out]
    if missing:
        issues.append(Issue(source.system, source.id, "", None,
                            f"cannot create the {system} {object_type} record: no value for {', '.join(missing)}"))
        return {}
    return out


def new_partner(fields: Sequence[FieldMapping], source: SourceRecord, object_type: str, ctx: TransformContext,
                tie: System, group: str, required: Sequence[str], ref: CrossRef, issues: list[Issue]
                ) -> tuple[dict[str, FieldChange], FieldChange] | None:
    """The record created in the other system for an unlinked `source` (`new_record`, plus its cross-reference
    to the source), and the source's back-reference to it (a `NewRecordId` the push fills in once the create
    is done); None, with an Issue, when the target would refuse the record."""
    target = other_system(source.system)
    made = new_record(fields, source, target, object_type, ctx, tie, group, required, issues)
    if not made:
        return None
    made[ref.field_of(target)] = FieldChange(target, object_type, None, ref.field_of(target), None, source.id,
                                             "create: cross-reference", group)
    nouns = {"hubspot": ref.hubspot_noun, "salesforce": ref.salesforce_noun}
    back = FieldChange(source.system, source.object_type, source.id, ref.field_of(source.system),
                       source.fields.get(ref.field_of(source.system)), NewRecordId(target, object_type),
                       f"cross-reference: id of the {nouns[target]} created for this {nouns[source.system]}", group)
    return made, back
