"""Plain-words hints for rejected writes (pure): what the system said, and what to change to fix it.

A parked record is read by a RevOps person, not a developer, so the hint names the unified field and
the mapping file that controls the value, e.g. "Salesforce rejected Lead.Status 'Nurture': not an
allowed value; add it to the value map for lead_status in mappings/contacts.toml".

Hints and parked messages end up in `connector status`, the run summary and the run record, so they
carry no personal data and stay short: a personal field's value (e-mail, name, phone) is never quoted,
only its length; any other value is quoted up to ``QUOTE_LIMIT`` characters; and the system's own
message is scrubbed of the written values it echoes (Salesforce quotes a too-long value, HubSpot an
invalid address) before it is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import re
from typing import Any, Protocol

from ..logs import redact
from ..reconcile.mapping import FieldMapping

__all__ = [
    "MESSAGE_LIMIT",
    "QUOTE_LIMIT",
    "hint_for",
    "is_personal",
    "quote_value",
    "scrub_message",
    "unified_field",
]

_SYSTEM_NAME = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
#: the most characters of a value a hint quotes
QUOTE_LIMIT = 80
#: the most characters of a system's message a parked record keeps
MESSAGE_LIMIT = 300
#: field names (native or unified) that hold personal data, by the words they contain
_PERSONAL_WORDS = ("email", "phone", "mobile", "firstname", "lastname", "first_name", "last_name", "fullname",
                   "full_name", "middlename", "middle_name", "salutation")
_PERSONAL_NAMES = frozenset({"name", "suffix"})
#: a value shorter than this is matched in a message only as a whole word (short names are common words)
_PREFIX = 12


class FieldFile(Protocol):
    """A mapping file's compiled fields (contacts.toml, opportunities.toml, companies.toml): what a hint names."""

    @property
    def file(self) -> str: ...

    @property
    def fields(self) -> tuple[FieldMapping, ...]: ...


def unified_field(mapping: FieldFile, system: str, object_type: str, native: str) -> str | None:
    """The unified field whose value is written to `native` (None for the connector's own fields)."""
    for f in mapping.fields:
        if f.native_name(system, object_type) == native:
            return f.name
    return None


def is_personal(mapping: FieldFile, system: str, object_type: str, native: str) -> bool:
    """Does `native` hold a person's e-mail, name or phone (by its own or its unified field's name)?"""
    if object_type not in ("contacts", "Lead", "Contact"):
        return False
    names = [native.lower(), (unified_field(mapping, system, object_type, native) or "").lower()]
    return any(n in _PERSONAL_NAMES or any(w in n for w in _PERSONAL_WORDS) for n in names)


def quote_value(value: Any, personal: bool) -> str:
    """How a hint shows a value: a personal one only by its length, others up to QUOTE_LIMIT characters
    (an ellipsis and the whole length beyond)."""
    text = value if isinstance(value, str) else str(value)
    if personal:
        return f"(a value of {len(text):,} characters)"
    if len(text) <= QUOTE_LIMIT:
        return repr(value) if isinstance(value, str) else text
    return f"{text[:QUOTE_LIMIT] + '…'!r} ({len(text):,} characters)"


def scrub_message(message: str, values: Mapping[str, Any], personal: Callable[[str], bool],
                  limit: int = MESSAGE_LIMIT) -> str:
    """A system's message without the written values it echoes: a personal field's value (or the prefix
    of it the system quoted) becomes "[value]", a long other value is cut to QUOTE_LIMIT characters;
    e-mail addresses and phone numbers left anywhere are masked, and the whole is cut to `limit`."""
    text = message
    for name, value in values.items():
        if isinstance(value, str) and len(value.strip()) >= 3:
            text = _replace_runs(text, value.strip(), personal(name))
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _replace_runs(text: str, value: str, personal: bool) -> str:
    """Every run of `text` that repeats `value` or a prefix of it (at least _PREFIX characters, or the
    whole of a shorter value as a word), masked or cut."""
    head = value[:_PREFIX]
    out: list[str] = []
    start = 0
    while (i := text.find(head, start)) >= 0:
        n = len(head)
        while n < len(value) and i + n < len(text) and text[i + n] == value[n]:
            n += 1
        whole_word = (i == 0 or not text[i - 1].isalnum()) and (i + n == len(text) or not text[i + n].isalnum())
        if len(head) < _PREFIX and not whole_word:  # a short value inside a longer word is not the value
            out.append(text[start:i + 1])
            start = i + 1
            continue
        run = text[i:i + n]
        out.append(text[start:i])
        out.append("[value]" if personal else run if len(run) <= QUOTE_LIMIT else run[:QUOTE_LIMIT] + "…")
        start = i + n
    out.append(text[start:])
    return "".join(out)


def hint_for(mapping: FieldFile, system: str, object_type: str, fields: tuple[str, ...], code: str,
             message: str, values: dict[str, Any]) -> str:
    """One sentence: who rejected which field and value, and the fix (no personal data, never long)."""
    who = _SYSTEM_NAME.get(system, system)
    native = fields[0] if fields else None
    value = values.get(native) if native else None
    unified = unified_field(mapping, system, object_type, native) if native else None
    where = f"{object_type}.{native}" if native else object_type
    personal = is_personal(mapping, system, object_type, native) if native else False
    shown = f" {quote_value(value, personal)}" if native and value not in (None, "") else ""
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
    elif upper == "UNAVAILABLE":
        fix = ("the system kept failing (an outage or throttling outlasted every retry); a later sync tries "
               "again, or `connector retry` makes it due now")
    else:
        fix = f"check {in_map}; `connector retry` requeues the record once fixed"
    said = scrub_message(message, values, lambda n: is_personal(mapping, system, object_type, n), limit=200)
    return f"{who} rejected {where}{shown}: {fix} ({code}: {said})"
