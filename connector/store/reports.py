"""What the reports read from the store (SQL only): status transitions, the people's report fields, their
won deals, their current grade and rules, their sales touches, the scoring model versions and the data's
freshness.

Every read is one query or chunked by person, and returns plain rows: the report modules compute the
figures from them (and are tested on hand-written rows), so a 100,000-person store reports in seconds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..score.timeline import Touch
from .db import in_chunks
from .models import FieldHistory, PersonField, PersonScore, ScoringModelVersion, StatusTransition, SyncRun
from .scores import opportunities_by_person
from .timeline import touches_for

__all__ = ["Move", "Deal", "moves_since", "mqls_since", "person_fields", "field_history", "won_deals", "current_scores",
           "touches_of", "model_versions_of", "data_as_of"]


class Move(NamedTuple):
    """One status transition, as the reports read it."""

    person_id: str
    to_status: str
    at: int
    score: int | None
    model_hash: str
    reason: str


class Deal(NamedTuple):
    """A won Opportunity or deal: its key ("salesforce:006..."), amount and the people it belongs to."""

    key: str
    amount: float
    people: tuple[str, ...]


def moves_since(engine: Engine, since_ms: int, *, whole_history: bool) -> list[Move]:
    """The transitions at or after `since_ms`, in time order per person; with `whole_history`, every
    transition of the people who have one then (the funnel needs when each person first entered it)."""
    t = StatusTransition
    query = select(col(t.person_id), col(t.to_status), col(t.at), col(t.score), col(t.model_hash), col(t.reason))
    if whole_history:
        query = query.where(col(t.person_id).in_(select(col(t.person_id)).where(col(t.at) >= since_ms)))
    else:
        query = query.where(col(t.at) >= since_ms)
    with Session(engine) as session:
        rows = session.execute(query.order_by(col(t.person_id), col(t.at), col(t.id))).all()
    return [Move(p, s, int(a), sc, m or "", r or "") for p, s, a, sc, m, r in rows]


def mqls_since(engine: Engine, since_ms: int) -> list[Move]:
    """The transitions to MQL at or after `since_ms` (each one an SLA clock), in time order per person."""
    t = StatusTransition
    query = (select(col(t.person_id), col(t.to_status), col(t.at), col(t.score), col(t.model_hash), col(t.reason))
             .where(col(t.to_status) == "MQL", col(t.at) >= since_ms))
    with Session(engine) as session:
        rows = session.execute(query.order_by(col(t.person_id), col(t.at), col(t.id))).all()
    return [Move(p, s, int(a), sc, m or "", r or "") for p, s, a, sc, m, r in rows]


def touches_of(engine: Engine, person_ids: Sequence[str], kinds: Collection[str]) -> dict[str, list[Touch]]:
    """The touches of `kinds` (e.g. the SLA's sales touches) of each of `person_ids`, in time order: the
    scorer's timeline (`store.timeline.touches_for`, which skips the marketing events when none is of those
    kinds: half of the SLA report's time at 100,000 people)."""
    return touches_for(engine, sorted(set(person_ids)), kinds=kinds)


def person_fields(engine: Engine, person_ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The unified `fields` (e.g. lead_source, owner) of `person_ids`."""
    out: dict[str, dict[str, Any]] = {}
    with Session(engine) as session:
        for part in in_chunks(sorted(set(person_ids))):
            for pid, name, value in session.execute(select(
                    col(PersonField.person_id), col(PersonField.field), col(PersonField.value)).where(
                    col(PersonField.person_id).in_(part), col(PersonField.field).in_(list(fields)))).all():
                out.setdefault(pid, {})[name] = value
    return out


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _amount(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def won_deals(engine: Engine, person_ids: Sequence[str]) -> list[Deal]:
    """The won Opportunities and HubSpot deals of `person_ids`, each once. A deal that is also an Opportunity
    (the deal names it, or the Opportunity names the deal) counts as the Opportunity: Salesforce is preferred."""
    if not person_ids:
        return []
    people: dict[str, set[str]] = {}
    amounts: dict[str, float] = {}
    opportunity_ids: set[str] = set()
    deals_named: set[str] = set()  # deals an Opportunity says it is
    deal_opportunity: dict[str, str] = {}  # deal -> the Opportunity it says it is
    for pid, records in opportunities_by_person(engine, person_ids).items():
        for r in records:
            d = r.data
            if r.system == "salesforce":
                opportunity_ids.add(r.record_id[:15])
                if d.get("HubSpot_Deal_Id__c"):
                    deals_named.add(str(d["HubSpot_Deal_Id__c"]))
                won, amount = _true(d.get("IsWon")), _amount(d.get("Amount"))
            else:
                if d.get("salesforce_opportunity_id"):
                    deal_opportunity[r.record_id] = str(d["salesforce_opportunity_id"])[:15]
                won = _true(d.get("hs_is_closed_won")) or str(d.get("dealstage") or "") == "closedwon"
                amount = _amount(d.get("amount"))
            if won:
                key = f"{r.system}:{r.record_id}"
                people.setdefault(key, set()).add(pid)
                amounts[key] = amount
    out = []
    for key in sorted(people):
        system, _, rid = key.partition(":")
        if system == "hubspot" and (rid in deals_named or deal_opportunity.get(rid) in opportunity_ids):
            continue
        out.append(Deal(key, amounts[key], tuple(sorted(people[key]))))
    return out


def current_scores(engine: Engine, person_ids: Sequence[str]) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """Each person's current grade and the rules of their current breakdown."""
    out: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    with Session(engine) as session:
        for part in in_chunks(sorted(set(person_ids))):
            for pid, grade, breakdown in session.execute(select(
                    col(PersonScore.person_id), col(PersonScore.grade), col(PersonScore.breakdown)).where(
                    col(PersonScore.person_id).in_(part))).all():
                rules = tuple(dict.fromkeys(str(b[0]) for b in breakdown or [] if b))
                out[pid] = (grade, rules)
    return out


def model_versions_of(engine: Engine, hashes: Iterable[str]) -> list[dict[str, Any]]:
    """The scoring model versions behind `hashes`, oldest first."""
    wanted = sorted({h for h in hashes if h})
    if not wanted:
        return []
    with Session(engine) as session:
        rows = session.execute(select(col(ScoringModelVersion.model_hash), col(ScoringModelVersion.version),
                                      col(ScoringModelVersion.first_used)).where(
            col(ScoringModelVersion.model_hash).in_(wanted)).order_by(col(ScoringModelVersion.first_used))).all()
    known = [{"version": v, "hash": h} for h, v, _ in rows]
    return known + [{"version": None, "hash": h} for h in wanted if h not in {k["hash"] for k in known}]


def data_as_of(engine: Engine) -> int | None:
    """When the last run that finished (ok or partial) finished: how fresh the store's data is."""
    with Session(engine) as session:
        value = session.execute(select(func.max(col(SyncRun.finished_at))).where(
            col(SyncRun.status).in_(["ok", "partial"]), col(SyncRun.finished_at).is_not(None))).scalar()
    return int(value) if value is not None else None


def field_history(engine: Engine, person_ids: Sequence[str], field: str) -> dict[str, list[tuple[int, Any]]]:
    """Each person's recorded values of a tracked unified field (`TRACKED_FIELDS`), as (since, value) in time
    order."""
    out: dict[str, list[tuple[int, Any]]] = {}
    h = FieldHistory
    with Session(engine) as session:
        for part in in_chunks(person_ids):
            for pid, since, value in session.execute(
                    select(col(h.person_id), col(h.since), col(h.value)).where(
                        col(h.person_id).in_(part), col(h.field) == field).order_by(
                        col(h.person_id), col(h.since), col(h.id))).all():
                out.setdefault(pid, []).append((int(since), value))
    return out
