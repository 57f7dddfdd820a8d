"""CRM search: filterGroups, one sort, integer-offset paging and the 10,000-result cap, as SQL.

Filters and sorts on the id, create and modify dates (and contact email) use the indexed columns, so
an incremental ``GTE lastmodifieddate`` query stays fast at a million records; other properties are
read from the JSON column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import HubSpotError
from .properties import PropertyRegistry
from .schema import SEARCHABLE, created_prop, modified_prop, normalize_object_type
from .values import iso, parse_time_ms

__all__ = ["SearchQuery", "build_search", "MAX_RESULTS"]

MAX_RESULTS = 10_000
MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS, MAX_LIMIT = 5, 6, 18, 200
OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
             "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
_CMP = {"EQ": "=", "NEQ": "!=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}


@dataclass
class SearchQuery:
    """A search turned into SQL pieces, plus paging."""

    where: str
    params: list[Any]
    order: str
    offset: int
    limit: int
    properties: list[str] | None


def _bad(message: str) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message)


def build_search(object_type: str, body: dict[str, Any], registry: PropertyRegistry) -> SearchQuery:
    """Validate a search body and translate it; raises HubSpotError 400 as HubSpot does."""
    if not isinstance(body, dict):
        raise _bad("Invalid input JSON: the search body must be an object")
    groups = body.get("filterGroups") or []
    if body.get("filters") and not groups:
        groups = [{"filters": body["filters"]}]
    if len(groups) > MAX_GROUPS:
        raise _bad(f"Too many filter groups ({len(groups)}); the maximum is {MAX_GROUPS}")
    total = 0
    clauses: list[str] = []
    params: list[Any] = []
    for group in groups:
        filters = group.get("filters") or []
        if len(filters) > MAX_PER_GROUP:
            raise _bad(f"Too many filters in a filter group ({len(filters)}); the maximum is {MAX_PER_GROUP}")
        total += len(filters)
        parts = []
        for f in filters:
            sql, p = _filter(object_type, f, registry)
            parts.append(sql)
            params.extend(p)
        if parts:
            clauses.append("(" + " AND ".join(parts) + ")")
    if total > MAX_FILTERS:
        raise _bad(f"Too many filters ({total}); the maximum is {MAX_FILTERS} across all filter groups")
    where = "type=? AND archived=0"
    base: list[Any] = [object_type]
    if clauses:
        where += " AND (" + " OR ".join(clauses) + ")"
    query = body.get("query")
    if query:
        text = str(query)
        if len(text) > 3000:
            raise _bad("query must be at most 3000 characters")
        pattern = text.lower().strip() + "*"
        q_parts = [f"hs_token(json_extract(props, '$.{n}'), ?)" for n in SEARCHABLE[object_type]]
        where += " AND (" + " OR ".join(q_parts) + ")"
        params.extend([pattern] * len(q_parts))
    limit = _int(body.get("limit", 10), "limit")
    if limit < 0 or limit > MAX_LIMIT:
        raise _bad(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    offset = _int(body.get("after") or 0, "after")
    if offset >= MAX_RESULTS:
        raise _bad(f"Search results are limited to {MAX_RESULTS} per query: `after` {offset} is past the last "
                   "result you can page to; narrow the query (for example by a date range) instead")
    limit = min(limit, MAX_RESULTS - offset)
    props = body.get("properties")
    return SearchQuery(where, base + params, _order(object_type, body.get("sorts") or [], registry), offset,
                       limit, [str(p) for p in props] if props else None)


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise _bad(f"{name} must be an integer, got {value!r}") from None


def _column(object_type: str, name: str) -> str | None:
    if name == "hs_object_id":
        return "id"
    if name in (created_prop(object_type), "createdate"):
        return "created"
    if name == modified_prop(object_type):
        return "modified"
    return None


def _order(object_type: str, sorts: list[Any], registry: PropertyRegistry) -> str:
    if not sorts:
        return "created ASC, id ASC"
    if len(sorts) > 1:
        raise _bad("Only one sort is supported")
    sort = sorts[0]
    if isinstance(sort, str):
        name, desc = sort.lstrip("-"), sort.startswith("-")
    else:
        name = str(sort.get("propertyName", ""))
        desc = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
    direction = "DESC" if desc else "ASC"
    col = _column(object_type, name)
    if col is not None:
        return f"{col} {direction}" + ("" if col == "id" else f", id {direction}")
    prop = registry.get(object_type, name)
    if prop is None:
        raise _bad(f"Cannot sort by {name!r}: property does not exist on {object_type}")
    expr = f"json_extract(props, '$.{name}')"
    if prop.type == "number":
        expr = f"CAST({expr} AS REAL)"
    return f"{expr} IS NULL, {expr} {direction}, id {direction}"


def _filter(object_type: str, f: dict[str, Any], registry: PropertyRegistry) -> tuple[str, list[Any]]:
    name = str(f.get("propertyName", ""))
    op = str(f.get("operator", "EQ")).upper()
    if op not in OPERATORS:
        raise _bad(f"Unknown filter operator {op!r}; use one of {', '.join(sorted(OPERATORS))}")
    if name.startswith("associations."):
        other = normalize_object_type(name.split(".", 1)[1])
        if other is None or op not in ("EQ", "IN"):
            raise _bad(f"Unsupported association filter {name} {op}")
        ids = [int(v) for v in (f.get("values") or [f.get("value")])]
        marks = ",".join("?" * len(ids))
        return (f"id IN (SELECT from_id FROM assoc WHERE from_type=? AND to_type=? AND to_id IN ({marks}))",
                [object_type, other, *ids])
    col = _column(object_type, name)
    prop = registry.get(object_type, name)
    if col is None and prop is None:
        raise _bad(f"Property {name!r} does not exist on {object_type}; check the filter's propertyName")
    kind = "number" if col == "id" else "datetime" if col else prop.type if prop else "string"
    if col is None and name == "email" and object_type == "contacts":
        col, kind = "email", "email"
    expr = col or f"json_extract(props, '$.{name}')"
    if op == "HAS_PROPERTY":
        return f"{expr} IS NOT NULL", []
    if op == "NOT_HAS_PROPERTY":
        return f"{expr} IS NULL", []
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        sql = f"hs_token({expr}, ?)"
        value = str(f.get("value", ""))
        return (sql if op == "CONTAINS_TOKEN" else f"({expr} IS NULL OR NOT {sql})"), [value]

    def conv(v: Any) -> Any:
        return _convert(kind, v, bool(col), name)

    expr_c = _expr(kind, expr, bool(col))
    if op in ("IN", "NOT_IN"):
        values = f.get("values")
        if not isinstance(values, list) or not values:
            raise _bad(f"Operator {op} needs a non-empty `values` list")
        marks = ",".join("?" * len(values))
        sql = f"{expr_c} IN ({marks})"
        converted = [_convert_in(kind, v, bool(col), name) for v in values]
        return (sql if op == "IN" else f"({expr} IS NULL OR NOT {sql})"), converted
    if op == "BETWEEN":
        if f.get("value") is None or f.get("highValue") is None:
            raise _bad("Operator BETWEEN needs `value` and `highValue`")
        return f"{expr_c} BETWEEN {_cmp_rhs(kind)} AND {_cmp_rhs(kind)}", [conv(f["value"]), conv(f["highValue"])]
    if f.get("value") is None:
        raise _bad(f"Operator {op} needs a `value`")
    sql = f"{expr_c} {_CMP[op]} {_cmp_rhs(kind)}"
    if op == "NEQ":
        sql = f"({expr} IS NULL OR {sql})"
    return sql, [conv(f["value"])]


def _expr(kind: str, expr: str, is_col: bool) -> str:
    if is_col or kind in ("enumeration", "datetime", "date", "email"):
        return expr
    if kind == "number":
        return f"CAST({expr} AS REAL)"
    return f"lower({expr})"


def _cmp_rhs(kind: str) -> str:
    return "CAST(? AS REAL)" if kind == "number" else "?"


def _convert(kind: str, value: Any, is_col: bool, name: str) -> Any:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "datetime":
        ms = parse_time_ms(text)
        if ms is None:
            raise _bad(f"{text!r} is not a valid date for {name}: use epoch milliseconds or ISO-8601")
        return ms if is_col else iso(ms)
    if kind == "date":
        if len(text) == 10 and text[4] == "-":
            return text
        ms = parse_time_ms(text)
        if ms is None:
            raise _bad(f"{text!r} is not a valid date for {name}: use YYYY-MM-DD or epoch milliseconds")
        return iso(ms)[:10]
    if kind == "number":
        try:
            float(text)
        except ValueError:
            raise _bad(f"{text!r} is not a valid number for {name}") from None
        return text
    if kind in ("enumeration",):
        return text
    return text.lower()


def _convert_in(kind: str, value: Any, is_col: bool, name: str) -> Any:
    """IN/NOT_IN: string values must already be lowercase to match (HubSpot's documented rule)."""
    if kind in ("string", "email"):
        return str(value)
    return _convert(kind, value, is_col, name)
