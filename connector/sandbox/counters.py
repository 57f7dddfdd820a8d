"""Per-endpoint request counters, so tests and benchmarks can check API cost exactly.

Counted keys are ``"METHOD /path"`` with id-like path parameters and e-mail addresses folded to
``{name}`` (object types stay visible: ``GET /crm/v3/objects/contacts/{recordId}``; an address never
appears in a key: ``POST /communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all``).
Requests under the control prefix are not counted.
"""

from __future__ import annotations

import threading
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CallCounter", "CountingMiddleware", "CONTROL_PREFIX"]

CONTROL_PREFIX = "/_sandbox"


class CallCounter:
    """Thread-safe counts of API calls by endpoint key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


def endpoint_key(scope: Scope) -> str:
    path: str = scope["path"]
    params = scope.get("path_params") or {}
    for name, value in params.items():
        lowered = name.lower()
        if lowered.endswith("id") or lowered in {"locator", "ref", "subscriberidstring", "emailaddress"}:
            path = path.replace(f"/{value}", "/{" + name + "}")
    return f"{scope['method']} {path}"


class CountingMiddleware:
    """Counts every API request as its response starts: after routing (so path parameters are known) and
    before the client can see a byte (so a test reading the counter after a call never races it)."""

    def __init__(self, app: ASGIApp, counter: CallCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        counted = False

        async def counting_send(message: Message) -> None:
            nonlocal counted
            if message["type"] == "http.response.start" and not counted:
                counted = True
                self.counter.add(endpoint_key(scope))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if not counted:  # the app failed before answering: the request still reached the server
                self.counter.add(endpoint_key(scope))
