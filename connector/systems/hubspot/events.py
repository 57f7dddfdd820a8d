"""Marketing touches: web events (Events API) and e-mail events, read by occurrence time and parsed into
the engagement rows the store keeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..http import HttpLayer
from ..ports import Engagement, Window
from ._client import field, paged, to_ms

__all__ = ["EVENT_PAGE", "event_pages"]

EVENT_PAGE = 1000
_WEB_EVENT_KINDS = {"e_visited_page": "page_view", "e_submitted_form": "form_submission"}
_EMAIL_EVENT_KINDS = {"OPEN": "email_open", "CLICK": "email_click", "DELIVERED": "email_delivered",
                      "BOUNCE": "email_bounce", "STATUSCHANGE": "unsubscribe"}
#: bounce categories that are permanent: the address does not exist (⚠ HubSpot's docs list the categories
#: without a hard/soft column; UNKNOWN_USER is the one its UI reports as a hard bounce)
HARD_BOUNCE_CATEGORIES = frozenset({"UNKNOWN_USER", "HARD_BOUNCE"})


def _unsubscribed(event: dict[str, Any]) -> bool:
    """A STATUSCHANGE that opts the address out: of everything (portal) or of at least one subscription type."""
    if event.get("portalSubscriptionStatus") == "UNSUBSCRIBED":
        return True
    subs = event.get("subscriptions")
    return isinstance(subs, list) and any(isinstance(s, dict) and s.get("status") == "UNSUBSCRIBED" for s in subs)


def _email_event_data(kind: str, event: dict[str, Any]) -> dict[str, Any] | None:
    """What the store keeps of an e-mail event: the campaign and link, a bounce's category (and whether it
    is hard), an unsubscribe's source and reach; None for a status change that unsubscribes nobody."""
    data: dict[str, Any] = {k: event[k] for k in ("emailCampaignId", "url") if k in event}
    if kind == "email_bounce":
        category = str(event.get("category") or "UNCATEGORIZED")
        data["category"] = category
        if category in HARD_BOUNCE_CATEGORIES:
            data["hard"] = True
    elif kind == "unsubscribe":
        if not _unsubscribed(event):
            return None
        data["source"] = str(event.get("source") or "")
        data["portal"] = event.get("portalSubscriptionStatus") == "UNSUBSCRIBED"
    return data


def _web_event(event: dict[str, Any]) -> Engagement | None:
    """A page view or form submission of a contact, as the store keeps it (None: not one the connector reads)."""
    kind = _WEB_EVENT_KINDS.get(str(event.get("eventType")))
    occurred = to_ms(event.get("occurredAt"))
    if kind is None or occurred is None or not event.get("objectId"):
        return None
    return {"system": "hubspot", "engagement_id": f"web:{event['id']}", "kind": kind, "direction": "marketing",
            "subject_system": "hubspot", "subject_id": str(event["objectId"]), "occurred_at": occurred,
            "data": dict(event.get("properties") or {})}


def _email_event(event: dict[str, Any]) -> Engagement | None:
    """A marketing e-mail event of an address, as the store keeps it (None: not one the connector reads)."""
    kind = _EMAIL_EVENT_KINDS.get(str(event.get("type")))
    recipient = str(event.get("recipient") or "").strip().casefold()
    if kind is None or not recipient or event.get("created") is None:
        return None
    data = _email_event_data(kind, event)
    if data is None:
        return None
    return {"system": "hubspot", "engagement_id": f"email:{event['id']}", "kind": kind, "direction": "marketing",
            "subject_system": "email", "subject_id": recipient, "occurred_at": int(event["created"]), "data": data}


def event_pages(http: HttpLayer, kind: str, window: Window) -> Iterator[list[Engagement]]:
    """Web ("web_events") or marketing e-mail ("email_events") touches in `window`, as the store keeps them."""
    pages = web_event_pages(http, window) if kind == "web_events" else email_event_pages(http, window)
    convert = _web_event if kind == "web_events" else _email_event
    for page in pages:
        yield [row for row in (convert(e) for e in page) if row is not None]


def web_event_pages(http: HttpLayer, window: Window) -> Iterator[list[dict[str, Any]]]:
    """Contacts' page views and form submissions in `window` (Events API), oldest first, 1,000 per call."""
    params = {"objectType": "contact", "occurredAfter": str(window.start), "occurredBefore": str(window.end),
              "limit": EVENT_PAGE, "sort": "occurredAt"}
    return (page for page, _ in paged(http, "/events/v3/events", params, "web_events"))

def email_event_pages(http: HttpLayer, window: Window) -> Iterator[list[dict[str, Any]]]:
    """Marketing email events (deliveries, opens, clicks, bounces, status changes) in `window`, 1,000 per call."""
    offset: str | None = None
    while True:
        params: dict[str, Any] = {"startTimestamp": window.start, "endTimestamp": window.end - 1,
                                  "limit": EVENT_PAGE}
        if offset:
            params["offset"] = offset
        body = http.json("GET", "/email/public/v1/events", object_type="email_events", params=params)
        events = field(body, "events", list, "email_events")
        if events:
            yield events
        offset = body.get("offset")
        if not body.get("hasMore") or not offset:
            return
