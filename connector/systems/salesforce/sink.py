"""Salesforce's Sink: updates and upserts, inserts and deletes, each record answered by its SaveResult.

sObject Collections (200 records each) travel five to a Composite request, so one API call writes up
to 1,000 records; above the bulk threshold, one Bulk API 2.0 ingest job per object and operation.
Creates are upserts on an external id (``HubSpot_Contact_Id__c``), so replaying a create whose answer
was lost finds the record instead of making a second one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..ports import Item, Operation, WriteOutcome
from ._client import SYSTEM
from .bulk import bulk_write
from .composite import composite_answers
from .lookups import current_values
from .source import SalesforceSource

__all__ = ["COLLECTIONS_PER_CALL", "COLLECTION_SIZE", "SalesforceSink", "salesforce_calls"]

COLLECTION_SIZE = 200
COLLECTIONS_PER_CALL = 5


def salesforce_calls(records: int, bulk_threshold: int) -> int:
    """Calls to write `records` of one object and operation (forecast for `connector plan`)."""
    if records == 0:
        return 0
    if records > bulk_threshold:
        return 6  # create job, upload, close, one poll (usually more), successful and failed results
    return -(-records // (COLLECTION_SIZE * COLLECTIONS_PER_CALL))


class SalesforceSink:
    """Writes to Salesforce through the connection of a `SalesforceSource` (one ledger, one budget)."""

    system = SYSTEM
    #: five Collections of 200 in one Composite call
    batch_size = COLLECTION_SIZE * COLLECTIONS_PER_CALL

    def __init__(self, source: SalesforceSource, bulk_threshold: int | None = None) -> None:
        self.source = source
        #: above this many records of one object and operation, a Bulk 2.0 job (default: the configured one)
        self.bulk_threshold = source.bulk_threshold if bulk_threshold is None else bulk_threshold

    def write(self, object_type: str, operation: Operation, items: Sequence[Item], *, id_field: str | None
              ) -> dict[str, WriteOutcome]:
        """Update (by Id) or upsert (on `id_field`) `items`: Collections in Composite, or one Bulk 2.0 job."""
        return _write(self.source, object_type, operation, items, external_id=id_field,
                      bulk_threshold=self.bulk_threshold)

    def create(self, object_type: str, items: Sequence[Item]) -> dict[str, WriteOutcome]:
        """Plain inserts (records without an external id, such as OpportunityContactRole)."""
        return _create(self.source, object_type, items)

    def delete(self, object_type: str, ids: Sequence[str], *, erase: bool = False) -> dict[str, WriteOutcome]:
        """Delete records, 200 per call (Salesforce has no separate permanent delete: `erase` changes nothing)."""
        return _delete(self.source, object_type, ids)

    def associate(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]], *,
                  type_id: int | None = None) -> dict[tuple[str, str], WriteOutcome]:
        """Salesforce links are records of their own (an OpportunityContactRole): `create` them."""
        return {p: WriteOutcome(False, p[0], code="UNSUPPORTED", message="Salesforce links are records: use create")
                for p in pairs}

    def opt_out(self, emails: Sequence[str]) -> dict[str, WriteOutcome]:
        """Salesforce's opt-out is a field (HasOptedOutOfEmail), written like any other by `write`."""
        return {e: WriteOutcome(False, code="UNSUPPORTED", message="write HasOptedOutOfEmail instead") for e in emails}

    def current(self, object_type: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The records' values now (queries by Id, 1,000 records a Composite call): checked before an update."""
        return current_values(self.source, object_type, ids, fields)


def _write(source: SalesforceSource, sobject: str, operation: Operation, items: Sequence[Item], *,
                     external_id: str | None = None, bulk_threshold: int | None = None,
                     sleep: Any = None) -> dict[str, WriteOutcome]:
    """Update (by Id) or upsert (on `external_id`) `items`: Collections in Composite, or one Bulk 2.0 job
    above the threshold (the source's configured one unless given)."""
    if not items:
        return {}
    threshold = source.bulk_threshold if bulk_threshold is None else bulk_threshold
    if len(items) > threshold:
        return bulk_write(source, sobject, operation, items, external_id, sleep or source.sleep)
    path = "composite/sobjects" + (f"/{sobject}/{external_id}" if operation == "upsert" else "")
    return _collections(source, sobject, "PATCH", path, [_sf_record(sobject, it, operation) for it in items],
                        [it.key for it in items])


def _sf_record(sobject: str, item: Item, operation: Operation) -> dict[str, Any]:
    record: dict[str, Any] = {"attributes": {"type": sobject}, **item.values}
    if operation == "update":
        record["Id"] = item.record_id
    return record


def _collections(source: SalesforceSource, sobject: str, method: str, path: str, records: Sequence[dict[str, Any]],
                 keys: Sequence[str]) -> dict[str, WriteOutcome]:
    """`records` through sObject Collections (200 each), five collections to one Composite call (one API
    call for 1,000 records); each SaveResult mapped back to its key, in order."""
    out: dict[str, WriteOutcome] = {}
    chunks = [(list(records[i:i + COLLECTION_SIZE]), list(keys[i:i + COLLECTION_SIZE]))
              for i in range(0, len(records), COLLECTION_SIZE)]
    for call in (chunks[i:i + COLLECTIONS_PER_CALL] for i in range(0, len(chunks), COLLECTIONS_PER_CALL)):
        subrequests = [{"method": method, "url": source.path(path), "referenceId": f"c{i}",
                        "body": {"allOrNone": False, "records": recs}} for i, (recs, _) in enumerate(call)]
        answers = composite_answers(source, subrequests, sobject, f"composite {sobject} write")
        for i, (recs, chunk_keys) in enumerate(call):
            answer = answers.get(f"c{i}") or {}
            status = int(answer.get("httpStatusCode") or 0)
            results = answer.get("body")
            if status >= 400 or not isinstance(results, list) or len(results) != len(recs) or not all(
                    isinstance(r, dict) and "success" in r for r in results):
                code, message = _first_error(results) if status >= 400 else (
                    "NO_RESULT", "Salesforce's answer for this collection was missing or malformed")
                out.update({k: WriteOutcome(False, code=code, message=message) for k in chunk_keys})
                continue
            for key, record, result in zip(chunk_keys, recs, results, strict=True):
                out[key] = _save_result(Item(key, record.get("Id"), {}), result)
    return out


def _first_error(body: Any) -> tuple[str, str]:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode") or "ERROR"), str(body[0].get("message") or "")
    return "ERROR", str(body)[:300]


def _save_result(item: Item, result: dict[str, Any]) -> WriteOutcome:
    if result.get("success"):
        rid = result.get("id") or item.record_id
        return WriteOutcome(True, str(rid) if rid else None, created=bool(result.get("created")))
    errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    fields = tuple(dict.fromkeys(f for e in errors for f in e.get("fields") or _named_field(e)))
    return WriteOutcome(False, code=str(errors[0].get("statusCode")) if errors else "ERROR",
                        message="; ".join(str(e.get("message")) for e in errors), fields=fields)


_DUPLICATE_FIELD = re.compile(r"duplicate value found: (\w+) duplicates value on record with id")


def _named_field(error: dict[str, Any]) -> tuple[str, ...]:
    """The field a DUPLICATE_VALUE error names in its message only (Salesforce leaves its `fields` empty):
    so the record can be resent without that one unique value instead of being refused whole."""
    if error.get("statusCode") != "DUPLICATE_VALUE":
        return ()
    match = _DUPLICATE_FIELD.search(str(error.get("message") or ""))
    return (match.group(1),) if match else ()


def _create(source: SalesforceSource, sobject: str, items: Sequence[Item]) -> dict[str, WriteOutcome]:
    """Plain inserts through sObject Collections in Composite (for records without an external id, such
    as OpportunityContactRole)."""
    return _collections(source, sobject, "POST", "composite/sobjects",
                        [{"attributes": {"type": sobject}, **it.values} for it in items], [it.key for it in items])


def _delete(source: SalesforceSource, sobject: str, ids: Sequence[str]) -> dict[str, WriteOutcome]:
    """Delete records through sObject Collections, 200 per call; a record already deleted counts as deleted."""
    out: dict[str, WriteOutcome] = {}
    for start in range(0, len(ids), COLLECTION_SIZE):
        chunk = list(ids[start:start + COLLECTION_SIZE])
        body = source.http.json("DELETE", source.path("composite/sobjects"), object_type=sobject,
                                params={"ids": ",".join(chunk), "allOrNone": "false"})
        results = body if isinstance(body, list) else []
        for rid, result in zip(chunk, results, strict=False):  # a short answer: the ids it leaves out, below
            outcome = _save_result(Item(rid, rid, {}), result)
            if not outcome.ok and outcome.code == "ENTITY_IS_DELETED":
                outcome = WriteOutcome(True, rid)
            out[rid] = outcome
        for rid in chunk[len(results):]:
            out[rid] = WriteOutcome(False, rid, code="NO_RESULT", message="Salesforce's answer did not mention it")
    return out
