"""The handoff (pure): the SLA clock from MQL to the first sales touch, and marketing's touches before it.

Both are written to both systems beside the score, so sales see the clock on the record they work from and
marketing see what it took to get the person there (issue 17). The clock runs in working hours (`[sla]`
in scoring.toml, `connector.report.sla`); touches before the handoff are the marketing touches from the
last recycle (or the start) up to the MQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..reconcile.schema import SLA_STATES
from ..report.sla import first_sales_touch, sla_state
from .model import ScoringModel
from .status import StatusState
from .timeline import Touch

__all__ = ["MARKETING_TOUCHES", "handoff"]

#: the touches that count as marketing's before a handoff (a bounce or an unsubscribe is no touch)
MARKETING_TOUCHES = frozenset({"email_open", "email_click", "form_submission", "page_view", "campaign_response"})
_LABELS = {"email_open": "E-mail open", "email_click": "E-mail click", "form_submission": "Form submission",
           "page_view": "Page view", "campaign_response": "Campaign response"}
_STATE_LABELS = dict(zip(("on_time", "due_soon", "breached", "met"), SLA_STATES, strict=True))


def _described(t: Touch) -> str:
    day = datetime.fromtimestamp(t.at / 1000, tz=UTC).strftime("%Y-%m-%d")
    text = f"{_LABELS.get(t.kind, t.kind)} {day}" + (f": {t.detail}" if t.detail else "")
    return text if len(text) <= 255 else text[:254] + "…"


def handoff(model: ScoringModel, state: StatusState, touches: Sequence[Touch], fields: Mapping[str, Any],
            now: int) -> tuple[dict[str, Any], int | None]:
    """The handoff outputs of a person who has an MQL (none before the first), and when the SLA clock's state
    next changes without a touch (None: it will not)."""
    mql_at = state.mql_at
    if mql_at is None:
        return {}, None
    start = state.reset_at if state.reset_at is not None and state.reset_at <= mql_at else None
    before = [t for t in touches if t.kind in MARKETING_TOUCHES and t.at <= mql_at
              and (start is None or t.at >= start)]
    out: dict[str, Any] = {"touches_before_mql": len(before)}
    if before:
        first = min(before, key=lambda t: (t.at, t.system, t.source_id))
        last = max(before, key=lambda t: (t.at, t.system, t.source_id))
        out.update(first_touch=_described(first), last_touch=_described(last))
    if model.sla is None:
        return out, None
    owner = fields.get("owner")
    touch = first_sales_touch(touches, mql_at)
    clock = sla_state(model.sla, mql_at, touch.at if touch else None, now, str(owner) if owner else None)
    out.update(sla_state=_STATE_LABELS[clock.state], sla_due=clock.due_at)
    return out, clock.next_change_at
