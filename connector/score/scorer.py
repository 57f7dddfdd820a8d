"""Scoring one person (pure): fit from the unified fields, engagement from the timeline, with decay and caps.

    score = fit + engagement
    fit        = the points of every fit rule the person's fields match
    engagement = sum over touches of points x 2^-(age / half-life)   (capped per kind and period)
                 + unsubscribe / hard bounce (once each, not decayed) + inactivity (no touch for N days)

Caps count raw points per fixed period (`per_days`, counted from the epoch), in time order, so the score
does not depend on the order the touches are given in. Because every decaying term shrinks by the same
factor, the score at any later time is `steady + decaying x 2^-(dt / half-life)`: `next_change` solves
it for the moment decay moves the published score by a write step or across the MQL threshold, so a
person is scored again only when that can change what both systems show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import KindPoints, ScoringModel
from .timeline import Touch

__all__ = ["Points", "ScoreResult", "next_change", "score_person", "should_publish"]

_LN2 = math.log(2.0)
_PLURALS = {"page_view": "page views", "form_submission": "form submissions", "email_open": "e-mail opens",
            "email_click": "e-mail clicks", "campaign_response": "campaign responses", "call": "calls",
            "meeting": "meetings", "email": "sales e-mails", "task": "tasks", "note": "notes"}
_SINGULAR = {"page_view": "page view", "form_submission": "form submission", "email_open": "e-mail open",
             "email_click": "e-mail click", "campaign_response": "campaign response", "call": "call",
             "meeting": "meeting", "email": "sales e-mail", "task": "task", "note": "note"}


@dataclass(frozen=True, slots=True)
class Points:
    """One line of a score's breakdown: a rule, the points it gave (decayed, for engagement), touches counted."""

    rule: str
    points: float
    count: int
    part: str  # "fit" | "engagement" | "negative"

    def to_json(self) -> list[Any]:
        return [self.rule, round(self.points, 1), self.count, self.part]


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A person's score at `at`, with what makes it up."""

    score: int
    fit: int
    engagement: int
    grade: str | None
    disqualified_by: str | None  # the fit rule that disqualifies the person, if any
    breakdown: tuple[Points, ...]
    reason: str
    last_touch_at: int | None
    at: int
    steady: float  # fit and negatives: what decay leaves
    decaying: float  # the decaying engagement at `at`


_new = object.__new__
#: the slots' setters (they bypass the frozen class's `__setattr__`, as its generated `__init__` does)
_set_rule, _set_points, _set_count, _set_part = (getattr(Points, name).__set__
                                                 for name in ("rule", "points", "count", "part"))


def _points(rule: str, points: float, count: int, part: str) -> Points:
    """`Points(rule, points, count, part)`, set through its slots: the frozen dataclass's `__init__` costs
    half as much again, and a person has several lines."""
    p = _new(Points)
    _set_rule(p, rule)
    _set_points(p, points)
    _set_count(p, count)
    _set_part(p, part)
    return p


def _counted(kp: KindPoints, at: int, used: dict[tuple[str, int], int]) -> int:
    """The raw points a touch gives under its cap (the cap's room left in its period)."""
    if kp.cap is None or kp.points <= 0:
        return kp.points
    key = (kp.name, at // kp.per_ms)
    spent = used.get(key, 0)
    got = min(kp.points, kp.cap - spent)
    if got <= 0:
        return 0
    used[key] = spent + got
    return got


def _time_ordered(touches: Sequence[Touch]) -> bool:
    """Whether `touches` are already in (at, system, source_id) order (as the store returns them): then the
    stable sort would leave them as they are, and it is skipped."""
    it = iter(touches)
    prev = next(it, None)
    if prev is None:
        return True
    prev_at = prev.at
    for t in it:
        when = t.at
        if when < prev_at:
            return False
        if when == prev_at and (t.system, t.source_id) < (prev.system, prev.source_id):
            return False
        prev, prev_at = t, when
    return True


def _by_time(t: Touch) -> tuple[int, str, str]:
    return (t.at, t.system, t.source_id)


def score_person(model: ScoringModel, fields: Mapping[str, Any], touches: Sequence[Touch], at: int,
                 since: int | None = None) -> ScoreResult:
    """The person's score at `at` from their unified `fields` and `touches` (any order; touches after `at`
    are ignored, and so are touches before `since`, when sales recycled the person: engagement restarts).

    The hot path of scoring: the model's rules are pre-compiled per field and per kind (`ScoringModel.plan`),
    caps are counted inline, and the sort is skipped when the touches are already in time order; the
    arithmetic is done in exactly the order of the plain formulation, so the floats are identical."""
    plan = model.plan
    fit = 0
    disqualified_by: str | None = None
    lines: list[Points] = []
    liked: list[tuple[int, str]] = []
    get_field = fields.get
    for name, field_name, test, points, disqualify, line in plan.fit:
        if test(get_field(field_name)):
            if disqualify and disqualified_by is None:
                disqualified_by = name
            if points:
                fit += points
                if points > 0:
                    liked.append((points, name))
            if line is not None:  # Points(name, points, 1, "fit"): with points, or 0 for a disqualifying rule
                lines.append(line)

    half_life = model.half_life_ms
    by_kind = plan.by_kind
    used: dict[tuple[str, int], int] = {}
    decaying = 0.0
    per_rule: dict[str, list[float]] = {}  # name -> [points, count]
    kind_counts: dict[str, int] = {}
    unsubscribed = bounced = False
    last: int | None = None
    exp, ln2 = math.exp, _LN2
    ordered = touches if _time_ordered(touches) else sorted(touches, key=_by_time)
    for t in ordered:
        when = t.at
        if when > at or (since is not None and when < since):
            continue
        kind = t.kind
        if kind == "unsubscribe":
            unsubscribed = True
            continue
        if kind == "email_bounce":
            bounced = bounced or t.hard
            continue
        if last is None or when > last:
            last = when
        kind_counts[kind] = kind_counts.get(kind, 0) + 1
        entries = by_kind.get(kind)
        if entries is None:
            continue
        factor = exp(-(at - when) * ln2 / half_life)
        for name, points, cap, per_ms, contains, regex in entries:
            if contains is not None or regex is not None:  # an engagement rule: its detail must match
                detail = t.detail
                if contains is not None and contains not in detail.lower():
                    continue
                if regex is not None and regex.search(detail) is None:
                    continue
            if cap is None or points <= 0:
                raw = points
            else:
                key = (name, when // per_ms)
                spent = used.get(key, 0)
                raw = points if points < cap - spent else cap - spent
                if raw <= 0:
                    raw = 0
                else:
                    used[key] = spent + raw
            gained = raw * factor
            decaying += gained
            entry = per_rule.get(name)
            if entry is None:
                per_rule[name] = [0.0 + gained, 1]  # 0.0 + : as summed from zero (no -0.0)
            else:
                entry[0] += gained
                entry[1] += 1
    steady = float(fit)
    for rule_name, (total, n) in per_rule.items():
        lines.append(_points(rule_name, total, int(n), "engagement"))
    if unsubscribed and model.unsubscribe:
        steady += model.unsubscribe
        lines.append(plan.unsubscribed)
    if bounced and model.hard_bounce:
        steady += model.hard_bounce
        lines.append(plan.hard_bounce)
    if last is not None and at - last > model.inactive_ms and model.inactive_points:
        steady += model.inactive_points
        lines.append(plan.inactive)
    score = round(steady + decaying)
    return ScoreResult(score=score, fit=fit, engagement=score - fit, grade=model.grade_of(fit),
                       disqualified_by=disqualified_by, breakdown=tuple(lines),
                       reason=_reason(liked, kind_counts, per_rule, model, disqualified_by),
                       last_touch_at=last, at=at, steady=steady, decaying=decaying)


def _reason(liked: list[tuple[int, str]], kind_counts: Mapping[str, int], per_rule: Mapping[str, list[float]],
            model: ScoringModel, disqualified_by: str | None) -> str:
    """"Senior title, 100+ employees; 3 page views, 1 form submission; Pricing page": the fit rules that
    count most, what the person did, and the engagement rules that matched (at most 255 characters)."""
    parts: list[str] = []
    if disqualified_by:
        parts.append(disqualified_by)
    if liked:  # most points first, then by name: (-points, name) sorts so without a key function
        if len(liked) > 1:
            parts.append(", ".join([name for _, name in sorted([(-p, name) for p, name in liked])[:3]]))
        else:
            parts.append(liked[0][1])
    if kind_counts:  # most touches first, then by kind (kinds are unique: no ties)
        done = []
        for minus_n, k in sorted([(-n, k) for k, n in kind_counts.items()]):
            if k in _SINGULAR:
                done.append(f"{-minus_n} {_PLURALS[k] if minus_n != -1 else _SINGULAR[k]}")
                if len(done) == 4:
                    break
        if done:
            parts.append(", ".join(done))
    kinds = model.kinds
    special = [name for name in per_rule if name not in kinds]
    if special:
        parts.append(", ".join(sorted(special)[:3]))
    text = "; ".join(parts) or "No fit or engagement yet"
    return text if len(text) <= 255 else text[:254] + "…"


def should_publish(model: ScoringModel, new: int, published: int | None) -> bool:
    """Whether a new score is written: it moved by the write step, or crossed the MQL threshold."""
    if published is None:
        return True
    return abs(new - published) >= model.write_step or (new >= model.mql) != (published >= model.mql)


def next_change(model: ScoringModel, result: ScoreResult, published: int) -> int | None:
    """When decay alone will make `should_publish` true for the published score (None: never). The score
    at `result.at + dt` is `steady + decaying x 2^-(dt / half-life)`, monotone toward `steady`."""
    decaying = result.decaying
    if abs(decaying) < 1e-9:
        return None
    steady, step = result.steady, model.write_step
    best: float | None = None
    for target in (published - step + 0.5, published + step - 0.5, model.mql - 0.5):
        ratio = (target - steady) / decaying
        if 0.0 < ratio < 1.0:
            dt = -math.log(ratio) / _LN2 * model.half_life_ms
            if best is None or dt < best:
                best = dt
    if best is None:
        return None
    return result.at + int(best) + 1
