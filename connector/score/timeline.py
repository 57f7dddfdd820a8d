"""One person's timeline: every touch from both systems, as the scorer, the SLA and the reports read it.

A `Touch` carries no personal data: a kind, a time, where it came from, who (an owner id) and a short
`detail` that rules match on (a page URL, a form or campaign id, a call title). `dedupe` removes the same
activity logged in both systems (a call a rep logged in HubSpot that an integration copied to a Salesforce
Task, say), so it counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["KINDS", "MARKETING_KINDS", "SALES_KINDS", "Touch", "TouchKind", "dedupe"]

TouchKind = Literal[
    "email_open", "email_click", "email_bounce", "unsubscribe", "form_submission", "page_view",
    "campaign_response", "call", "meeting", "email", "task", "note",
]
MARKETING_KINDS: frozenset[str] = frozenset({"email_open", "email_click", "email_bounce", "unsubscribe",
                                             "form_submission", "page_view", "campaign_response"})
SALES_KINDS: frozenset[str] = frozenset({"call", "meeting", "email", "task", "note"})
KINDS: tuple[str, ...] = ("email_open", "email_click", "email_bounce", "unsubscribe", "form_submission",
                          "page_view", "campaign_response", "call", "meeting", "email", "task", "note")

#: two sales activities of the same kind and detail within this window are one activity logged twice
_SAME_ACTIVITY_MS = 120_000


@dataclass(frozen=True, slots=True)
class Touch:
    """One timestamped touch of one person."""

    kind: str
    at: int  # epoch milliseconds, UTC
    system: str  # "hubspot" | "salesforce"
    source_id: str  # the event's or activity record's id in its system
    owner: str | None = None  # the acting owner's id in `system` (sales touches), if known
    detail: str = ""  # page URL, form/campaign id, subject or title: what rules match on
    hard: bool = False  # a bounce that is permanent (hard bounce)

    @property
    def is_sales(self) -> bool:
        return self.kind in SALES_KINDS


def _norm(detail: str) -> str:
    return " ".join(detail.lower().split())


def dedupe(touches: Iterable[Touch]) -> list[Touch]:
    """The touches in time order, each activity once: a sales activity of the same kind and detail in the
    other system within two minutes is the same one logged twice (the earlier, then HubSpot's, is kept).
    Marketing events come from one system each and are kept as they are (their ids are unique)."""
    ordered = sorted(touches, key=lambda t: (t.at, t.system, t.kind, t.source_id))
    out: list[Touch] = []
    recent: dict[tuple[str, str], list[Touch]] = {}
    seen_ids: set[tuple[str, str]] = set()
    for t in ordered:
        if (t.system, t.source_id) in seen_ids:
            continue
        seen_ids.add((t.system, t.source_id))
        if t.is_sales:
            key = (t.kind, _norm(t.detail))
            twins = recent.setdefault(key, [])
            if any(o.system != t.system and t.at - o.at <= _SAME_ACTIVITY_MS for o in twins):
                continue
            twins.append(t)
        out.append(t)
    return out
