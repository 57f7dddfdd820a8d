"""Salesforce's two error shapes: REST arrays and per-record SaveResult errors.

A single-record REST call answers ``[{"message", "errorCode", "fields"}]``; collections, composite
and Bulk report the same failure inside a SaveResult as ``{"statusCode", "message", "fields"}``.
``RecordError`` carries one failure and renders either shape; ``ApiError`` is a whole-request refusal.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "RecordError", "not_found", "ROLLED_BACK"]


class RecordError(Exception):
    """One record could not be saved; `extra` holds additions such as ``duplicateResult``."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None,
                 extra: dict[str, Any] | None = None, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields or [])
        self.extra = dict(extra or {})
        self.status = status

    def rest(self) -> dict[str, Any]:
        """The element of a REST error array."""
        return {**self.extra, "errorCode": self.code, "message": self.message, "fields": self.fields}

    def save(self) -> dict[str, Any]:
        """The element of a SaveResult's ``errors``."""
        return {**self.extra, "statusCode": self.code, "message": self.message, "fields": self.fields}


class ApiError(Exception):
    """A whole request refused: status plus the REST error array."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.body: Any = [{**(extra or {}), "message": message, "errorCode": code}]
        if fields is not None:
            self.body[0]["fields"] = fields

    @classmethod
    def from_record(cls, err: RecordError) -> ApiError:
        out = cls(err.status, err.code, err.message, err.fields, err.extra)
        return out


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)
