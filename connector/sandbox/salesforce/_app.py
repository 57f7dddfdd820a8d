"""The ASGI app: logins, the versioned REST surface with auth and the daily limit, faults, control routes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..counters import CallCounter, CountingMiddleware
from ..faults import FaultMiddleware, FaultPlan, FaultRule
from . import _bulk, _composite, _rest  # noqa: F401 - registers the routes
from ._auth import soap_login, token_endpoint
from ._control import control_routes as sf_control_routes
from ._dispatch import Ctx, Resp, dispatch
from ._state import SUPPORTED_VERSIONS, SalesforceState

__all__ = ["create_app", "render_fault"]

_JSON = "application/json;charset=UTF-8"
_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps([{"message": message, "errorCode": code}]), status_code=status, media_type=_JSON,
                    headers=headers)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    kind, _, token = auth.partition(" ")
    return token.strip() if kind.lower() in ("bearer", "oauth") and token.strip() else None


def _render(resp: Resp, limit_info: str | None) -> Response:
    headers = dict(resp.headers)
    if limit_info:
        headers["Sforce-Limit-Info"] = limit_info
    if resp.status == 204 or resp.body is None:
        return Response(b"", status_code=resp.status, headers=headers)
    if isinstance(resp.body, (bytes, str)):
        return Response(resp.body, status_code=resp.status, media_type=resp.media_type, headers=headers)
    return Response(json.dumps(resp.body, separators=(",", ":")), status_code=resp.status, media_type=_JSON,
                    headers=headers)


def _api(state: SalesforceState) -> Any:
    async def endpoint(request: Request) -> Response:
        version = request.path_params["version"]
        if version not in SUPPORTED_VERSIONS:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        token = _bearer(request)
        if token is None or not state.token_valid(token):
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        allowed, used = state.consume_call()
        limit_info = f"api-usage={used}/{state.limits.daily_api_requests}"
        if not allowed:
            return _error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.",
                          {"Sforce-Limit-Info": limit_info})
        path = "/" + request.path_params.get("rest", "") if request.path_params.get("rest") else ""
        ctx = Ctx(state, request.method, version, path, dict(request.query_params), await request.body(),
                  {k.lower(): v for k, v in request.headers.items()}, f"{request.url.scheme}://{request.url.netloc}")
        resp, params = dispatch(ctx)
        # expose id-like parameters so the call counter folds them ("GET .../sobjects/Lead/{recordId}")
        request.scope["path_params"] = {"version": version, **params}
        return _render(resp, limit_info)

    return endpoint


async def _versions(request: Request) -> Response:
    return JSONResponse(_rest.versions_body(SUPPORTED_VERSIONS))


class _LockFault(Response):
    """UNABLE_TO_LOCK_ROW: 400 for single-record calls, a per-record error in sObject Collections."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=400, media_type=_JSON)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        message = "unable to obtain exclusive access to this record or 1 records"
        err = {"statusCode": "UNABLE_TO_LOCK_ROW", "message": message, "fields": []}
        n = 0
        if scope["path"].rstrip("/").endswith("/composite/sobjects") or "/composite/sobjects/" in scope["path"]:
            if scope["method"] == "DELETE":
                n = len([i for i in request.query_params.get("ids", "").split(",") if i])
            elif scope["method"] in ("POST", "PATCH"):
                try:
                    n = len(json.loads(await request.body()).get("records") or [])
                except (ValueError, AttributeError):
                    n = 0
        if n:
            body = json.dumps([{"id": None, "success": False, "errors": [err]} for _ in range(n)])
            resp = Response(body, status_code=200, media_type=_JSON)
        else:
            resp = Response(json.dumps([{"message": message, "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}]),
                            status_code=400, media_type=_JSON)
        await resp(scope, receive, send)


def render_fault(rule: FaultRule) -> Response:
    """Salesforce's own shape for an injected failure."""
    if rule.kind == "lock":
        return _LockFault()
    if rule.kind in ("429", "429-retry"):
        headers = {"Retry-After": str(max(0, int(rule.retry_after)))} if rule.kind == "429-retry" else None
        return _error(429, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", headers)
    if rule.kind == "500":
        return _error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you "
                                                "contact support: 1987654321-123456 (-1234567890)")
    if rule.kind == "502":
        return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", status_code=502, media_type="text/html")
    return _error(503, "SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later.")


def create_app(state: SalesforceState, *, counter: CallCounter, faults: FaultPlan,
               control_routes: Sequence[BaseRoute] = ()) -> ASGIApp:
    """CountingMiddleware(FaultMiddleware(router)) serving one SalesforceState."""
    api = _api(state)
    routes: list[BaseRoute] = [
        Route("/services/oauth2/token", token_endpoint(state), methods=["POST"]),
        Route("/services/Soap/u/{version}", soap_login(state), methods=["POST"]),
        Route("/services/data", _versions, methods=["GET"]),
        Route("/services/data/", _versions, methods=["GET"]),
        Route("/services/data/v{version}", api, methods=_METHODS),
        Route("/services/data/v{version}/{rest:path}", api, methods=_METHODS),
        *control_routes,
        *sf_control_routes(state),
    ]
    router = Starlette(routes=routes)
    return CountingMiddleware(FaultMiddleware(router, faults, render_fault), counter)
