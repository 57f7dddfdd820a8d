"""Compile WHERE comparisons into closures over a ``Walk``, with Salesforce's typing rules.

Semantics (see docs/sandbox/soql.md): text comparisons ignore case and treat '' like null; Ids
compare exactly after 15 -> 18 character normalisation; a boolean null equals FALSE; `!=`,
NOT IN and EXCLUDES match records whose value is null (two-valued logic, no SQL UNKNOWN); date
literals are [start, end) day ranges in UTC.
"""

from __future__ import annotations

__all__ = ["compile_comparison", "Pred", "TEXT_TYPES", "ID_TYPES", "sort_norm", "like_regex", "Range"]

import re
from collections.abc import Callable
from typing import Any

from ..ids import to_18
from ._ast import Comparison, Literal
from ._dates import day_start_ms, literal_range
from ._errors import SoqlError
from ._paths import FieldPath, Walk

Pred = Callable[[Walk], bool]
TEXT_TYPES = frozenset({"string", "email", "phone", "url", "textarea", "picklist"})
NUM_TYPES = frozenset({"int", "double", "currency", "percent"})
ID_TYPES = frozenset({"id", "reference"})
_ID_RE = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_LABEL = {"boolean": "boolean", "int": "int", "double": "double", "currency": "double", "percent": "double",
          "date": "date", "datetime": "dateTime", "id": "id", "reference": "id"}


class Range:
    """A date literal bound to a field type: stored values v with lo <= v < hi."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: Any, hi: Any) -> None:
        self.lo, self.hi = lo, hi

    def __repr__(self) -> str:
        return f"Range({self.lo!r}, {self.hi!r})"


def _norm_fn(ftype: str) -> Callable[[Any], Any]:
    """How a stored value is normalised before comparing (and sorting)."""
    if ftype in TEXT_TYPES:
        return lambda v: str(v).lower() if v is not None and v != "" else None
    if ftype == "multipicklist":
        return lambda v: frozenset(p.strip().lower() for p in str(v).split(";") if p.strip()) if v else None
    if ftype == "boolean":
        return lambda v: bool(v)
    if ftype in ID_TYPES:
        return lambda v: v if v else None
    if ftype in NUM_TYPES:
        return _number
    return lambda v: v


def _number(v: Any) -> Any:
    """Stored numbers are int/float; tolerate numeric strings rather than fail the whole query."""
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return v


def sort_norm(ftype: str) -> Callable[[Any], Any]:
    """Normaliser for ORDER BY keys (text sorts case-insensitively; booleans: null as false)."""
    if ftype == "multipicklist":
        return lambda v: str(v).lower() if v else None
    return _norm_fn(ftype)


class _Compiler:
    """Binds one comparison's literals to its field type and builds the predicate."""

    def __init__(self, cmp: Comparison, path: FieldPath, query: str, now_ms: int) -> None:
        self.cmp, self.path, self.query, self.now_ms = cmp, path, query, now_ms
        self.ftype = path.info.type
        self.label = _LABEL.get(self.ftype, "string")

    def error(self, code: str, message: str, pos: int | None = None) -> SoqlError:
        return SoqlError(code, message, query=self.query, position=self.cmp.field.pos if pos is None else pos)

    def type_error(self) -> SoqlError:
        quoted = self.ftype in TEXT_TYPES or self.ftype == "multipicklist" or self.ftype in ID_TYPES
        return self.error(
            "INVALID_FIELD",
            f"value of filter criterion for field '{self.path.dotted}' must be of type {self.label} and should "
            f"{'' if quoted else 'not '}be enclosed in quotes",
        )

    def operator_error(self) -> SoqlError:
        return self.error("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on {self.ftype} field")

    def literal(self, lit: Literal) -> Any:
        """The literal in normalised stored form (None for null, Range for date literals)."""
        kind, ftype = lit.kind, self.ftype
        if kind == "null":
            return False if ftype == "boolean" else None
        if lit.like_escapes and self.cmp.op != "LIKE":
            raise self.error(
                "MALFORMED_QUERY",
                f"Invalid string literal '{self.query[lit.pos:lit.pos + 40]}'. Illegal character sequence "
                "'\\%' or '\\_' outside a LIKE pattern.", lit.pos)
        if ftype in TEXT_TYPES or ftype == "multipicklist":
            if kind != "string":
                raise self.type_error()
            text = str(lit.value)
            if ftype == "multipicklist" and self.cmp.op in ("=", "!=", "INCLUDES", "EXCLUDES", "IN", "NOT IN"):
                return frozenset(p.strip().lower() for p in text.split(";") if p.strip()) or None
            return text.lower() if text else None
        if ftype in ID_TYPES:
            if kind != "string":
                raise self.type_error()
            text = str(lit.value)
            if not _ID_RE.fullmatch(text):
                raise self.error("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {text}", lit.pos)
            return to_18(text[:15])
        if ftype == "boolean":
            if kind != "boolean":
                raise self.type_error()
            return lit.value
        if ftype in NUM_TYPES:
            if kind != "number":
                raise self.type_error()
            text = str(lit.value)
            return float(text) if any(c in text for c in ".eE") else int(text)
        if ftype in ("date", "datetime"):
            if kind == "date_literal":
                try:
                    lo, hi = literal_range(str(lit.value), lit.n, self.now_ms)
                except (ValueError, OverflowError):
                    raise self.error("MALFORMED_QUERY", f"Invalid date literal: {lit.value}:{lit.n}", lit.pos) from None
                if ftype == "date":
                    return Range(lo.isoformat(), hi.isoformat())
                return Range(day_start_ms(lo), day_start_ms(hi))
            if (ftype == "date" and kind == "date") or (ftype == "datetime" and kind == "datetime"):
                return lit.value
            raise self.type_error()
        raise self.type_error()

    def compile(self) -> tuple[Pred, Any]:
        """(predicate, bound value) for the comparison."""
        cmp, ftype = self.cmp, self.ftype
        op = cmp.op
        if op == "LIKE" and ftype not in TEXT_TYPES:
            raise self.operator_error()
        if op in ("INCLUDES", "EXCLUDES") and ftype != "multipicklist":
            raise self.error("INVALID_QUERY_FILTER_OPERATOR",
                             "includes or excludes operator only valid on multipicklist field", cmp.pos)
        if op in ("<", "<=", ">", ">=") and ftype in ("boolean", "multipicklist"):
            raise self.operator_error()
        if op == "LIKE" and isinstance(cmp.value, Literal) and cmp.value.kind != "string":
            raise self.type_error()
        get = _getter(self.path, _norm_fn(ftype))
        if isinstance(cmp.value, tuple):
            values = [self.literal(v) for v in cmp.value]
            if op in ("INCLUDES", "EXCLUDES"):
                return _includes(get, values, op == "EXCLUDES"), values
            return _in(get, values, op == "NOT IN"), values
        value = self.literal(cmp.value)
        if op == "LIKE":
            return _like(get, cmp.value.raw or ""), value
        if isinstance(value, Range):
            return _range(get, op, value), value
        return _scalar(get, op, value), value


def _getter(path: FieldPath, norm: Callable[[Any], Any]) -> Callable[[Walk], Any]:
    if not path.hops:
        name = path.field
        return lambda w: norm(w.record.get(name))
    return lambda w: norm(w.value(path))


def _scalar(get: Callable[[Walk], Any], op: str, x: Any) -> Pred:
    if x is None:
        if op == "=":
            return lambda w: get(w) is None
        if op == "!=":
            return lambda w: get(w) is not None
        return lambda w: False
    if op == "=":
        return lambda w: get(w) == x
    if op == "!=":
        return lambda w: get(w) != x
    if op == "<":
        return lambda w: (v := get(w)) is not None and v < x
    if op == "<=":
        return lambda w: (v := get(w)) is not None and v <= x
    if op == ">":
        return lambda w: (v := get(w)) is not None and v > x
    return lambda w: (v := get(w)) is not None and v >= x


def _in_range(v: Any, r: Range) -> bool:
    return v is not None and r.lo <= v < r.hi


def _range(get: Callable[[Walk], Any], op: str, r: Range) -> Pred:
    lo, hi = r.lo, r.hi
    if op == "=":
        return lambda w: (v := get(w)) is not None and lo <= v < hi
    if op == "!=":
        return lambda w: (v := get(w)) is None or not (lo <= v < hi)
    if op == "<":
        return lambda w: (v := get(w)) is not None and v < lo
    if op == "<=":
        return lambda w: (v := get(w)) is not None and v < hi
    if op == ">":
        return lambda w: (v := get(w)) is not None and v >= hi
    return lambda w: (v := get(w)) is not None and v >= lo


def _in(get: Callable[[Walk], Any], values: list[Any], negate: bool) -> Pred:
    ranges = [v for v in values if isinstance(v, Range)]
    points = frozenset(v for v in values if not isinstance(v, Range))
    if not ranges:
        if negate:
            return lambda w: get(w) not in points
        return lambda w: get(w) in points

    def member(w: Walk) -> bool:
        v = get(w)
        return v in points or any(_in_range(v, r) for r in ranges)

    if negate:
        return lambda w: not member(w)
    return member


def _includes(get: Callable[[Walk], Any], values: list[Any], negate: bool) -> Pred:
    terms = [t for t in values if t]

    def hit(w: Walk) -> bool:
        v = get(w)
        return v is not None and any(t <= v for t in terms)

    if negate:
        return lambda w: not hit(w)
    return hit


def like_regex(raw: str) -> re.Pattern[str]:
    """A LIKE pattern (``%`` any run, ``_`` one char, backslash escapes) as a case-insensitive regex."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            out.append(re.escape(raw[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out).lower(), re.DOTALL)


def _like(get: Callable[[Walk], Any], raw: str) -> Pred:
    rx = like_regex(raw)
    fullmatch = rx.fullmatch
    return lambda w: (v := get(w)) is not None and fullmatch(v) is not None


def compile_comparison(cmp: Comparison, path: FieldPath, query: str, now_ms: int) -> tuple[Pred, Any]:
    """(predicate, bound literal value(s)) for one comparison; raises SoqlError on type errors."""
    return _Compiler(cmp, path, query, now_ms).compile()
