"""The scoring core's fast paths against a straightforward reference: the same results, exactly.

The reference below is the core as first written (before it was optimised for issue #16's speed goal):
`score_person` with its sort, per-touch cap look-ups and reason text, and `decide` with the signals, the
status machine, the output writes and the next check. Hypothesis draws models, fields, touches (ties in
time, duplicates, caps, rules, negatives), `since` and `at`, and priors, records and opportunities for
`decide`; the optimised core must return equal `ScoreResult`s and `Decision`s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.reconcile.records import FieldChange
from connector.reconcile.schema import LIFECYCLE_ORDER, SCORE_OUTPUTS
from connector.score.handoff import handoff
from connector.score.decide import Decision, Prior, decide
from connector.score.model import RANK, EngagementRule, FitRule, KindPoints, ScoringModel, parse_scoring
from connector.score.outputs import outputs_of
from connector.score.scorer import Points, ScoreResult, score_person
from connector.score.signals import LinkedRecord
from connector.score.status import Opportunities, Signals, StatusState, Transition, initial_state
from connector.score.timeline import KINDS, Touch

from .conftest import BASE, DAY, FIELDS, NOW

# ------------------------------------------------------------------------------------------ the reference

_LN2 = math.log(2.0)
_PLURALS = {"page_view": "page views", "form_submission": "form submissions", "email_open": "e-mail opens",
            "email_click": "e-mail clicks", "campaign_response": "campaign responses", "call": "calls",
            "meeting": "meetings", "email": "sales e-mails", "task": "tasks", "note": "notes"}
_SINGULAR = {"page_view": "page view", "form_submission": "form submission", "email_open": "e-mail open",
             "email_click": "e-mail click", "campaign_response": "campaign response", "call": "call",
             "meeting": "meeting", "email": "sales e-mail", "task": "task", "note": "note"}
_MAX_STEPS = 8
REASON = "scoring"
LIFECYCLE_OF: Mapping[str, str] = {"MQL": "marketingqualifiedlead", "SAL": "marketingqualifiedlead",
                                   "SQL": "salesqualifiedlead", "Opportunity": "opportunity",
                                   "Customer": "customer"}
_NUMERIC = {"score", "touches_before_mql"}
_TIMES = {"mql_date", "sla_due"}


def _rule_matches(self: EngagementRule, detail: str) -> bool:
    if self.contains is not None and self.contains not in detail.lower():
        return False
    return self.regex is None or self.regex.search(detail) is not None


def _grade_of(self: ScoringModel, fit_points: int) -> str | None:
    if not self.grades:
        return None
    for grade, floor in self.grades:
        if fit_points >= floor:
            return grade
    return "D"


def _fit_matches(self: FitRule, value: Any) -> bool:
        op, arg = self.test
        if op == "blank":
            return _blank(value) is arg
        if _blank(value):
            return False
        if op == "eq":
            return _text(value) == arg
        if op == "in":
            return _text(value) in arg
        if op == "contains":
            return arg in _text(value)
        if op == "regex":
            return arg.search(str(value)) is not None
        number = _number(value)
        if number is None:
            return False
        low, high = arg
        return (low is None or number >= low) and (high is None or number <= high)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", "")
    if text.endswith("+"):
        text = text[:-1]
    if "-" in text[1:]:  # a range such as HubSpot's "100-500": its lower bound
        text = text.split("-", 1)[0] if not text.startswith("-") else text
    try:
        return float(text)
    except ValueError:
        return None


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


def ref_score_person(model: ScoringModel, fields: Mapping[str, Any], touches: Sequence[Touch], at: int,
                 since: int | None = None) -> ScoreResult:
    """The person's score at `at` from their unified `fields` and `touches` (any order; touches after `at`
    are ignored, and so are touches before `since`, when sales recycled the person: engagement restarts)."""
    fit = 0
    disqualified_by: str | None = None
    lines: list[Points] = []
    liked: list[tuple[int, str]] = []
    for rule in model.fit:
        if _fit_matches(rule, fields.get(rule.field)):
            if rule.disqualify and disqualified_by is None:
                disqualified_by = rule.name
            if rule.points:
                fit += rule.points
                lines.append(Points(rule.name, rule.points, 1, "fit"))
                if rule.points > 0:
                    liked.append((rule.points, rule.name))
            elif rule.disqualify:
                lines.append(Points(rule.name, 0, 1, "fit"))

    half_life, kinds, rules = model.half_life_ms, model.kinds, model.rules
    used: dict[tuple[str, int], int] = {}
    decaying = 0.0
    per_rule: dict[str, list[float]] = {}  # name -> [points, count]
    kind_counts: dict[str, int] = {}
    unsubscribed = bounced = False
    last: int | None = None
    for t in sorted(touches, key=lambda x: (x.at, x.system, x.source_id)):
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
        factor = math.exp(-(at - when) * _LN2 / half_life)
        kp = kinds.get(kind)
        if kp is not None and kp.points:
            raw = _counted(kp, when, used)
            decaying += raw * factor
            entry = per_rule.setdefault(kp.name, [0.0, 0])
            entry[0] += raw * factor
            entry[1] += 1
        for er in rules.get(kind, ()):
            if _rule_matches(er, t.detail):
                raw = _counted(er.kinds, when, used)
                decaying += raw * factor
                entry = per_rule.setdefault(er.kinds.name, [0.0, 0])
                entry[0] += raw * factor
                entry[1] += 1
    steady = float(fit)
    for name, (points, n) in per_rule.items():
        lines.append(Points(name, points, int(n), "engagement"))
    if unsubscribed and model.unsubscribe:
        steady += model.unsubscribe
        lines.append(Points("Unsubscribed", model.unsubscribe, 1, "negative"))
    if bounced and model.hard_bounce:
        steady += model.hard_bounce
        lines.append(Points("Hard bounce", model.hard_bounce, 1, "negative"))
    if last is not None and at - last > model.inactive_ms and model.inactive_points:
        steady += model.inactive_points
        lines.append(Points(f"No touch for {model.inactive_ms // 86_400_000} days", model.inactive_points, 1,
                            "negative"))
    score = round(steady + decaying)
    return ScoreResult(score=score, fit=fit, engagement=score - fit, grade=_grade_of(model, fit),
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
    fit = [name for _, name in sorted(liked, key=lambda x: (-x[0], x[1]))[:3]]
    if fit:
        parts.append(", ".join(fit))
    done = [f"{n} {_PLURALS[k] if n != 1 else _SINGULAR[k]}" for k, n in
            sorted(kind_counts.items(), key=lambda x: (-x[1], x[0])) if k in _SINGULAR][:4]
    if done:
        parts.append(", ".join(done))
    special = [name for name in per_rule if name not in model.kinds]
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
    if abs(result.decaying) < 1e-9:
        return None
    targets = [published - model.write_step + 0.5, published + model.write_step - 0.5]
    targets.append(model.mql - 0.5)
    best: float | None = None
    for target in targets:
        ratio = (target - result.steady) / result.decaying
        if 0.0 < ratio < 1.0:
            dt = -math.log(ratio) / _LN2 * model.half_life_ms
            if best is None or dt < best:
                best = dt
    if best is None:
        return None
    return result.at + int(best) + 1


def to_ms(value: Any) -> int | None:
    """Epoch ms from either system's time forms: ISO-8601 ("...Z", "...+0000"), a date (noon UTC), epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(hour=12, tzinfo=UTC)
            return int(day.timestamp() * 1000)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
            text = text[:-2] + ":" + text[-2:]
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    except ValueError:
        return None


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def is_live_person_record(r: LinkedRecord) -> bool:
    """A record the scorer writes to: the person's primary HubSpot contact, Lead (not converted) or Contact."""
    if r.role != "primary" or r.deleted:
        return False
    if r.object_type == "Lead":
        return not _true(r.data.get("IsConverted"))
    return r.object_type in ("contacts", "Contact")


def _opportunities(opps: Sequence[LinkedRecord]) -> Opportunities:
    open_since: tuple[int, LinkedRecord] | None = None
    won: tuple[int, LinkedRecord] | None = None
    lost: tuple[int, LinkedRecord] | None = None
    for r in opps:
        d = r.data
        if r.system == "salesforce":
            closed, is_won = _true(d.get("IsClosed")), _true(d.get("IsWon"))
            created, close = to_ms(d.get("CreatedDate")), to_ms(d.get("CloseDate"))
        else:
            stage = str(d.get("dealstage") or "")
            closed = _true(d.get("hs_is_closed")) or stage in ("closedwon", "closedlost")
            is_won = _true(d.get("hs_is_closed_won")) or stage == "closedwon"
            created, close = to_ms(d.get("createdate")), to_ms(d.get("closedate"))
        created = created if created is not None else r.changed_at
        close = close if close is not None else r.changed_at
        if not closed:
            if open_since is None or created < open_since[0]:
                open_since = (created, r)
        elif is_won:
            if won is None or close < won[0]:
                won = (close, r)
        elif lost is None or close > lost[0]:
            lost = (close, r)
    chosen = won or open_since or lost
    if chosen is None:
        return Opportunities()
    return Opportunities(open_since=open_since[0] if open_since else None, won_at=won[0] if won else None,
                         lost_at=lost[0] if lost else None, system=chosen[1].system, source_id=chosen[1].record_id)


def signals_of(model: ScoringModel, records: Sequence[LinkedRecord], opportunities: Sequence[LinkedRecord]
               ) -> Signals:
    """What sales said about the person, from their records and opportunities."""
    lead = next((r for r in records if r.object_type == "Lead" and is_live_person_record(r)), None)
    status: tuple[str, str, int] | None = None
    reason: str | None = None
    source: str | None = None
    if lead is not None and lead.data.get("Status"):
        status = ("salesforce", str(lead.data["Status"]), lead.changed_at)
        source = lead.record_id
        field = model.status.reason_field
        if field and lead.data.get(field):
            reason = str(lead.data[field])[:255]
    elif lead is None:
        contact = next((r for r in records if r.object_type == "contacts" and is_live_person_record(r)), None)
        if contact is not None and contact.data.get("hs_lead_status"):
            status = ("hubspot", str(contact.data["hs_lead_status"]), contact.changed_at)
            source = contact.record_id
    converted = [to_ms(r.data.get("ConvertedDate")) or r.changed_at for r in records
                 if r.object_type == "Lead" and not r.deleted and _true(r.data.get("IsConverted"))]
    return Signals(lead_status=status, reason=reason, converted_at=min(converted) if converted else None,
                   opportunities=_opportunities(opportunities), source_id=source)


def _move(state: StatusState, to: str, at: int, reason: str, system: str, source_id: str | None,
          out: list[Transition], first: bool, **changes: object) -> StatusState:
    out.append(Transition(None if first and not out else state.status, to, at, reason[:255], system, source_id))
    return replace(state, status=to, since=at, reason=reason[:255], by=system, **changes)  # type: ignore[arg-type]


def _grade_ok(model: ScoringModel, grade: str | None) -> bool:
    if model.mql_min_grade is None:
        return True
    return grade is not None and grade <= model.mql_min_grade


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
        if state == before:
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
    return replace(state, feedback=key)


def _iso(ms: int, system: str) -> str:
    text = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"
    return text + ("Z" if system == "hubspot" else "+0000")


def _native(output: str, value: Any, system: str) -> Any:
    if output in _TIMES:
        return _iso(int(value), system)
    if output in _NUMERIC:
        return str(int(value)) if system == "hubspot" else int(value)
    return str(value)


def _same(output: str, held: Any, value: Any) -> bool:
    if held is None or held == "":
        return False
    if output in _NUMERIC:
        try:
            return float(held) == float(value)
        except (TypeError, ValueError):
            return False
    if output in _TIMES:
        return to_ms(held) == int(value)
    return str(held) == str(value)


def output_changes(model: ScoringModel, person_id: str, outputs: Mapping[str, Any],
                   records: Sequence[LinkedRecord]) -> list[FieldChange]:
    """The writes that bring each live record of the person to `outputs` (and the lifecycle stage forward). A
    record with no id is one the people's plan creates: its writes join the create."""
    changes: list[FieldChange] = []
    for r in records:
        if not is_live_person_record(r):
            continue
        system = r.system
        for output, value in outputs.items():
            if value is None:
                continue
            name = SCORE_OUTPUTS[output][0 if system == "hubspot" else 1]
            held = r.data.get(name)
            if not _same(output, held, value):
                changes.append(FieldChange(system, r.object_type, r.record_id or None, name,  # type: ignore[arg-type]
                                           held, _native(output, value, system), REASON, person_id))
        if system == "hubspot" and model.status.write_lifecycle_stage:
            target = LIFECYCLE_OF.get(str(outputs.get("status")))
            held = r.data.get("lifecyclestage")
            if target and _forward(held, target):
                changes.append(FieldChange("hubspot", r.object_type, r.record_id or None, "lifecyclestage", held,
                                           target, REASON, person_id))
    return changes


def _forward(held: Any, target: str) -> bool:
    """Whether `target` is a step forward from the held lifecycle stage (blank counts as before all)."""
    if held in (None, ""):
        return True
    if held not in LIFECYCLE_ORDER:
        return False
    return LIFECYCLE_ORDER.index(target) > LIFECYCLE_ORDER.index(str(held))


def ref_decide(model: ScoringModel, person_id: str, fields: Mapping[str, Any], records: Sequence[LinkedRecord],
           touches: Sequence[Touch], opportunities: Sequence[LinkedRecord], prior: Prior | None, now: int
           ) -> Decision:
    """Score the person at `now`, move their status, and plan the writes that publish both."""
    since = prior.state.reset_at if prior else None
    result = ref_score_person(model, fields, touches, now, since)
    signals = signals_of(model, [r for r in records if r.record_id], opportunities)  # creates say nothing yet
    state, transitions = advance(model, prior.state if prior else None, result, signals, touches, now)
    if state.reset_at != since:  # recycled just now: engagement restarts from the recycle
        result = ref_score_person(model, fields, touches, now, state.reset_at)
        state, more = advance(model, state, result, signals, touches, now)
        transitions += more
    publish = prior is None or should_publish(model, result.score, prior.published)
    published = result.score if publish or prior is None else prior.published
    reason = result.reason  # it follows what the person did, not decay: it changes with new touches only
    outputs = outputs_of(published, result.grade, state.status, state.mql_at, state.reason, reason)
    handed, clock_at = handoff(model, state, touches, fields, now)  # the handoff outputs: the same code
    outputs.update(handed)
    changes = output_changes(model, person_id, outputs, records)
    checks = [t for t in (_next_check(model, result, published, state, now), clock_at) if t is not None and t > now]
    return Decision(result, published, reason, state, tuple(transitions), min(checks) if checks else None, outputs,
                    tuple(changes))


def _next_check(model: ScoringModel, result: ScoreResult, published: int, state: StatusState, now: int
                ) -> int | None:
    times: list[int] = []
    decay = next_change(model, result, published)
    if decay is not None:
        times.append(decay)
    last = result.last_touch_at
    if last is not None and model.inactive_points and now - last <= model.inactive_ms:
        times.append(last + model.inactive_ms + 1)
    if state.status == "MQL" and model.recycle_inactive_ms is not None and state.mql_at is not None:
        times.append(max(state.mql_at, last or 0) + model.recycle_inactive_ms + 1)
    future = [t for t in times if t > now]
    return min(future) if future else None

# ------------------------------------------------------------------------------------------ the draws

SHIPPED = (Path(__file__).resolve().parents[2] / "mappings" / "scoring.toml").read_text(encoding="utf-8")
_DETAILS = ("", "/pricing", "https://x.example/Pricing?a=1", "/blog/post", "Demo request", "webinar: demo",
            "Webinar signup", "DEMO", "c-1", "  ")
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5000), st.floats(-10, 5000, allow_nan=False),
    st.sampled_from(["", " ", "VP Sales", "vp", "Chief Executive Officer", "Sales Manager", "engineer", "100-500",
                     "1000+", "1,200", "25-50", "-3", "n/a", "Finance", " finance ", "Machinery", "true", "1",
                     "1.0", "a@gmail.com", "x@uni.edu", "y@rival.example", "z@acme.example", "United States"]),
    st.text(max_size=6))


@st.composite
def _models(draw: st.DrawFn) -> ScoringModel:
    """The shipped model, the test model, or one drawn: fit rules of every test, kinds and rules with and
    without caps (zero and negative points too), negatives on or off."""
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return parse_scoring(SHIPPED, "scoring.toml", None)
    if choice == 1:
        return parse_scoring(BASE, "scoring.toml", FIELDS)
    lines = ['version = 1', 'owners = { marketing = "m", sales = "s" }']
    tests = ['equals = "vp"', 'equals = 1', 'equals = true', 'in = ["finance", "100-500", 1]', 'contains = "@gmail."',
             "regex = '(?i)\\\\bvp\\\\b'", 'min = 100', 'max = 50', 'min = 10\nmax = 1000', 'blank = true',
             'blank = false']
    for i in range(draw(st.integers(0, 6))):
        lines += ["[[fit]]", f'name = "Fit {draw(st.integers(0, 3))}{i}"', f'field = "{draw(st.sampled_from(FIELDS))}"',
                  draw(st.sampled_from(tests)), f"points = {draw(st.integers(-20, 20))}",
                  f"disqualify = {str(draw(st.booleans())).lower()}"]
    if draw(st.booleans()):
        lines += ["[grade]", "A = 30", "B = 15", "C = 5"]
    lines += ["[engagement]", f"half_life_days = {draw(st.sampled_from([1, 7.5, 30]))}", "[engagement.kinds]"]
    for kind in draw(st.lists(st.sampled_from(KINDS), unique=True, max_size=8)):
        cap = draw(st.one_of(st.none(), st.integers(0, 30)))
        lines.append(f"{kind} = {{ points = {draw(st.integers(-3, 12))}"
                     + (f", cap = {cap}" if cap is not None else "") + f", per_days = {draw(st.integers(1, 40))} }}")
    for i in range(draw(st.integers(0, 4))):
        lines += ["[[engagement.rules]]", f'name = "{draw(st.sampled_from(["Pricing", "Demo", "Page view"]))}{i % 2}"',
                  f'kind = "{draw(st.sampled_from(["page_view", "form_submission", "email_click", "call"]))}"',
                  draw(st.sampled_from(['detail_contains = "pricing"', 'detail_contains = "Demo"',
                                        "detail_regex = '(?i)webinar'", "detail_regex = '^/'"])),
                  f"points = {draw(st.integers(-5, 25))}"]
        if draw(st.booleans()):
            lines.append(f"cap = {draw(st.integers(0, 30))}")
    lines += ["[engagement.negative]", f"unsubscribe = {draw(st.sampled_from([0, -10]))}",
              f"hard_bounce = {draw(st.sampled_from([0, -20]))}", f"inactive_days = {draw(st.integers(1, 120))}",
              f"inactive_points = {draw(st.sampled_from([0, -10]))}"]
    lines += ["[thresholds]", f"mql = {draw(st.integers(1, 25))}", f"write_step = {draw(st.integers(1, 6))}"]
    lines.append(f"recycle_after_inactive_days = {draw(st.integers(1, 90))}")
    return parse_scoring("\n".join(lines) + "\n", "scoring.toml", FIELDS)


@st.composite
def _touches(draw: st.DrawFn, in_order: bool | None = None) -> list[Touch]:
    """Touches close together in time (ties likely), ids that repeat, sometimes in the store's time order."""
    base = NOW - draw(st.sampled_from([0, 1, 5, 30, 100, 200])) * DAY
    step = st.sampled_from([1, DAY, 20 * DAY])
    out = [Touch(draw(st.sampled_from(KINDS)), base + draw(st.integers(-3, 3)) * draw(step),
                 draw(st.sampled_from(["hubspot", "salesforce"])), f"t{draw(st.integers(0, 5))}",
                 draw(st.sampled_from([None, "o1"])), draw(st.sampled_from(_DETAILS)), draw(st.booleans()))
           for _ in range(draw(st.integers(0, 30)))]
    if in_order if in_order is not None else draw(st.booleans()):
        out.sort(key=lambda t: (t.at, t.system, t.kind, t.source_id))
    return out


_FIELD_DICTS = st.dictionaries(st.sampled_from(FIELDS), _VALUES, max_size=len(FIELDS))
_AT = st.integers(-30, 30).map(lambda d: NOW + d * DAY // 3)
_SINCE = st.one_of(st.none(), st.integers(-250, 10).map(lambda d: NOW + d * DAY))


@settings(max_examples=600, deadline=None)
@given(_models(), _FIELD_DICTS, _touches(), _AT, _SINCE)
def test_score_person_equals_the_reference(model: ScoringModel, fields: dict[str, Any], touches: list[Touch],
                                           at: int, since: int | None) -> None:
    assert score_person(model, fields, touches, at, since) == ref_score_person(model, fields, touches, at, since)


@settings(max_examples=200, deadline=None)
@given(_models(), _FIELD_DICTS, _touches(in_order=False), _AT)
def test_score_person_equals_the_reference_whatever_the_order(model: ScoringModel, fields: dict[str, Any],
                                                              touches: list[Touch], at: int) -> None:
    want = ref_score_person(model, fields, touches, at)
    assert score_person(model, fields, touches, at) == want
    assert score_person(model, fields, tuple(reversed(touches)), at) == ref_score_person(
        model, fields, list(reversed(touches)), at)


_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted",
             "IN_PROGRESS", "OPEN_DEAL", "BAD_TIMING", "UNQUALIFIED", "NEW")
_TIMES_DRAWN = st.integers(-120, 5).map(lambda d: NOW + d * DAY)


@st.composite
def _records(draw: st.DrawFn) -> list[LinkedRecord]:
    """The person's records: a HubSpot contact, a Lead, a Contact, in any role, with held outputs that may
    already equal what the scorer would write."""
    out = []
    keys = [("hubspot", "contacts", "h1"), ("salesforce", "Lead", "00Q1"), ("salesforce", "Lead", "00Q2"),
            ("salesforce", "Contact", "0031"), ("hubspot", "contacts", "")]
    for system, obj, rid in draw(st.lists(st.sampled_from(keys), unique=True, max_size=4)):
        data: dict[str, Any] = {}
        if obj == "Lead":
            data["Status"] = draw(st.sampled_from(("", None, *_STATUSES)))
            data["IsConverted"] = draw(st.sampled_from([False, True, "true", None]))
            data["ConvertedDate"] = draw(st.sampled_from([None, "2026-05-01", "2026-05-20T10:00:00.000+0000"]))
        if obj == "contacts":
            data["hs_lead_status"] = draw(st.sampled_from((None, *_STATUSES)))
            data["lifecyclestage"] = draw(st.sampled_from([None, "", "lead", "marketingqualifiedlead", "customer",
                                                           "x"]))
        for names in SCORE_OUTPUTS.values():
            if draw(st.integers(0, 3)) == 0:
                name = names[0 if system == "hubspot" else 1]
                data[name] = draw(st.sampled_from([None, "", "0", 0, 12, "12.0", "Lead", "MQL", "A", "B", "x",
                                                   "2026-05-20T10:00:00.000Z", NOW]))
        out.append(LinkedRecord(system, obj, rid, draw(st.sampled_from(["primary", "primary", "history", "duplicate"])),
                                draw(_TIMES_DRAWN), draw(st.booleans()) and draw(st.booleans()), data))
    return out


@st.composite
def _opportunity_lists(draw: st.DrawFn) -> list[LinkedRecord]:
    out = []
    for i in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        if draw(st.booleans()):
            data: dict[str, Any] = {"IsClosed": draw(st.booleans()), "IsWon": draw(st.booleans()),
                                    "CreatedDate": draw(st.sampled_from([None, "2026-04-01T00:00:00.000+0000"])),
                                    "CloseDate": draw(st.sampled_from([None, "2026-05-10"]))}
            out.append(LinkedRecord("salesforce", "Opportunity", f"006{i}", "opportunity", draw(_TIMES_DRAWN), False,
                                    data))
        else:
            data = {"dealstage": draw(st.sampled_from(["", "closedwon", "closedlost", "appointment"])),
                    "hs_is_closed": draw(st.sampled_from([None, "true", "false"])), "createdate": draw(_TIMES_DRAWN)}
            out.append(LinkedRecord("hubspot", "deals", f"d{i}", "opportunity", draw(_TIMES_DRAWN), False, data))
    return out


@st.composite
def _priors(draw: st.DrawFn) -> Prior | None:
    if draw(st.integers(0, 3)) == 0:
        return None
    status = draw(st.sampled_from(list(RANK)))
    mql_at = draw(st.one_of(st.none(), _TIMES_DRAWN))
    feedback = draw(st.one_of(st.none(), st.sampled_from(_STATUSES).map(lambda s: f"salesforce:{s}")))
    state = StatusState(status, draw(_TIMES_DRAWN), draw(st.sampled_from([None, "why"])),
                        draw(st.sampled_from(["connector", "salesforce", "hubspot"])), mql_at,
                        draw(st.integers(0, 2)), feedback, draw(st.one_of(st.none(), _TIMES_DRAWN)))
    return Prior(draw(st.integers(-20, 90)), state, "reason")


@settings(max_examples=400, deadline=None)
@given(_models(), _FIELD_DICTS, _records(), _touches(), _opportunity_lists(), _priors(), _AT)
def test_decide_equals_the_reference(model: ScoringModel, fields: dict[str, Any], records: list[LinkedRecord],
                                     touches: list[Touch], opportunities: list[LinkedRecord], prior: Prior | None,
                                     now: int) -> None:
    got = decide(model, "p1", fields, records, touches, opportunities, prior, now)
    assert got == ref_decide(model, "p1", fields, records, touches, opportunities, prior, now)


def test_the_draws_reach_every_branch_that_matters() -> None:
    """A guard on the generators: caps run out, rules and negatives apply, MQLs happen, writes are planned."""
    model = parse_scoring(SHIPPED, "scoring.toml", None)
    touches = [Touch("page_view", NOW - i * 1000, "hubspot", f"t{i}", detail="/pricing") for i in range(12)]
    touches += [Touch("unsubscribe", NOW - DAY, "hubspot", "u"),
                Touch("email_bounce", NOW - DAY, "hubspot", "b", hard=True),
                Touch("form_submission", NOW - DAY, "hubspot", "f", detail="Demo request")]
    fields = {"job_title": "VP Sales", "employees": "1000+", "industry": "Finance"}
    want = ref_score_person(model, fields, touches, NOW)
    assert score_person(model, fields, touches, NOW) == want
    assert {p.rule for p in want.breakdown} >= {"Pricing page", "Unsubscribed", "Hard bounce"}
    records = [LinkedRecord("hubspot", "contacts", "h1", "primary", NOW - DAY, False, {}),
               LinkedRecord("salesforce", "Lead", "00Q1", "primary", NOW - DAY, False, {"Status": "Open"})]
    decision = decide(model, "p1", fields, records, touches, [], None, NOW)
    assert decision == ref_decide(model, "p1", fields, records, touches, [], None, NOW)
    assert decision.state.status == "MQL" and decision.changes
