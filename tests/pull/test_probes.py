"""Change probes against a model org with long-running transactions, which the sandbox does not emulate.

Salesforce documents that getUpdated/getDeleted's ``latestDateCovered`` stops at the start of a
transaction still running ("use this value for the startDate of your next call"), and that getDeleted
refuses a start less than a minute before the end:
https://developer.salesforce.com/docs/atlas.en-us.api.meta/object_ref/sforce_api_calls_getupdated_getupdatedresult.htm
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_getdeleted.htm
The model below answers that way; the pull must never lose a change whose transaction commits late, and
must never move a cursor backwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from connector.pull.cursor import whole_minute
from connector.pull.engine import Puller, PullSettings
from connector.objects.streams import ALL_STREAMS
from connector.store import open_engine
from connector.store.cursors import Cursor, load_cursor, save_cursor
from connector.store.models import SourceRecord
from connector.systems.ports import (ChangeProbe, LookupKey, ProbeResult, StagedRecord, Window, WindowPages,
                                     WindowRead)

MIN = 60_000
SF_STREAMS = [s for s in ALL_STREAMS if s.system == "salesforce"]


@dataclass
class Change:
    sobject: str
    record_id: str
    modstamp: int
    committed: bool = True


@dataclass
class Pages:
    """One window read's answer: every page at once, in modified order."""

    pages: list[list[StagedRecord]]
    ordered: bool = True

    def __iter__(self) -> Iterator[list[StagedRecord]]:
        return iter(self.pages)


class ModelOrg:
    """getUpdated/getDeleted in whole minutes, latestDateCovered held back by open transactions, queryAll
    seeing only committed rows; every Composite counted (a WindowSource, as the Salesforce adapter is)."""

    system = "salesforce"
    reads_per_call = 5

    def __init__(self) -> None:
        self.rows: list[Change] = []
        self.composites = 0
        self.queried: list[tuple[str, Window]] = []

    def visible(self, sobject: str) -> list[Change]:
        return sorted((c for c in self.rows if c.sobject == sobject and c.committed),
                      key=lambda c: (c.modstamp, c.record_id))

    def read_windows(self, items: Sequence[WindowRead | ChangeProbe]) -> list[WindowPages | ProbeResult]:
        self.composites += -(-sum(isinstance(i, WindowRead) for i in items) // 5) or 1
        out: list[WindowPages | ProbeResult] = []
        for item in items:
            if isinstance(item, WindowRead):
                self.queried.append((item.object_type, item.window))
                rows = [c for c in self.visible(item.object_type) if item.window.start <= c.modstamp < item.window.end]
                staged = [StagedRecord(system="salesforce", object_type=item.object_type, record_id=c.record_id,
                                       modified_at=c.modstamp, data={"Id": c.record_id, "SystemModstamp": c.modstamp})
                          for c in rows]
                out.append(Pages([staged] if staged else []))
                continue
            start, end = whole_minute(item.window.start), whole_minute(item.window.end)
            assert end - start > MIN, "INVALID_REPLICATION_DATE: getDeleted wants start more than a minute before end"
            open_since = [c.modstamp for c in self.rows if c.sobject == item.object_type and not c.committed]
            covered = min([end, *(whole_minute(t) for t in open_since)])
            ids = [c.record_id for c in self.visible(item.object_type) if start <= c.modstamp < end]
            out.append(ProbeResult(item.object_type, changed=bool(ids), covered_until=covered))
        return out

    def find(self, keys: Sequence[LookupKey], *, fields: Mapping[str, Sequence[str]], ref_field: str
             ) -> list[StagedRecord]:
        raise AssertionError("no look-ups here")

    def authenticate(self) -> None:
        pass

    def close(self) -> None:
        pass


def pull(org: ModelOrg, url: str, at: int) -> dict[str, Any]:
    settings = PullSettings(run_started_ms=at)  # the shipped lookback (120 s) and safety lag (60 s)
    return Puller(open_engine(url), hubspot=None, salesforce=org, settings=settings).pull(SF_STREAMS).to_json()


def stored(url: str, record_id: str) -> SourceRecord | None:
    with Session(open_engine(url)) as s:
        return s.get(SourceRecord, ("salesforce", "Event", record_id))


def cursor(url: str) -> Cursor:
    with Session(open_engine(url)) as s:
        return load_cursor(s, "salesforce:Event")


def test_a_change_whose_transaction_commits_minutes_late_is_still_pulled(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    org = ModelOrg()
    base = 1_800_000_000_000 // MIN * MIN
    org.rows.append(Change("Event", "e-old", base - 30 * MIN))
    pull(org, url, base + 10_000)
    assert stored(url, "e-old") is not None and cursor(url) == Cursor(position=base - MIN, settled=True)

    late = Change("Event", "e-late", base + 5 * MIN + 5_000, committed=False)  # a batch job, still running
    org.rows.append(late)
    org.rows.append(Change("Event", "e-quick", base + 6 * MIN))
    seen = pull(org, url, base + 9 * MIN)  # probes up to base + 8 min: e-quick changed, covered only to the job
    assert seen["salesforce:Event"]["new"] == 0  # e-quick lies after the job's start: read once that settles
    assert stored(url, "e-quick") is None
    assert cursor(url) == Cursor(position=base + 5 * MIN, settled=True)
    for minute in range(10, 20):  # the job runs on for ten more minutes; polls keep the cursor where it is
        pull(org, url, base + minute * MIN)
        assert cursor(url).position == base + 5 * MIN
    late.committed = True
    pull(org, url, base + 21 * MIN)
    assert stored(url, "e-late") is not None and stored(url, "e-quick") is not None
    assert cursor(url) == Cursor(position=base + 20 * MIN, settled=True)
    before = org.composites
    pull(org, url, base + 23 * MIN)
    assert org.composites - before == 1 and cursor(url).position == base + 22 * MIN  # idle again: one Composite


def test_a_probe_never_moves_an_unsettled_cursor_back(tmp_path: Path) -> None:
    """A cursor left by a plain query (another version, a crash mid-read) is probed a lookback before it; an
    answer covered to less than the cursor leaves it as it was."""
    url = f"sqlite:///{tmp_path}/c.db"
    org = ModelOrg()
    base = 1_800_000_000_000 // MIN * MIN
    pull(org, url, base)  # every stream's initial load
    with Session(open_engine(url)) as s, s.begin():
        save_cursor(s, "salesforce:Event", Cursor(position=base + 3 * MIN + 30_000), now_ms=0)
    org.rows.append(Change("Event", "open", base + 2 * MIN, committed=False))
    pull(org, url, base + 6 * MIN)
    assert cursor(url) == Cursor(position=base + 3 * MIN + 30_000)  # not back to the open transaction
    org.rows[-1].committed = True
    pull(org, url, base + 7 * MIN)  # probed from a lookback before the cursor: inside it
    assert stored(url, "open") is not None
    assert cursor(url) == Cursor(position=base + 6 * MIN, settled=True)
