"""Field-level resolution: one unified value per field, with the provenance of every decision.

For each mapped field both sides are decoded to the unified form. Values that agree (equal in the
unified form, or one side already holds what the other side's value maps to) are not a conflict:
the provenance says "agreement" and names the more recently changed side. Otherwise blanks are
dropped when the other side has a value (unless ``allow_blanking``), and the field's conflict
rule picks the winner. A value that cannot be decoded is reported as an Issue and its side is left
out (and never overwritten) until someone fixes it.

This is the hot path of reconciliation (one call per field per person), hence NamedTuples and
few allocations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .errors import TransformError
from .mapping import FieldMapping
from .records import Issue, Provenance, SourceRecord, System
from . import rules as _rules
from .rules import RULES, Candidate, RuleContext
from .transforms import _MISS, CallContext, Chain, DecodeFailure, TransformContext

__all__ = ["SideState", "ResolvedField", "resolve_field", "resolve_fields"]


class SideState(NamedTuple):
    """What one system holds now for one field: native name and value, and the unified form."""

    record: SourceRecord
    name: str
    native: Any
    unified: Any
    broken: bool  # the native value could not be decoded (reported as an Issue)


class ResolvedField(NamedTuple):
    """A field's unified value plus each side's current state, for the planner."""

    mapping: FieldMapping
    provenance: Provenance
    hubspot: SideState | None
    salesforce: SideState | None

    def side(self, system: System) -> SideState | None:
        return self.hubspot if system == "hubspot" else self.salesforce


_new = tuple.__new__  # builds NamedTuples without their Python-level __new__ (hot path)
_EMPTY: dict[str, Any] = {}


def _decode(
    f: FieldMapping, rec: SourceRecord, name: str, native: Any, hit: Any, ctx: TransformContext,
    issues: list[Issue],
) -> SideState:
    """Decodes one side whose memo lookup (``hit``) missed or holds a failure; a failure becomes an Issue."""
    if hit is _MISS:
        try:
            hit = f.chain.decode_miss(native, rec.system, ctx)
        except TransformError as exc:
            issues.append(Issue(rec.system, rec.id, name, native, f"{f.name}: {exc}"))
            return _new(SideState, (rec, name, native, None, True))
    else:  # a memoised DecodeFailure
        err = TransformError(hit.transform, native, hit.reason)
        issues.append(Issue(rec.system, rec.id, name, native, f"{f.name}: {err}"))
        return _new(SideState, (rec, name, native, None, True))
    return _new(SideState, (rec, name, native, hit, False))


def _contest(
    f: FieldMapping, rule: str, chain: Chain, hv: Any, sv: Any, hn: Any, sn: Any, hbad: bool, sbad: bool,
    ht: int, hb: str, st: int, sb: str, hid: str, sid: str, tie_breaker: System, ctx: TransformContext,
) -> Provenance | None:
    """The provenance of a field both systems map whose sides differ or are broken (None if both are broken).

    Takes the resolver's locals (unified and native values, change times and their basis, record ids), not
    SideStates: a broken side drops out; values that agree once encoded are an agreement; a value beats a
    blank (unless ``allow_blanking``); otherwise the field's rule decides.
    """
    if sbad:
        return None if hbad else _new(Provenance, (hv, "hubspot", hid, ht, rule, hb, ()))
    if hbad:
        return _new(Provenance, (sv, "salesforce", sid, st, rule, sb, ()))
    if hv is not None and sv is not None:
        if chain.holds(hv, sn, "salesforce", ctx):  # Salesforce already holds HubSpot's value (lossy value maps)
            return _new(Provenance, (hv, "hubspot", hid, ht, "agreement", hb, ()))
        if chain.holds(sv, hn, "hubspot", ctx):
            return _new(Provenance, (sv, "salesforce", sid, st, "agreement", sb, ()))
    elif not f.allow_blanking:  # exactly one side is blank: the value wins, whatever the rule
        if sv is None:
            return _new(Provenance, (hv, "hubspot", hid, ht, rule, hb, (("salesforce", sv, st),)))
        return _new(Provenance, (sv, "salesforce", sid, st, rule, sb, (("hubspot", hv, ht),)))
    decide = RULES[rule]
    fast = _FAST_RULES.get(decide)
    if fast is not None:  # a built-in rule: the same decision without building Candidates and a Decision
        hs_wins, basis = fast(hv, sv, ht, st, hb, sb, tie_breaker, f.direction)
        if hs_wins:
            return _new(Provenance,
                        (hv, "hubspot", hid, ht, rule, basis, (("salesforce", sv, st),) if sv != hv else ()))
        return _new(Provenance, (sv, "salesforce", sid, st, rule, basis, (("hubspot", hv, ht),) if hv != sv else ()))
    hc = Candidate("hubspot", hv, hid, ht, hb)  # type: ignore[arg-type]
    sc = Candidate("salesforce", sv, sid, st, sb)  # type: ignore[arg-type]
    d = decide(hc, sc, RuleContext(tie_breaker, f.direction))
    loser = sc if d.winner is hc else hc
    losing = ((loser.system, loser.value, loser.time),) if loser.value != d.value else ()
    return _new(Provenance, (d.value, d.winner.system, d.winner.record_id, d.winner.time, rule, d.time_basis, losing))


# The built-in rules of rules.py restated for two present candidates (the only way the resolver calls
# a rule): (hv, sv, ht, st, hb, sb, tie_breaker, direction) -> (HubSpot wins, time basis). Each must
# decide exactly as its rule does; found by the rule function itself, so a replaced RULES entry is used.
def _fast_prefer_salesforce(hv: Any, sv: Any, ht: int, st: int, hb: str, sb: str, tie: str, d: str) -> tuple[bool, str]:
    return (sv is None and hv is not None), "record"


def _fast_prefer_hubspot(hv: Any, sv: Any, ht: int, st: int, hb: str, sb: str, tie: str, d: str) -> tuple[bool, str]:
    return (hv is not None or sv is None), "record"


def _fast_always_salesforce(hv: Any, sv: Any, ht: int, st: int, hb: str, sb: str, tie: str, d: str) -> tuple[bool, str]:
    return False, "record"


def _fast_always_hubspot(hv: Any, sv: Any, ht: int, st: int, hb: str, sb: str, tie: str, d: str) -> tuple[bool, str]:
    return True, "record"


def _fast_most_recent(hv: Any, sv: Any, ht: int, st: int, hb: str, sb: str, tie: str, d: str) -> tuple[bool, str]:
    hs_wins = ht > st if ht != st else tie != "salesforce"
    return hs_wins, ("field" if hb == "field" and sb == "field" else "record")


def _fast_most_restrictive(hv: Any, sv: Any, ht: int, st: int, hb: str, sb: str, tie: str, d: str) -> tuple[bool, str]:
    if sv is True:
        return False, "record"
    if hv is True:
        return True, "record"
    return (sv is None and hv is not None), "record"


def _fast_fill_blank_only(hv: Any, sv: Any, ht: int, st: int, hb: str, sb: str, tie: str, d: str) -> tuple[bool, str]:
    if hv is None or sv is None:
        return sv is None, "record"
    if d == "to_hubspot":
        return True, "record"
    if d == "to_salesforce":
        return False, "record"
    return (ht < st if ht != st else tie != "salesforce"), "record"


_FAST_RULES: dict[Any, Any] = {
    _rules.prefer_salesforce_unless_blank: _fast_prefer_salesforce,
    _rules.prefer_hubspot_unless_blank: _fast_prefer_hubspot,
    _rules.always_salesforce: _fast_always_salesforce,
    _rules.always_hubspot: _fast_always_hubspot,
    _rules.most_recent: _fast_most_recent,
    _rules.most_restrictive: _fast_most_restrictive,
    _rules.fill_blank_only: _fast_fill_blank_only,
}


def resolve_field(
    f: FieldMapping, hs: SourceRecord | None, sf: SourceRecord | None, ctx: TransformContext,
    tie_breaker: System, issues: list[Issue], placeholder: str | None = None,
) -> ResolvedField | None:
    """Resolves one field; None when neither side maps it, both are blank, or both are undecodable."""
    found, _ = resolve_fields((f,), hs, sf, ctx, tie_breaker, placeholder, issues)
    return found[0] if found else None


def resolve_fields(
    fields: Sequence[FieldMapping], hs: SourceRecord | None, sf: SourceRecord | None,
    ctx: TransformContext, tie_breaker: System = "salesforce", placeholder: str | None = None,
    issues: list[Issue] | None = None,
) -> tuple[list[ResolvedField], list[Issue]]:
    """Resolves every mapped field between one HubSpot and one Salesforce record (either may be None).

    A Salesforce value equal to ``placeholder`` (inclusion.placeholder) counts as blank. Fields
    blank on both sides are left out. Returns the resolved fields and the issues found.
    """
    found: list[Issue] = [] if issues is None else issues
    return _resolve(fields, hs, sf, ctx, tie_breaker, placeholder, found, None), found


# Compiled field plans, per fields tuple (held here, so its id cannot be reused while cached) and per
# (HubSpot record present, Salesforce object type or None): one flat tuple per field that either side
# maps, with the native names and memo dicts resolved once instead of once per field per person.
# The native names come as two tuples too, so both records' values are fetched with one C-level map each.
_FieldStep = tuple[FieldMapping, str, str, str | None, str | None, dict[Any, Any], dict[Any, Any], Any, Any,
                   Chain | None, Chain]
_FieldPlan = tuple[tuple[_FieldStep, ...], tuple[str | None, ...], tuple[str | None, ...]]
_PLANS: dict[int, tuple[Sequence[FieldMapping], dict[tuple[bool, str | None], _FieldPlan]]] = {}


def _compile(fields: Sequence[FieldMapping], has_hs: bool, sobj: str | None) -> _FieldPlan:
    out = []
    for f in fields:
        hname = f.hubspot if has_hs else None
        sname = f.salesforce.get(sobj) if sobj is not None else None
        if hname is None and sname is None:
            continue  # neither side maps it here: always left out
        chain = f.chain
        # each memo comes with its bound get: a call through it skips the method lookup of memo.get(...)
        out.append((f, f.name, f.rule, hname, sname, chain.hubspot_cache, chain.salesforce_cache,
                    chain.hubspot_cache.get, chain.salesforce_cache.get, None if chain.cacheable else chain, chain))
    return tuple(out), tuple(step[3] for step in out), tuple(step[4] for step in out)


def _plan_for(fields: Sequence[FieldMapping], has_hs: bool, sobj: str | None) -> _FieldPlan:
    if type(fields) is not tuple:  # a short-lived list (e.g. the planner's echo): compile it each time
        return _compile(fields, has_hs, sobj)
    entry = _PLANS.get(id(fields))
    if entry is None or entry[0] is not fields:
        if len(_PLANS) >= 64:
            _PLANS.clear()
        entry = (fields, {})
        _PLANS[id(fields)] = entry
    key = (has_hs, sobj)
    plan = entry[1].get(key)
    if plan is None:
        plan = entry[1][key] = _compile(fields, has_hs, sobj)
    return plan


def _resolve(
    fields: Sequence[FieldMapping], hs: SourceRecord | None, sf: SourceRecord | None, ctx: TransformContext,
    tie_breaker: System, placeholder: str | None, found: list[Issue], named: dict[str, Provenance] | None,
    contested: list[ResolvedField] | None = None,
) -> list[ResolvedField]:
    """resolve_fields' loop, with _decide's common cases inlined; fills ``named`` (name -> provenance) if given.

    ``contested``, if given, receives the fields where a side may need an update: every field except
    those where both sides hold the unified value already or only one side maps it (the planner's
    updates skip those, as every side there already equals the unified value).
    """
    out: list[ResolvedField] = []
    append = out.append
    new = _new
    if hs is not None:
        hget = hs.fields.get
        hfm = hs.field_modified_at.get if hs.field_modified_at else None  # field change times, bound once
        hmod = hs.modified_at
        hid = hs.id
    else:
        hget = _EMPTY.get
        hfm, hmod, hid = None, 0, ""
    if sf is not None:
        sobj = sf.object_type
        sget = sf.fields.get
        sfm = sf.field_modified_at.get if sf.field_modified_at else None
        smod = sf.modified_at
        sid = sf.id
    else:
        sobj = None
        sget = _EMPTY.get
        sfm, smod, sid = None, 0, ""
    tie_hs = tie_breaker == "hubspot"
    call_ctx = type(ctx) is CallContext
    # with both records and a ``contested`` list (the engine), only contested fields need their
    # ResolvedField: the others give just their provenance, and their SideStates are never built
    keep_all = contested is None or hs is None or sf is None
    steps, hnames, snames = _plan_for(fields, hs is not None, sobj)
    # an unmapped name is None, which no record holds as a key: its value reads as None
    for (f, fname, rule, hname, sname, hcache, scache, hlook, slook, dep, chain), hn, sn in zip(
            steps, map(hget, hnames), map(sget, snames), strict=True):  # type: ignore[arg-type]
        if (hn is None or hn == "") and (sn is None or sn == ""):
            continue  # blank on both sides (or unmapped): nothing to resolve, nothing to write
        if dep is not None and call_ctx:  # context-dependent chain (owners): this call's memo
            _, memos, _ = dep._scoped_memos(ctx)  # type: ignore[arg-type]
            hcache, scache = memos["hubspot"], memos["salesforce"]
            hlook, slook = hcache.get, scache.get
        # each side: the memo is read inline (keyed as Chain.decode_fast keys it); misses and failures
        # decode through _decode, which builds the SideState; otherwise it is built only when needed
        h = s = None
        hv = sv = None
        hbad = sbad = False
        if hname is not None and hn is not None:
            if type(hn) is str:
                hit = hlook(hn, _MISS)
                if hit is _MISS and dep is None:  # text in a context-free chain: decode_miss without its layers
                    hit = chain.memoise(hcache, hn, hn, "hubspot", ctx)
            else:
                try:
                    hit = hlook((type(hn), hn), _MISS)
                except TypeError:  # unhashable
                    hit = _MISS
            if hit is _MISS or type(hit) is DecodeFailure:
                h = _decode(f, hs, hname, hn, hit, ctx, found)  # type: ignore[arg-type]
                hv, hbad = h.unified, h.broken
            else:
                hv = hit
        if sname is not None and sn is not None and not (placeholder is not None and sn == placeholder):
            # (the placeholder, our stand-in for a required field, reads as blank)
            if type(sn) is str:
                hit = slook(sn, _MISS)
                if hit is _MISS and dep is None:
                    hit = chain.memoise(scache, sn, sn, "salesforce", ctx)
            else:
                try:
                    hit = slook((type(sn), sn), _MISS)
                except TypeError:
                    hit = _MISS
            if hit is _MISS or type(hit) is DecodeFailure:
                s = _decode(f, sf, sname, sn, hit, ctx, found)  # type: ignore[arg-type]
                sv, sbad = s.unified, s.broken
            else:
                sv = hit
        if sname is None:  # HubSpot only (inlined _decide/_single)
            if hbad:
                continue
            ht = hfm(hname) if hfm is not None else None  # type: ignore[arg-type]  # (mapped on HubSpot here)
            if ht is None:
                prov = new(Provenance, (hv, "hubspot", hid, hmod, rule, "record", ()))
            else:
                prov = new(Provenance, (hv, "hubspot", hid, ht, rule, "field", ()))
            if named is not None:
                named[fname] = prov
            odd = not (hv == hv)  # e.g. NaN: let the planner see it
            if keep_all or odd:
                if h is None:
                    h = new(SideState, (hs, hname, hn, hv, False))
                r = new(ResolvedField, (f, prov, h, None))
                append(r)
                if odd and contested is not None:
                    contested.append(r)
            continue
        if hname is None:  # Salesforce only
            if sbad:
                continue
            st = sfm(sname) if sfm is not None else None
            if st is None:
                prov = new(Provenance, (sv, "salesforce", sid, smod, rule, "record", ()))
            else:
                prov = new(Provenance, (sv, "salesforce", sid, st, rule, "field", ()))
            if named is not None:
                named[fname] = prov
            odd = not (sv == sv)
            if keep_all or odd:
                if s is None:
                    s = new(SideState, (sf, sname, sn, sv, False))
                r = new(ResolvedField, (f, prov, None, s))
                append(r)
                if odd and contested is not None:
                    contested.append(r)
            continue
        # both systems map it: each side's change time (the field's own where the source gives one)
        ht = hfm(hname) if hfm is not None else None
        if ht is None:
            ht, hb = hmod, "record"
        else:
            hb = "field"
        st = sfm(sname) if sfm is not None else None
        if st is None:
            st, sb = smod, "record"
        else:
            sb = "field"
        if not hbad and not sbad and hv == sv:
            # agreement (the common case), inlined: the source is the more recently changed side
            if ht > st or (ht == st and tie_hs):
                value = hv
                prov = new(Provenance, (hv, "hubspot", hid, ht, "agreement", hb, ()))
            else:
                value = sv
                prov = new(Provenance, (sv, "salesforce", sid, st, "agreement", sb, ()))
            needs = not (hv == value and sv == value)  # a side may still need writing (e.g. NaN)
            if not (keep_all or needs):
                if named is not None:
                    named[fname] = prov
                continue
        else:  # a conflict, or a broken side
            decided = _contest(f, rule, chain, hv, sv, hn, sn, hbad, sbad, ht, hb, st, sb, hid, sid, tie_breaker, ctx)
            if decided is None:
                continue
            prov, needs = decided, True
        if named is not None:
            named[fname] = prov
        if h is None:
            h = new(SideState, (hs, hname, hn, hv, False))
        if s is None:
            s = new(SideState, (sf, sname, sn, sv, False))
        r = new(ResolvedField, (f, prov, h, s))
        append(r)
        if needs and contested is not None:
            contested.append(r)
    return out
