"""Marketing events of one HubSpot contact: long-tailed counts, recent bursts for marketing-qualified leads."""

from __future__ import annotations

import random

from connector.sandbox.dataset import MarketingEvent

from ._ids import Ids
from ._person import Person
from ._rng import between, one_of
from ._time import DAY, MINUTE
from ._world import MarketingContent

__all__ = ["MarketingRenderer", "NegativeSignals", "EVENT_BASE", "BOUNCE_SHARE", "UNSUBSCRIBE_SHARE"]

# typical events per person by stage, before the long-tail multiplier and the profile scale
EVENT_BASE = {
    "subscriber": 3.0,
    "lead": 4.0,
    "marketingqualifiedlead": 10.0,
    "salesqualifiedlead": 7.0,
    "opportunity": 6.0,
    "customer": 5.0,
    "evangelist": 8.0,
    "other": 1.0,
}
_RECENT = frozenset({"marketingqualifiedlead", "salesqualifiedlead"})


class MarketingRenderer:
    """Appends one contact's marketing events (page views, forms, email deliveries, opens and clicks)."""

    def __init__(
        self, rng: random.Random, now_ms: int, history_days: int, scale: float, content: MarketingContent, ids: Ids
    ) -> None:
        self.rng = rng
        self.now = now_ms
        self.window = history_days * DAY
        self.scale = scale / 6.0
        self.content = content
        self.ids = ids

    def render(self, person: Person, contact_id: str, out: list[MarketingEvent]) -> None:
        rng, now, content = self.rng, self.now, self.content
        activity = min(rng.paretovariate(2.0), 20.0) / 2.0  # mean 1, median ~0.7, a few people 10x
        count = int(EVENT_BASE[person.stage] * self.scale * activity + rng.random())
        if count <= 0:
            return
        lo = max(person.hs_created, now - self.window)
        recent_lo = max(lo, now - 30 * DAY)
        recent = person.stage in _RECENT
        email = person.email
        events: list[MarketingEvent] = []
        ids = self.ids
        while len(events) < count:
            at = between(rng, recent_lo, now) if recent and rng.random() < 0.7 else between(rng, lo, now)
            r = rng.random()
            if r < 0.5 and not person.optout_hs:
                campaign_id, subject = one_of(rng, content.emails)
                props = {"email_campaign_id": campaign_id, "subject": subject}
                events.append(_event(ids.event(), "email_delivered", contact_id, email, at, props))
                if rng.random() < 0.45:
                    opened = at + between(rng, MINUTE, 2 * DAY - 1)
                    at = opened if opened <= now else between(rng, at, now)  # never all on `now` (capped)
                    events.append(_event(ids.event(), "email_open", contact_id, email, at, dict(props)))
                    if rng.random() < 0.3:
                        clicked = at + between(rng, 5_000, 10 * MINUTE - 1)
                        at = clicked if clicked <= now else between(rng, at, now)
                        url, _ = one_of(rng, content.pages)
                        events.append(_event(ids.event(), "email_click", contact_id, email, at, props | {"url": url}))
            elif r < 0.92:
                url, title = one_of(rng, content.pages)
                events.append(
                    _event(ids.event(), "page_view", contact_id, email, at, {"hs_url": url, "hs_page_title": title})
                )
            else:
                form_id, form_title, page = one_of(rng, content.forms)
                events.append(
                    _event(
                        ids.event(),
                        "form_submission",
                        contact_id,
                        email,
                        at,
                        {"form_id": form_id, "form_title": form_title, "page_url": page},
                    )
                )
        events.sort(key=_occurred)
        out.extend(events)


#: shares of HubSpot contacts with one bounce and with one unsubscribe (of those sent any marketing e-mail)
BOUNCE_SHARE = 0.02
UNSUBSCRIBE_SHARE = 0.03
_HARD_SHARE = 0.6
_SOFT_CATEGORIES = ("MAILBOX_FULL", "POLICY", "CONTENT", "TEMPORARY_PROBLEM")
_UNSUBSCRIBE_SOURCES = ("SOURCE_RECIPIENT", "SOURCE_RECIPIENT", "SOURCE_RECIPIENT", "SOURCE_SPAM_REPORT")


class NegativeSignals:
    """Appends a few bounces and unsubscribes after a contact's marketing e-mail deliveries.

    Its own random stream and its own event ids: adding it left every other seeded record and event as it was."""

    def __init__(self, rng: random.Random, now_ms: int) -> None:
        self.rng = rng
        self.now = now_ms
        self._seq = 0

    def _id(self) -> str:
        self._seq += 1
        return f"n{self._seq}"

    def render(self, contact_id: str, events: list[MarketingEvent]) -> None:
        """One draw per contact, whatever it was sent; `events` are the contact's own, oldest first."""
        rng = self.rng
        r = rng.random()
        sent = [e for e in events if e["kind"] == "email_delivered"]
        if r >= BOUNCE_SHARE + UNSUBSCRIBE_SHARE or not sent:
            return
        delivery = one_of(rng, sent)
        base = {"email_campaign_id": delivery["properties"]["email_campaign_id"],
                "subject": delivery["properties"]["subject"]}
        email, at = delivery["email"], delivery["occurred_at"]
        if r < BOUNCE_SHARE:
            if rng.random() < _HARD_SHARE:
                props = base | {"category": "UNKNOWN_USER", "status": "550", "response": "550 5.1.1 user unknown"}
            else:
                props = base | {"category": one_of(rng, _SOFT_CATEGORIES), "status": "452",
                                "response": "452 4.2.2 try again later"}
            events.append(_event(self._id(), "email_bounce", contact_id, email, min(at + 2_000, self.now), props))
        else:
            later = at + between(rng, MINUTE, 3 * DAY)
            props = base | {"source": one_of(rng, _UNSUBSCRIBE_SOURCES),
                            "portal": "true" if rng.random() < 0.5 else "false", "subscription_id": "1001"}
            events.append(_event(self._id(), "unsubscribe", contact_id, email, min(later, self.now), props))


def _occurred(event: MarketingEvent) -> int:
    return event["occurred_at"]


def _event(eid: str, kind: str, contact_id: str, email: str, at: int, props: dict[str, str]) -> MarketingEvent:
    return {"id": eid, "kind": kind, "contact_id": contact_id, "email": email, "occurred_at": at, "properties": props}  # type: ignore[typeddict-item]
