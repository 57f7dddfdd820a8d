"""What every HubSpot API request passes first: correlation id, bearer auth, rate limits, headers."""

from __future__ import annotations

import json
import uuid

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..counters import CONTROL_PREFIX
from ..faults import FaultRule
from .errors import CORRELATION_HEADER, SCOPE_KEY, error_body
from .state import HubSpotState
from .values import iso

__all__ = ["HubSpotGate", "render_fault", "TOKEN_KEY"]

TOKEN_KEY = "hubspot.token"
_OPEN_PATHS = ("/oauth/v1/token",)
_MISSING = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
            "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")


def _is_search(method: str, path: str) -> bool:
    return method == "POST" and path.rstrip("/").endswith("/search")


class HubSpotGate:
    """ASGI middleware: authenticates, rate-limits and stamps HubSpot's headers on API responses."""

    def __init__(self, app: ASGIApp, state: HubSpotState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        cid = str(uuid.uuid4())
        scope[SCOPE_KEY] = cid
        headers = {CORRELATION_HEADER: cid}
        path, method = scope["path"], scope["method"]
        if not path.startswith(_OPEN_PATHS) and not path.startswith("/oauth/v1/access-tokens/"):
            refusal = self._authenticate(scope, cid)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            if self.state.rate_limits:
                token = scope[TOKEN_KEY]
                search = _is_search(method, path)
                verdict = self.state.limiter.check(token.app_id, search=search)
                if not verdict.allowed:
                    await _rate_limited(verdict.policy or "TEN_SECONDLY_ROLLING", cid)(scope, receive, send)
                    return
                if not search:
                    lim = self.state.limits
                    headers.update({
                        "X-HubSpot-RateLimit-Interval-Milliseconds": str(lim.burst_window_ms),
                        "X-HubSpot-RateLimit-Max": str(lim.burst_max),
                        "X-HubSpot-RateLimit-Remaining": str(verdict.burst_remaining),
                    })
                    if not token.oauth:
                        headers["X-HubSpot-RateLimit-Daily"] = str(lim.daily_max)
                        headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(verdict.daily_remaining)
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in raw if h[0] not in existing]
            await send(message)

        await self.app(scope, receive, stamped)

    def _authenticate(self, scope: Scope, cid: str) -> Response | None:
        header = ""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                header = value.decode("latin-1")
        token_value = header[7:].strip() if header.lower().startswith("bearer ") else ""
        info = self.state.token(token_value) if token_value else None
        if info is None:
            return JSONResponse(error_body("INVALID_AUTHENTICATION", _MISSING, cid), status_code=401,
                                headers={CORRELATION_HEADER: cid})
        now = self.state.clock.now_ms()
        if info.expires_ms is not None and info.expires_ms <= now:
            ago = (now - info.expires_ms) // 1000
            unit, amount = ("second(s)", ago) if ago < 3600 else ("hour(s)", ago // 3600)
            return JSONResponse(error_body(
                "EXPIRED_AUTHENTICATION", f"The OAuth token used to make this call expired {amount} {unit} ago.",
                cid, context={"expire time": [iso(info.expires_ms)]}), status_code=401,
                headers={CORRELATION_HEADER: cid})
        scope[TOKEN_KEY] = info
        return None


def _rate_limited(policy: str, cid: str, retry_after: float | None = None) -> Response:
    label = {"DAILY": "daily", "SECONDLY": "secondly", "TEN_SECONDLY_ROLLING": "ten_secondly_rolling"}[policy]
    body = {"status": "error", "message": f"You have reached your {label} limit.", "errorType": "RATE_LIMIT",
            "correlationId": cid, "policyName": policy, "requestId": str(uuid.uuid4()), "category": "RATE_LIMITS"}
    headers = {CORRELATION_HEADER: cid}
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after) if float(retry_after).is_integer() else retry_after)
    return JSONResponse(body, status_code=429, headers=headers)


def render_fault(rule: FaultRule) -> Response:
    """HubSpot-shaped bodies for injected faults."""
    cid = str(uuid.uuid4())
    if rule.kind == "429":
        return _rate_limited("TEN_SECONDLY_ROLLING", cid)
    if rule.kind == "429-retry":
        return _rate_limited("TEN_SECONDLY_ROLLING", cid, rule.retry_after)
    if rule.kind == "lock":
        return JSONResponse(error_body("LOCKED", "This record is locked by another operation (high-volume sync in "
                                       "progress); wait at least 2 seconds and retry.", cid),
                            status_code=423, headers={CORRELATION_HEADER: cid})
    status = int(rule.kind)
    message = {500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
    if status == 500:
        return JSONResponse(error_body("INTERNAL_ERROR", message, cid), status_code=500,
                            headers={CORRELATION_HEADER: cid})
    return Response(json.dumps(error_body("SERVICE_UNAVAILABLE", message, cid)), status_code=status,
                    media_type="application/json", headers={CORRELATION_HEADER: cid})
