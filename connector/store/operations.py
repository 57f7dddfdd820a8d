"""What the daemon's HTTP endpoint reads from the store (SQL only): reachability, the runs and their stored
counts, the parking lot per object, when the last successful sync started, and the published SLA clocks.

Every figure comes from the store, not from the process: metrics and the status page survive a restart and
agree with each other and with `connector status`. The pure helpers at the end read the shapes a run's
record keeps (`SyncRun.counts`, written by `connector.sync.results`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.schema import SCORE_OUTPUTS, SLA_STATES
from .models import Link, ParkedRecord, PersonScore, SourceRecord, SyncRun

__all__ = ["RunRow", "RunTotals", "ObjectKey", "SUCCESS", "check_reachable", "ended_through", "run_totals",
           "recent_run_rows", "last_success_started", "parked_by_object", "sla_breached_people", "pulled_per_object",
           "written_per_object"]

#: the statuses of a run that completed (parked records are no failure)
SUCCESS = ("ok", "partial")
#: (system, object type), e.g. ("salesforce", "Lead")
ObjectKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run's record as the endpoint reads it (times in epoch ms; `counts` as `SyncRun.counts` keeps them)."""

    id: int
    command: str
    status: str
    started_at: int
    finished_at: int | None
    api_calls: Mapping[str, Any]
    counts: Mapping[str, Any]
    error: str | None


def check_reachable(engine: Engine) -> None:
    """A `SELECT 1` on a connection of `engine`; raises the driver's error (SQLAlchemyError) when it fails."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


def _row(r: SyncRun) -> RunRow:
    finished = None if r.finished_at is None else int(r.finished_at)
    return RunRow(int(r.id or 0), r.command, r.status, int(r.started_at), finished, r.api_calls or {}, r.counts or {},
                  r.error)


def ended_through(engine: Engine, after_id: int) -> int:
    """The highest run id up to which every run after `after_id` has ended (`after_id` itself when the next run
    is still in progress or there is none): the runs whose figures are final."""
    r = SyncRun
    with Session(engine) as session:
        running = session.execute(select(func.min(col(r.id))).where(col(r.id) > after_id,
                                                                   col(r.status) == "running")).scalar()
        if running is not None:
            return max(after_id, int(running) - 1)
        newest = session.execute(select(func.max(col(r.id)))).scalar()
    return max(after_id, int(newest or 0))


@dataclass(frozen=True)
class RunTotals:
    """What a range of ended runs did, added up (see `pulled_per_object` and `written_per_object`)."""

    pulled: dict[ObjectKey, int]
    written: dict[ObjectKey, int]
    rejected: dict[ObjectKey, int]
    calls: dict[str, int]
    #: runs per (command, status)
    outcomes: dict[tuple[str, str], int]


#: the sums, one query each, per dialect: the documents are walked by the database's JSON functions (no row
#: reaches Python), so half a million runs add up in seconds. `:after` < id <= `:upto`.
_TOTALS_SQL: dict[str, dict[str, str]] = {
    "sqlite": {
        # a cycle's streams under "pull", then `connector pull`'s at the top ("system:object" keys)
        "pulled": """
            SELECT s.key, SUM(COALESCE(json_extract(s.value, '$.new'), 0) + COALESCE(json_extract(s.value,
                   '$.changed'), 0) + COALESCE(json_extract(s.value, '$.unchanged'), 0))
            FROM sync_run r, json_each(r.counts, '$.pull.streams') s
            WHERE r.id > :after AND r.id <= :upto AND s.type = 'object' GROUP BY s.key
            UNION ALL
            SELECT s.key, SUM(COALESCE(json_extract(s.value, '$.new'), 0) + COALESCE(json_extract(s.value,
                   '$.changed'), 0) + COALESCE(json_extract(s.value, '$.unchanged'), 0))
            FROM sync_run r, json_each(r.counts) s
            WHERE r.id > :after AND r.id <= :upto AND s.key LIKE '%:%'
              AND (CASE WHEN s.type = 'object' THEN json_type(s.value, '$.new') END) IS NOT NULL
            GROUP BY s.key""",
        # people's writes under "push", each other object's under its own name's "push"
        "written": """
            SELECT sys.key, obj.key,
                   SUM(COALESCE(json_extract(obj.value, '$.created'), 0) + COALESCE(json_extract(obj.value,
                       '$.updated'), 0)), SUM(COALESCE(json_extract(obj.value, '$.rejected'), 0))
            FROM sync_run r, json_each(r.counts) p,
                 json_each(CASE WHEN p.type = 'object' THEN p.value ELSE '{}' END,
                           CASE WHEN p.key = 'push' THEN '$.written' ELSE '$.push.written' END) sys,
                 json_each(CASE WHEN sys.type = 'object' THEN sys.value ELSE '{}' END) obj
            WHERE r.id > :after AND r.id <= :upto AND obj.type = 'object' GROUP BY sys.key, obj.key""",
        "calls": """
            SELECT s.key, SUM(COALESCE(CASE WHEN s.type = 'object' THEN json_extract(s.value, '$.total') END, 0))
            FROM sync_run r, json_each(r.api_calls) s
            WHERE r.id > :after AND r.id <= :upto GROUP BY s.key""",
    },
    "postgresql": {
        "pulled": """
            SELECT s.key, SUM(COALESCE((s.value->>'new')::numeric, 0) + COALESCE((s.value->>'changed')::numeric, 0)
                              + COALESCE((s.value->>'unchanged')::numeric, 0))
            FROM sync_run r CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(r.counts->'pull'->'streams')
                 = 'object' THEN r.counts->'pull'->'streams' ELSE '{}'::jsonb END) s
            WHERE r.id > :after AND r.id <= :upto AND jsonb_typeof(s.value) = 'object' GROUP BY s.key
            UNION ALL
            SELECT s.key, SUM(COALESCE((s.value->>'new')::numeric, 0) + COALESCE((s.value->>'changed')::numeric, 0)
                              + COALESCE((s.value->>'unchanged')::numeric, 0))
            FROM sync_run r CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(r.counts) = 'object'
                 THEN r.counts ELSE '{}'::jsonb END) s
            WHERE r.id > :after AND r.id <= :upto AND s.key LIKE '%:%' AND jsonb_typeof(s.value) = 'object'
              AND s.value ? 'new'
            GROUP BY s.key""",
        "written": """
            SELECT sys.key, obj.key,
                   SUM(COALESCE((obj.value->>'created')::numeric, 0) + COALESCE((obj.value->>'updated')::numeric, 0)),
                   SUM(COALESCE((obj.value->>'rejected')::numeric, 0))
            FROM sync_run r
            CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(r.counts) = 'object' THEN r.counts
                                          ELSE '{}'::jsonb END) p
            CROSS JOIN LATERAL jsonb_each(CASE
                WHEN p.key = 'push' AND jsonb_typeof(p.value->'written') = 'object' THEN p.value->'written'
                WHEN p.key <> 'push' AND jsonb_typeof(p.value->'push'->'written') = 'object'
                    THEN p.value->'push'->'written'
                ELSE '{}'::jsonb END) sys
            CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(sys.value) = 'object' THEN sys.value
                                          ELSE '{}'::jsonb END) obj
            WHERE r.id > :after AND r.id <= :upto AND jsonb_typeof(obj.value) = 'object'
            GROUP BY sys.key, obj.key""",
        "calls": """
            SELECT s.key, SUM(COALESCE(CASE WHEN jsonb_typeof(s.value) = 'object'
                                       THEN (s.value->>'total')::numeric END, 0))
            FROM sync_run r CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(r.api_calls) = 'object'
                 THEN r.api_calls ELSE '{}'::jsonb END) s
            WHERE r.id > :after AND r.id <= :upto GROUP BY s.key""",
    },
}


def run_totals(engine: Engine, after_id: int, upto_id: int) -> RunTotals:
    """The figures of the runs with `after_id` < id <= `upto_id` (ended runs: see `ended_through`), added up:
    records pulled, written and rejected per system and object, API calls per system, runs per command and
    outcome."""
    sql = _TOTALS_SQL[engine.dialect.name]
    bounds = {"after": after_id, "upto": upto_id}
    pulled: dict[ObjectKey, int] = {}
    written: dict[ObjectKey, int] = {}
    rejected: dict[ObjectKey, int] = {}
    with engine.connect() as connection:
        for key, n in connection.execute(text(sql["pulled"]), bounds):
            where = _split(str(key))
            if where is not None:
                pulled[where] = pulled.get(where, 0) + int(n or 0)
        for system, obj, done, refused in connection.execute(text(sql["written"]), bounds):
            written[(str(system), str(obj))] = int(done or 0)
            rejected[(str(system), str(obj))] = int(refused or 0)
        calls = {str(system): int(n or 0) for system, n in connection.execute(text(sql["calls"]), bounds)
                 if system is not None}
        r = SyncRun
        outcomes = {(str(c), str(s)): int(n) for c, s, n in connection.execute(
            select(col(r.command), col(r.status), func.count()).where(col(r.id) > after_id, col(r.id) <= upto_id)
            .group_by(col(r.command), col(r.status)))}
    return RunTotals(pulled, written, rejected, calls, outcomes)


def _split(key: str) -> ObjectKey | None:
    system, _, obj = key.partition(":")
    return (system, obj) if system and obj else None


def recent_run_rows(engine: Engine, *, limit: int = 20) -> list[RunRow]:
    """The newest runs, newest first, with their counts (`connector status`'s runs, plus what they did)."""
    with Session(engine) as session:
        rows = session.execute(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)).scalars().all()
    return [_row(r) for r in rows]


def last_success_started(engine: Engine, commands: Collection[str]) -> int | None:
    """When the newest run of one of `commands` that completed (ok or partial) started, or None."""
    with Session(engine) as session:
        value = session.execute(select(func.max(col(SyncRun.started_at))).where(
            col(SyncRun.status).in_(SUCCESS), col(SyncRun.command).in_(list(commands)))).scalar()
    return None if value is None else int(value)


def parked_by_object(engine: Engine) -> dict[ObjectKey, int]:
    """How many records wait in the parking lot (not resolved), per system and object type."""
    p = ParkedRecord
    with Session(engine) as session:
        rows = session.execute(select(col(p.system), col(p.object_type), func.count()).where(
            col(p.resolved_at).is_(None)).group_by(col(p.system), col(p.object_type))).all()
    return {(str(s), str(o)): int(n) for s, o, n in rows}


#: the handoff clock's "breached", as both systems show it
_BREACHED = SLA_STATES[2]
#: the live person records that carry the published clock, and the name it has there
_CLOCK_FIELDS = (("hubspot", ("contacts",), SCORE_OUTPUTS["sla_state"][0]),
                 ("salesforce", ("Lead", "Contact"), SCORE_OUTPUTS["sla_state"][1]))


def sla_breached_people(engine: Engine) -> int:
    """The people whose handoff SLA clock, as the scorer last published it to either system, reads breached.

    Read from the snapshots of their live records (a push patches the snapshot with what it wrote, so the
    published value is there without a pull), among the people who ever became an MQL: one query, no clock
    recomputed (the scorer re-publishes a clock when it breaches, at its next pass)."""
    s = SourceRecord
    published = or_(*(and_(col(s.system) == system, col(s.object_type).in_(objects),
                           col(s.data)[name].as_string() == _BREACHED)
                      for system, objects, name in _CLOCK_FIELDS))
    query = (select(func.count(func.distinct(col(Link.person_id))))
             .select_from(Link)
             .join(PersonScore, col(PersonScore.person_id) == col(Link.person_id))
             .join(s, and_(col(s.system) == col(Link.system), col(s.object_type) == col(Link.object_type),
                           col(s.record_id) == col(Link.record_id)))
             .where(col(PersonScore.mql_at).is_not(None), col(Link.role) == "primary",
                    col(s.deleted).is_(False), published))
    with Session(engine) as session:
        return int(session.execute(query).scalar_one())


# -- the shapes a run's record keeps (pure) ---------------------------------------------------------------


def pulled_per_object(counts: Mapping[str, Any]) -> dict[ObjectKey, int]:
    """Records a run read per system and object: every record its streams returned, new, changed or unchanged
    (the connector's own echoes are among the changed). A cycle keeps its streams under "pull"; `connector
    pull` at the top."""
    pull = counts.get("pull")
    streams = pull.get("streams") if isinstance(pull, Mapping) else counts
    out: dict[ObjectKey, int] = {}
    for key, stream in (streams if isinstance(streams, Mapping) else {}).items():
        system, _, obj = str(key).partition(":")
        if not obj or not isinstance(stream, Mapping) or "new" not in stream:
            continue
        n = int(stream.get("new") or 0) + int(stream.get("changed") or 0) + int(stream.get("unchanged") or 0)
        out[(system, obj)] = out.get((system, obj), 0) + n
    return out


def written_per_object(counts: Mapping[str, Any]) -> dict[ObjectKey, tuple[int, int]]:
    """(written, rejected) per system and object of a run: records created plus updated, and records the
    system refused. People keep theirs under "push", deals and other objects under their own name's "push"."""
    out: dict[ObjectKey, tuple[int, int]] = {}
    for key, part in counts.items():
        push = part if key == "push" else part.get("push") if isinstance(part, Mapping) else None
        written = push.get("written") if isinstance(push, Mapping) else None
        if not isinstance(written, Mapping):
            continue
        for system, objects in written.items():
            if not isinstance(objects, Mapping):
                continue
            for obj, n in objects.items():
                if not isinstance(n, Mapping):
                    continue
                done, refused = out.get((str(system), str(obj)), (0, 0))
                out[(str(system), str(obj))] = (done + int(n.get("created") or 0) + int(n.get("updated") or 0),
                                                refused + int(n.get("rejected") or 0))
    return out
