"""The two ports every system implements, by role: a `Source` the pull reads and a `Sink` the push writes.

The stages see only these Protocols and the value types below, never a vendor's protocol: how a
system packs reads (HubSpot's keyset search, Salesforce's Composite and Bulk 2.0) or writes (batch
upserts, sObject Collections, ingest jobs) is its own package's business (`systems.hubspot`,
`systems.salesforce`). The value types live here so that neither the systems nor the store import a
stage. `systems.fakes` holds small typed implementations for tests.

Usage, from a stage::

    for read in source.read_windows([WindowRead("Lead", ("Email",), window)]):
        for page in read:             # list[StagedRecord], each page stored with the cursor it proves
            ...
    outcomes = sink.write("contacts", "update", [Item("k1", "101", {"firstname": "Ann"})], id_field=None)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "ChangeProbe",
    "Engagement",
    "Item",
    "ListingSource",
    "LookupKey",
    "Operation",
    "ProbeResult",
    "Sink",
    "Source",
    "StagedRecord",
    "Window",
    "WindowPages",
    "WindowRead",
    "WindowSource",
    "WriteOutcome",
]

#: how a batch of records is written: by id, or upserted on an external id
Operation = Literal["update", "upsert"]
#: (normalised e-mail or None, cross-reference id or None) of one record looked up before its create
LookupKey = tuple[str | None, str | None]
#: one immutable touch (a page view, an e-mail open) as the store keeps it
Engagement = dict[str, Any]


# ---------------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Window:
    """The half-open time range [start, end) of one incremental read, in epoch ms.

    ``skip``, when given, is a range [skip[0], skip[1]) inside the window that this read need not return:
    records there were read once already and their look-back re-read falls to a later cycle (see
    `pull.cursor.next_window`). A source may ignore it and return them anyway (de-duplicated on staging):
    reading more is always safe, it only costs calls.
    """

    start: int
    end: int
    skip: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty window [{self.start}, {self.end})")
        if self.skip is not None and not self.start < self.skip[0] < self.skip[1] < self.end:
            raise ValueError(f"skip {self.skip} not strictly inside [{self.start}, {self.end})")

    def ranges(self) -> tuple[tuple[int, int], ...]:
        """The half-open ranges to read, ascending: the window, or its two parts around `skip`."""
        if self.skip is None:
            return ((self.start, self.end),)
        return (self.start, self.skip[0]), (self.skip[1], self.end)

    def halves(self) -> tuple[Window, Window]:
        """Two adjacent windows covering this one (for result caps); a 1 ms window cannot be split."""
        if self.end - self.start < 2:
            raise ValueError("a window of one millisecond cannot be split")
        middle = self.start + (self.end - self.start) // 2
        return Window(self.start, middle), Window(middle, self.end)

    @property
    def span_ms(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class StagedRecord:
    """One record as pulled: raw fields in the system's own vocabulary, plus what the store indexes."""

    system: str
    object_type: str
    record_id: str
    modified_at: int
    data: dict[str, Any]
    deleted: bool = False
    merged_into: str | None = None
    email_norm: str | None = None
    field_times: dict[str, int] | None = None


@dataclass(frozen=True)
class WriteOutcome:
    """What a system answered for one record: its id when written, else its own code and message."""

    ok: bool
    record_id: str | None = None
    created: bool = False
    code: str = ""
    message: str = ""
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """One record to write: the caller's key, the target id (updates) and the native field values."""

    key: str
    record_id: str | None
    values: dict[str, Any]


@dataclass(frozen=True)
class WindowRead:
    """Read an object's records modified in a window, deletions and merges included.

    `initial` marks a first load: the source may then export the window in bulk, whose pages do not
    come in modified order (`WindowPages.ordered` is False)."""

    object_type: str
    fields: tuple[str, ...]
    window: Window
    initial: bool = False


@dataclass(frozen=True)
class ChangeProbe:
    """Ask whether an object changed in a window without reading it (cheaper than a read)."""

    object_type: str
    window: Window


@dataclass(frozen=True)
class ProbeResult:
    """A probe's answer; `covered_until` is how far the answer is complete."""

    object_type: str
    changed: bool
    covered_until: int


class WindowPages(Protocol):
    """The pages of one window read, fetched as they are iterated (each page can be stored before the next)."""

    #: False when the pages are not in modified order (a bulk export): a cursor may only move at the end
    ordered: bool

    def __iter__(self) -> Iterator[list[StagedRecord]]: ...


# ---------------------------------------------------------------------------------------------- ports


class Source(Protocol):
    """What every system offers the stages to read: records by window or by key, and its metadata."""

    system: str

    def authenticate(self) -> None: ...

    def close(self) -> None: ...

    def find(self, keys: Sequence[LookupKey], *, fields: Mapping[str, Sequence[str]], ref_field: str
             ) -> list[StagedRecord]:
        """The live people records holding one of the keys' e-mail addresses (or cross-reference ids, where the
        system can search them), staged as the pull stages them; `fields` names what to read per object."""
        ...


class ListingSource(Source, Protocol):
    """A source whose objects are listed whole by resumable pages and searched by modified-time windows,
    one object at a time (HubSpot's shape)."""

    def list_records(self, object_type: str, properties: Sequence[str], *, archived: bool = False,
                     after: str | None = None, associations: Sequence[str] = ()
                     ) -> Iterator[tuple[list[StagedRecord], str | None]]:
        """Every record (or every archived one), with the token that resumes the listing after each page."""
        ...

    def changed_records(self, object_type: str, window: Window, properties: Sequence[str]
                        ) -> Iterator[list[StagedRecord]]:
        """Records modified in `window`, oldest first, each once; merged-away ids follow their survivor."""
        ...

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]: ...

    def owners(self) -> dict[str, str]:
        """Owner id -> e-mail address."""
        ...

    def event_pages(self, kind: str, window: Window) -> Iterator[list[Engagement]]:
        """Immutable touches of `kind` ("web_events", "email_events") that occurred in `window`."""
        ...


class WindowSource(Source, Protocol):
    """A source that answers several window reads and change probes per call (Salesforce's shape)."""

    #: window reads one call answers; a poll probes further objects instead of reading them
    reads_per_call: int

    def read_windows(self, requests: Sequence[WindowRead | ChangeProbe]) -> list[WindowPages | ProbeResult]:
        """Per request, in order: its pages (fetched lazily, first pages together) or its probe's answer."""
        ...


class Sink(Protocol):
    """What every system offers the push: batches of writes, each record answered by its own outcome."""

    system: str
    #: records one call writes at most (the push sends batches of this size, each committed on its own)
    batch_size: int

    def write(self, object_type: str, operation: Operation, items: Sequence[Item], *, id_field: str | None
              ) -> dict[str, WriteOutcome]:
        """Update (by id) or upsert (on `id_field`) `items`; outcomes keyed by `Item.key`."""
        ...

    def create(self, object_type: str, items: Sequence[Item]) -> dict[str, WriteOutcome]:
        """Plain inserts (records without an external id); outcomes keyed by `Item.key`."""
        ...

    def delete(self, object_type: str, ids: Sequence[str], *, erase: bool = False) -> dict[str, WriteOutcome]:
        """Delete records (`erase`: the system's permanent delete, where it has one); keyed by id."""
        ...

    def associate(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]], *,
                  type_id: int | None = None) -> dict[tuple[str, str], WriteOutcome]:
        """Link records (HubSpot associations, unlabelled unless `type_id` names a label); keyed by pair."""
        ...

    def opt_out(self, emails: Sequence[str]) -> dict[str, WriteOutcome]:
        """Opt addresses out of all e-mail; keyed by address."""
        ...

    def current(self, object_type: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The values the records hold now for `fields`, read just before they are updated (so that an edit
        made since the run read them is not overwritten); keyed by id, a record that is gone absent."""
        ...
