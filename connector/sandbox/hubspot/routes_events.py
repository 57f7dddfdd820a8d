"""Marketing engagement reads (Events API, legacy email events) and communication preferences."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import HubSpotError, json_response
from .events import EVENT_TYPE_NAMES
from .http_util import decode_cursor, encode_cursor, endpoint, int_param, json_body
from .records import WriteSource
from .services import Services
from .values import parse_time_ms

__all__ = ["event_routes", "SUBSCRIPTIONS"]

SUBSCRIPTIONS = [
    {"id": "1", "name": "Marketing Information", "description": "Marketing offers and updates.",
     "purpose": "Marketing", "communicationMethod": "Email"},
    {"id": "2", "name": "One to One", "description": "One to one emails from sales.", "purpose": "Sales",
     "communicationMethod": "Email"},
]


def _time(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    ms = parse_time_ms(raw)
    if ms is None:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{name} must be an ISO-8601 date-time or epoch milliseconds")
    return ms


def event_routes(svc: Services) -> list[BaseRoute]:
    events, state = svc.state.events, svc.state

    @endpoint
    async def web_events(request: Request) -> Response:
        object_type = (request.query_params.get("objectType") or "contact").lower()
        if object_type not in ("contact", "contacts", "0-1"):
            return json_response({"results": []})
        raw_id = request.query_params.get("objectId")
        limit = int_param(request, "limit", 100)
        if limit < 1 or limit > 1000:
            raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and 1000, got {limit}")
        offset = decode_cursor(request.query_params.get("after"))
        sort = request.query_params.getlist("sort")
        results, more = events.web_events(
            object_id=int(raw_id) if raw_id else None, event_type=request.query_params.get("eventType"),
            after_ms=_time(request, "occurredAfter"), before_ms=_time(request, "occurredBefore"), offset=offset,
            limit=limit, ascending=bool(sort) and not sort[0].startswith("-"))
        body: dict[str, Any] = {"results": results}
        if more:
            cursor = encode_cursor(offset + limit)
            body["paging"] = {"next": {"after": cursor, "link": f"{request.url.path}?after={cursor}"}}
        return json_response(body)

    @endpoint
    async def event_types(request: Request) -> Response:
        return json_response({"eventTypes": sorted(EVENT_TYPE_NAMES.values())})

    @endpoint
    async def email_events(request: Request) -> Response:
        limit = int_param(request, "limit", 100)
        if limit < 1 or limit > 1000:
            raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and 1000, got {limit}")
        offset = decode_cursor(request.query_params.get("offset"))
        found, more = events.email_events(
            recipient=request.query_params.get("recipient"), event_type=request.query_params.get("eventType"),
            start_ms=_time(request, "startTimestamp"), end_ms=_time(request, "endTimestamp"), offset=offset,
            limit=limit, portal_id=state.portal_id)
        return json_response({"hasMore": more, "offset": encode_cursor(offset + len(found)), "events": found})

    @endpoint
    async def definitions(request: Request) -> Response:
        return json_response({"subscriptionDefinitions": [
            {**s, "isActive": True, "isDefault": True, "isInternal": False, "createdAt": "2020-01-01T00:00:00.000Z",
             "updatedAt": "2020-01-01T00:00:00.000Z"} for s in SUBSCRIPTIONS]})

    def statuses(email: str) -> list[dict[str, Any]]:
        with svc.db.lock:
            rows = dict(svc.db.conn.execute("SELECT subscription_id, status FROM subscriptions WHERE email=?",
                                            (email.lower(),)).fetchall())
        return [{"id": s["id"], "name": s["name"], "description": s["description"], "status": rows.get(s["id"],
                 "SUBSCRIBED"), "sourceName": "Sandbox", "preferenceGroupName": None, "legalBasis": None,
                 "legalBasisExplanation": None} for s in SUBSCRIPTIONS]

    @endpoint
    async def status(request: Request) -> Response:
        email = request.path_params["emailAddress"]
        return json_response({"recipient": email, "subscriptionStatuses": statuses(email)})

    async def change(request: Request, new_status: str) -> Response:
        body = await json_body(request)
        email = str(body.get("emailAddress") or "").strip().lower()
        sub = str(body.get("subscriptionId") or "")
        if not email or sub not in {s["id"] for s in SUBSCRIPTIONS}:
            raise HubSpotError(400, "VALIDATION_ERROR", "emailAddress and a known subscriptionId are required "
                                                        f"(known: {[s['id'] for s in SUBSCRIPTIONS]})")
        current = {s["id"]: s["status"] for s in statuses(email)}
        if current[sub] == new_status:
            raise HubSpotError(400, "VALIDATION_ERROR", f"{email} is already {new_status.lower()} for {sub}")
        with svc.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?)", (email, sub, new_status))
        _sync_optout(svc, email)
        found = next(s for s in statuses(email) if s["id"] == sub)
        return json_response({"recipient": email, "subscriptionId": sub, **found})

    @endpoint
    async def unsubscribe(request: Request) -> Response:
        return await change(request, "NOT_SUBSCRIBED")

    @endpoint
    async def subscribe(request: Request) -> Response:
        return await change(request, "SUBSCRIBED")

    @endpoint
    async def unsubscribe_all(request: Request) -> Response:
        email = request.path_params["subscriberIdString"].lower()
        with svc.db.transaction() as conn:
            for s in SUBSCRIPTIONS:
                conn.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, 'NOT_SUBSCRIBED')", (email, s["id"]))
        _sync_optout(svc, email)
        return json_response({"results": [{"subscriberIdString": email, "subscriptionId": int(s["id"]),
                                           "status": "NOT_SUBSCRIBED", "channel": "EMAIL"} for s in SUBSCRIPTIONS]})

    return [
        Route("/events/v3/events", web_events, methods=["GET"]),
        Route("/events/v3/events/", web_events, methods=["GET"]),
        Route("/events/v3/events/event-types", event_types, methods=["GET"]),
        Route("/email/public/v1/events", email_events, methods=["GET"]),
        Route("/communication-preferences/v3/definitions", definitions, methods=["GET"]),
        Route("/communication-preferences/v3/status/email/{emailAddress}", status, methods=["GET"]),
        Route("/communication-preferences/v3/unsubscribe", unsubscribe, methods=["POST"]),
        Route("/communication-preferences/v3/subscribe", subscribe, methods=["POST"]),
        Route("/communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all", unsubscribe_all,
              methods=["POST"]),
    ]


def _sync_optout(svc: Services, email: str) -> None:
    """hs_email_optout is true once the address is unsubscribed from every email subscription."""
    with svc.db.lock:
        rows = svc.db.conn.execute("SELECT count(*) FROM subscriptions WHERE email=? AND status='NOT_SUBSCRIBED'",
                                   (email,)).fetchone()[0]
    contact_id = svc.records.find_by_property("contacts", "email", email)
    if contact_id is None:
        return
    row = svc.records.get_row("contacts", contact_id)
    if row is not None:
        value = "true" if rows >= len(SUBSCRIPTIONS) else "false"
        if value == "false" and row.props.get("hs_email_optout") is None:
            return
        svc.records.update(row, {"hs_email_optout": value}, WriteSource("EMAIL", "communication-preferences"))
