"""Look-ups before a write: the live contacts HubSpot holds for given e-mail addresses (before a create),
and the values records hold now (before an update, `current_values`).

``batch/read`` with ``idProperty=email``, 100 addresses per call. Addresses it does not hold come back
as errors (207 Multi-Status) or are simply absent; both mean "not found". Records come back as the pull
would stage them, so what a look-up finds is indistinguishable from what the next pull will read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..http import ApiError, HttpLayer, MalformedResponse
from ..ports import StagedRecord
from .records import to_staged

__all__ = ["HUBSPOT_LOOKUP_BATCH", "current_values", "find_by_email", "hubspot_lookup_calls"]

#: addresses per HubSpot batch read
HUBSPOT_LOOKUP_BATCH = 100


def hubspot_lookup_calls(addresses: int) -> int:
    """The API calls looking up `addresses` e-mail addresses in HubSpot cost: one batch read per 100."""
    return -(-max(addresses, 0) // HUBSPOT_LOOKUP_BATCH)


def _batch_read(http: HttpLayer, object_type: str, keys: Sequence[str], body: dict[str, Any], *, label: str,
                what: str, waiting: str) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """``batch/read`` of `keys` (deduplicated, sorted), 100 a call: each chunk asked for and each record HubSpot
    answered with. A key it does not hold is "not found", however it says so: a 207 with errors, a 200 with
    fewer results, or (none of them held) a 404 OBJECT_NOT_FOUND."""
    wanted = sorted({k for k in keys if k})
    for start in range(0, len(wanted), HUBSPOT_LOOKUP_BATCH):
        chunk = wanted[start:start + HUBSPOT_LOOKUP_BATCH]
        try:
            answer = http.json("POST", f"/crm/v3/objects/{object_type}/batch/read", object_type=label,
                               params={"archived": "false"}, json_body={**body, "inputs": [{"id": k} for k in chunk]})
        except ApiError as exc:
            if exc.status == 404 and exc.code == "OBJECT_NOT_FOUND":
                continue
            raise
        results = (answer or {}).get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise MalformedResponse(f"hubspot {what}: the response has no results list; {waiting}")
        for record in results:
            if isinstance(record, dict) and record.get("id") is not None:
                yield chunk, record


def find_by_email(http: HttpLayer, emails: Sequence[str], *, properties: Sequence[str]
                          ) -> list[StagedRecord]:
    """The live contacts holding these e-mail addresses (batch read by ``idProperty=email``, 100 per call),
    as the pull stages them; an address HubSpot does not hold is not found (`_batch_read`)."""
    props = sorted(set(properties) | {"email", "lastmodifieddate"})
    found: list[StagedRecord] = []
    for _, record in _batch_read(http, "contacts", emails, {"idProperty": "email", "properties": props},
                                 label="contacts:lookup", what="contacts batch read by e-mail",
                                 waiting="nothing was created"):
        found += to_staged("contacts", record)
    return found


def current_values(http: HttpLayer, object_type: str, ids: Sequence[str], properties: Sequence[str]
                   ) -> dict[str, dict[str, Any]]:
    """The values `ids` hold now for `properties`, read just before an update (a record archived or merged
    away since is absent): ``batch/read`` by id, 100 a call, the size of one batch update."""
    out: dict[str, dict[str, Any]] = {}
    for chunk, record in _batch_read(http, object_type, ids, {"properties": sorted(set(properties))},
                                     label=f"{object_type}:check", what=f"{object_type} batch read",
                                     waiting="nothing was updated"):
        # a merged-away id answers with its survivor: only the record asked for counts as found
        if str(record["id"]) in chunk:
            held = record.get("properties") or {}
            out[str(record["id"])] = {p: held.get(p) for p in properties}  # a property left out is blank
    return out
