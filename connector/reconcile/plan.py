"""Change planning: the FieldChanges each system needs so both hold the unified values.

Updates carry only fields whose value differs from what the target holds now (compared in the
unified form, or as the target's native encoding). One-way fields follow their direction;
``fill_blank_only`` fields are written only where the target is blank. Creates obey the
inclusion and privacy rules of contacts.toml. Cross-reference ids are kept in step on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .errors import TransformError
from .mapping import ContactMapping, FieldMapping
from .records import FieldChange, Issue, NewRecordId, SourceRecord, System, _field_change
from .resolve import ResolvedField, resolve_fields
from .schema import HUBSPOT_OPT_OUT, LIFECYCLE_ORDER
from .transforms import _MISS, TransformContext, ValueMap, is_blank

__all__ = ["plan_updates", "plan_person", "should_create_in_salesforce", "should_create_in_hubspot",
           "salesforce_object_for"]

_new = tuple.__new__  # FieldChange(...) without its Python-level __new__, in the two hot loops below

_REQUIRED: dict[str, tuple[str, ...]] = {"Lead": ("LastName", "Company"), "Contact": ("LastName",)}


def _encode(
    r: ResolvedField, system: System, ctx: TransformContext, rec_id: str, name: str, issues: list[Issue],
) -> tuple[bool, Any]:
    """The unified value in the target's native form; a failure (e.g. unknown owner) becomes an Issue."""
    try:
        return True, r.mapping.chain.encode_fast(r.provenance.value, system, ctx)
    except TransformError as exc:
        issues.append(Issue(system, rec_id, name, r.provenance.value, f"{r.mapping.name}: {exc}"))
        return False, None


def plan_updates(
    resolved: Sequence[ResolvedField], system: System, ctx: TransformContext, issues: list[Issue], person_id: str = "",
) -> list[FieldChange]:
    """Changes to the existing record of ``system`` so it agrees with the unified values."""
    out: list[FieldChange] = []
    hubspot = system == "hubspot"
    for r in resolved:
        # attributes, not indexing or unpacking: those NamedTuples' item slot is slow when compiled
        side = r.hubspot if hubspot else r.salesforce
        if side is None:
            continue
        prov = r.provenance
        value = prov.value
        if side.unified == value or side.broken:  # already holds it, or its value is broken (never overwritten)
            continue  # (the common case: read no more than this)
        f = r.mapping
        if not (f.writes_hubspot if hubspot else f.writes_salesforce):
            continue
        if f.rule == "fill_blank_only" and side.unified is not None:
            continue
        if value is None and not f.allow_blanking:
            continue
        new = f.chain.encoded(value, system)
        if new is _MISS:
            ok, new = _encode(r, system, ctx, side.record.id, side.name, issues)
            if not ok:
                continue
        if new == side.native or (hubspot and new == "false" and side.name == HUBSPOT_OPT_OUT):
            continue  # (an opt-out is never written "false": the connector opts no one in)
        reason = (f"{f.name}: {prov.rule} chose {prov.system}" if prov.system != system
                  else f"{f.name}: normalised ({prov.rule})")
        rec = side.record
        out.append(_new(FieldChange, (system, rec.object_type, rec.id, side.name, side.native, new, reason, person_id)))
    return out


def _left_out_by(mapping: ContactMapping, unified: Mapping[str, Any] | None) -> str | None:
    """The first `[inclusion] only_when` condition the person's unified values fail, in words (None: all hold,
    or no values to judge, as for a caller that has only the record)."""
    if unified is None:
        return None
    for condition in mapping.only_when:
        if not condition.holds(unified):
            return f"inclusion.only_when: not {condition.text}"
    return None


def should_create_in_salesforce(hs: SourceRecord, mapping: ContactMapping,
                                unified: Mapping[str, Any] | None = None) -> tuple[bool, str]:
    """Whether a HubSpot-only contact is created in Salesforce, with the reason either way (`unified`: the
    person's unified values, which `[inclusion] only_when` tests)."""
    inc, priv = mapping.inclusion, mapping.privacy
    if not inc.create_in_salesforce:
        return False, "inclusion.create_in_salesforce is false"
    if inc.require_email and is_blank(hs.fields.get("email")):
        return False, "no email"
    stage = hs.fields.get("lifecyclestage")
    order = LIFECYCLE_ORDER
    if stage not in order or order.index(stage) < order.index(inc.min_lifecyclestage) or stage == "other":
        return False, f"lifecyclestage {stage!r} is before {inc.min_lifecyclestage!r}"
    if priv.require_lawful_basis:
        bases = {b.strip() for b in str(hs.fields.get(priv.basis_property) or "").split(";") if b.strip()}
        allowed = bool(bases & set(priv.allowed_bases)) or any(
            str(hs.fields.get(c.property) or "") in c.values for c in priv.allow_when
        )
        if not allowed:
            return False, f"no lawful basis in {priv.basis_property} and no privacy.allow_when matches"
    failed = _left_out_by(mapping, unified)
    return (False, failed) if failed else (True, "included")


def should_create_in_hubspot(sf: SourceRecord, mapping: ContactMapping,
                             unified: Mapping[str, Any] | None = None) -> tuple[bool, str]:
    """Whether a Salesforce-only Lead/Contact is created in HubSpot, with the reason either way (`unified` as
    for `should_create_in_salesforce`)."""
    inc = mapping.inclusion
    if not inc.create_in_hubspot:
        return False, "inclusion.create_in_hubspot is false"
    if inc.require_email and is_blank(sf.fields.get("Email")):
        return False, "no email"
    failed = _left_out_by(mapping, unified)
    return (False, failed) if failed else (True, "included")


def salesforce_object_for(hs: SourceRecord, mapping: ContactMapping) -> str:
    """Lead or Contact for a new Salesforce person, by inclusion.create_as and create_as_contact_when."""
    assoc = {"has_deal": "deals", "has_company": "companies"}
    for cond in mapping.inclusion.create_as_contact_when:
        if hs.associations.get(assoc[cond]):
            return "Contact"
    return mapping.inclusion.create_as


def _plan_create(
    resolved: Sequence[ResolvedField], system: System, object_type: str, mapping: ContactMapping,
    ctx: TransformContext, source: SourceRecord, issues: list[Issue], person_id: str,
) -> list[FieldChange]:
    out: dict[str, FieldChange] = {}
    hubspot = system == "hubspot"
    for r in resolved:
        f = r.mapping
        name = f.hubspot if hubspot else f.salesforce.get(object_type)  # f.native_name, inlined
        if name is None or not (f.writes_hubspot if hubspot else f.writes_salesforce) or r.provenance.value is None:
            continue
        new = f.chain.encoded(r.provenance.value, system)
        if new is _MISS:
            ok, new = _encode(r, system, ctx, source.id, name, issues)
            if not ok:
                continue
        if hubspot and new == "false" and name == HUBSPOT_OPT_OUT:
            continue  # a new contact's blank opt-out already means "not opted out"
        out[name] = _new(FieldChange, (system, object_type, None, name, None, new, _create_reason(f), person_id))
    ident = mapping.identity
    if system == "salesforce":
        out[ident.salesforce_hubspot_id_field] = _field_change(
            system, object_type, None, ident.salesforce_hubspot_id_field, None, source.id,
            "create: cross-reference", person_id)
        if object_type == "Lead" and "Status" not in out:  # the explicit setting, before any value map's default
            out["Status"] = _field_change(system, object_type, None, "Status", None, mapping.inclusion.new_lead_status,
                                          "create: inclusion.new_lead_status", person_id)
        for name, source_name, default, reason in _create_defaults(mapping.fields, object_type, source.object_type):
            if name not in out and is_blank(source.fields.get(source_name)):
                out[name] = _field_change(system, object_type, None, name, None, default, reason, person_id)
        for req in _REQUIRED.get(object_type, ()):
            if req not in out:
                out[req] = _field_change(system, object_type, None, req, None, mapping.inclusion.placeholder,
                                         "create: required field placeholder", person_id)
    else:
        prop = ident.hubspot_contact_id_property if source.object_type == "Contact" else ident.hubspot_lead_id_property
        out[prop] = _field_change(system, object_type, None, prop, None, source.id,
                                  "create: cross-reference", person_id)
    return [out[k] for k in sorted(out)]


_DEFAULTS: dict[tuple[int, str, str], tuple[Sequence[FieldMapping], tuple[tuple[str, str, Any, str], ...]]] = {}


def _create_defaults(fields: Sequence[FieldMapping], obj: str,
                     source_obj: str) -> tuple[tuple[str, str, Any, str], ...]:
    """(Salesforce name, HubSpot name, default, reason) of each field that writes Salesforce and whose value
    map has a ``default_to_salesforce``: a new Salesforce record gets that default when the HubSpot value is
    blank, as it does for a HubSpot value the map does not list (Salesforce picklists such as Lead Source
    are expected to hold a value). New HubSpot contacts get no such default: a blank HubSpot property is
    normal, and a Salesforce value is there to copy.

    Computed once per fields tuple and pair of objects (held in the cache, so its id stays unique)."""
    key = (id(fields), obj, source_obj)
    entry = _DEFAULTS.get(key)
    if entry is None or entry[0] is not fields:
        found = []
        for f in fields:
            name, source_name = f.native_name("salesforce", obj), f.native_name("hubspot", source_obj)
            if name is None or source_name is None or not f.writes_salesforce:
                continue
            for t in f.chain.transforms:
                if isinstance(t, ValueMap) and t.default_to_salesforce is not None:
                    found.append((name, source_name, t.default_to_salesforce,
                                  f"create: {f.name} (default_to_salesforce)"))
        if len(_DEFAULTS) >= 256:
            _DEFAULTS.clear()
        entry = _DEFAULTS[key] = (fields, tuple(found))
    return entry[1]


def _plan_xrefs(hs: SourceRecord, sf: SourceRecord, mapping: ContactMapping, person_id: str) -> list[FieldChange]:
    ident = mapping.identity
    out = []
    prop = ident.hubspot_contact_id_property if sf.object_type == "Contact" else ident.hubspot_lead_id_property
    held = hs.fields.get(prop)
    if not (isinstance(held, str) and held.strip()[:15] == sf.id[:15]):
        out.append(_field_change("hubspot", hs.object_type, hs.id, prop, held, sf.id, "cross-reference", person_id))
    field = ident.salesforce_hubspot_id_field
    held_sf = sf.fields.get(field)
    if held_sf is None or str(held_sf).strip() != hs.id:
        out.append(_field_change("salesforce", sf.object_type, sf.id, field, held_sf, hs.id,
                                 "cross-reference", person_id))
    return out


def plan_person(
    resolved: Sequence[ResolvedField], hs: SourceRecord | None, sf: SourceRecord | None,
    mapping: ContactMapping, ctx: TransformContext, issues: list[Issue], person_id: str = "",
) -> list[FieldChange]:
    """Every change for one person: updates on existing records, creates where inclusion allows, cross-refs."""
    changes: list[FieldChange] = []
    if hs is not None:
        changes += plan_updates(resolved, "hubspot", ctx, issues, person_id)
    if sf is not None:
        changes += plan_updates(resolved, "salesforce", ctx, issues, person_id)
    if hs is not None and sf is not None:
        if changes and mapping.shared_sources:
            changes = _cascade(changes, hs, sf, mapping, ctx, person_id)
        changes += _plan_xrefs(hs, sf, mapping, person_id)
    elif hs is not None:
        ok, _ = should_create_in_salesforce(hs, mapping, _unified(resolved) if mapping.only_when else None)
        if ok:
            created = _plan_create(resolved, "salesforce", salesforce_object_for(hs, mapping), mapping, ctx, hs,
                                   issues, person_id)
            changes += created + _echo(created, hs, mapping, ctx, person_id) + _backref(created, hs, mapping, person_id)
    elif sf is not None:
        if should_create_in_hubspot(sf, mapping, _unified(resolved) if mapping.only_when else None)[0]:
            created = _plan_create(resolved, "hubspot", "contacts", mapping, ctx, sf, issues, person_id)
            changes += created + _echo(created, sf, mapping, ctx, person_id) + _backref(created, sf, mapping, person_id)
    return changes


def _unified(resolved: Sequence[ResolvedField]) -> dict[str, Any]:
    """A person's unified values, by field, as `[inclusion] only_when` reads them."""
    return {r.mapping.name: r.provenance.value for r in resolved}


def _applied(rec: SourceRecord, changes: Sequence[FieldChange], now: int) -> SourceRecord:
    mine = [c for c in changes if c.system == rec.system and c.record_id == rec.id]
    if not mine:
        return rec
    times = dict(rec.field_modified_at)
    if rec.system == "hubspot":
        times.update({c.field: now for c in mine})
    return replace(rec, fields={**rec.fields, **{c.field: c.new for c in mine}}, modified_at=now,
                   field_modified_at=times)


def _cascade(
    changes: list[FieldChange], hs: SourceRecord, sf: SourceRecord, mapping: ContactMapping, ctx: TransformContext,
    person_id: str,
) -> list[FieldChange]:
    """Re-plans while a change writes a native field that another unified field also reads.

    E.g. lead_status fills Lead.Status, which lifecycle_stage reads: planned in the same run so
    one plan converges. Bounded; later rounds see the earlier rounds' writes as done.
    """
    shared = mapping.shared_sources
    tie: System = "hubspot" if mapping.settings.tie_breaker == "hubspot" else "salesforce"
    planned = {(c.system, c.field): c for c in changes}
    for _ in range(3):
        if not any((c.system, c.object_type, c.field) in shared for c in planned.values()):
            break
        now = max(hs.modified_at, sf.modified_at, *hs.field_modified_at.values(), 0) + 1
        done = list(planned.values())
        hs2, sf2 = _applied(hs, done, now), _applied(sf, done, now)
        resolved, _ = resolve_fields(mapping.fields, hs2, sf2, ctx, tie, mapping.inclusion.placeholder)
        more = (plan_updates(resolved, "hubspot", ctx, [], person_id)
                + plan_updates(resolved, "salesforce", ctx, [], person_id))
        if not more:
            break
        for c in more:
            first = planned.get((c.system, c.field))
            planned[(c.system, c.field)] = c._replace(old=first.old) if first is not None else c
    return [c for c in planned.values() if c.new != c.old]


def _backref(created: list[FieldChange], source: SourceRecord, mapping: ContactMapping,
             person_id: str) -> list[FieldChange]:
    """The source's cross-reference to the record being created; its value is a NewRecordId placeholder."""
    if not created:
        return []
    ident, obj = mapping.identity, created[0].object_type
    if source.system == "salesforce":
        field = ident.salesforce_hubspot_id_field
    else:
        field = ident.hubspot_contact_id_property if obj == "Contact" else ident.hubspot_lead_id_property
    ref = NewRecordId(created[0].system, obj)
    return [_field_change(source.system, source.object_type, source.id, field, source.fields.get(field), ref,
                          "cross-reference: id of the record created for this person", person_id)]


def _echo(
    created: list[FieldChange], source: SourceRecord, mapping: ContactMapping, ctx: TransformContext, person_id: str,
) -> list[FieldChange]:
    """Changes the source needs once the new record exists (e.g. a default Lead Status read back).

    Planned now, so applying one plan converges instead of needing a second run.
    """
    if not created:
        return []
    system, obj = created[0].system, created[0].object_type
    # only fields that read a created value they did not write themselves can differ (defaults,
    # placeholders, shared sources); every other field reads back exactly what it wrote
    reasons = {c.field: c.reason for c in created}
    candidates = _echo_candidates(mapping.fields, system, obj)
    chosen = tuple(i for i, (f, n, own) in enumerate(candidates) if n in reasons and reasons[n] != own)
    if not chosen:
        return []
    fields = _echo_fields(candidates, chosen)
    new = SourceRecord(system, obj, "(new)", source.modified_at + 1, {c.field: c.new for c in created})
    hs, sf = (source, new) if source.system == "hubspot" else (new, source)
    tie: System = "hubspot" if mapping.settings.tie_breaker == "hubspot" else "salesforce"
    resolved, _ = resolve_fields(fields, hs, sf, ctx, tie, mapping.inclusion.placeholder)
    return plan_updates(resolved, source.system, ctx, [], person_id)


_ECHO: dict[tuple[int, str, str], tuple[Sequence[FieldMapping], tuple[tuple[FieldMapping, str, str], ...]]] = {}
_ECHO_FIELDS: dict[tuple[int, tuple[int, ...]], tuple[tuple[Any, ...], tuple[FieldMapping, ...]]] = {}
_CREATE_REASONS: dict[str, str] = {}


def _create_reason(f: FieldMapping) -> str:
    """"create: <field>", made once per field name rather than once per created record."""
    reason = _CREATE_REASONS.get(f.name)
    if reason is None:
        reason = _CREATE_REASONS[f.name] = f"create: {f.name}"
    return reason


def _echo_fields(candidates: tuple[tuple[FieldMapping, str, str], ...],
                 chosen: tuple[int, ...]) -> tuple[FieldMapping, ...]:
    """The chosen echo candidates as one tuple per combination, kept so the resolver's compiled plan
    for it is reused across people (a fresh list would be compiled again for every create)."""
    key = (id(candidates), chosen)
    entry = _ECHO_FIELDS.get(key)
    if entry is None or entry[0] is not candidates:
        if len(_ECHO_FIELDS) >= 64:
            _ECHO_FIELDS.clear()
        entry = _ECHO_FIELDS[key] = (candidates, tuple(candidates[i][0] for i in chosen))
    return entry[1]


def _echo_candidates(
    fields: Sequence[FieldMapping], system: str, obj: str,
) -> tuple[tuple[FieldMapping, str, str], ...]:
    """(field, native name, the reason its own create carries) of each field mapped on ``obj``, in order;
    computed once per fields tuple (held in the cache, so its id stays unique while cached)."""
    key = (id(fields), system, obj)
    entry = _ECHO.get(key)
    if entry is None or entry[0] is not fields:
        found = tuple((f, n, f"create: {f.name}") for f in fields if (n := f.native_name(system, obj)) is not None)
        if type(fields) is not tuple:  # mutable: not cached
            return found
        if len(_ECHO) >= 256:
            _ECHO.clear()
        entry = _ECHO[key] = (fields, found)
    return entry[1]
