"""Small request helpers shared by the route modules: error wrapping, JSON bodies, list parameters."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import HubSpotError, error_response
from .schema import normalize_object_type

__all__ = ["endpoint", "json_body", "list_param", "object_type_of", "encode_cursor", "decode_cursor", "int_param",
           "bool_param"]

Handler = Callable[[Request], Awaitable[Response]]


def endpoint(fn: Handler) -> Handler:
    """Turn HubSpotError raised by a handler into HubSpot's error response."""

    @functools.wraps(fn)
    async def wrapper(request: Request) -> Response:
        try:
            return await fn(request)
        except HubSpotError as exc:
            return error_response(request, exc)

    return wrapper


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"{}")
    except ValueError as exc:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid input JSON on line 1: {exc}") from None


def list_param(request: Request, name: str) -> list[str] | None:
    """A comma-separated or repeated query parameter; None when absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{name} must be an integer, got {raw!r}") from None


def bool_param(request: Request, name: str) -> bool:
    return (request.query_params.get(name) or "false").lower() == "true"


def object_type_of(value: str) -> str:
    object_type = normalize_object_type(value)
    if object_type is None:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {value}")
    return object_type


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        return int(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode())
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid paging cursor {value!r}; pass paging.next.after "
                                                    "back unchanged") from None
