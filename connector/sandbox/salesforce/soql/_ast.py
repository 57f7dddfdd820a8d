"""The syntax tree `parse_soql` returns: plain frozen dataclasses, names exactly as written.

Positions (``pos``) are 0-based character offsets into the query text, kept so the binder can point
its error caret at the offending token like Salesforce does.
"""

from __future__ import annotations

__all__ = [
    "FieldRef", "CountItem", "FieldsItem", "SelectItem", "Literal", "LiteralKind", "Comparison",
    "And", "Or", "Not", "Expr", "OrderItem", "Query", "CompareOp",
]

from dataclasses import dataclass, field
from typing import Literal as _L

CompareOp = _L["=", "!=", "<", "<=", ">", ">=", "LIKE", "IN", "NOT IN", "INCLUDES", "EXCLUDES"]
LiteralKind = _L["string", "number", "boolean", "null", "date", "datetime", "date_literal"]


@dataclass(frozen=True)
class FieldRef:
    """A field path as written: ("Account", "Owner", "Email") for Account.Owner.Email."""

    path: tuple[str, ...]
    pos: int = 0

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class CountItem:
    """``COUNT()`` in the select list (the only aggregate supported)."""

    pos: int = 0


@dataclass(frozen=True)
class FieldsItem:
    """``FIELDS(ALL|STANDARD|CUSTOM)`` in the select list."""

    kind: _L["ALL", "STANDARD", "CUSTOM"]
    pos: int = 0


SelectItem = FieldRef | CountItem | FieldsItem


@dataclass(frozen=True)
class Literal:
    """A literal value as parsed, before it meets a field type.

    string: `value` is the unescaped str; `raw` is the LIKE-pattern form (a backslash only ever
    escapes the next character) and `like_escapes` says whether ``\\%``/``\\_`` occurred;
    number: `value` is the source text (e.g. "-1.5"); boolean: bool; null: None;
    date: "YYYY-MM-DD"; datetime: epoch ms int; date_literal: the upper-case name ("TODAY",
    "LAST_N_DAYS") with `n` for the ``:n`` forms.
    """

    kind: LiteralKind
    value: object
    pos: int = 0
    n: int | None = None
    raw: str | None = None
    like_escapes: bool = False


@dataclass(frozen=True)
class Comparison:
    """``field op value`` (IN / NOT IN / INCLUDES / EXCLUDES carry a tuple of literals)."""

    field: FieldRef
    op: CompareOp
    value: Literal | tuple[Literal, ...]
    pos: int = 0  # position of the operator


@dataclass(frozen=True)
class And:
    """Conjunction of two or more conditions."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    """Disjunction of two or more conditions."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    """``NOT condition``."""

    item: Expr


Expr = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY term; in a BoundQuery `field` is the canonical dotted path and `nulls_first` is set."""

    field: str
    descending: bool = False
    nulls_first: bool | None = None  # None = the default: FIRST for ASC, LAST for DESC
    pos: int = 0

    @property
    def effective_nulls_first(self) -> bool:
        return (not self.descending) if self.nulls_first is None else self.nulls_first


@dataclass(frozen=True)
class Query:
    """A parsed SOQL statement, names as written (not yet checked against any schema)."""

    text: str
    select: tuple[SelectItem, ...]
    sobject: str
    sobject_pos: int = 0
    where: Expr | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    for_clause: tuple[str, ...] = field(default=())  # ("VIEW",), ("REFERENCE",), ("UPDATE",)
    all_rows: bool = False
    alias: str | None = None  # FROM Contact c: already stripped from every path above

    @property
    def is_count(self) -> bool:
        return len(self.select) == 1 and isinstance(self.select[0], CountItem)
