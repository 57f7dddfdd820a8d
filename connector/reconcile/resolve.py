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
from .rules import RULES, Candidate, RuleContext
from .transforms import DecodeFailure, TransformContext

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
_MISS = object()
_EMPTY: dict[str, Any] = {}


def _decode(
    f: FieldMapping, rec: SourceRecord, name: str, native: Any, cache: dict[Any, Any], ctx: TransformContext,
    issues: list[Issue],
) -> SideState:
    """Decodes one side; the memo is read inline for strings (the common case)."""
    if native is None:
        return _new(SideState, (rec, name, None, None, False))
    hit = cache.get(native, _MISS) if type(native) is str else _MISS
    if hit is _MISS:
        try:
            hit = f.chain.decode_fast(native, rec.system, ctx)
        except TransformError as exc:
            issues.append(Issue(rec.system, rec.id, name, native, f"{f.name}: {exc}"))
            return _new(SideState, (rec, name, native, None, True))
    elif type(hit) is DecodeFailure:
        err = TransformError(hit.transform, native, hit.reason)
        issues.append(Issue(rec.system, rec.id, name, native, f"{f.name}: {err}"))
        return _new(SideState, (rec, name, native, None, True))
    return _new(SideState, (rec, name, native, hit, False))


def _time(s: SideState) -> tuple[int, str]:
    t = s.record.field_modified_at.get(s.name)
    return (s.record.modified_at, "record") if t is None else (t, "field")


def _holds(f: FieldMapping, s: SideState, value: Any, ctx: TransformContext) -> bool:
    """Whether side ``s`` already holds ``value`` as its native encoding (lossy value maps)."""
    try:
        return bool(f.chain.encode(value, s.record.system, ctx) == s.native)
    except TransformError:
        return False


def _single(s: SideState, rule: str, other: SideState | None) -> Provenance:
    t, basis = _time(s)
    losing: tuple[tuple[System, Any, int | None], ...] = ()
    if other is not None and not other.broken and other.unified != s.unified:
        losing = ((other.record.system, other.unified, _time(other)[0]),)
    return _new(Provenance, (s.unified, s.record.system, s.record.id, t, rule, basis, losing))


def _decide(
    f: FieldMapping, h: SideState | None, s: SideState | None, ctx: TransformContext, tie_breaker: System,
) -> ResolvedField | None:
    """Agreement, blanks, then the field's rule (see the module docstring)."""
    h_ok = h is not None and not h.broken
    s_ok = s is not None and not s.broken
    if not s_ok:
        return _new(ResolvedField, (f, _single(h, f.rule, s), h, s)) if h_ok else None  # type: ignore[arg-type]
    if not h_ok or h is None or s is None:
        return _new(ResolvedField, (f, _single(s, f.rule, h), h, s))  # type: ignore[arg-type]
    hv, sv = h.unified, s.unified
    if hv == sv:  # the common case, inlined: the source is the more recently changed side
        hr, sr = h.record, s.record
        ht = hr.field_modified_at.get(h.name)
        hb = "field" if ht is not None else "record"
        if ht is None:
            ht = hr.modified_at
        st = sr.field_modified_at.get(s.name)
        sb = "field" if st is not None else "record"
        if st is None:
            st = sr.modified_at
        if ht > st or (ht == st and tie_breaker == "hubspot"):
            prov = _new(Provenance, (hv, "hubspot", hr.id, ht, "agreement", hb, ()))
        else:
            prov = _new(Provenance, (sv, "salesforce", sr.id, st, "agreement", sb, ()))
        return _new(ResolvedField, (f, prov, h, s))
    if hv is not None and sv is not None:
        if _holds(f, s, hv, ctx):
            return _new(ResolvedField, (f, _single(h, "agreement", None), h, s))
        if _holds(f, h, sv, ctx):
            return _new(ResolvedField, (f, _single(s, "agreement", None), h, s))
    elif not f.allow_blanking:  # exactly one side is blank: the value wins, whatever the rule
        return _new(ResolvedField, (f, _single(h if sv is None else s, f.rule, s if sv is None else h), h, s))
    (ht, hb), (st, sb) = _time(h), _time(s)
    hc = Candidate("hubspot", hv, h.record.id, ht, hb)  # type: ignore[arg-type]
    sc = Candidate("salesforce", sv, s.record.id, st, sb)  # type: ignore[arg-type]
    d = RULES[f.rule](hc, sc, RuleContext(tie_breaker, f.direction))
    loser = sc if d.winner is hc else hc
    losing = ((loser.system, loser.value, loser.time),) if loser.value != d.value else ()
    prov = _new(Provenance, (d.value, d.winner.system, d.winner.record_id, d.winner.time, f.rule, d.time_basis, losing))
    return _new(ResolvedField, (f, prov, h, s))


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
    out: list[ResolvedField] = []
    hfields = hs.fields if hs is not None else _EMPTY
    sfields = sf.fields if sf is not None else _EMPTY
    sobj = sf.object_type if sf is not None else ""
    for f in fields:
        hname = f.hubspot if hs is not None else None
        sname = f.salesforce.get(sobj) if sf is not None else None
        hn = hfields.get(hname) if hname is not None else None
        sn = sfields.get(sname) if sname is not None else None
        if (hn is None or hn == "") and (sn is None or sn == ""):
            continue  # blank on both sides (or unmapped): nothing to resolve, nothing to write
        chain = f.chain
        if hname is None:
            h = None
        elif type(hn) is str and type(hit := chain.hubspot_cache.get(hn, _MISS)) is not DecodeFailure and hit is not _MISS:
            h = _new(SideState, (hs, hname, hn, hit, False))  # memo hit, inlined (the common case)
        else:
            h = _decode(f, hs, hname, hn, chain.hubspot_cache, ctx, found)  # type: ignore[arg-type]
        if sname is None:
            s = None
        elif placeholder is not None and sn == placeholder:  # our stand-in for a required field reads as blank
            s = _new(SideState, (sf, sname, sn, None, False))
        elif type(sn) is str and type(hit := chain.salesforce_cache.get(sn, _MISS)) is not DecodeFailure and hit is not _MISS:
            s = _new(SideState, (sf, sname, sn, hit, False))
        else:
            s = _decode(f, sf, sname, sn, chain.salesforce_cache, ctx, found)  # type: ignore[arg-type]
        r = _decide(f, h, s, ctx, tie_breaker)
        if r is not None:
            out.append(r)
    return out, found
