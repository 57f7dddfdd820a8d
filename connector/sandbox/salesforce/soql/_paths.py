"""Field paths (Id, Account.Owner.Email, Who.Name): schema resolution and value lookup.

A path is a chain of parent hops plus a final field. Each hop names the lookup field on the current
record (AccountId) and the candidate parent objects (["Lead", "Contact"] for the polymorphic Who);
parents come from the caller's ``resolve(sobject, id)``, memoised per evaluated record in a
``Walk`` so a parent used by several terms is fetched once.
"""

from __future__ import annotations

__all__ = ["Hop", "FieldPath", "Walk", "resolve_path", "MAX_HOPS", "no_such_column"]

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..ids import prefix_object
from ._errors import SoqlError
from ._schema import FieldInfo, SchemaLookup

Resolver = Callable[[str, str], "Mapping[str, Any] | None"]
MAX_HOPS = 5


@dataclass(frozen=True)
class Hop:
    """One child-to-parent step: the lookup field on the child and the possible parent objects."""

    rel_name: str  # canonical relationship name, e.g. "Account", "Who"
    ref_field: str  # the lookup field on the child, e.g. "AccountId", "WhoId"
    targets: tuple[str, ...]


@dataclass(frozen=True)
class FieldPath:
    """A resolved path: parent hops, then `field` (of type `info.type`) on the last object."""

    hops: tuple[Hop, ...]
    field: str
    info: FieldInfo
    dotted: str  # canonical, e.g. "Account.Owner.Email"
    type_of_parent: bool = False  # Who.Type on a polymorphic relationship: the parent's sObject name


class Walk:
    """Per-record evaluation context: the record, the resolver and a cache of resolved parents."""

    __slots__ = ("record", "resolve", "cache")

    def __init__(self, record: Mapping[str, Any], resolve: Resolver) -> None:
        self.record = record
        self.resolve = resolve
        self.cache: dict[tuple[str, ...], tuple[str, Mapping[str, Any]] | None] = {}

    def parent(self, hops: tuple[Hop, ...]) -> tuple[str, Mapping[str, Any]] | None:
        """(sObject, record) at the end of `hops`, or None where any lookup on the way is empty."""
        key = tuple(h.rel_name for h in hops)
        if key in self.cache:
            return self.cache[key]
        found: tuple[str, Mapping[str, Any]] | None
        if len(hops) == 1:
            found = _lookup(self.record, hops[0], self.resolve)
        else:
            above = self.parent(hops[:-1])
            found = None if above is None else _lookup(above[1], hops[-1], self.resolve)
        self.cache[key] = found
        return found

    def value(self, path: FieldPath) -> Any:
        """The stored value at `path` (None if a parent on the way is missing)."""
        if not path.hops:
            return self.record.get(path.field)
        found = self.parent(path.hops)
        if found is None:
            return None
        if path.type_of_parent:
            return found[0]
        return found[1].get(path.field)


def _lookup(record: Mapping[str, Any], hop: Hop, resolve: Resolver) -> tuple[str, Mapping[str, Any]] | None:
    parent_id = record.get(hop.ref_field)
    if not parent_id:
        return None
    targets = hop.targets
    if len(targets) > 1:
        by_prefix = prefix_object(str(parent_id))
        if by_prefix in targets:
            targets = (by_prefix,)
    for target in targets:
        parent = resolve(target, parent_id)
        if parent is not None:
            return target, parent
    return None


def no_such_column(name: str, sobject: str, query: str, pos: int) -> SoqlError:
    """Salesforce's INVALID_FIELD for an unknown column."""
    return SoqlError(
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom field, be sure to "
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call for the "
        "appropriate names.",
        query=query,
        position=pos,
    )


def _bad_relationship(name: str, query: str, pos: int) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a custom "
        "relationship, be sure to append the '__r' after the custom relationship name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
        query=query,
        position=pos,
    )


def resolve_path(
    schema: SchemaLookup, sobject: str, parts: tuple[str, ...], query: str, pos: int
) -> FieldPath:
    """Resolve `parts` from `sobject`; raises SoqlError(INVALID_FIELD / MALFORMED_QUERY)."""
    if len(parts) - 1 > MAX_HOPS:
        raise SoqlError(
            "MALFORMED_QUERY",
            f"SOQL statements cannot query more than {MAX_HOPS} levels of parent relationships",
            query=query,
            position=pos,
        )
    hops: list[Hop] = []
    current: tuple[str, ...] = (sobject,)
    names: list[str] = []
    for rel in parts[:-1]:
        if len(current) > 1:  # beyond a polymorphic parent only its own fields are reachable
            raise _bad_relationship(rel, query, pos)
        targets = schema.relationship(current[0], rel)
        ref_field = schema.reference_field(current[0], rel)
        if not targets or ref_field is None:
            raise _bad_relationship(rel, query, pos)
        ref_info = schema.field(current[0], ref_field)
        canonical_rel = ref_info.relationship_name if ref_info and ref_info.relationship_name else rel
        hops.append(Hop(canonical_rel, ref_field, tuple(targets)))
        names.append(canonical_rel)
        current = tuple(targets)
    last = parts[-1]
    info: FieldInfo | None = None
    type_of_parent = False
    if hops and len(current) > 1 and last.lower() == "type":  # the Name object's Type: the parent's sObject
        info, type_of_parent = FieldInfo("Type", "picklist"), True
    for target in current if info is None else ():
        info = schema.field(target, last)
        if info is not None:
            break
    if info is None:
        raise no_such_column(last, current[0] if len(current) == 1 else "Name", query, pos)
    names.append(info.name)
    return FieldPath(tuple(hops), info.name, info, ".".join(names), type_of_parent)
