"""Sandbox-only control routes under /_sandbox/hubspot: act as a HubSpot user, inspect raw records.

Tests use them to create the situations a connector meets in real accounts: a salesperson editing a
property in the UI, a merge done by hand, a record archived and restored, marketing events arriving,
two records sharing a modification millisecond.
"""

from __future__ import annotations

from typing import Any, get_args

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..dataset import MarketingEventKind
from .errors import HubSpotError, json_response, not_found
from .http_util import endpoint, json_body, object_type_of
from .records import WriteSource
from .services import Services
from .values import iso

#: the marketing event kinds the control route adds
MARKETING_KINDS = frozenset(get_args(MarketingEventKind))

__all__ = ["control_routes", "PREFIX"]

PREFIX = "/_sandbox/hubspot"


def control_routes(svc: Services) -> list[BaseRoute]:
    records, state = svc.records, svc.state

    def row_of(request: Request, archived: bool | None = None) -> Any:
        object_type = object_type_of(request.path_params["objectType"])
        raw = request.path_params["objectId"]
        row = records.resolve(object_type, raw, archived=False)
        if row is None and archived is not False:
            row = records.resolve(object_type, raw, archived=True)
        if row is None:
            raise not_found(object_type, raw)
        return row

    def user_source(body: dict[str, Any]) -> WriteSource:
        user_id = int(body.get("userId") or 1)
        return WriteSource("CRM_UI", f"userId:{user_id}", user_id)

    @endpoint
    async def ui_update(request: Request) -> Response:
        """Change properties as a named user would in the CRM UI (may move lifecycle backwards)."""
        body = await json_body(request)
        row = row_of(request, archived=False)
        values = records.validate(row.type, body.get("properties") or {}, creating=False)
        records.check_unique(row.type, values, row.id)
        row = records.update(row, values, user_source(body), allow_backwards=True)
        return json_response(_raw(records, row))

    @endpoint
    async def ui_create(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        row = svc.create_one(object_type, body, user_source(body))
        return json_response(_raw(records, row), 201)

    @endpoint
    async def ui_merge(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        row = svc.merge(object_type, body, user_source(body))
        return json_response(_raw(records, row))

    @endpoint
    async def archive(request: Request) -> Response:
        row = records.set_archived(row_of(request, archived=False), True)
        return json_response(_raw(records, row))

    @endpoint
    async def restore(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        row = records.resolve(object_type, request.path_params["objectId"], archived=True)
        if row is None:
            raise not_found(object_type, request.path_params["objectId"])
        return json_response(_raw(records, records.set_archived(row, False)))

    @endpoint
    async def gdpr(request: Request) -> Response:
        body = await json_body(request)
        svc.gdpr_delete(str(body.get("objectId", "")), body.get("idProperty"))
        return Response(status_code=204)

    @endpoint
    async def set_modified(request: Request) -> Response:
        """Pin a record's modification time (``at_ms``) so tests can make records share a millisecond."""
        body = await json_body(request)
        row = row_of(request)
        if not isinstance(body.get("at_ms"), int):
            raise HubSpotError(400, "VALIDATION_ERROR", "body needs an integer `at_ms`")
        records.set_modified(row.type, row.id, body["at_ms"])
        return json_response(_raw(records, records.get_row(row.type, row.id, history=True)))

    @endpoint
    async def raw(request: Request) -> Response:
        row = row_of(request)
        return json_response(_raw(records, records.get_row(row.type, row.id, history=True)))

    @endpoint
    async def add_events(request: Request) -> Response:
        """Add marketing events (the SeedBatch MarketingEvent shape); summaries update as they would live."""
        body = await json_body(request)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise HubSpotError(400, "VALIDATION_ERROR", "body needs `events`: a list of marketing events")
        for e in events:
            if not isinstance(e, dict) or e.get("kind") not in MARKETING_KINDS:
                raise HubSpotError(400, "VALIDATION_ERROR",
                                   f"each event needs a `kind` among {sorted(MARKETING_KINDS)}")
            if records.get_row("contacts", int(e["contact_id"])) is None:
                raise not_found("contacts", str(e["contact_id"]))
        return json_response({"added": state.events.add(events, seeding=False)})

    @endpoint
    async def expire_tokens(request: Request) -> Response:
        return json_response({"expired": state.expire_oauth_tokens()})

    @endpoint
    async def credentials(request: Request) -> Response:
        return json_response({"access_token": state.access_token, "oauth_client_id": state.oauth_client_id,
                              "oauth_client_secret": state.oauth_client_secret,
                              "oauth_refresh_token": state.oauth_refresh_token, "portal_id": state.portal_id})

    @endpoint
    async def limits(request: Request) -> Response:
        """Read (GET) or change (POST) the rate limits and whether they apply."""
        if request.method == "POST":
            body = await json_body(request)
            for key in ("burst_max", "burst_window_ms", "daily_max", "search_per_second"):
                if key in body:
                    setattr(state.limits, key, int(body[key]))
            if "enabled" in body:
                state.rate_limits = bool(body["enabled"])
            state.limiter.reset()
        return json_response({"enabled": state.rate_limits, **vars(state.limits)})

    @endpoint
    async def account(request: Request) -> Response:
        """Read (GET) or change (POST) the account settings (hubspot/account.py)."""
        if request.method == "POST":
            try:
                state.account.update(await json_body(request))
            except ValueError as exc:
                raise HubSpotError(400, "VALIDATION_ERROR", str(exc)) from None
        return json_response(state.account.to_json())

    obj = f"{PREFIX}/objects/{{objectType}}/{{objectId}}"
    return [
        Route(f"{PREFIX}/objects/{{objectType}}/merge", ui_merge, methods=["POST"]),
        Route(f"{PREFIX}/objects/{{objectType}}", ui_create, methods=["POST"]),
        Route(f"{PREFIX}/contacts/gdpr-delete", gdpr, methods=["POST"]),
        Route(f"{PREFIX}/events", add_events, methods=["POST"]),
        Route(f"{PREFIX}/tokens/expire", expire_tokens, methods=["POST"]),
        Route(f"{PREFIX}/credentials", credentials, methods=["GET"]),
        Route(f"{PREFIX}/limits", limits, methods=["GET", "POST"]),
        Route(f"{PREFIX}/account", account, methods=["GET", "POST"]),
        Route(obj, raw, methods=["GET"]),
        Route(f"{obj}/ui-update", ui_update, methods=["POST"]),
        Route(f"{obj}/archive", archive, methods=["POST"]),
        Route(f"{obj}/restore", restore, methods=["POST"]),
        Route(f"{obj}/modified", set_modified, methods=["POST"]),
    ]


def _raw(records: Any, row: Any) -> dict[str, Any]:
    return {"type": row.type, "id": str(row.id), "archived": bool(row.archived), "createdAt": iso(row.created),
            "updatedAt": iso(row.modified), "createdAtMs": row.created, "updatedAtMs": row.modified,
            "properties": dict(row.props), "history": row.history or {}}
