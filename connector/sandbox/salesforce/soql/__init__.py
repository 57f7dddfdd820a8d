"""SOQL for the Salesforce emulator: parse, bind against a schema, evaluate on stored records.

Usage (the emulator's query endpoint)::

    q = parse_soql(text)                                   # syntax only; SoqlError(MALFORMED_QUERY)
    bq = bind_query(q, schema, clock.now_ms(), api_version="62.0")   # INVALID_FIELD / INVALID_TYPE / ...
    rows = [r for r in candidates(bq.index_hints()) if bq.matches(r, resolve)]
    rows.sort(key=lambda r: bq.order_key(r, resolve))
    rows = rows[bq.offset or 0:][: bq.limit]
    out = [{"attributes": {...}, **bq.project(r, resolve)} for r in rows]   # or len(rows) if bq.is_count

Records are ``Mapping[str, Any]`` of canonical field name -> stored value (datetime = epoch ms int,
date = "YYYY-MM-DD", boolean = bool, numbers = int/float, everything else str, null = None).
``resolve(sobject, id)`` returns the parent record or None; for polymorphic lookups (WhoId) it is
called with each candidate object in ``reference_to`` order until one answers.

URL choice: ``bind_query`` takes ``api_version`` ("62.0" or "v62.0") and ``project`` builds parent
``attributes.url`` as ``/services/data/v62.0/sobjects/{type}/{id}``.

Errors: every refusal is a ``SoqlError`` with ``error_code`` and a Salesforce-style ``message``
(query echo, caret, ``ERROR at Row:1:Column:N``, reason); ``to_json()`` gives the REST body.
See docs/sandbox/soql.md for the grammar supported and the exact messages.
"""

from __future__ import annotations

from ._ast import (
    And, Comparison, CountItem, Expr, FieldRef, FieldsItem, Literal, Not, Or, OrderItem, Query, SelectItem,
)
from ._binder import BoundQuery, IndexHint, Resolver, bind_query
from ._errors import SoqlError
from ._parser import parse_soql
from ._schema import FieldInfo, FieldLister, FieldType, SchemaLookup
from ._sample_schema import sample_schema
from ._static_schema import StaticSchema

__all__ = [
    "parse_soql", "bind_query", "SoqlError", "SchemaLookup", "FieldLister", "FieldInfo", "FieldType", "StaticSchema",
    "sample_schema",
    "Query", "BoundQuery", "IndexHint", "OrderItem", "Resolver",
    "SelectItem", "FieldRef", "CountItem", "FieldsItem", "Literal", "Comparison", "And", "Or", "Not", "Expr",
]
