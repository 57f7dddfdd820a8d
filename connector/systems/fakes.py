"""Small typed fakes of the ports, for testing the stages without a system (after httpx's MockTransport).

`FakeSource` holds records per object in memory and answers window reads and change probes as a
window source does (a read's pages in modified order); `FakeListingSource` answers as a listing source
does (resumable listings in id order, modified-time windows oldest first); `FakeSink` answers every write
as written and keeps what it was sent. Subclass any of them to script a failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .ports import (ChangeProbe, Engagement, Item, LookupKey, Operation, ProbeResult, StagedRecord, Window, WindowPages,
                    WindowRead, WriteOutcome)

__all__ = ["FakeListingSource", "FakePages", "FakeSink", "FakeSource"]


@dataclass
class FakePages:
    """A window read's answer: its pages, already fetched."""

    pages: list[list[StagedRecord]]
    ordered: bool = True

    def __iter__(self) -> Iterator[list[StagedRecord]]:
        return iter(self.pages)


class _InMemorySource:
    """What both fake sources share: look-ups by e-mail over the records they hold, and no sign-in."""

    records: dict[str, list[StagedRecord]]

    def find(self, keys: Sequence[LookupKey], *, fields: Mapping[str, Sequence[str]], ref_field: str
             ) -> list[StagedRecord]:
        emails = {e for e, _ in keys if e}
        return [r for object_type in fields for r in self.records.get(object_type, []) if r.email_norm in emails]

    def authenticate(self) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class FakeSource(_InMemorySource):
    """A window source over in-memory records; `asked` holds the requests of every read_windows call."""

    system: str = "salesforce"
    reads_per_call: int = 5
    page_size: int = 2
    records: dict[str, list[StagedRecord]] = field(default_factory=dict)
    asked: list[list[WindowRead | ChangeProbe]] = field(default_factory=list)

    def add(self, *records: StagedRecord) -> None:
        for record in records:
            self.records.setdefault(record.object_type, []).append(record)

    def read_windows(self, requests: Sequence[WindowRead | ChangeProbe]) -> list[WindowPages | ProbeResult]:
        self.asked.append(list(requests))
        out: list[WindowPages | ProbeResult] = []
        for request in requests:
            inside = sorted((r for r in self.records.get(request.object_type, [])
                             if request.window.start <= r.modified_at < request.window.end),
                            key=lambda r: (r.modified_at, r.record_id))
            if isinstance(request, ChangeProbe):
                out.append(ProbeResult(request.object_type, changed=bool(inside), covered_until=request.window.end))
                continue
            out.append(FakePages([inside[i:i + self.page_size] for i in range(0, len(inside), self.page_size)]))
        return out


@dataclass
class FakeListingSource(_InMemorySource):
    """A listing source over in-memory records; `asked` logs every call as (method, object type, detail), an
    archived listing as "list_records:archived".

    Listings go in record id order, `page_size` records a page, the resume token being the index of the next
    record; windows go oldest first by (modified time, id); a merged-away marker follows its survivor in the
    same page. `links` holds associated ids by (from type, to type)."""

    system: str = "hubspot"
    page_size: int = 2
    records: dict[str, list[StagedRecord]] = field(default_factory=dict)
    archived: dict[str, list[StagedRecord]] = field(default_factory=dict)
    links: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)
    owner_emails: dict[str, str] = field(default_factory=dict)
    #: touches per kind ("web_events", "email_events"), each with its ``occurred_at``
    events: dict[str, list[Engagement]] = field(default_factory=dict)
    asked: list[tuple[str, str, str | None]] = field(default_factory=list)

    def add(self, *records: StagedRecord) -> None:
        """Hold `records` (a deleted one as archived), replacing an earlier version of the same id."""
        for record in records:
            for held in (self.records, self.archived):
                others = held.get(record.object_type, [])
                held[record.object_type] = [r for r in others if r.record_id != record.record_id]
            target = self.archived if record.deleted and record.merged_into is None else self.records
            target[record.object_type].append(record)

    def list_records(self, object_type: str, properties: Sequence[str], *, archived: bool = False,
                     after: str | None = None, associations: Sequence[str] = ()
                     ) -> Iterator[tuple[list[StagedRecord], str | None]]:
        self.asked.append(("list_records:archived" if archived else "list_records", object_type, after))
        held = (self.archived if archived else self.records).get(object_type, [])
        survivors = sorted((r for r in held if r.merged_into is None), key=lambda r: r.record_id)
        start = int(after) if after else 0
        for i in range(start, len(survivors), self.page_size):
            page = self._with_markers(held, survivors[i:i + self.page_size])
            end = i + self.page_size
            yield [self._linked(r, associations) for r in page], str(end) if end < len(survivors) else None

    def changed_records(self, object_type: str, window: Window, properties: Sequence[str]
                        ) -> Iterator[list[StagedRecord]]:
        self.asked.append(("changed_records", object_type, f"{window.start}-{window.end}"))
        held = self.records.get(object_type, [])
        inside = sorted((r for r in held if r.merged_into is None and window.start <= r.modified_at < window.end),
                        key=lambda r: (r.modified_at, r.record_id))
        for i in range(0, len(inside), self.page_size):
            yield self._with_markers(held, inside[i:i + self.page_size])

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]:
        self.asked.append(("associations", from_type, to_type))
        linked = self.links.get((from_type, to_type), {})
        return {i: list(linked.get(i, [])) for i in ids}

    def owners(self) -> dict[str, str]:
        self.asked.append(("owners", "owners", None))
        return dict(self.owner_emails)

    def event_pages(self, kind: str, window: Window) -> Iterator[list[Engagement]]:
        self.asked.append(("event_pages", kind, f"{window.start}-{window.end}"))
        inside = [e for e in self.events.get(kind, []) if window.start <= int(e["occurred_at"]) < window.end]
        for i in range(0, len(inside), self.page_size):
            yield inside[i:i + self.page_size]

    @staticmethod
    def _with_markers(held: Sequence[StagedRecord], page: Sequence[StagedRecord]) -> list[StagedRecord]:
        """`page`, each record followed by the merged-away markers of the ids it absorbed."""
        return [s for r in page for s in (r, *(m for m in held if m.merged_into == r.record_id))]

    def _linked(self, record: StagedRecord, kinds: Sequence[str]) -> StagedRecord:
        """A listed record with its associated ids of `kinds` (a listing brings them along; markers get none)."""
        if not kinds or record.merged_into is not None:
            return record
        held = {kind: list(self.links.get((record.object_type, kind), {}).get(record.record_id, [])) for kind in kinds}
        return replace(record, data={**record.data, "_associations": held})


@dataclass
class FakeSink:
    """A sink that writes everything it is sent; new records get ids ``new-1``, ``new-2``, ...."""

    system: str = "salesforce"
    batch_size: int = 1000
    #: (object type, operation, items) of every write call, in order
    writes: list[tuple[str, str, list[Item]]] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)
    created: int = 0
    #: record id -> field values it holds now, for `current` (None: every record is there and holds what the
    #: plan was made from); the ids of every check call, in order
    holding: dict[str, dict[str, Any]] | None = None
    checks: list[tuple[str, list[str]]] = field(default_factory=list)

    def write(self, object_type: str, operation: Operation, items: Sequence[Item], *, id_field: str | None
              ) -> dict[str, WriteOutcome]:
        self.writes.append((object_type, operation, list(items)))
        return {item.key: self._written(item) for item in items}

    def create(self, object_type: str, items: Sequence[Item]) -> dict[str, WriteOutcome]:
        self.writes.append((object_type, "create", list(items)))
        return {item.key: self._written(item) for item in items}

    def delete(self, object_type: str, ids: Sequence[str], *, erase: bool = False) -> dict[str, WriteOutcome]:
        self.writes.append((object_type, "erase" if erase else "delete", [Item(i, i, {}) for i in ids]))
        return {i: WriteOutcome(True, i) for i in ids}

    def associate(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]], *,
                  type_id: int | None = None) -> dict[tuple[str, str], WriteOutcome]:
        return {pair: WriteOutcome(True, pair[0]) for pair in pairs}

    def opt_out(self, emails: Sequence[str]) -> dict[str, WriteOutcome]:
        self.opted_out.extend(emails)
        return {email: WriteOutcome(True) for email in emails}

    def current(self, object_type: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """What `holding` says the records hold (a record it does not name is gone)."""
        self.checks.append((object_type, list(ids)))
        if self.holding is None:
            return {i: {} for i in ids}
        return {i: {f: self.holding[i].get(f) for f in fields} for i in ids if i in self.holding}

    def _written(self, item: Item) -> WriteOutcome:
        if item.record_id is not None:
            return WriteOutcome(True, item.record_id)
        self.created += 1
        return WriteOutcome(True, f"new-{self.created}", created=True)
