"""Marketing engagement reads: the Events API (page views, form submissions) and legacy email events."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import HubSpotError, json_response
from .events import EVENT_TYPE_NAMES
from .http_util import decode_cursor, encode_cursor, endpoint, int_param
from .services import Services
from .values import parse_time_ms

__all__ = ["event_routes"]


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

    return [
        Route("/events/v3/events", web_events, methods=["GET"]),
        Route("/events/v3/events/", web_events, methods=["GET"]),
        Route("/events/v3/events/event-types", event_types, methods=["GET"]),
        Route("/email/public/v1/events", email_events, methods=["GET"]),
    ]

