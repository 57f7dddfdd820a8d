"""A ready-made SchemaLookup over a fixed list of fields per object (tests, demos, the emulator).

Relationships are derived from reference fields: a FieldInfo with ``relationship_name="Account"``
and ``reference_to=("Account",)`` makes ``Account.Name`` reachable.
"""

from __future__ import annotations

__all__ = ["StaticSchema"]

from collections.abc import Mapping, Sequence

from ._schema import FieldInfo


class StaticSchema:
    """Case-insensitive SchemaLookup + FieldLister built from ``{object: [FieldInfo, ...]}``."""

    def __init__(self, objects: Mapping[str, Sequence[FieldInfo]]) -> None:
        self._objects = {name.lower(): name for name in objects}
        self._fields = {name: list(fields) for name, fields in objects.items()}
        self._by_name = {name: {f.name.lower(): f for f in fields} for name, fields in objects.items()}
        self._rels = {
            name: {f.relationship_name.lower(): f for f in fields if f.relationship_name and f.reference_to}
            for name, fields in objects.items()
        }

    def object_name(self, name: str) -> str | None:
        return self._objects.get(name.lower())

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        return self._by_name.get(sobject, {}).get(name.lower())

    def relationship(self, sobject: str, rel_name: str) -> list[str] | None:
        ref = self._rels.get(sobject, {}).get(rel_name.lower())
        return list(ref.reference_to) if ref else None

    def reference_field(self, sobject: str, rel_name: str) -> str | None:
        ref = self._rels.get(sobject, {}).get(rel_name.lower())
        return ref.name if ref else None

    def fields(self, sobject: str) -> Sequence[FieldInfo]:
        return list(self._fields.get(sobject, ()))
