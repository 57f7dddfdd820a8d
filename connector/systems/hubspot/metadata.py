"""HubSpot's metadata: property definitions and property groups, read and created through the properties API.

`connector setup` creates what the mappings need through these calls; HubSpot's answers to them are read
here, so a conflict (the property or group exists already) and a refusal (a missing schema scope) reach
setup in the connector's terms.
"""

from __future__ import annotations

from typing import Any

from ..http import ApiError, HttpLayer, json_object
from ._client import field

__all__ = ["create_property", "create_property_group", "properties", "property_groups"]


def _properties_path(object_type: str) -> str:
    return f"/crm/v3/properties/{object_type}"


def properties(http: HttpLayer, object_type: str) -> list[dict[str, Any]]:
    """The object's property definitions (one call)."""
    body = http.json("GET", _properties_path(object_type), object_type=object_type)
    return list(field(body, "results", list, "properties"))


def property_groups(http: HttpLayer, object_type: str) -> list[dict[str, Any]]:
    """The object's property groups (one call)."""
    body = http.json("GET", f"{_properties_path(object_type)}/groups", object_type=object_type)
    return list(json_object(body, "hubspot", f"{object_type} property groups").get("results") or [])


def create_property(http: HttpLayer, object_type: str, body: dict[str, Any]) -> bool:
    """Create a property (one call); False when it exists already (409: another setup run made it meanwhile).

    Raises ApiError for any other refusal, its hint naming the schema scope the private app needs when
    HubSpot gives no better one (always for a 403)."""
    try:
        http.json("POST", _properties_path(object_type), object_type=object_type, json_body=body)
    except ApiError as exc:
        if exc.status == 409:
            return False
        scope = f"give the private app the crm.schemas.{object_type}.write scope"
        hint = scope if exc.status == 403 else (exc.hint or scope)
        raise ApiError(exc.system, exc.endpoint, exc.status, exc.code, exc.vendor_message, hint) from exc
    return True


def create_property_group(http: HttpLayer, object_type: str, body: dict[str, Any]) -> bool:
    """Create a property group (one call); False when it exists already (409). Raises ApiError for any other
    refusal."""
    try:
        http.json("POST", f"{_properties_path(object_type)}/groups", object_type=object_type, json_body=body)
    except ApiError as exc:
        if exc.status != 409:
            raise
        return False
    return True
