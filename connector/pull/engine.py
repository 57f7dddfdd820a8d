"""The pull stage: read what changed in both systems and stage it, moving each cursor with its records.

The stage sees two kinds of Source port (`systems.ports`), never a vendor's protocol:
- a listing source (HubSpot), first run: the listing (resumable), the paging token saved with every page
  so a crash resumes it; the cursor then starts at the run's ceiling (start minus safety lag). Later
  runs: the window from the cursor (minus lookback) to the ceiling, oldest first.
- a window source (Salesforce): every object's window asked at once (the source packs them; one call
  when idle), objects past `reads_per_call` probed instead; the first run reads from the epoch, and the
  source may export a large first load in bulk.

Each page is staged in its own transaction together with the cursor position it proves, so a crash at
any point re-reads at most one page of one window and loses nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Engine

from ..bounds import HUBSPOT_RECORDS_PER_READ, SALESFORCE_QUERY_ROWS
from ..stopping import check_stop
from ..store.cursors import Cursor, read_cursor, write_cursor
from ..store.staging import StageCounts, known_versions, records_modified_between, stage_events, stage_page
from ..systems.ports import (
    ChangeProbe,
    ListingSource,
    ProbeResult,
    StagedRecord,
    Window,
    WindowPages,
    WindowRead,
    WindowSource,
)
from .cursor import MINUTE_MS, CursorTracker, next_window, whole_minute
from ..objects.streams import Stream

__all__ = ["PullResult", "PullSettings", "Puller"]

log = logging.getLogger(__name__)

#: getDeleted reaches back 15 days: older windows are queried instead of probed
PROBE_REACH_MS = 14 * 86_400_000
#: getDeleted wants its start more than a minute before its end, in whole minutes: two at least
PROBE_SPAN_MS = 2 * MINUTE_MS
#: how far back the first pull reads marketing events (scoring decays older touches to nothing)
EVENT_HISTORY_MS = 365 * 86_400_000
#: one window per run: smaller windows would make a crash cheaper but cost a call per window per stream,
#: which a first pull cannot afford at 1.05x the lower bound
EVENT_WINDOW_MS = EVENT_HISTORY_MS + 86_400_000


@dataclass(frozen=True)
class _SalesforceRead:
    """One Salesforce stream's part of a poll: where its answers sit in the Composite items."""

    stream: Stream
    window: Window
    previous: Cursor
    probe: int | None = None
    query: int | None = None


@dataclass(frozen=True)
class PullSettings:
    """Timing rules of one pull."""

    run_started_ms: int
    lookback_ms: int = 120_000
    safety_lag_ms: int = 60_000
    run_id: int | None = None
    deletion_scan_ms: int = 86_400_000

    @property
    def ceiling(self) -> int:
        return self.run_started_ms - self.safety_lag_ms


@dataclass
class PullResult:
    """What one pull staged, per stream."""

    streams: dict[str, StageCounts] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)

    def counts(self, stream: str) -> StageCounts:
        return self.streams.setdefault(stream, StageCounts())

    def to_json(self) -> dict[str, Any]:
        return {name: {"mode": self.modes.get(name, "idle"), "new": c.new, "changed": c.changed,
                       "unchanged": c.unchanged, "echoes": c.echoes} for name, c in sorted(self.streams.items())}


class Puller:
    """Runs the pull stage for a set of streams."""

    def __init__(self, engine: Engine, *, hubspot: ListingSource | None, salesforce: WindowSource | None,
                 settings: PullSettings, clock: Any = time.time) -> None:
        self.engine = engine
        self.hubspot = hubspot
        self.salesforce = salesforce
        self.settings = settings
        self._clock = clock

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def pull(self, streams: Sequence[Stream]) -> PullResult:
        result = PullResult()
        for stream in streams:
            result.counts(stream.name)
            if stream.system == "hubspot" and self.hubspot is not None:
                self._pull_hubspot(self.hubspot, stream, result)
        sf_streams = [s for s in streams if s.system == "salesforce"]
        if sf_streams and self.salesforce is not None:
            self._pull_salesforce(self.salesforce, sf_streams, result)
        return result

    # ------------------------------------------------------------------ HubSpot

    def _pull_hubspot(self, hs: ListingSource, stream: Stream, result: PullResult) -> None:
        cursor = read_cursor(self.engine, stream.name)
        if stream.kind == "owners":
            self._pull_hubspot_owners(hs, stream, cursor, result)
            return
        if stream.kind != "records":
            self._pull_hubspot_events(hs, stream, cursor, result)
            return
        if not cursor.initial_done:
            result.modes[stream.name] = "initial" if cursor.resume_after is None else "initial (resumed)"
            pages = hs.list_records(stream.object_type, stream.fields, after=cursor.resume_after,
                                    associations=stream.associations)
            for staged, next_after in pages:
                # the listing is not ordered by time: the cursor holds only the token until it ends
                self._store(stream, staged, Cursor(resume_after=next_after) if next_after else None, result)
            self._store(stream, [], Cursor(position=self.settings.ceiling), result)
            write_cursor(self.engine, f"{stream.name}:archived", Cursor(position=self.settings.run_started_ms),
                         now_ms=self._now_ms(), run_id=self.settings.run_id)
            return
        window = next_window(cursor, run_started_ms=self.settings.run_started_ms,
                             lookback_ms=self.settings.lookback_ms, safety_lag_ms=self.settings.safety_lag_ms,
                             recheck_once=True)
        if window is None:
            return
        window = self._skip_if_it_saves_calls(stream, window, HUBSPOT_RECORDS_PER_READ)
        result.modes[stream.name] = "incremental"
        tracker = CursorTracker(window, cursor, rechecked=self._rechecked())
        for page in hs.changed_records(stream.object_type, window, stream.fields):
            versions = [(r.record_id, r.modified_at) for r in page if r.merged_into is None]  # merged-away markers
            known = known_versions(self.engine, stream.system, stream.object_type, versions)  # follow their survivor
            fresh = {rid for rid, v in versions if (rid, v) not in known}  # the lookback overlap costs nothing more
            result.counts(stream.name).unchanged += len(versions) - len(fresh)
            staged = [r for r in page if (r.merged_into or r.record_id) in fresh]
            for kind in stream.associations if fresh else ():  # search has no associations: one batch read
                linked = hs.associations(stream.object_type, kind,
                                         [r.record_id for r in staged if r.merged_into is None])
                staged = [_with_associations(r, kind, linked) for r in staged]
            tracker.observe(versions)
            self._store(stream, staged, tracker.cursor(), result)
        self._store(stream, [], tracker.finish(), result)
        self._scan_archived(hs, stream, result)

    def _scan_archived(self, hs: ListingSource, stream: Stream, result: PullResult) -> None:
        """Deletions: HubSpot lists archived records only as a whole, so this runs on its own cadence."""
        scan = f"{stream.name}:archived"
        last = read_cursor(self.engine, scan)
        if last.position is not None and self.settings.run_started_ms - last.position < self.settings.deletion_scan_ms:
            return
        for staged, _ in hs.list_records(stream.object_type, ["email"], archived=True):
            self._store(stream, staged, None, result)
        write_cursor(self.engine, scan, Cursor(position=self.settings.run_started_ms), now_ms=self._now_ms(),
                     run_id=self.settings.run_id)

    def _pull_hubspot_owners(self, hs: ListingSource, stream: Stream, cursor: Cursor, result: PullResult) -> None:
        """The owner list has no modified-time search: it is read whole, on the deletion-scan cadence."""
        settings = self.settings
        if cursor.position is not None and settings.run_started_ms - cursor.position < settings.deletion_scan_ms:
            return
        result.modes[stream.name] = "full"
        now = self.settings.run_started_ms
        staged = [StagedRecord(system="hubspot", object_type="owners", record_id=owner_id, modified_at=now,
                               data={"email": email}, email_norm=email.strip().casefold())
                  for owner_id, email in hs.owners().items()]
        self._store(stream, staged, Cursor(position=now), result)

    def _pull_hubspot_events(self, hs: ListingSource, stream: Stream, cursor: Cursor, result: PullResult) -> None:
        """Immutable touches, read by occurrence time in windows of at most EVENT_WINDOW_MS (the cursor moves
        after each); the first run reaches back EVENT_HISTORY_MS."""
        start = cursor if cursor.initial_done else Cursor(position=self.settings.ceiling - EVENT_HISTORY_MS)
        window = next_window(start, run_started_ms=self.settings.run_started_ms,
                             lookback_ms=self.settings.lookback_ms if cursor.initial_done else 0,
                             safety_lag_ms=self.settings.safety_lag_ms)
        if window is None:
            return
        result.modes[stream.name] = "incremental" if cursor.initial_done else "initial"
        for begin in range(window.start, window.end, EVENT_WINDOW_MS):
            part = Window(begin, min(begin + EVENT_WINDOW_MS, window.end))
            for rows in hs.event_pages(stream.kind, part):
                result.counts(stream.name).add(stage_events(self.engine, rows, self._now_ms()))
            # events have no modified time to keyset on: the cursor moves once a window is read whole
            self._store(stream, [], Cursor(position=part.end), result)

    # ------------------------------------------------------------------ Salesforce

    def _pull_salesforce(self, sf: WindowSource, streams: Sequence[Stream], result: PullResult) -> None:
        """One Composite call when nothing changed: five window queries, change probes for the rest.

        The query slots go to the "query" streams first (what changes most, and what the connector writes,
        so the echo of its own writes costs no second call). A probed stream reads whole-minute windows
        settled by getUpdated/getDeleted's latestDateCovered (see Cursor): its next probe starts exactly
        where the last read ended, so it reports only changes the store has not seen, and one that does
        is read in a second Composite.
        """
        ordered = [s for s in streams if s.poll == "query"] + [s for s in streams if s.poll != "query"]
        items: list[WindowRead | ChangeProbe] = []
        reads: list[_SalesforceRead] = []
        probe_floor = self.settings.run_started_ms - PROBE_REACH_MS
        whole = whole_minute(self.settings.ceiling)
        for slot, stream in enumerate(ordered):
            cursor = read_cursor(self.engine, stream.name)
            initial = not cursor.initial_done
            previous = Cursor(position=0) if initial else cursor
            mode = "initial" if initial else "incremental"
            if slot < sf.reads_per_call:
                window = next_window(previous, run_started_ms=self.settings.run_started_ms,
                                     lookback_ms=0 if initial else self.settings.lookback_ms,
                                     safety_lag_ms=self.settings.safety_lag_ms, recheck_once=not initial)
                if window is None:
                    continue
                window = self._skip_if_it_saves_calls(stream, window, SALESFORCE_QUERY_ROWS)
                result.modes[stream.name] = mode
                reads.append(_SalesforceRead(stream, window, previous, query=len(items)))
                items.append(WindowRead(stream.object_type, stream.fields, window, initial=initial))
                continue
            assert previous.position is not None
            start = previous.position if previous.settled else max(0, previous.position - self.settings.lookback_ms)
            probing = not initial and start > probe_floor
            if whole <= start or (probing and whole - whole_minute(start) < PROBE_SPAN_MS):
                continue  # less than two whole minutes since the last read: a later poll probes them
            window = Window(start, whole)
            result.modes[stream.name] = mode
            if probing:
                reads.append(_SalesforceRead(stream, window, previous, probe=len(items)))
                items.append(ChangeProbe(stream.object_type, window))
                continue
            # a first load, or too far back to probe: query the window, right after a probe of its last
            # minutes whose latestDateCovered says whether the query saw everything before the window's end
            reads.append(_SalesforceRead(stream, window, previous, probe=len(items), query=len(items) + 1))
            items.append(ChangeProbe(stream.object_type, Window(whole - PROBE_SPAN_MS, whole)))
            items.append(WindowRead(stream.object_type, stream.fields, window, initial=initial))
        if not items:
            return
        answers = sf.read_windows(items)
        second_round: list[tuple[Stream, CursorTracker]] = []
        for read in reads:
            probe = answers[read.probe] if read.probe is not None else None
            assert probe is None or isinstance(probe, ProbeResult)
            if read.query is None:
                assert probe is not None
                covered = probe.covered_until
                if probe.changed and covered > read.window.start:  # read what changed, up to what is settled
                    second_round.append((read.stream, CursorTracker(Window(read.window.start, covered), read.previous,
                                                                    settled=True)))
                elif not probe.changed and covered >= (read.previous.position or 0):
                    result.modes[read.stream.name] = "incremental (probed)"
                    self._store(read.stream, [], Cursor(position=covered, settled=True), result)
                continue
            pages = answers[read.query]
            assert not isinstance(pages, ProbeResult)
            settled = probe is not None and probe.covered_until >= read.window.end
            # a first load has had no look-back yet: its next read re-reads one before the cursor
            rechecked = None if read.probe is not None or not read.previous.position else self._rechecked()
            self._read_window(read.stream, CursorTracker(read.window, read.previous, settled=settled,
                                                         rechecked=rechecked), pages, result)
        if second_round:
            answers = sf.read_windows([WindowRead(s.object_type, s.fields, t.window) for s, t in second_round])
            for (stream, tracker), answer in zip(second_round, answers, strict=True):
                if not isinstance(answer, ProbeResult):
                    self._read_window(stream, tracker, answer, result)

    def _read_window(self, stream: Stream, tracker: CursorTracker, pages: WindowPages, result: PullResult) -> None:
        """Store a window's pages, the cursor moving with each; a bulk export's pages are not in modified
        order, so its cursor moves only when it is all stored."""
        if not pages.ordered:
            result.modes[stream.name] = "initial (bulk)"
        for staged in pages:
            if pages.ordered:
                tracker.observe((s.record_id, s.modified_at) for s in staged)
            self._store(stream, staged, tracker.cursor() if pages.ordered else None, result)
        self._store(stream, [], tracker.finish(), result)

    def _skip_if_it_saves_calls(self, stream: Stream, window: Window, page: int) -> Window:
        """The window with its skip only when the skipped range holds a page of records or more (a write
        burst): re-reading fewer costs one call more at most, and finds a late record at the next run
        rather than a look-back later."""
        if window.skip is None:
            return window
        held = records_modified_between(self.engine, stream.system, stream.object_type, *window.skip)
        return window if held >= page else Window(window.start, window.end)

    def _rechecked(self) -> int:
        """How far a finished incremental read has given every instant its last look-back read: an instant
        before the ceiling less the look-back was read at least a look-back after it passed the ceiling."""
        return self.settings.ceiling - self.settings.lookback_ms

    # ------------------------------------------------------------------ staging

    def _store(self, stream: Stream, staged: list[StagedRecord], cursor: Cursor | None, result: PullResult) -> None:
        counts = stage_page(self.engine, stream.name, staged, cursor, now_ms=self._now_ms(),
                            run_id=self.settings.run_id)
        result.counts(stream.name).add(counts)
        check_stop()  # the page and its cursor are committed: a stop loses nothing here


def _with_associations(record: StagedRecord, kind: str, linked: dict[str, list[str]]) -> StagedRecord:
    """A searched record with its associated ids of `kind` (search answers carry none; merged-away markers
    get none)."""
    if record.merged_into is not None:
        return record
    held = dict(record.data.get("_associations") or {})
    # as a listing stages them (sorted, and a kind with none left out), so an echo compares equal
    ids = sorted(set(linked.get(record.record_id, [])))
    if ids:
        held[kind] = ids
    else:
        held.pop(kind, None)
    return replace(record, data={**record.data, "_associations": held})
