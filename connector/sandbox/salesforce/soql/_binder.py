"""Binding: check a parsed Query against the schema and compile it into a BoundQuery.

The BoundQuery is immutable and cheap to evaluate: WHERE becomes a tree of closures, ORDER BY a
key function, SELECT a projection tree. Records are plain mappings in stored form; parents come
from the caller's ``resolve(sobject, id)``.
"""

from __future__ import annotations

__all__ = ["bind_query", "BoundQuery", "IndexHint", "Resolver", "HintOp", "MAX_OFFSET", "FIELDS_LIMIT"]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal as _L

from ._ast import And, Comparison, CountItem, Expr, FieldRef, FieldsItem, Not, OrderItem, Query
from ._errors import SoqlError
from ._paths import FieldPath, Walk, resolve_path
from ._predicates import TEXT_TYPES, Pred, Range, compile_comparison, sort_norm
from ._project import Projection
from ._schema import FieldLister, SchemaLookup

HintOp = _L["=", "IN", ">", ">=", "<", "<="]
Resolver = Callable[[str, str], "Mapping[str, Any] | None"]
MAX_OFFSET = 2000
FIELDS_LIMIT = 200


@dataclass(frozen=True)
class IndexHint:
    """A top-level AND term the store may use to narrow candidates before calling ``matches``.

    `value` is in stored form (datetime -> epoch ms int, date -> "YYYY-MM-DD", Id -> 18-char str,
    number, True; a list for IN). When `case_insensitive` is True (text fields) the value is
    already lower-cased: compare it with ``lower(column)`` (or ignore the hint). `term` is the
    index of the top-level AND term the hint came from: a date-literal term (``= LAST_N_DAYS:7``)
    yields two hints (>= start, < end) with the same `term`. The hints of a term reproduce it exactly
    under SQL semantics (text columns lower-cased by Python's str.lower and holding NULL, never ''),
    so a store that applied the hints of every term may skip ``matches`` (e.g. to COUNT in SQL);
    otherwise run ``matches`` on the candidates.
    """

    field: str
    op: HintOp
    value: Any
    case_insensitive: bool = False
    term: int = 0


class _Desc:
    """Inverts the ordering of a non-null sort value for DESC terms."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.v < self.v)

    def __gt__(self, other: _Desc) -> bool:
        return bool(other.v > self.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v

    def __hash__(self) -> int:
        return hash(self.v)


class BoundQuery:
    """A query checked against the schema, ready to filter, sort and project stored records."""

    def __init__(
        self,
        *,
        query: Query,
        sobject: str,
        selected: list[FieldPath],
        where: Pred | None,
        hints: list[IndexHint],
        order: list[tuple[OrderItem, FieldPath]],
        projection: Projection,
        is_count: bool,
    ) -> None:
        self.query = query
        self.sobject = sobject
        self.selected_paths = selected
        self.selected: list[str] = [p.dotted for p in selected]
        self.order_by: list[OrderItem] = [item for item, _ in order]
        self.limit: int | None = query.limit
        self.offset: int | None = query.offset
        self.is_count = is_count
        self.for_clause = query.for_clause
        self._where = where
        self._hints = hints
        self._order = [(p, sort_norm(p.info.type), item.descending, item.effective_nulls_first) for item, p in order]
        self._projection = projection
        self.needs_parents = any(p.hops for p in selected) or any(p.hops for _, p in order)

    def __repr__(self) -> str:
        return f"BoundQuery({self.query.text!r})"

    def matches(self, record: Mapping[str, Any], resolve: Resolver) -> bool:
        """Whether `record` satisfies WHERE (always True without one)."""
        if self._where is None:
            return True
        return self._where(Walk(record, resolve))

    def project(self, record: Mapping[str, Any], resolve: Resolver) -> dict[str, Any]:
        """The selected fields as Salesforce JSON (the caller adds the top-level "attributes")."""
        return self._projection.render(Walk(record, resolve))

    def url_for(self, sobject: str, record_id: str) -> str:
        """``/services/data/vNN.N/sobjects/{sobject}/{id}`` for the bound API version."""
        return self._projection.url(sobject, record_id)

    def order_key(self, record: Mapping[str, Any], resolve: Resolver) -> tuple[Any, ...]:
        """A key for ``sorted`` that honours ORDER BY (ascending sort of the keys gives the right order)."""
        walk = Walk(record, resolve)
        key: list[Any] = []
        for path, norm, descending, nulls_first in self._order:
            value = norm(walk.value(path))
            if value is None:
                key.append(0 if nulls_first else 2)
                key.append(None)
            else:
                key.append(1)
                key.append(_Desc(value) if descending else value)
        return tuple(key)

    def sort(self, records: Sequence[Mapping[str, Any]], resolve: Resolver) -> list[Mapping[str, Any]]:
        """`records` in ORDER BY order (stable: ties keep their input order)."""
        if not self._order:
            return list(records)
        return sorted(records, key=lambda r: self.order_key(r, resolve))

    def index_hints(self) -> list[IndexHint]:
        """Hints from top-level AND terms on the object's own fields (never from under OR/NOT)."""
        return list(self._hints)


def bind_query(query: Query, schema: SchemaLookup, now_ms: int, *, api_version: str = "62.0") -> BoundQuery:
    """Resolve names, type-check literals and compile predicates; raises SoqlError.

    Error codes: INVALID_TYPE (unknown object), INVALID_FIELD (unknown field or relationship, a
    literal of the wrong type), INVALID_QUERY_FILTER_OPERATOR (operator not valid for the field
    type, malformed Id literal), MALFORMED_QUERY (COUNT() mixed with fields, duplicate fields,
    FIELDS() without LIMIT), NUMBER_OUTSIDE_VALID_RANGE (OFFSET above 2,000).
    """
    text = query.text
    sobject = schema.object_name(query.sobject)
    if sobject is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom object, be "
            "sure to append the '__c' after the entity name. Please reference your WSDL or the describe call "
            "for the appropriate names.",
            query=text,
            position=query.sobject_pos,
        )
    selected, is_count = _bind_select(query, schema, sobject)
    where: Pred | None = None
    hints: list[IndexHint] = []
    if query.where is not None:
        where = _compile(query.where, schema, sobject, text, now_ms)
        hints = _hints(query.where, schema, sobject, text, now_ms)
    order = [(OrderItem(p.dotted, item.descending, item.effective_nulls_first, item.pos), p)
             for item in query.order_by
             for p in [resolve_path(schema, sobject, tuple(item.field.split(".")), text, item.pos)]]
    for item, path in order:
        if path.info.type == "multipicklist":
            raise SoqlError("INVALID_FIELD", f"field '{path.field}' can not be sorted in a query call",
                            query=text, position=item.pos)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE",
                        f"Maximum SOQL offset allowed for apiName {sobject} is {MAX_OFFSET}")
    projection = Projection(selected, api_version)
    return BoundQuery(query=query, sobject=sobject, selected=selected, where=where, hints=hints, order=order,
                      projection=projection, is_count=is_count)


def _bind_select(query: Query, schema: SchemaLookup, sobject: str) -> tuple[list[FieldPath], bool]:
    text = query.text
    counts = [item for item in query.select if isinstance(item, CountItem)]
    if counts:
        if len(query.select) > 1:
            other = next(i for i in query.select if not isinstance(i, CountItem))
            raise SoqlError("MALFORMED_QUERY", "COUNT() must be the only element in the SELECT list.",
                            query=text, position=getattr(other, "pos", counts[0].pos))
        return [], True
    paths: list[FieldPath] = []
    seen: set[str] = set()
    for item in query.select:
        if isinstance(item, FieldsItem):
            for path in _expand_fields(item, query, schema, sobject):
                if path.dotted.lower() not in seen:
                    seen.add(path.dotted.lower())
                    paths.append(path)
            continue
        if not isinstance(item, FieldRef):  # the parser yields only CountItem, FieldsItem and FieldRef
            raise TypeError(f"unexpected select item {item!r}")
        path = resolve_path(schema, sobject, item.path, text, item.pos)
        if path.dotted.lower() in seen:
            raise SoqlError("MALFORMED_QUERY", f"duplicate field selected: {path.field}", query=text,
                            position=item.pos)
        seen.add(path.dotted.lower())
        paths.append(path)
    return paths, False


def _expand_fields(item: FieldsItem, query: Query, schema: SchemaLookup, sobject: str) -> list[FieldPath]:
    if not isinstance(schema, FieldLister):
        raise SoqlError("MALFORMED_QUERY", "FIELDS() is not supported by this sandbox schema", query=query.text,
                        position=item.pos)
    if item.kind != "STANDARD" and (query.limit is None or query.limit > FIELDS_LIMIT):
        raise SoqlError("MALFORMED_QUERY",
                        f"The SOQL FIELDS function must have a LIMIT of at most {FIELDS_LIMIT}",
                        query=query.text, position=item.pos)
    wanted = [f for f in schema.fields(sobject)
              if item.kind == "ALL" or (item.kind == "CUSTOM") == f.custom]
    return [FieldPath((), f.name, f, f.name) for f in wanted]


def _compile(expr: Expr, schema: SchemaLookup, sobject: str, text: str, now_ms: int) -> Pred:
    if isinstance(expr, Comparison):
        path = resolve_path(schema, sobject, expr.field.path, text, expr.field.pos)
        return compile_comparison(expr, path, text, now_ms)[0]
    if isinstance(expr, Not):
        inner = _compile(expr.item, schema, sobject, text, now_ms)
        return lambda w: not inner(w)
    parts = [_compile(e, schema, sobject, text, now_ms) for e in expr.items]
    if isinstance(expr, And):
        if len(parts) == 2:
            a, b = parts
            return lambda w: a(w) and b(w)
        if len(parts) == 3:
            a, b, c = parts
            return lambda w: a(w) and b(w) and c(w)
        return lambda w: all(p(w) for p in parts)
    if len(parts) == 2:
        a, b = parts
        return lambda w: a(w) or b(w)
    return lambda w: any(p(w) for p in parts)


def _hints(where: Expr, schema: SchemaLookup, sobject: str, text: str, now_ms: int) -> list[IndexHint]:
    terms = where.items if isinstance(where, And) else (where,)
    hints: list[IndexHint] = []
    for index, term in enumerate(terms):
        if not isinstance(term, Comparison) or len(term.field.path) != 1:
            continue
        path = resolve_path(schema, sobject, term.field.path, text, term.field.pos)
        ftype = path.info.type
        if ftype in ("multipicklist", "textarea") or term.op in ("!=", "NOT IN", "LIKE", "INCLUDES", "EXCLUDES"):
            continue
        value = compile_comparison(term, path, text, now_ms)[1]
        ci = ftype in TEXT_TYPES
        if term.op == "IN":
            if any(v is None or isinstance(v, Range) for v in value) or ftype == "boolean":
                continue
            hints.append(IndexHint(path.field, "IN", sorted(set(value)), ci, index))
        elif isinstance(value, Range):
            lo, hi = value.lo, value.hi
            bounds = {"=": [(">=", lo), ("<", hi)], "<": [("<", lo)], "<=": [("<", hi)], ">": [(">=", hi)],
                      ">=": [(">=", lo)]}[term.op]
            hints.extend(IndexHint(path.field, op, v, False, index) for op, v in bounds)  # type: ignore[arg-type]
        elif value is None or (ftype == "boolean" and (value is not True or term.op != "=")):
            continue
        else:
            hints.append(IndexHint(path.field, term.op, value, ci, index))  # type: ignore[arg-type]
    return hints
