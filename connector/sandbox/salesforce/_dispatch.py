"""A tiny in-process router for the versioned REST surface, shared by HTTP and Composite.

Composite subrequests must run the very same handlers as top-level calls, without HTTP, auth or
limit accounting; so handlers take a `Ctx` and return a `Resp`, and both the Starlette endpoint and
the Composite resource call `dispatch`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ._errors import ApiError, RecordError

if TYPE_CHECKING:
    from ._state import SalesforceState

__all__ = ["Ctx", "Resp", "Route", "dispatch", "route", "ROUTES", "json_body"]


@dataclass
class Ctx:
    """One request as the handlers see it."""

    state: SalesforceState
    method: str
    version: str
    path: str  # after /services/data/vXX.X
    params: dict[str, str]
    raw: bytes
    headers: Mapping[str, str]
    base_url: str
    in_composite: bool = False
    all_or_none: bool = False

    def json(self) -> Any:
        return json_body(self.raw)


@dataclass
class Resp:
    """A handler's answer: status, JSON-able body (or bytes/str with a media type) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json;charset=UTF-8"


Handler = Callable[..., Resp]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    is_query: bool = False  # counts toward Composite's 5 query/collection subrequests


ROUTES: list[Route] = []


def route(method: str, path: str, *, is_query: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler; ``{name}`` matches one path segment (named ``...Id`` when it holds an id)."""
    regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path.rstrip("/")) + "/?$"

    def deco(fn: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(regex), fn, is_query))
        return fn

    return deco


def json_body(raw: bytes) -> Any:
    import json

    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: was expecting a JSON value: {exc}") from exc


def find(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a method and a path; raises 405 when only the method is wrong."""
    path = path.rstrip("/") or ""
    allowed = False
    for r in ROUTES:
        m = r.pattern.match(path)
        if m:
            if r.method == method:
                return r, m.groupdict()
            allowed = True
    if allowed:
        raise ApiError(405, "METHOD_NOT_ALLOWED",
                       f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,POST,DELETE")
    return None


def dispatch(ctx: Ctx) -> tuple[Resp, dict[str, str]]:
    """Run the handler for `ctx`; errors become Salesforce error responses."""
    params: dict[str, str] = {}
    try:
        found = find(ctx.method, ctx.path)
        if found is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        r, params = found
        return r.handler(ctx, **params), params
    except ApiError as exc:
        return Resp(exc.status, exc.body), params
    except RecordError as exc:
        return Resp(exc.status, [exc.rest()]), params


_VERSIONED = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")


def split_url(url: str) -> tuple[str | None, str, dict[str, str]]:
    """(version, path after the version, query params) of a /services/data URL."""
    parts = urlsplit(url)
    m = _VERSIONED.match(parts.path)
    if not m:
        return None, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
    return m.group(1), m.group(2) or "", dict(parse_qsl(parts.query, keep_blank_values=True))
