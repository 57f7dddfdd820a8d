"""Record ids: HubSpot numeric strings from per-type counters, Salesforce ids from `make_id`."""

from __future__ import annotations

from connector.sandbox.salesforce.ids import make_id

__all__ = ["Ids", "HUBSPOT_ID_BASES", "HUBSPOT_ID_RANGE", "fast_make_id"]

HUBSPOT_ID_RANGE = 100_000_000
# each object type gets its own range, so an id alone tells the type and ranges never collide
HUBSPOT_ID_BASES = {
    "contacts": 0,
    "deals": 100_000_000,
    "calls": 200_000_000,
    "meetings": 300_000_000,
    "emails": 400_000_000,
    "notes": 500_000_000,
    "tasks": 600_000_000,
    "companies": 700_000_000,
}


class Ids:
    """Sequential id allocation, continued across batches."""

    def __init__(self, salesforce_start: dict[str, int] | None = None) -> None:
        self._hs = dict.fromkeys(HUBSPOT_ID_BASES, 0)
        self._sf: dict[str, int] = dict(salesforce_start or {})
        self._event = 0

    def hubspot(self, object_type: str) -> str:
        n = self._hs[object_type] + 1
        if n >= HUBSPOT_ID_RANGE:
            raise ValueError(f"more than {HUBSPOT_ID_RANGE - 1} HubSpot {object_type}: generate fewer people")
        self._hs[object_type] = n
        return str(HUBSPOT_ID_BASES[object_type] + n)

    def salesforce(self, sobject: str) -> str:
        n = self._sf.get(sobject, 0) + 1
        self._sf[sobject] = n
        return fast_make_id(sobject, n)

    def event(self) -> str:
        self._event += 1
        return str(self._event)


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_UPPER = tuple(1 if "A" <= ch <= "Z" else 0 for ch in _B62)
_CHECK = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_LOW = 62**5
_MAX_COUNTER = 62**8
_HIGH: dict[tuple[str, int], tuple[str, str]] = {}
# two base-62 digits at once: their characters and their two case bits (for the checksum character)
_PAIRS = tuple(_B62[i // 62] + _B62[i % 62] for i in range(62 * 62))
_PAIR_BITS = tuple(_UPPER[i // 62] | _UPPER[i % 62] << 1 for i in range(62 * 62))


def fast_make_id(sobject: str, counter: int) -> str:
    """Same value as `ids.make_id` (a test checks), minus the per-call work on the 10 leading characters."""
    if not 0 <= counter < _MAX_COUNTER:
        return make_id(sobject, counter)  # raises its own error
    high, low = divmod(counter, _LOW)
    cached = _HIGH.get((sobject, high))
    if cached is None:
        full = make_id(sobject, high * _LOW)
        if len(_HIGH) > 256:
            _HIGH.clear()
        cached = _HIGH[(sobject, high)] = (full[:10], full[15:17])
    rest, low_pair = divmod(low, 3844)
    d0, mid_pair = divmod(rest, 3844)
    bits = _UPPER[d0] | _PAIR_BITS[mid_pair] << 1 | _PAIR_BITS[low_pair] << 3
    return cached[0] + _B62[d0] + _PAIRS[mid_pair] + _PAIRS[low_pair] + cached[1] + _CHECK[bits]
