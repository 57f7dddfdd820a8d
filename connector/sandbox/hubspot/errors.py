"""HubSpot's error bodies, so the connector's error handling meets the real shapes.

Every error carries ``status: "error"``, ``message``, ``correlationId`` and ``category``; the same
correlation id is sent in the ``X-HubSpot-Correlation-Id`` header.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["HubSpotError", "PropertyError", "error_body", "error_response", "correlation_id",
           "property_errors", "CORRELATION_HEADER", "json_response"]

CORRELATION_HEADER = "X-HubSpot-Correlation-Id"
SCOPE_KEY = "hubspot.correlation_id"


class HubSpotError(Exception):
    """An API error to be answered with HubSpot's error body and the given HTTP status."""

    def __init__(self, status: int, category: str, message: str, *, errors: list[dict[str, Any]] | None = None,
                 context: dict[str, Any] | None = None, sub_category: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.sub_category = sub_category
        self.extra = extra or {}

    def body(self, correlation: str) -> dict[str, Any]:
        return error_body(self.category, self.message, correlation, errors=self.errors, context=self.context,
                          sub_category=self.sub_category, extra=self.extra)


class PropertyError(Exception):
    """One invalid property value of one input (HubSpot reports them as a list)."""

    def __init__(self, name: str, code: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.code = code
        self.message = message


def property_errors(errors: list[PropertyError], status: int = 400) -> HubSpotError:
    """The VALIDATION_ERROR HubSpot answers for invalid property values."""
    inner = [{"isValid": False, "message": e.message, "error": e.code, "name": e.name,
              "localizedErrorMessage": e.message} for e in errors]
    listed = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
    return HubSpotError(
        status, "VALIDATION_ERROR", f"Property values were not valid: {listed}",
        errors=[{"message": e.message, "code": e.code, "context": {"propertyName": [e.name]}} for e in errors],
    )


def error_body(category: str, message: str, correlation: str, *, errors: list[dict[str, Any]] | None = None,
               context: dict[str, Any] | None = None, sub_category: str | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": correlation,
                            "category": category}
    if sub_category:
        body["subCategory"] = sub_category
    if errors:
        body["errors"] = errors
    if context:
        body["context"] = context
    body.update(extra or {})
    return body


def correlation_id(request: Request | None) -> str:
    if request is not None and SCOPE_KEY in request.scope:
        return str(request.scope[SCOPE_KEY])
    return str(uuid.uuid4())


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers=headers)


def error_response(request: Request | None, exc: HubSpotError) -> Response:
    cid = correlation_id(request)
    return JSONResponse(exc.body(cid), status_code=exc.status, headers={CORRELATION_HEADER: cid})


def not_found(object_type: str, object_id: str) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.",
                        context={"id": [str(object_id)]})


def bad_request(message: str, **context: list[str]) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, context=context or None)
