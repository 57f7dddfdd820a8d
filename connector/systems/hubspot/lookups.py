"""Look-ups before a write: the live contacts HubSpot holds for given e-mail addresses (before a create),
and the values records hold now (before an update, `current_values`).

``batch/read`` with ``idProperty=email``, 100 addresses per call. Addresses it does not hold come back
as errors (207 Multi-Status) or are simply absent; both mean "not found". Records come back as the pull
would stage them, so what a look-up finds is indistinguishable from what the next pull will read.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def find_by_email(http: HttpLayer, emails: Sequence[str], *, properties: Sequence[str]
                          ) -> list[StagedRecord]:
    """The live contacts holding these e-mail addresses (batch read by ``idProperty=email``, 100 per call),
    as the pull stages them. An address HubSpot does not hold is "not found", however it says so: a 207
    with errors, a 200 with fewer results, or (all of them missing) a 404 OBJECT_NOT_FOUND."""
    wanted = sorted({e for e in emails if e})
    found: list[StagedRecord] = []
    props = sorted(set(properties) | {"email", "lastmodifieddate"})
    for start in range(0, len(wanted), HUBSPOT_LOOKUP_BATCH):
        chunk = wanted[start:start + HUBSPOT_LOOKUP_BATCH]
        try:
            body = http.json("POST", "/crm/v3/objects/contacts/batch/read", object_type="contacts:lookup",
                                    params={"archived": "false"},
                                    json_body={"idProperty": "email", "properties": props,
                                               "inputs": [{"id": e} for e in chunk]})
        except ApiError as exc:
            if exc.status == 404 and exc.code == "OBJECT_NOT_FOUND":
                continue
            raise
        results = (body or {}).get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise MalformedResponse("hubspot contacts batch read by e-mail: the response has no results list; "
                                    "nothing was created")
        for record in results:
            if isinstance(record, dict) and record.get("id") is not None:
                found += to_staged("contacts", record)
    return found


def current_values(http: HttpLayer, object_type: str, ids: Sequence[str], properties: Sequence[str]
                   ) -> dict[str, dict[str, Any]]:
    """The values `ids` hold now for `properties`, read just before an update (a record archived or merged
    away since is absent): ``batch/read`` by id, 100 a call, the size of one batch update."""
    wanted = sorted({i for i in ids if i})
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), HUBSPOT_LOOKUP_BATCH):
        chunk = wanted[start:start + HUBSPOT_LOOKUP_BATCH]
        try:
            body = http.json("POST", f"/crm/v3/objects/{object_type}/batch/read", object_type=f"{object_type}:check",
                             params={"archived": "false"},
                             json_body={"properties": sorted(set(properties)), "inputs": [{"id": i} for i in chunk]})
        except ApiError as exc:
            if exc.status == 404 and exc.code == "OBJECT_NOT_FOUND":
                continue  # none of them is there any more
            raise
        results = (body or {}).get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise MalformedResponse(f"hubspot {object_type} batch read: the response has no results list; "
                                    "nothing was updated")
        for record in results:
            # a merged-away id answers with its survivor: only the record asked for counts as found
            if isinstance(record, dict) and str(record.get("id")) in chunk:
                held = record.get("properties") or {}
                out[str(record["id"])] = {p: held.get(p) for p in properties}  # a property left out is blank
    return out
