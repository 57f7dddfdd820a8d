"""Domain records the reconciliation core takes and returns (pure values, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = [
    "System",
    "SYSTEMS",
    "TimeBasis",
    "RecordKey",
    "SourceRecord",
    "Provenance",
    "UnifiedPerson",
    "FieldChange",
    "Issue",
    "OwnerDirectory",
    "NewRecordId",
    "other_system",
]

System = Literal["hubspot", "salesforce"]
SYSTEMS: tuple[System, System] = ("hubspot", "salesforce")
TimeBasis = Literal["field", "record"]

_new = tuple.__new__  # builds NamedTuples without their Python-level __new__ (hot paths)


def other_system(system: System) -> System:
    """The system on the other side of the sync."""
    return "salesforce" if system == "hubspot" else "hubspot"


class _once:  # noqa: N801 - used as a decorator, like functools.cached_property
    """A cached property without cached_property's lock (Python 3.11 takes it on every first access).

    Computes the value on the first access and stores it in the instance ``__dict__``, where later
    reads find it directly (a non-data descriptor). Racing threads may both compute it: harmless for
    the pure values it is used for.
    """

    def __init__(self, func: Any) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.attrname] = value
        return value


class RecordKey(NamedTuple):
    """Identifies one record in one system; sortable so outputs are deterministic."""

    system: str
    object_type: str
    id: str


@dataclass(frozen=True)
class SourceRecord:
    """One staged record as a system holds it: native field names and native value forms.

    HubSpot values are strings or None; Salesforce values are JSON types. ``field_modified_at``
    holds per-field change times (epoch ms) where the source gives them (HubSpot property history).
    ``associations`` maps an associated object type (e.g. "deals", "companies") to ids.
    """

    system: System
    object_type: str
    id: str
    modified_at: int
    fields: Mapping[str, Any]
    field_modified_at: Mapping[str, int] = field(default_factory=dict)
    deleted: bool = False
    merged_into: str | None = None
    associations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @_once
    def key(self) -> RecordKey:
        """(system, object_type, id), computed once per record."""
        return _new(RecordKey, (self.system, self.object_type, self.id))


class Provenance(NamedTuple):
    """Where a unified value came from and which values lost, so every decision can be explained.

    ``losing`` holds (system, unified-form value, time) of each candidate that lost. ``rule`` is the
    field's conflict rule, or "agreement" when both systems already held the value. Immutable; a
    NamedTuple rather than a dataclass because one is built per field per person (hot path).
    """

    value: Any
    system: System | None
    source_id: str | None
    source_time: int | None
    rule: str
    time_basis: TimeBasis
    losing: tuple[tuple[System, Any, int | None], ...] = ()


@dataclass(frozen=True)
class UnifiedPerson:
    """One person as both systems should agree on them, each field with its provenance."""

    person_id: str
    fields: dict[str, Provenance]
    links: tuple[RecordKey, ...]

    def value(self, name: str) -> Any:
        """The unified value of field ``name`` (None when blank or unmapped)."""
        prov = self.fields.get(name)
        return None if prov is None else prov.value


@dataclass(frozen=True)
class NewRecordId:
    """Stands for the id of a record this plan creates; the push stage writes the real id in its place."""

    system: System
    object_type: str


class FieldChange(NamedTuple):
    """One field a system must change; ``record_id`` None means the record must be created.

    ``person_id`` groups the fields of one new record (and ties every change to its person).
    Immutable; a NamedTuple rather than a frozen dataclass because the planner builds several per
    person (a dataclass's ``__init__`` costs ten times as much).
    """

    system: System
    object_type: str
    record_id: str | None
    field: str
    old: Any
    new: Any
    reason: str
    person_id: str = ""


def _field_change(
    system: System, object_type: str, record_id: str | None, field: str, old: Any, new: Any, reason: str,
    person_id: str = "",
) -> FieldChange:
    """``FieldChange(...)`` for the planner's hot path: the same value, without the Python-level ``__new__``."""
    return _new(FieldChange, (system, object_type, record_id, field, old, new, reason, person_id))


@dataclass(frozen=True)
class Issue:
    """Something an operator should look at (an unconvertible value, an unknown owner); never silent."""

    system: str
    record_id: str
    field: str
    value: Any
    message: str


@dataclass(frozen=True)
class OwnerDirectory:
    """Owners of both systems by id, so owner fields map through the owner's email at reconcile time."""

    hubspot: Mapping[str, str] = field(default_factory=dict)  # owner id -> email
    salesforce: Mapping[str, str] = field(default_factory=dict)  # User Id -> email

    def email_of(self, system: str, owner_id: str) -> str | None:
        table = self.hubspot if system == "hubspot" else self.salesforce
        email = table.get(owner_id)
        return email.strip().casefold() if email else None

    def id_of(self, system: str, email: str) -> str | None:
        """The owner id with this email in ``system`` (lowest id when several share it)."""
        index = self._index(system)
        return index.get(email.strip().casefold())

    def _index(self, system: str) -> dict[str, str]:
        cache_name = f"_idx_{system}"
        cached: dict[str, str] | None = self.__dict__.get(cache_name)
        if cached is None:
            table = self.hubspot if system == "hubspot" else self.salesforce
            cached = {}
            for oid in sorted(table):
                cached.setdefault(table[oid].strip().casefold(), oid)
            object.__setattr__(self, cache_name, cached)
        return cached
