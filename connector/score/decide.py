"""One person's scoring decision (pure): score, status, what is published, when to look again, what to write.

The published score (what both systems show) moves only when the new score differs by the write step or
is on the other side of the MQL threshold (`should_publish`); otherwise the score both systems hold
stands, and decay is not a write every cycle. `next_check_at` is the earliest of: decay making a
publish due, the inactivity penalty starting, an unaccepted MQL going idle long enough to recycle, the
handoff SLA clock turning due soon or breached (`handoff`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..reconcile.records import FieldChange
from .handoff import handoff
from .model import ScoringModel
from .outputs import output_changes, outputs_of
from .scorer import ScoreResult, next_change, score_person, should_publish
from .signals import LinkedRecord, signals_of
from .status import StatusState, Transition, advance
from .timeline import Touch

__all__ = ["Decision", "Prior", "decide"]


@dataclass(frozen=True, slots=True)
class Prior:
    """What the store holds of the person's last scoring."""

    published: int
    state: StatusState
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    result: ScoreResult
    published: int
    reason: str
    state: StatusState
    transitions: tuple[Transition, ...]
    next_check_at: int | None
    outputs: dict[str, Any]
    changes: tuple[FieldChange, ...]

    @property
    def republished(self) -> bool:
        return bool(self.changes)


def decide(model: ScoringModel, person_id: str, fields: Mapping[str, Any], records: Sequence[LinkedRecord],
           touches: Sequence[Touch], opportunities: Sequence[LinkedRecord], prior: Prior | None, now: int
           ) -> Decision:
    """Score the person at `now`, move their status, and plan the writes that publish both."""
    since = prior.state.reset_at if prior else None
    result = score_person(model, fields, touches, now, since)
    # feedback comes from records that exist: one the people's plan is about to create says nothing yet
    signals = signals_of(model, [r for r in records if r.record_id], opportunities)
    state, transitions = advance(model, prior.state if prior else None, result, signals, touches, now)
    if state.reset_at != since:  # recycled just now: engagement restarts from the recycle
        result = score_person(model, fields, touches, now, state.reset_at)
        state, more = advance(model, state, result, signals, touches, now)
        transitions += more
    publish = prior is None or should_publish(model, result.score, prior.published)
    published = result.score if publish or prior is None else prior.published
    reason = result.reason  # it follows what the person did, not decay: it changes with new touches only
    outputs = outputs_of(published, result.grade, state.status, state.mql_at, state.reason, reason)
    handed, clock_changes_at = handoff(model, state, touches, fields, now)
    outputs.update(handed)
    changes = output_changes(model, person_id, outputs, records)
    next_check = _next_check(model, result, published, state, now)
    if clock_changes_at is not None and clock_changes_at > now and (next_check is None
                                                                    or clock_changes_at < next_check):
        next_check = clock_changes_at
    return Decision(result, published, reason, state, tuple(transitions), next_check, outputs, tuple(changes))


def _next_check(model: ScoringModel, result: ScoreResult, published: int, state: StatusState, now: int
                ) -> int | None:
    """The earliest of the times below that is still to come (None: none is)."""
    best: int | None = None
    decay = next_change(model, result, published)
    if decay is not None and decay > now:
        best = decay
    last = result.last_touch_at
    if last is not None and model.inactive_points and now - last <= model.inactive_ms:
        idle = last + model.inactive_ms + 1
        if idle > now and (best is None or idle < best):
            best = idle
    if state.status == "MQL" and model.recycle_inactive_ms is not None and state.mql_at is not None:
        recycle = max(state.mql_at, last or 0) + model.recycle_inactive_ms + 1
        if recycle > now and (best is None or recycle < best):
            best = recycle
    return best
