"""What the binder needs to know about the org's objects, supplied by the emulator.

The emulator owns the describe metadata; the binder only asks these four questions (plus, for
``FIELDS(...)``, the optional ``fields`` listing), so the SOQL package stays pure.
"""

from __future__ import annotations

__all__ = ["FieldInfo", "FieldType", "SchemaLookup", "FieldLister"]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

FieldType = Literal[
    "id", "string", "email", "phone", "url", "textarea", "picklist", "multipicklist", "boolean",
    "int", "double", "currency", "percent", "date", "datetime", "reference",
]


@dataclass(frozen=True)
class FieldInfo:
    """One field of one sObject: canonical API name, SOAP-ish type and, for lookups, where it points."""

    name: str
    type: FieldType
    relationship_name: str | None = None  # "Account" for AccountId, "Who" for WhoId
    reference_to: tuple[str, ...] = ()  # ("Account",), ("Lead", "Contact") for polymorphic WhoId
    custom: bool = False  # True for "__c" fields; FIELDS(CUSTOM) / FIELDS(STANDARD) use it


class SchemaLookup(Protocol):
    """Case-insensitive schema questions; every answer uses canonical (describe) case."""

    def object_name(self, name: str) -> str | None:
        """The canonical name of sObject `name` ("lead" -> "Lead"), or None if it does not exist."""
        ...

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        """Field `name` of canonical `sobject`, or None."""
        ...

    def relationship(self, sobject: str, rel_name: str) -> list[str] | None:
        """Target objects of parent relationship `rel_name` ("Who" -> ["Lead", "Contact"]), or None."""
        ...

    def reference_field(self, sobject: str, rel_name: str) -> str | None:
        """The lookup field behind relationship `rel_name` ("Account" -> "AccountId"), or None."""
        ...


@runtime_checkable
class FieldLister(Protocol):
    """Optional extra a SchemaLookup may implement so ``FIELDS(ALL|STANDARD|CUSTOM)`` can expand."""

    def fields(self, sobject: str) -> Sequence[FieldInfo]:
        """All fields of canonical `sobject`, in describe order."""
        ...
