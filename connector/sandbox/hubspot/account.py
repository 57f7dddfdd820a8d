"""Account settings: what differs between real HubSpot accounts, or where the docs leave a choice open.

Every setting defaults to the realistic (or best documented) behaviour; tests and benchmarks change
them through the constructor or the control API (``POST /_sandbox/hubspot/account``). Where HubSpot's
documentation is silent, the alternative a real account might show is a setting too, so the
connector's tests can run against both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

__all__ = ["AccountSettings", "DEFAULT_SEARCH_LAG_MS", "Tier", "BatchReadMissing", "UntracedBatch"]

#: "a few seconds": records created or changed this recently are not yet in the search index
DEFAULT_SEARCH_LAG_MS = 5_000

Tier = Literal["starter", "professional", "enterprise"]
BatchReadMissing = Literal["error-207", "omit-200"]
UntracedBatch = Literal["all-or-nothing", "partial-207"]


@dataclass
class AccountSettings:
    """One account's behaviour switches (see docs/sandbox/hubspot.md, "Account settings")."""

    #: enrolled in the "Primary ID Preservation for Merged Records" beta: a merge keeps the primary's
    #: id; otherwise (most accounts) the merged record gets a new id
    primary_id_preservation: bool = False
    #: search index lag: a record created or changed less than this long ago (sandbox clock) is
    #: missing from search, though list and read return it
    search_lag_ms: int = DEFAULT_SEARCH_LAG_MS
    #: Marketing Hub tier; the batch communication-preferences endpoints need Enterprise
    tier: Tier = "professional"
    #: batch/read with ids that do not exist: 207 with an OBJECT_NOT_FOUND error listing them in
    #: ``context.ids`` (observed), or 200 leaving them out (the docs' silence allows it)
    batch_read_missing: BatchReadMissing = "error-207"
    #: a batch write without objectWriteTraceId and one bad input: the whole batch fails (inferred), or
    #: the good inputs are written and the bad one is reported in a 207 without a trace id
    untraced_batch: UntracedBatch = "all-or-nothing"

    def update(self, changes: Any) -> None:
        """Apply `changes` (a JSON object); raises ValueError naming the bad key and what it takes."""
        if not isinstance(changes, dict):
            raise ValueError("account settings must be a JSON object")
        known = {f.name: f for f in fields(self)}
        checked: dict[str, Any] = {}
        for key, value in changes.items():
            spec = known.get(key)
            if spec is None:
                raise ValueError(f"unknown account setting {key!r}; known: {sorted(known)}")
            checked[key] = _check(key, spec.type, value)
        for key, value in checked.items():
            setattr(self, key, value)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_CHOICES: dict[str, tuple[str, ...]] = {
    "tier": get_args(Tier), "batch_read_missing": get_args(BatchReadMissing), "untraced_batch": get_args(UntracedBatch),
}


def _check(key: str, kind: Any, value: Any) -> Any:
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise ValueError(f"{key} must be one of {list(_CHOICES[key])}, got {value!r}")
        return value
    if kind in (bool, "bool"):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a whole number of milliseconds >= 0, got {value!r}")
    return value
