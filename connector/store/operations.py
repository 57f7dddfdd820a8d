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

__all__ = ["RunRow", "ObjectKey", "check_reachable", "runs_by_outcome", "runs_after", "recent_run_rows",
           "last_success_started", "parked_by_object", "sla_breached_people", "pulled_per_object",
           "written_per_object", "SUCCESS"]

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


def runs_by_outcome(engine: Engine) -> list[tuple[str, str, int]]:
    """(command, status, runs) for every run that has ended (a run in progress has no outcome yet)."""
    r = SyncRun
    with Session(engine) as session:
        rows = session.execute(select(col(r.command), col(r.status), func.count()).where(
            col(r.status) != "running").group_by(col(r.command), col(r.status))).all()
    return [(str(c), str(s), int(n)) for c, s, n in rows]


def _row(r: SyncRun) -> RunRow:
    assert r.id is not None
    return RunRow(r.id, r.command, r.status, int(r.started_at), None if r.finished_at is None else int(r.finished_at),
                  r.api_calls or {}, r.counts or {}, r.error)


def runs_after(engine: Engine, after_id: int, *, limit: int = 500) -> list[RunRow]:
    """Up to `limit` runs with an id above `after_id`, oldest first (the metrics add them up once each)."""
    with Session(engine) as session:
        rows = session.execute(select(SyncRun).where(col(SyncRun.id) > after_id).order_by(col(SyncRun.id))
                               .limit(limit)).scalars().all()
    return [_row(r) for r in rows]


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


def _split(key: str) -> ObjectKey | None:
    system, sep, obj = key.partition(":")
    return (system, obj) if sep and system and obj else None


def pulled_per_object(counts: Mapping[str, Any]) -> dict[ObjectKey, int]:
    """Records a run read per system and object: every record its streams returned, new, changed or unchanged
    (the connector's own echoes are among the changed). A cycle keeps its streams under "pull"; `connector
    pull` at the top."""
    pull = counts.get("pull")
    streams = pull.get("streams") if isinstance(pull, Mapping) else counts
    out: dict[ObjectKey, int] = {}
    for key, stream in (streams or {}).items():
        where = _split(str(key))
        if where is None or not isinstance(stream, Mapping) or "new" not in stream:
            continue
        n = sum(int(stream.get(k) or 0) for k in ("new", "changed", "unchanged"))
        out[where] = out.get(where, 0) + n
    return out


def written_per_object(counts: Mapping[str, Any]) -> dict[ObjectKey, tuple[int, int]]:
    """(written, rejected) per system and object of a run: records created plus updated, and records the
    system refused. People keep theirs under "push", deals and other objects under their own name's "push"."""
    parts = [counts.get("push")]
    parts += [part.get("push") for key, part in counts.items() if key != "push" and isinstance(part, Mapping)]
    out: dict[ObjectKey, tuple[int, int]] = {}
    for push in parts:
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
