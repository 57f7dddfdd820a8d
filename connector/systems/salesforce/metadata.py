"""Salesforce metadata writes: custom fields, which the connector can add only in the sandbox.

A real org adds fields through Setup or the Metadata API, which the connector does not use; the sandbox's
Salesforce emulator offers a control route instead, so `connector setup` can prepare a sandbox org alone.
A real org has no such route, and its refusal is translated here into what an admin must do.
"""

from __future__ import annotations

from typing import Any

from ..http import ApiError, HttpLayer

__all__ = ["SANDBOX_CUSTOM_FIELDS_PATH", "create_custom_field"]

#: the Salesforce emulator's control route that adds a custom field (real orgs: Setup or Metadata API)
SANDBOX_CUSTOM_FIELDS_PATH = "/_sandbox/salesforce/custom-fields"


def create_custom_field(http: HttpLayer, sobject: str, body: dict[str, Any]) -> None:
    """Add a custom field to `sobject` through the sandbox's route (one call; `body` as the route takes it).

    Raises ApiError when refused (always, outside the sandbox), its hint saying who adds the field instead."""
    try:
        http.json("POST", SANDBOX_CUSTOM_FIELDS_PATH, object_type=sobject, json_body=body)
    except ApiError as exc:
        raise ApiError(exc.system, exc.endpoint, exc.status, exc.code, exc.vendor_message,
                       "only the sandbox can add fields through the connector; in a real org an admin adds it "
                       "(docs/setup.md)") from exc
