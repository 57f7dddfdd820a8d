"""The pull stage: read what changed in both systems and stage it, moving each cursor with its records.

Per stream:
- HubSpot, first run: the list API (100 per call), the paging token saved with every page so a crash
  resumes the listing; the cursor then starts at the run's ceiling (start minus safety lag).
- HubSpot, later runs: the window from the cursor (minus lookback) to the ceiling, by keyset search.
- Salesforce: every object's window in Composite requests (five per call, one call when idle), the
  first run reading from the epoch; very large first loads switch to Bulk API 2.0.

Each page is staged in its own transaction together with the cursor position it proves, so a crash at
any point re-reads at most one page of one window and loses nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..store.models import SourceRecord
from ..store.staging import (
    StageCounts,
    StagedRecord,
    load_cursor,
    save_cursor,
    stage_engagements,
    stage_records,
)
from .cursor import MINUTE_MS, Cursor, CursorTracker, Window, next_window, whole_minute
from .streams import COMPOSITE_QUERIES, ChangeProbe, ProbeResult, Stream, WindowQuery

__all__ = ["HubSpotReader", "PullResult", "PullSettings", "Puller", "SalesforceReader"]

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
_WEB_EVENT_KINDS = {"e_visited_page": "page_view", "e_submitted_form": "form_submission"}
_EMAIL_EVENT_KINDS = {"OPEN": "email_open", "CLICK": "email_click", "DELIVERED": "email_delivered"}


def _web_event(event: dict[str, Any]) -> dict[str, Any] | None:
    from ..systems.hubspot import to_ms

    kind = _WEB_EVENT_KINDS.get(str(event.get("eventType")))
    occurred = to_ms(event.get("occurredAt"))
    if kind is None or occurred is None or not event.get("objectId"):
        return None
    return {"system": "hubspot", "engagement_id": f"web:{event['id']}", "kind": kind, "direction": "marketing",
            "subject_system": "hubspot", "subject_id": str(event["objectId"]), "occurred_at": occurred,
            "data": dict(event.get("properties") or {})}


def _email_event(event: dict[str, Any]) -> dict[str, Any] | None:
    kind = _EMAIL_EVENT_KINDS.get(str(event.get("type")))
    recipient = str(event.get("recipient") or "").strip().casefold()
    if kind is None or not recipient or event.get("created") is None:
        return None
    return {"system": "hubspot", "engagement_id": f"email:{event['id']}", "kind": kind, "direction": "marketing",
            "subject_system": "email", "subject_id": recipient, "occurred_at": int(event["created"]),
            "data": {k: event[k] for k in ("emailCampaignId", "url") if k in event}}


class HubSpotReader(Protocol):
    """What the pull stage needs from the HubSpot adapter."""

    def list_pages(self, object_type: str, properties: Sequence[str], *, archived: bool = False,
                   after: str | None = None, associations: Sequence[str] = ()
                   ) -> Iterator[tuple[list[dict[str, Any]], str | None]]: ...

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]: ...

    def changed_pages(self, object_type: str, window: Window, properties: Sequence[str]
                      ) -> Iterator[list[dict[str, Any]]]: ...

    def modified_at(self, object_type: str, record: dict[str, Any]) -> int: ...

    def web_event_pages(self, window: Window) -> Iterator[list[dict[str, Any]]]: ...

    def owners(self) -> dict[str, str]: ...

    def email_event_pages(self, window: Window) -> Iterator[list[dict[str, Any]]]: ...

    def to_staged(self, object_type: str, record: dict[str, Any], *, archived: bool = False) -> list[StagedRecord]: ...


class SalesforceReader(Protocol):
    """What the pull stage needs from the Salesforce adapter."""

    bulk_threshold: int

    def composite(self, items: Sequence[WindowQuery | ChangeProbe]) -> list[dict[str, Any] | ProbeResult]: ...

    def follow(self, body: dict[str, Any], sobject: str) -> Iterator[list[dict[str, Any]]]: ...

    def window_soql(self, sobject: str, fields: Sequence[str], window: Window) -> str: ...

    def bulk_query_pages(self, soql: str, *, object_type: str, all_rows: bool = True,
                         max_records: int = 10_000) -> Iterator[list[dict[str, Any]]]: ...

    def to_staged(self, sobject: str, record: dict[str, Any]) -> StagedRecord: ...


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

    def __init__(self, engine: Engine, *, hubspot: HubSpotReader | None, salesforce: SalesforceReader | None,
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

    def _pull_hubspot(self, hs: HubSpotReader, stream: Stream, result: PullResult) -> None:
        with Session(self.engine) as session:
            cursor = load_cursor(session, stream.name)
        if stream.kind == "owners":
            self._pull_hubspot_owners(hs, stream, cursor, result)
            return
        if stream.kind != "records":
            self._pull_hubspot_events(hs, stream, cursor, result)
            return
        if not cursor.initial_done:
            result.modes[stream.name] = "initial" if cursor.resume_after is None else "initial (resumed)"
            pages = hs.list_pages(stream.object_type, stream.fields, after=cursor.resume_after,
                                  associations=stream.associations)
            for page, next_after in pages:
                staged = [s for r in page for s in hs.to_staged(stream.object_type, r)]
                # the listing is not ordered by time: the cursor holds only the token until it ends
                self._store(stream, staged, Cursor(resume_after=next_after) if next_after else None, result)
            self._store(stream, [], Cursor(position=self.settings.ceiling), result)
            with Session(self.engine) as session, session.begin():
                save_cursor(session, f"{stream.name}:archived", Cursor(position=self.settings.run_started_ms),
                            now_ms=self._now_ms(), run_id=self.settings.run_id)
            return
        window = next_window(cursor, run_started_ms=self.settings.run_started_ms,
                             lookback_ms=self.settings.lookback_ms, safety_lag_ms=self.settings.safety_lag_ms)
        if window is None:
            return
        result.modes[stream.name] = "incremental"
        tracker = CursorTracker(window, cursor)
        for page in hs.changed_pages(stream.object_type, window, stream.fields):
            versions = [(str(r["id"]), hs.modified_at(stream.object_type, r)) for r in page]
            known = self._known_versions(stream, versions)
            fresh = [r for r, v in zip(page, versions) if v not in known]  # the lookback overlap costs nothing more
            result.counts(stream.name).unchanged += len(page) - len(fresh)
            for kind in stream.associations if fresh else ():  # search has no associations: one batch read
                linked = hs.associations(stream.object_type, kind, [str(r["id"]) for r in fresh])
                for r in fresh:
                    r.setdefault("associations", {})[kind] = linked.get(str(r["id"]), [])
            staged = [s for r in fresh for s in hs.to_staged(stream.object_type, r)]
            tracker.observe(versions)
            self._store(stream, staged, tracker.cursor(), result)
        self._store(stream, [], tracker.finish(), result)
        self._scan_archived(hs, stream, result)

    def _scan_archived(self, hs: HubSpotReader, stream: Stream, result: PullResult) -> None:
        """Deletions: HubSpot lists archived records only as a whole, so this runs on its own cadence."""
        scan = f"{stream.name}:archived"
        with Session(self.engine) as session:
            last = load_cursor(session, scan)
        if last.position is not None and self.settings.run_started_ms - last.position < self.settings.deletion_scan_ms:
            return
        for page, _ in hs.list_pages(stream.object_type, ["email"], archived=True):
            staged = []
            for r in page:
                r.setdefault("updatedAt", r.get("archivedAt"))
                staged.extend(hs.to_staged(stream.object_type, r, archived=True))
            self._store(stream, staged, None, result)
        with Session(self.engine) as session, session.begin():
            save_cursor(session, scan, Cursor(position=self.settings.run_started_ms), now_ms=self._now_ms(),
                        run_id=self.settings.run_id)

    def _pull_hubspot_owners(self, hs: HubSpotReader, stream: Stream, cursor: Cursor, result: PullResult) -> None:
        """The owner list has no modified-time search: it is read whole, on the deletion-scan cadence."""
        if cursor.position is not None and self.settings.run_started_ms - cursor.position < self.settings.deletion_scan_ms:
            return
        result.modes[stream.name] = "full"
        now = self.settings.run_started_ms
        staged = [StagedRecord(system="hubspot", object_type="owners", record_id=owner_id, modified_at=now,
                               data={"email": email}, email_norm=email.strip().casefold())
                  for owner_id, email in hs.owners().items()]
        self._store(stream, staged, Cursor(position=now), result)

    def _pull_hubspot_events(self, hs: HubSpotReader, stream: Stream, cursor: Cursor, result: PullResult) -> None:
        """Immutable touches, read by occurrence time in windows of at most EVENT_WINDOW_MS (the cursor moves
        after each); the first run reaches back EVENT_HISTORY_MS."""
        start = cursor if cursor.initial_done else Cursor(position=self.settings.ceiling - EVENT_HISTORY_MS)
        window = next_window(start, run_started_ms=self.settings.run_started_ms,
                             lookback_ms=self.settings.lookback_ms if cursor.initial_done else 0,
                             safety_lag_ms=self.settings.safety_lag_ms)
        if window is None:
            return
        result.modes[stream.name] = "incremental" if cursor.initial_done else "initial"
        convert = _web_event if stream.kind == "web_events" else _email_event
        for begin in range(window.start, window.end, EVENT_WINDOW_MS):
            part = Window(begin, min(begin + EVENT_WINDOW_MS, window.end))
            pages = hs.web_event_pages(part) if stream.kind == "web_events" else hs.email_event_pages(part)
            for page in pages:
                rows = [row for row in (convert(e) for e in page) if row is not None]
                with Session(self.engine) as session, session.begin():
                    result.counts(stream.name).add(stage_engagements(session, rows))
            # events have no modified time to keyset on: the cursor moves once a window is read whole
            self._store(stream, [], Cursor(position=part.end), result)

    # ------------------------------------------------------------------ Salesforce

    def _pull_salesforce(self, sf: SalesforceReader, streams: Sequence[Stream], result: PullResult) -> None:
        """One Composite call when nothing changed: five window queries, change probes for the rest.

        The query slots go to the "query" streams first (what changes most, and what the connector writes,
        so the echo of its own writes costs no second call). A probed stream reads whole-minute windows
        settled by getUpdated/getDeleted's latestDateCovered (see Cursor): its next probe starts exactly
        where the last read ended, so it reports only changes the store has not seen, and one that does
        is read in a second Composite.
        """
        ordered = [s for s in streams if s.poll == "query"] + [s for s in streams if s.poll != "query"]
        items: list[WindowQuery | ChangeProbe] = []
        reads: list[_SalesforceRead] = []
        probe_floor = self.settings.run_started_ms - PROBE_REACH_MS
        whole = whole_minute(self.settings.ceiling)
        for slot, stream in enumerate(ordered):
            with Session(self.engine) as session:
                cursor = load_cursor(session, stream.name)
            initial = not cursor.initial_done
            previous = Cursor(position=0) if initial else cursor
            mode = "initial" if initial else "incremental"
            if slot < COMPOSITE_QUERIES:
                window = next_window(previous, run_started_ms=self.settings.run_started_ms,
                                     lookback_ms=0 if initial else self.settings.lookback_ms,
                                     safety_lag_ms=self.settings.safety_lag_ms)
                if window is None:
                    continue
                result.modes[stream.name] = mode
                reads.append(_SalesforceRead(stream, window, previous, query=len(items)))
                items.append(WindowQuery(stream.object_type, stream.fields, window))
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
            items.append(WindowQuery(stream.object_type, stream.fields, window))
        if not items:
            return
        answers = sf.composite(items)
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
            body = answers[read.query]
            assert isinstance(body, dict)
            settled = probe is not None and probe.covered_until >= read.window.end
            self._read_query(sf, read.stream, CursorTracker(read.window, read.previous, settled=settled), body, result)
        if second_round:
            bodies = sf.composite([WindowQuery(s.object_type, s.fields, t.window) for s, t in second_round])
            for (stream, tracker), body in zip(second_round, bodies):
                if isinstance(body, dict):
                    self._read_query(sf, stream, tracker, body, result)

    def _read_query(self, sf: SalesforceReader, stream: Stream, tracker: CursorTracker, body: dict[str, Any],
                    result: PullResult) -> None:
        initial = tracker.window.start == 0 and result.modes[stream.name] == "initial"
        if initial and int(body.get("totalSize") or 0) > sf.bulk_threshold:
            self._bulk_initial(sf, stream, tracker, result)
            return
        for page in sf.follow(body, stream.object_type):
            staged = [sf.to_staged(stream.object_type, r) for r in page]
            tracker.observe((s.record_id, s.modified_at) for s in staged)
            self._store(stream, staged, tracker.cursor(), result)
        self._finish_salesforce(stream, tracker, result)

    def _finish_salesforce(self, stream: Stream, tracker: CursorTracker, result: PullResult) -> None:
        self._store(stream, [], tracker.finish(), result)

    def _bulk_initial(self, sf: SalesforceReader, stream: Stream, tracker: CursorTracker, result: PullResult) -> None:
        """A first load too large for REST pages: one Bulk 2.0 job; the cursor moves when it is all stored."""
        result.modes[stream.name] = "initial (bulk)"
        soql = sf.window_soql(stream.object_type, stream.fields, tracker.window).rsplit(" ORDER BY", 1)[0]
        for page in sf.bulk_query_pages(soql, object_type=stream.object_type):
            self._store(stream, [sf.to_staged(stream.object_type, r) for r in page], None, result)
        self._store(stream, [], tracker.finish(), result)

    # ------------------------------------------------------------------ staging

    def _known_versions(self, stream: Stream, versions: list[tuple[str, int]]) -> set[tuple[str, int]]:
        """Which (id, modified) pairs the store already holds: re-reading them changes nothing."""
        if not versions:
            return set()
        with Session(self.engine) as session:
            rows = session.execute(select(SourceRecord.record_id, SourceRecord.modified_at).where(
                SourceRecord.system == stream.system, SourceRecord.object_type == stream.object_type,
                SourceRecord.record_id.in_([i for i, _ in versions]),  # type: ignore[attr-defined]
            )).all()
        return {(rid, modified) for rid, modified in rows}

    def _store(self, stream: Stream, staged: list[StagedRecord], cursor: Cursor | None, result: PullResult) -> None:
        with Session(self.engine) as session, session.begin():
            if staged:
                counts = stage_records(session, staged, fetched_at=self._now_ms(), run_id=self.settings.run_id)
                result.counts(stream.name).add(counts)
            if cursor is not None:
                save_cursor(session, stream.name, cursor, now_ms=self._now_ms(), run_id=self.settings.run_id)

