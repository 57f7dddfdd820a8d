"""Plain-words hints for rejected writes (pure): what the system said, and what to change to fix it.

A parked record is read by a RevOps person, not a developer, so the hint names the unified field and
the mapping file that controls the value, e.g. "Salesforce rejected Lead.Status 'Nurture': not an
allowed value; add it to the value map for lead_status in mappings/contacts.toml".
"""

from __future__ import annotations

import re
from typing import Any

from ..reconcile.mapping import ContactMapping

__all__ = ["hint_for", "unified_field"]

_SYSTEM_NAME = {"hubspot": "HubSpot", "salesforce": "Salesforce"}


def unified_field(mapping: ContactMapping, system: str, object_type: str, native: str) -> str | None:
    """The unified field whose value is written to `native` (None for the connector's own fields)."""
    for f in mapping.fields:
        if f.native_name(system, object_type) == native:
            return f.name
    return None


def hint_for(mapping: ContactMapping, system: str, object_type: str, fields: tuple[str, ...], code: str,
             message: str, values: dict[str, Any]) -> str:
    """One sentence: who rejected which field and value, and the fix."""
    who = _SYSTEM_NAME.get(system, system)
    native = fields[0] if fields else None
    value = values.get(native) if native else None
    unified = unified_field(mapping, system, object_type, native) if native else None
    where = f"{object_type}.{native}" if native else object_type
    shown = f" {value!r}" if native and value not in (None, "") else ""
    file = mapping.file
    in_map = f"the mapping for {unified} in {file}" if unified else "the connector's setup (`connector setup`)"
    upper = code.upper()
    if "PICKLIST" in upper or upper in ("INVALID_OPTION", "INVALID_ENUMERATION_OPTION"):
        fix = (f"not an allowed value; add it to the value map for {unified} in {file}" if unified
               else "not an allowed value; add the value to the field's picklist")
    elif upper in ("PROPERTY_DOESNT_EXIST", "INVALID_FIELD"):
        fix = f"the field does not exist; run `connector setup` or correct {in_map}"
    elif upper in ("READ_ONLY_VALUE", "INVALID_FIELD_FOR_INSERT_UPDATE", "FIELD_NOT_UPDATEABLE"):
        fix = f"the field cannot be written; set direction = \"none\" or the other way in {in_map}"
    elif "EMAIL" in upper:
        fix = f"not a valid e-mail address; correct it in the source record or add a transform in {in_map}"
    elif upper == "STRING_TOO_LONG":
        limit = re.search(r"max length\s*=\s*(\d+)", message)
        length = limit.group(1) if limit else "<the field's length>"
        fix = (f"the value is longer than the field allows; lengthen the field, or cut it: add \"truncate\" to "
               f"fields.{unified}.transforms and set max_length = {length} in {file}" if unified
               else "the value is longer than the field allows; lengthen the field")
    elif upper == "REQUIRED_FIELD_MISSING":
        fix = f"a required field has no value; map one or set inclusion.placeholder in {file}"
    elif upper in ("DUPLICATE_VALUE", "DUPLICATES_DETECTED", "CONFLICT", "CONTACT_EXISTS"):
        fix = ("another record already holds this value; merge the duplicates in the system, then "
               "`connector retry`")
    elif upper in ("ENTITY_IS_DELETED", "OBJECT_NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"):
        fix = ("the record (or one it refers to, such as the owner) no longer exists; the next pull will "
               "catch up, or check the owner mapping")
    elif upper in ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "FIELD_INTEGRITY_EXCEPTION"):
        fix = "a validation rule in the org refused the record; adjust the rule or the mapped value"
    elif upper in ("INVALID_INTEGER", "INVALID_LONG", "INVALID_FLOAT", "INVALID_DATE", "INVALID_DATETIME",
                   "INVALID_BOOLEAN", "INVALID_PROPERTY_VALUE", "INVALID_TYPE_ON_FIELD_IN_RECORD"):
        fix = f"the value does not fit the field's type; add a transform in {in_map}"
    else:
        fix = f"check {in_map}; `connector retry` requeues the record once fixed"
    return f"{who} rejected {where}{shown}: {fix} ({code}: {message[:200]})"
