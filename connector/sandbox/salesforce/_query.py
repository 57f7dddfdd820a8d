"""SOQL execution over the SQLite store: index-narrowed candidates, Python predicates, cursors.

The SOQL module parses and evaluates; this module picks the SQL that narrows candidates (its index
hints), keeps results streaming in SQL order when ORDER BY allows it (Id, SystemModstamp, CreatedDate,
LastModifiedDate), and otherwise sorts only the matching ids. REST query cursors (query-more locators)
resume by key, so a page never re-reads the whole table.
"""

from __future__ import annotations

from collections import Counter

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._errors import ApiError
from ._store import INDEXED_COLUMNS
from .ids import KEY_PREFIXES, make_id, prefix_object
from .soql import And, BoundQuery, Comparison, Expr, Literal, Not, Or, Query, SoqlError, bind_query, parse_soql

if TYPE_CHECKING:
    from ._state import SalesforceState

__all__ = ["Plan", "plan_query", "run_query", "query_more", "iter_records", "Resolver"]

_KEYSET_COLUMNS = {"Id": "id", "SystemModstamp": "modstamp_ms", "CreatedDate": "created_ms",
                   "LastModifiedDate": "lastmod_ms"}
_OPS = {"=": "=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
CURSOR_IDLE_MS = 15 * 60_000
MAX_CURSORS = 50


class Resolver:
    """Parent lookups for one page, cached (``resolve(sobject, id)`` of the SOQL module)."""

    def __init__(self, state: SalesforceState) -> None:
        self.state = state
        self.cache: dict[str, dict[str, Any] | None] = {}

    def __call__(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        if not record_id or prefix_object(record_id) != sobject:
            return None
        if record_id not in self.cache:
            if len(self.cache) > 10_000:
                self.cache.clear()
            self.cache[record_id] = self.state.store.get(record_id)
        return self.cache[record_id]


@dataclass
class Plan:
    """How one bound query runs against the store."""

    bq: BoundQuery
    query: Query
    all_rows: bool
    where: str
    params: list[Any]
    exact: bool  # the SQL condition is the whole WHERE clause
    key_col: str | None  # keyset column when SQL order == SOQL order, else None (sort in Python)
    descending: bool = False
    index: str | None = None  # INDEXED BY, when the planner needs telling


def _whole_seconds(expr: Expr) -> Expr:
    """The condition with the milliseconds of every datetime literal dropped, as Salesforce compares them."""
    if isinstance(expr, Comparison):
        if isinstance(expr.value, tuple):
            return replace(expr, value=tuple(_second(v) for v in expr.value))
        return replace(expr, value=_second(expr.value))
    if isinstance(expr, (And, Or)):
        return replace(expr, items=tuple(_whole_seconds(i) for i in expr.items))
    if isinstance(expr, Not):
        return replace(expr, item=_whole_seconds(expr.item))
    return expr


def _second(lit: Literal) -> Literal:
    if lit.kind == "datetime" and isinstance(lit.value, int):
        return replace(lit, value=lit.value - lit.value % 1000)
    return lit


def plan_query(state: SalesforceState, text: str, *, all_rows: bool, version: str) -> Plan:
    """Parse, bind and plan; raises ApiError 400 with the SOQL module's error."""
    try:
        q = parse_soql(text)
        if state.soql_datetime_millis == "truncate" and q.where is not None:
            q = replace(q, where=_whole_seconds(q.where))
        bq = bind_query(q, state.schema, state.clock.now_ms(), api_version=version)
    except SoqlError as exc:
        raise ApiError(400, exc.error_code, exc.message) from exc
    all_rows = all_rows or bool(getattr(bq, "all_rows", False))
    hints = bq.index_hints()
    key_col, desc = _keyset(bq, hints)
    index: str | None = None
    if any(h.field == "Email" and h.op in ("=", "IN") for h in hints):
        index = "rec_email"  # selective: never let the planner walk a whole object to avoid a sort
    elif any(h.field == "Id" and h.op in ("=", "IN") for h in hints):
        index = None  # primary-key lookups
    if all_rows and key_col == "id" and index is None:
        # deleted rows too: walk the primary key over the object's id prefix (keeps Id order, no sort)
        prefix = KEY_PREFIXES[bq.sobject]
        where = ["+sobject = ?", "id >= ?", "id < ?"]
        params: list[Any] = [bq.sobject, prefix, prefix + "~"]
    else:
        where = ["sobject = ?"]
        params = [bq.sobject]
    if not all_rows:
        where.append("is_deleted = 0")
    # a term can yield several hints (a date literal is a range): it is done in SQL only if all of them are
    per_term = Counter(h.term for h in hints)
    used: Counter[int] = Counter()
    for hint in hints:
        col = INDEXED_COLUMNS.get(hint.field)
        if hint.field == "IsDeleted" and hint.op == "=" and isinstance(hint.value, bool):
            where.append("is_deleted = ?")
            params.append(int(hint.value))
            used[hint.term] += 1
            continue
        if col is None or (col == "email_lower" and hint.op not in ("=", "IN")):
            continue
        values = hint.value if hint.op == "IN" else [hint.value]
        if col == "email_lower":
            values = [v.lower() if isinstance(v, str) else v for v in values]
        if any(v is None for v in values):
            continue
        if hint.op == "IN":
            if not values:
                where.append("0")
            else:
                where.append(f"{col} IN ({','.join('?' * len(values))})")
                params.extend(values)
        else:
            where.append(f"{col} {_OPS[hint.op]} ?")
            params.append(values[0])
        used[hint.term] += 1
    exact = _comparisons(q) == sum(1 for term, n in per_term.items() if used[term] == n)
    if index is None and not any(h.field == "Id" and h.op in ("=", "IN") for h in hints) and not all_rows:
        narrowed = _or_of_keys(state, bq.sobject, q.where)
        if narrowed is not None:
            where.append(narrowed[0])
            params.extend(narrowed[1])
    return Plan(bq, q, all_rows, " AND ".join(where), params, exact, key_col, desc, index)


def _or_of_keys(state: SalesforceState, sobject: str, where: Expr | None) -> tuple[str, list[Any]] | None:
    """An index-searched superset for a top-level term ``(Email IN (...) OR <external id> IN (...))``.

    The connector looks people up before creating them with exactly that term; hints never come from
    under an OR, and none come from external ids, so such a query read every record of the object
    (0.55 s per query at 100k people). A lone ``<external id> = / IN`` term is narrowed the same way.
    Each key becomes an index search (``rec_email``; the ``extid`` table, whose values are lower-cased
    as Salesforce compares text), and the ids found bound the candidates: ``matches`` still decides,
    so the result is unchanged. Live records only (a deleted record's external ids are not in
    ``extid``); None when any item of the OR is not such a key.
    """
    terms = where.items if isinstance(where, And) else (where,) if where is not None else ()
    obj = state.schema.objects[sobject]
    for term in terms:
        items = term.items if isinstance(term, Or) else (term,) if isinstance(term, Comparison) else ()
        if not items:
            continue
        parts: list[str] = []
        params: list[Any] = []
        for item in items:
            if not isinstance(item, Comparison) or item.op not in ("=", "IN") or len(item.field.path) != 1:
                break
            f = obj.get(item.field.path[0])
            literals = item.value if isinstance(item.value, tuple) else (item.value,)
            if f is None or not literals or any(lit.kind != "string" or not isinstance(lit.value, str)
                                                for lit in literals):
                break
            values = [str(lit.value).lower() for lit in literals]
            marks = ",".join("?" * len(values))
            if f.name == "Email":
                parts.append(f"SELECT id FROM rec WHERE sobject = ? AND email_lower IN ({marks})")
                params += [sobject, *values]
            elif f.external_id and f.type in ("string", "email"):
                parts.append(f"SELECT id FROM extid WHERE sobject = ? AND field = ? AND value IN ({marks})")
                params += [sobject, f.name, *values]
            else:
                break
        else:
            return f"id IN ({' UNION ALL '.join(parts)})", params
    return None


def _comparisons(q: Query) -> int:
    """How many top-level AND comparisons on own fields the WHERE has (-1 when it has OR/NOT/paths)."""
    w = q.where
    if w is None:
        return 0
    items = w.items if isinstance(w, And) else (w,)
    if not all(isinstance(i, Comparison) and len(i.field.path) == 1 for i in items):
        return -1
    return len(items)


def _keyset(bq: BoundQuery, hints: list[Any]) -> tuple[str | None, bool]:
    order = list(bq.order_by)
    if not order:
        # no ORDER BY: Salesforce's order is unspecified; follow the range's index when there is one
        for h in hints:
            if h.field in _KEYSET_COLUMNS and h.field != "Id" and h.op in (">", ">=", "<", "<="):
                return _KEYSET_COLUMNS[h.field], False
        return "id", False
    first = order[0]
    col = _KEYSET_COLUMNS.get(first.field)
    if col is None or len(order) > 2:
        return None, False
    if len(order) == 2 and (order[1].field != "Id" or order[1].descending != first.descending or col == "id"):
        return None, False
    return col, first.descending


def _order_sql(plan: Plan) -> str:
    d = " DESC" if plan.descending else ""
    if plan.key_col == "id" or plan.key_col is None:
        return f"id{d}"
    return f"{plan.key_col}{d}, id{d}"


def _after_sql(plan: Plan, key: tuple[Any, str]) -> tuple[str, list[Any]]:
    cmp = "<" if plan.descending else ">"
    if plan.key_col == "id":
        return f" AND id {cmp} ?", [key[1]]
    return f" AND ({plan.key_col}, id) {cmp} (?, ?)", [key[0], key[1]]


def _key_of(plan: Plan, rec: dict[str, Any]) -> tuple[Any, str]:
    field_name = {v: k for k, v in _KEYSET_COLUMNS.items()}[plan.key_col or "id"]
    return rec.get(field_name), rec["Id"]


def iter_records(state: SalesforceState, plan: Plan, after: tuple[Any, str] | None = None,
                 resolve: Resolver | None = None) -> Iterator[dict[str, Any]]:
    """Matching stored records in SOQL order (keyset plans only), resuming after `after`."""
    resolve = resolve or Resolver(state)
    where, params = plan.where, list(plan.params)
    if after is not None:
        extra, extra_params = _after_sql(plan, after)
        where += extra
        params += extra_params
    for rec in state.store.scan(where, params, _order_sql(plan), index=plan.index):
        if plan.bq.matches(rec, resolve):
            yield rec


def sorted_ids(state: SalesforceState, plan: Plan) -> list[str]:
    """All matching ids in ORDER BY order (for orders no index gives); only matches are held."""
    resolve = Resolver(state)
    keyed = [(plan.bq.order_key(r, resolve), r["Id"]) for r in iter_records(state, plan, resolve=resolve)]
    keyed.sort(key=lambda kv: (kv[0], kv[1]))
    return [rid for _, rid in keyed]


def count_matches(state: SalesforceState, plan: Plan) -> int:
    if plan.exact:
        return state.store.count(plan.where, plan.params, index=plan.index)
    return sum(1 for _ in iter_records(state, plan))


def ordered_records(state: SalesforceState, plan: Plan) -> Iterator[dict[str, Any]]:
    """Every result record in final order with OFFSET and LIMIT applied (for Bulk query)."""
    bq = plan.bq
    skip, left = bq.offset or 0, bq.limit
    if plan.key_col is not None:
        source: Iterator[dict[str, Any]] = iter_records(state, plan)
    else:
        source = _by_ids(state, sorted_ids(state, plan))
    for rec in source:
        if skip:
            skip -= 1
            continue
        if left is not None:
            if left <= 0:
                return
            left -= 1
        yield rec


def _by_ids(state: SalesforceState, ids: list[str]) -> Iterator[dict[str, Any]]:
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        got = state.store.get_many(chunk)
        for rid in chunk:
            if rid in got:
                yield got[rid]


@dataclass
class Cursor:
    """A server-side query cursor behind a ``nextRecordsUrl``."""

    plan: Plan
    total: int
    batch: int
    served: int = 0
    last_key: tuple[Any, str] | None = None
    ids: list[str] | None = None
    skip: int = 0
    touched_ms: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def run_query(state: SalesforceState, text: str, *, all_rows: bool, version: str,
              batch_size: int = 2000) -> dict[str, Any]:
    """The first page of a REST query."""
    if not text or not text.strip():
        raise ApiError(400, "MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    plan = plan_query(state, text, all_rows=all_rows, version=version)
    bq = plan.bq
    total = count_matches(state, plan)
    total = max(0, total - (bq.offset or 0))
    if bq.limit is not None:
        total = min(total, bq.limit)
    if bq.is_count:
        return {"totalSize": total, "done": True, "records": []}
    cur = Cursor(plan, total, batch_size, skip=bq.offset or 0)
    if plan.key_col is None:
        ids = sorted_ids(state, plan)[cur.skip:]
        cur.ids = ids[: total]
        cur.skip = 0
    return _page(state, cur, None, version)


def query_more(state: SalesforceState, locator: str, version: str) -> dict[str, Any]:
    """A later page: ``{locator}-{offset}``."""
    loc, _, offset_text = locator.rpartition("-")
    with state.store.lock:
        _expire_cursors(state)
        cur = state.cursors.get(loc)
    if cur is None or not offset_text.isdigit() or int(offset_text) != cur.served:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(state, cur, loc, version)


def _page(state: SalesforceState, cur: Cursor, loc: str | None, version: str) -> dict[str, Any]:
    bq = cur.plan.bq
    resolve = Resolver(state)
    want = min(cur.batch, cur.total - cur.served)
    rows: list[dict[str, Any]] = []
    if want > 0:
        if cur.ids is not None:
            rows = list(_by_ids(state, cur.ids[cur.served:cur.served + want]))
        else:
            for rec in iter_records(state, cur.plan, cur.last_key, resolve):
                if cur.skip:
                    cur.skip -= 1
                    continue
                rows.append(rec)
                if len(rows) >= want:
                    break
            if rows:
                cur.last_key = _key_of(cur.plan, rows[-1])
    cur.served += len(rows)
    _prefetch_parents(state, bq, rows, resolve)
    records = [_with_attributes(bq.sobject, r["Id"], bq.project(r, resolve), version) for r in rows]
    done = cur.served >= cur.total or not rows
    out: dict[str, Any] = {"totalSize": cur.total, "done": done}
    if not done:
        with state.store.lock:
            if loc is None:
                state.query_locators = getattr(state, "query_locators", 0) + 1
                loc = make_id("QueryLocator", state.query_locators)[:18]
            cur.touched_ms = state.clock.now_ms()
            state.cursors[loc] = cur
            while len(state.cursors) > MAX_CURSORS:
                state.cursors.pop(next(iter(state.cursors)))
        out["nextRecordsUrl"] = f"/services/data/v{version}/query/{loc}-{cur.served}"
    elif loc is not None:
        with state.store.lock:
            state.cursors.pop(loc, None)
    out["records"] = records
    return out


def _prefetch_parents(state: SalesforceState, bq: BoundQuery, rows: list[dict[str, Any]], resolve: Resolver) -> None:
    """Load the page's parent records in one SQL round (Account.Name on 2,000 Contacts = 1 query, not 2,000)."""
    fields = set()
    for path in getattr(bq, "selected", []) or []:
        if "." in path:
            ref = state.schema.reference_field(bq.sobject, path.split(".", 1)[0])
            if ref:
                fields.add(ref)
    wanted = {r.get(f) for r in rows for f in fields} - {None} - set(resolve.cache)
    if wanted:
        got = state.store.get_many(sorted(str(w) for w in wanted))
        for rid in wanted:
            resolve.cache[str(rid)] = got.get(str(rid))


def _with_attributes(sobject: str, rid: str, projected: dict[str, Any], version: str) -> dict[str, Any]:
    out: dict[str, Any] = OrderedDict()
    out["attributes"] = {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{rid}"}
    out.update(projected)
    return out


def _expire_cursors(state: SalesforceState) -> None:
    now = state.clock.now_ms()
    for key in [k for k, c in state.cursors.items() if now - c.touched_ms > CURSOR_IDLE_MS]:
        state.cursors.pop(key, None)


def explain(state: SalesforceState, text: str, *, all_rows: bool = False) -> str:
    """SQLite's plan for the candidate scan of a query (tests check that indexes are used)."""
    plan = plan_query(state, text, all_rows=all_rows, version=state.default_version)
    using = f" INDEXED BY {plan.index}" if plan.index else ""
    sql = f"EXPLAIN QUERY PLAN SELECT data FROM rec{using} WHERE {plan.where} ORDER BY {_order_sql(plan)}"
    with state.store.lock:
        rows = state.store._db.execute(sql, plan.params).fetchall()
    return "; ".join(str(r[-1]) for r in rows)
