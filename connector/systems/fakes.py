"""Small typed fakes of the ports, for testing the stages without a system (after httpx's MockTransport).

`FakeSource` holds records per object in memory and answers window reads and change probes as a
window source does (a read's pages in modified order); `FakeSink` answers every write as written and
keeps what it was sent. Subclass either to script a failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from .ports import (ChangeProbe, Item, LookupKey, Operation, ProbeResult, StagedRecord, WindowPages, WindowRead,
                    WriteOutcome)

__all__ = ["FakePages", "FakeSink", "FakeSource"]


@dataclass
class FakePages:
    """A window read's answer: its pages, already fetched."""

    pages: list[list[StagedRecord]]
    ordered: bool = True

    def __iter__(self) -> Iterator[list[StagedRecord]]:
        return iter(self.pages)


@dataclass
class FakeSource:
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

    def find(self, keys: Sequence[LookupKey], *, fields: Mapping[str, Sequence[str]], ref_field: str
             ) -> list[StagedRecord]:
        emails = {e for e, _ in keys if e}
        return [r for object_type in fields for r in self.records.get(object_type, []) if r.email_norm in emails]

    def authenticate(self) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class FakeSink:
    """A sink that writes everything it is sent; new records get ids ``new-1``, ``new-2``, ...."""

    system: str = "salesforce"
    batch_size: int = 1000
    #: (object type, operation, items) of every write call, in order
    writes: list[tuple[str, str, list[Item]]] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)
    created: int = 0

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

    def associate(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]]
                  ) -> dict[tuple[str, str], WriteOutcome]:
        return {pair: WriteOutcome(True, pair[0]) for pair in pairs}

    def opt_out(self, emails: Sequence[str]) -> dict[str, WriteOutcome]:
        self.opted_out.extend(emails)
        return {email: WriteOutcome(True) for email in emails}

    def _written(self, item: Item) -> WriteOutcome:
        if item.record_id is not None:
            return WriteOutcome(True, item.record_id)
        self.created += 1
        return WriteOutcome(True, f"new-{self.created}", created=True)
