"""The qualification status (pure): a documented state machine, moved by the score and by sales feedback.

    Lead ──score ≥ MQL (and grade)──▶ MQL ──accepted status or first sales touch──▶ SAL
    SAL/MQL/Lead ──qualified status or converted Lead──▶ SQL ──open opportunity──▶ Opportunity ──won──▶ Customer
    Opportunity ──every opportunity lost──▶ Recycled
    any before Opportunity ──recycled status──▶ Recycled ──score ≥ MQL on engagement since──▶ MQL (re-MQL, counted)
    any before Opportunity ──disqualified status, or a disqualifying fit rule──▶ Disqualified
    MQL ──no touch for N days──▶ Recycled            (a dip of the score alone never undoes an MQL)

Sales feedback (a lead status in Salesforce, or in HubSpot for people only there) acts when it changes,
so a Lead left "Recycled" in Salesforce does not hold the person there once they engage again. Each move
is a `Transition` with when (the event's own time), why, and which system's event caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import RANK, ScoringModel
from .scorer import ScoreResult
from .timeline import Touch

__all__ = ["Opportunities", "Signals", "StatusState", "Transition", "advance", "initial_state"]

_MAX_STEPS = 8


@dataclass(frozen=True, slots=True)
class Opportunities:
    """The person's opportunities (or deals), reduced to what moves the status."""

    open_since: int | None = None  # the earliest open one's creation
    won_at: int | None = None  # the first won one's close
    lost_at: int | None = None  # the last lost one's close (when none is open or won)
    system: str = "salesforce"
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class Signals:
    """What sales said: the live lead status (system, value, when it was set), a reason, a conversion."""

    lead_status: tuple[str, str, int] | None = None
    reason: str | None = None
    converted_at: int | None = None
    opportunities: Opportunities = Opportunities()
    source_id: str | None = None  # the Lead (or contact) the status was read from


@dataclass(frozen=True, slots=True)
class StatusState:
    """Where a person stands: status, since when, why, by whose event; the current MQL and how many."""

    status: str
    since: int
    reason: str | None = None
    by: str = "connector"
    mql_at: int | None = None
    mql_count: int = 0
    feedback: str | None = None  # the last lead status acted on ("salesforce:Working - Contacted")
    reset_at: int | None = None  # engagement counts from here (set when sales recycles the person)


@dataclass(frozen=True, slots=True)
class Transition:
    from_status: str | None
    to_status: str
    at: int
    reason: str
    system: str
    source_id: str | None = None


def initial_state(at: int) -> StatusState:
    return StatusState("Lead", at)


def _move(state: StatusState, to: str, at: int, reason: str, system: str, source_id: str | None,
          out: list[Transition], first: bool, **changes: object) -> StatusState:
    reason = reason[:255]
    out.append(Transition(None if first and not out else state.status, to, at, reason, system, source_id))
    get = changes.get  # the state, moved (a direct construction: `dataclasses.replace` costs several times more)
    return StatusState(to, at, reason, system, get("mql_at", state.mql_at),  # type: ignore[arg-type]
                       get("mql_count", state.mql_count), get("feedback", state.feedback),  # type: ignore[arg-type]
                       get("reset_at", state.reset_at))  # type: ignore[arg-type]


def _grade_ok(model: ScoringModel, grade: str | None) -> bool:
    if model.mql_min_grade is None:
        return True
    return grade is not None and grade <= model.mql_min_grade  # "A" < "B": A is better


def advance(model: ScoringModel, prior: StatusState | None, result: ScoreResult, signals: Signals,
            touches: Sequence[Touch], now: int) -> tuple[StatusState, list[Transition]]:
    """The person's status after what is known at `now`, and the transitions that led there (oldest first).

    `prior` None is a person scored for the first time: the first transition has no `from_status`.
    `result` is the score computed with `prior.reset_at` as its `since`; a recycle here resets engagement,
    so no MQL follows from that result (the caller scores again from the reset and advances again)."""
    first = prior is None
    state = prior or initial_state(now)
    scored_since = state.reset_at  # `result` counts engagement from here: after a reset it is stale
    out: list[Transition] = []
    opp = signals.opportunities
    for _ in range(_MAX_STEPS):
        before = state
        rank = RANK[state.status]
        if opp.won_at is not None and state.status != "Customer":
            state = _move(state, "Customer", opp.won_at, "Opportunity won", opp.system, opp.source_id, out, first)
        elif opp.open_since is not None and rank < RANK["Opportunity"]:
            state = _move(state, "Opportunity", opp.open_since, "Opportunity open", opp.system, opp.source_id,
                          out, first)
        elif (state.status == "Opportunity" and opp.open_since is None and opp.won_at is None
              and opp.lost_at is not None):
            state = _move(state, "Recycled", opp.lost_at, "Opportunity lost", opp.system, opp.source_id, out,
                          first, reset_at=opp.lost_at)
        elif signals.lead_status is not None and _feedback_key(signals) != state.feedback:
            state = _feedback(model, state, signals, out, first)
        elif signals.converted_at is not None and rank < RANK["SQL"] and state.status != "Disqualified":
            state = _move(state, "SQL", signals.converted_at, "Lead converted", "salesforce", signals.source_id,
                          out, first)
        elif result.disqualified_by and state.status in ("Lead", "Recycled", "MQL"):
            state = _move(state, "Disqualified", now, result.disqualified_by, "connector", None, out, first)
        elif (state.status == "Disqualified" and state.by == "connector" and not result.disqualified_by):
            state = _move(state, "Lead", now, "No disqualifying fit rule matches any more", "connector", None,
                          out, first)
        elif (state.status in ("Lead", "Recycled") and result.score >= model.mql and not result.disqualified_by
              and _grade_ok(model, result.grade) and state.reset_at == scored_since):
            last = result.last_touch_at  # the touch that lifted the score over (first scoring: the latest one)
            at = last if last is not None and (first or last > state.since) else now
            state = _move(state, "MQL", at, f"Score {result.score} reached {model.mql}", "connector", None, out,
                          first, mql_at=at, mql_count=state.mql_count + 1)
        elif state.status == "MQL" and state.mql_at is not None:
            mql_at: int = state.mql_at
            touch = next((t for t in sorted(touches, key=lambda x: x.at) if t.is_sales and mql_at <= t.at <= now),
                         None)
            if touch is not None:
                state = _move(state, "SAL", touch.at, f"First sales touch: {touch.kind}", touch.system,
                              touch.source_id, out, first)
            elif model.recycle_inactive_ms is not None:
                idle_from = max(mql_at, result.last_touch_at or 0)
                if now - idle_from > model.recycle_inactive_ms:
                    days = model.recycle_inactive_ms // 86_400_000
                    at = idle_from + model.recycle_inactive_ms
                    state = _move(state, "Recycled", at, f"No engagement for {days} days after MQL", "connector",
                                  None, out, first, reset_at=at)
        if state is before:  # every move makes a new, different state: nothing moved, so nothing will
            break
    if first and not out:
        out.append(Transition(None, state.status, now, "First scored", "connector"))
    return state, out


def _feedback_key(signals: Signals) -> str | None:
    if signals.lead_status is None:
        return None
    system, value, _ = signals.lead_status
    return f"{system}:{value}"


def _feedback(model: ScoringModel, state: StatusState, signals: Signals, out: list[Transition],
              first: bool) -> StatusState:
    """A changed lead status: what it means (if anything) moves the status; either way it is now acted on."""
    assert signals.lead_status is not None
    system, value, at = signals.lead_status
    means = (model.status.salesforce if system == "salesforce" else model.status.hubspot).get(value)
    key = f"{system}:{value}"
    rank = RANK[state.status]
    src = signals.source_id
    if means in ("Disqualified", "Recycled") and rank < RANK["Opportunity"] and state.status != means:
        reason = signals.reason or f"Lead status {value}"
        extra = {"reset_at": at} if means == "Recycled" else {}
        return _move(state, means, at, reason, system, src, out, first, feedback=key, **extra)
    if means == "SQL" and rank < RANK["SQL"]:
        return _move(state, "SQL", at, f"Lead status {value}", system, src, out, first, feedback=key)
    if means == "SAL" and rank < RANK["SAL"]:
        return _move(state, "SAL", at, f"Lead status {value}", system, src, out, first, feedback=key)
    return StatusState(state.status, state.since, state.reason, state.by, state.mql_at, state.mql_count, key,
                       state.reset_at)
