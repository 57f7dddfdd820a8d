"""Fault injection, by rate or by script, for both emulators.

A connector is only as robust as the failures it was tested against. Rules match requests by method
and path glob and fire either with a probability (``rate``) or for the next ``count`` matches after
skipping ``after`` of them (a script: "the 3rd search call gets a 503"). Each emulator renders the
error body in its own system's shape; this module handles what is the same everywhere: slow responses,
dropped connections and malformed bodies.

CLI form (``connector sandbox --faults SPEC``): comma-separated ``KIND[@PATH_GLOB][:RATE|xCOUNT]``,
e.g. ``503:0.02,429-retry@/crm/v3/objects/*/search:x3,drop@*query*:0.01``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .counters import CONTROL_PREFIX

__all__ = ["FaultKind", "FaultRule", "FaultPlan", "FaultMiddleware", "FaultSpecError", "FAULT_KINDS"]

FaultKind = Literal["429", "429-retry", "500", "502", "503", "slow", "drop", "malformed", "lock"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
#: kinds whose response body the emulator renders in its own system's error shape
RENDERED_KINDS = frozenset({"429", "429-retry", "500", "502", "503", "lock"})


class FaultSpecError(ValueError):
    """A fault rule or ``--faults`` spec that cannot be understood."""


@dataclass
class FaultRule:
    """One way to fail: what, where, and how often."""

    kind: FaultKind
    path: str = "*"
    method: str = "*"
    rate: float | None = None
    count: int | None = None
    after: int = 0
    retry_after: float = 1.0
    delay: float = 30.0
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultSpecError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if self.rate is None and self.count is None:
            self.count = 1
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise FaultSpecError(f"fault rate must be between 0 and 1, got {self.rate}")

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method.upper() == method) and fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    """The active fault rules of one emulator; deterministic for a given seed."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = list(rules or [])
        self._random = random.Random(seed)

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0) -> FaultPlan:
        """Build a plan from the CLI form; raises FaultSpecError naming the bad item."""
        rules: list[FaultRule] = []
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            head, _, amount = item.partition(":")
            kind, _, path = head.partition("@")
            kwargs: dict[str, Any] = {"kind": kind, "path": path or "*"}
            try:
                if amount.startswith("x"):
                    kwargs["count"] = int(amount[1:])
                elif amount:
                    kwargs["rate"] = float(amount)
                else:
                    kwargs["rate"] = 1.0
            except ValueError as exc:
                raise FaultSpecError(
                    f"fault {item!r}: {amount!r} is neither a rate (0.05) nor a count (x3)"
                ) from exc
            try:
                rules.append(FaultRule(**kwargs))
            except FaultSpecError as exc:
                raise FaultSpecError(f"fault {item!r}: {exc}") from exc
        return cls(rules, seed=seed)

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (first match wins)."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.rate is not None:
                    if self._random.random() < rule.rate:
                        rule.fired += 1
                        return rule
                    continue
                assert rule.count is not None
                if rule.seen > rule.after and rule.fired < rule.count:
                    rule.fired += 1
                    return rule
            return None


Renderer = Callable[[FaultRule], Response]


class FaultMiddleware:
    """Applies the plan to every API request (never to the control API)."""

    def __init__(self, app: ASGIApp, plan: FaultPlan, render: Renderer) -> None:
        self.app = app
        self.plan = plan
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        rule = self.plan.pick(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "slow":
            await _slow(self.app, rule.delay, scope, receive, send)
        elif rule.kind == "drop":
            await _drop(send)
        elif rule.kind == "malformed":
            await _malformed(self.app, scope, receive, send)
        else:
            await self.render(rule)(scope, receive, send)


async def _slow(app: ASGIApp, delay: float, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer `delay` seconds late, having received the whole request first, as a server does: a client that
    gives up meanwhile does not undo the request (its write lands, its answer is lost), as with a real API."""
    body: list[Message] = []
    while True:
        message = await receive()
        body.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    await asyncio.sleep(delay)
    replay = iter(body)

    async def replayed() -> Message:
        return next(replay, None) or await receive()

    await app(scope, replayed, send)  # the server drops what it sends to a client that has gone


class DroppedConnection(Exception):
    """Raised inside the server to cut a response short, as a dropped connection does."""


async def _drop(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
    await send({"type": "http.response.body", "body": b'{"results": [', "more_body": True})
    raise DroppedConnection("sandbox fault: connection dropped mid-response")


async def _malformed(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the real handler, then cut its body in half (keeping status and content type)."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    body = b"".join(chunks)
    cut = body[: max(1, len(body) // 2)] if body else b"{"
    assert start is not None
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(cut)).encode()))
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    await send({"type": "http.response.body", "body": cut})
