"""Write planning (pure): reconciliation's field changes become one write per record, in a safe order.

- Changes to one record collapse into one ``RecordWrite`` (one batch input), so a record costs one slot
  in a batch however many of its fields change.
- Creates come first; the cross-references that point at a new record hold a ``NewRecordId`` until its
  create answers, then ``resolve_new_ids`` puts the real id in. A cross-reference whose create failed
  is dropped, not written as garbage.
- Fields parked after a rejection are held back until their retry is due (``hold_parked``), so one bad
  value does not stop the record's other fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .records import FieldChange, NewRecordId, System
from .schema import HUBSPOT_OPT_OUT

if TYPE_CHECKING:
    from .mapping import FieldMapping

__all__ = ["RecordWrite", "group_writes", "is_true", "resolve_new_ids", "hold_parked", "ParkedKey", "create_key",
           "WritePlan", "plan_writes", "sendable", "OPT_OUT", "same_value", "same_instant", "instant_ms",
           "without_stale", "edited_fields", "read_again"]

#: HubSpot's e-mail opt-out: read-only through the CRM API, so the push opts people out through the
#: subscription preferences API, and never opts anyone in
OPT_OUT = HUBSPOT_OPT_OUT


@dataclass(frozen=True)
class RecordWrite:
    """Every field one record needs, as native values; ``record_id`` None means the record is created."""

    system: System
    object_type: str
    record_id: str | None
    person_id: str
    values: dict[str, Any]
    old: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable and unique within a run: the record id, or the person a new record is for."""
        return f"{self.system}:{self.object_type}:{self.record_id or 'new:' + self.person_id}"

    @property
    def parked_id(self) -> str:
        """How the parking lot names this record (a create has no id yet: it is named by its person)."""
        return self.record_id or f"new:{self.person_id}"

    @property
    def waits_for_ids(self) -> bool:
        return any(isinstance(v, NewRecordId) for v in self.values.values())


def group_writes(changes: Iterable[FieldChange]) -> list[RecordWrite]:
    """One RecordWrite per record (creates grouped by person and object), in a deterministic order."""
    grouped: dict[tuple[str, str, str], tuple[FieldChange, dict[str, Any], dict[str, Any], dict[str, str]]] = {}
    for c in changes:
        ident = c.record_id if c.record_id is not None else "new:" + c.person_id
        k = (c.system, c.object_type, ident)
        entry = grouped.get(k)
        if entry is None:
            entry = grouped[k] = (c, {}, {}, {})
        entry[1][c.field] = c.new
        entry[2][c.field] = c.old
        entry[3][c.field] = c.reason
    return [RecordWrite(first.system, first.object_type, first.record_id, first.person_id, values, old, reasons)
            for _, (first, values, old, reasons) in sorted(grouped.items())]


def resolve_new_ids(write: RecordWrite, created: Mapping[tuple[str, str, str], str]) -> RecordWrite | None:
    """The write with every NewRecordId replaced by the id its create got; fields whose create failed are
    dropped (None when nothing is left). `created` maps (person_id, system, object_type) -> new id."""
    values = dict(write.values)
    for name, value in write.values.items():
        if isinstance(value, NewRecordId):
            new_id = created.get((write.person_id, value.system, value.object_type))
            if new_id is None:
                del values[name]
            else:
                values[name] = new_id
    if not values:
        return None
    return replace(write, values=values)


ParkedKey = tuple[str, str, str]  # system, object_type, parked record id


def hold_parked(write: RecordWrite, held: Mapping[ParkedKey, frozenset[str]]) -> RecordWrite | None:
    """The write without the fields parked for it and not yet due for a retry (None when nothing is left).

    An empty field set holds the whole record (the system rejected it without naming a field)."""
    fields = held.get((write.system, write.object_type, write.parked_id))
    if fields is None:
        return write
    if not fields or write.record_id is None:
        return None
    values = {k: v for k, v in write.values.items() if k not in fields}
    return replace(write, values=values) if values else None


def instant_ms(value: Any) -> int | None:
    """The epoch-ms instant a value spells, if it spells one: epoch ms (a number or a string of 12 digits and
    more: after 1973) or an ISO-8601 date or time (a date alone is midnight UTC, as HubSpot's date properties)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 10**11 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return int(text) if len(text) >= 12 else None
    if len(text) < 10 or text[4:5] != "-":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def same_instant(a: Any, b: Any) -> bool:
    """Whether two values spell the same instant, in either form: HubSpot takes dates as epoch ms (what the
    push writes, and so what a patched snapshot holds) and answers them in ISO-8601; Salesforce answers
    "2026-01-01T00:00:00.000+0000" where HubSpot says "2026-01-01T00:00:00Z"."""
    at = instant_ms(a)
    return at is not None and at == instant_ms(b)


def same_value(a: Any, b: Any) -> bool:
    """Whether two native values of one field are the same value, whatever form each read gave it: a blank
    is None or "", a boolean True or "true", a number 12, 12.0 or "12" (HubSpot answers every value as text),
    an instant in epoch ms or ISO-8601 (`same_instant`)."""
    if a == b:
        return True
    a, b = ("" if a is None else a), ("" if b is None else b)
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).strip().lower() == str(b).strip().lower()
    if same_instant(a, b):
        return True
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return str(a) == str(b)


def edited_fields(fields: Iterable[FieldMapping], hubspot_object: str) -> dict[tuple[str, str], frozenset[str]]:
    """The native names of the mapped fields (the ones people edit), per (system, object type): what the push
    reads again before an update sets them. The connector's own fields (scores, statuses, cross-references)
    are not among them: it alone writes those."""
    out: dict[tuple[str, str], set[str]] = {}
    for f in fields:
        if f.hubspot:
            out.setdefault(("hubspot", hubspot_object), set()).add(f.hubspot)
        for object_type, name in f.salesforce.items():
            out.setdefault(("salesforce", object_type), set()).add(name)
    return {k: frozenset(v) for k, v in out.items()}


def read_again(write: RecordWrite, checked: frozenset[str]) -> bool:
    """Whether the push reads this update's record again before writing it: it sets one of the `checked`
    fields (people edit them). A HubSpot opt-out is no such field here: it travels apart, through the
    subscription preferences API, and never opts anyone in."""
    return write.record_id is not None and any(
        k in checked and not (write.system == "hubspot" and k == OPT_OUT) for k in write.values)


def without_stale(write: RecordWrite, live: Mapping[str, Any] | None, checked: Iterable[str]
                  ) -> tuple[RecordWrite | None, tuple[str, ...]]:
    """The update without the fields someone changed since the run read the record, and those fields.

    `live` is the record as read again just before the write (None: it is gone). A `checked` field is stale
    when the record now holds neither the value the plan was made from (`write.old`) nor the one planned:
    someone edited it after the read, and writing would overwrite the edit. It is left for the next run,
    which reads the edit and settles it by the field's rule. A record that is gone is left whole."""
    if live is None:
        return None, tuple(write.values)
    stale = tuple(name for name in checked if name in write.values and name in live
                  and not same_value(live[name], write.old.get(name))
                  and not same_value(live[name], write.values[name]))
    if not stale:
        return write, ()
    values = {k: v for k, v in write.values.items() if k not in stale}
    return (replace(write, values=values) if values else None), stale


def create_key(write: RecordWrite, id_fields: Iterable[str]) -> str | None:
    """The first of `id_fields` this create sets: the external id it is upserted on (idempotent replays)."""
    return next((f for f in id_fields if write.values.get(f) not in (None, "")), None)


@dataclass(frozen=True)
class WritePlan:
    """The writes of one push, split by when they can go: creates, then updates (cross-references to new
    records are resolved between the two)."""

    creates: tuple[RecordWrite, ...]
    updates: tuple[RecordWrite, ...]
    held: tuple[RecordWrite, ...]

    def counts(self) -> dict[str, dict[str, int]]:
        """Records and field values per system and object: what `connector plan` shows."""
        out: dict[str, dict[str, int]] = {}
        for label, writes in (("create", self.creates), ("update", self.updates)):
            for w in writes:
                bucket = out.setdefault(f"{w.system}:{w.object_type}", {"create": 0, "update": 0, "fields": 0})
                bucket[label] += 1
                bucket["fields"] += len(w.values)
        return out


def is_true(value: Any) -> bool:
    """A boolean in any of its native forms (True, "true", " TRUE ")."""
    return value is True or str(value).strip().lower() == "true"


def sendable(write: RecordWrite) -> RecordWrite | None:
    """The write as the push can make it (None: nothing is left to send).

    A HubSpot contact's opt-out is sent only as an opt-out: a planned "false" is no write, since HubSpot's
    blank already means "not opted out" and the connector never opts anyone back in. Deciding it here,
    where the plan is made, keeps `connector plan` equal to what `connector sync` sends."""
    if write.system != "hubspot" or write.object_type != "contacts" or OPT_OUT not in write.values \
            or is_true(write.values[OPT_OUT]):
        return write
    if len(write.values) == 1:
        return None
    return replace(write, values={k: v for k, v in write.values.items() if k != OPT_OUT},
                   old={k: v for k, v in write.old.items() if k != OPT_OUT},
                   reasons={k: v for k, v in write.reasons.items() if k != OPT_OUT})


def plan_writes(changes: Iterable[FieldChange], held: Mapping[ParkedKey, frozenset[str]] | None = None) -> WritePlan:
    """Group the changes per record, keep what the push can send (`sendable`), and set aside what the
    parking lot holds back. The one place that decides what a push writes: `connector plan` shows it."""
    creates: list[RecordWrite] = []
    updates: list[RecordWrite] = []
    waiting: list[RecordWrite] = []
    for grouped in group_writes(changes):
        write = sendable(grouped)
        if write is None:
            continue
        kept = hold_parked(write, held or {})
        if kept is None:
            waiting.append(write)
            continue
        (creates if kept.record_id is None else updates).append(kept)
    return WritePlan(tuple(creates), tuple(updates), tuple(waiting))
