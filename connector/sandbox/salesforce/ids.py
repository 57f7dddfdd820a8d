"""Salesforce record ids: 15 case-sensitive characters plus the 3-character checksum suffix.

The first three characters are the object's key prefix (00Q Lead, 003 Contact, ...). Ids here encode
a per-prefix counter so the seed generator and the emulator allocate from one sequence without
colliding: the emulator continues after the highest counter it was seeded with.
"""

from __future__ import annotations

__all__ = ["KEY_PREFIXES", "make_id", "id_counter", "to_18", "prefix_object"]

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Task": "00T",
    "Event": "00U",
    "Lead": "00Q",
    "OpportunityContactRole": "00K",
    "CampaignMember": "00v",
    "Campaign": "701",
    "Organization": "00D",
    "BulkJob": "750",
    "QueryLocator": "01g",
}

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_POD = "5g00"  # instance/pod characters, constant in this sandbox
_COUNTER_WIDTH = 8


def _base62(n: int, width: int) -> str:
    if n < 0:
        raise ValueError("id counter must be >= 0")
    digits = []
    while n:
        n, r = divmod(n, 62)
        digits.append(_BASE62[r])
    text = "".join(reversed(digits)) or "0"
    if len(text) > width:
        raise ValueError(f"id counter {n} does not fit in {width} base-62 digits")
    return text.rjust(width, "0")


def to_18(id15: str) -> str:
    """Append the case-safe checksum Salesforce adds to a 15-character id."""
    if len(id15) != 15:
        raise ValueError(f"expected a 15-character id, got {id15!r}")
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _CHECKSUM[bits]
    return id15 + suffix


def make_id(sobject: str, counter: int) -> str:
    """The 18-character id of the `counter`-th record of `sobject`."""
    prefix = KEY_PREFIXES[sobject]
    return to_18(prefix + _POD + _base62(counter, _COUNTER_WIDTH))


def id_counter(record_id: str) -> int:
    """Inverse of `make_id` for the counter part (ids from other sources give their base-62 tail)."""
    tail = record_id[7:15]
    n = 0
    for ch in tail:
        n = n * 62 + _BASE62.index(ch)
    return n


def prefix_object(record_id: str) -> str | None:
    """The sObject a key prefix belongs to, or None for an unknown prefix."""
    prefix = record_id[:3]
    for name, key in KEY_PREFIXES.items():
        if key == prefix:
            return name
    return None
