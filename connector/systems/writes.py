"""The write side of both adapters: batched, per-record results mapped back to the caller's keys.

- HubSpot: ``batch/update`` and ``batch/upsert``, 100 inputs per call, every input carrying an
  ``objectWriteTraceId`` so that one bad input fails alone (207 Multi-Status) instead of the batch.
- Salesforce: sObject Collections (200 records each) packed five to a Composite request, so one API
  call writes up to 1,000 records; above the configured threshold, one Bulk API 2.0 ingest job per
  object and operation (a handful of calls for any number of records).

Creates are upserts on an external id (Salesforce ``HubSpot_Contact_Id__c``, HubSpot's unique
cross-reference property), so replaying a create whose answer was lost finds the record instead of
making a second one. Every outcome comes back keyed by the caller's key: nothing is left unaccounted.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .http import ApiError, MalformedResponse, TransientApiError
from .ports import Item, Operation, WriteOutcome

if TYPE_CHECKING:
    from .hubspot import HubSpotSource
    from .salesforce import SalesforceSource

__all__ = [
    "COLLECTIONS_PER_CALL",
    "COLLECTION_SIZE",
    "HUBSPOT_BATCH",
    "hubspot_associate",
    "hubspot_calls",
    "hubspot_delete",
    "hubspot_unsubscribe_all",
    "hubspot_write",
    "salesforce_calls",
    "salesforce_create",
    "salesforce_delete",
    "salesforce_write",
]

HUBSPOT_BATCH = 100
COLLECTION_SIZE = 200
COLLECTIONS_PER_CALL = 5
BULK_POLL_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)

def _chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def hubspot_calls(records: int) -> int:
    return -(-records // HUBSPOT_BATCH)


def salesforce_calls(records: int, bulk_threshold: int) -> int:
    """Calls to write `records` of one object and operation (forecast for `connector plan`)."""
    if records == 0:
        return 0
    if records > bulk_threshold:
        return 6  # create job, upload, close, one poll (usually more), successful and failed results
    return -(-records // (COLLECTION_SIZE * COLLECTIONS_PER_CALL))


# ---------------------------------------------------------------------------------------------- HubSpot


def hubspot_write(source: HubSpotSource, object_type: str, operation: Operation, items: Sequence[Item], *,
                  id_property: str | None = None) -> dict[str, WriteOutcome]:
    """Batch update (by id) or upsert (by `id_property`, values as strings) of `items`, 100 per call."""
    out: dict[str, WriteOutcome] = {}
    for chunk in _chunks(items, HUBSPOT_BATCH):
        inputs = []
        for item in chunk:
            props = {k: _hs_text(v) for k, v in item.values.items()}
            entry: dict[str, Any] = {"properties": props, "objectWriteTraceId": item.key}
            if operation == "update":
                entry["id"] = item.record_id
            else:
                if id_property is None or not props.get(id_property):
                    out[item.key] = WriteOutcome(False, code="MISSING_ID_PROPERTY",
                                                 message=f"upsert needs a value for {id_property}")
                    continue
                entry["id"], entry["idProperty"] = props[id_property], id_property
            inputs.append(entry)
        if not inputs:
            continue
        body = source.http.json("POST", f"/crm/v3/objects/{object_type}/batch/{operation}", object_type=object_type,
                                json_body={"inputs": inputs})
        out.update(_hubspot_outcomes(body, inputs, operation, id_property, object_type))
    return out


def _hs_text(value: Any) -> str:
    """HubSpot takes every property value as a string; an empty string clears a property."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _hubspot_outcomes(body: Any, inputs: list[dict[str, Any]], operation: str, id_property: str | None,
                      object_type: str) -> dict[str, WriteOutcome]:
    if not isinstance(body, dict) or not isinstance(body.get("results", []), list):
        raise MalformedResponse(f"hubspot batch {operation} {object_type}: the response has no results list")
    by_lookup: dict[str, str] = {}
    for entry in inputs:
        lookup = str(entry["id"]) if operation == "update" else str(entry["id"]).strip().casefold()
        by_lookup[lookup] = entry["objectWriteTraceId"]
    out: dict[str, WriteOutcome] = {}
    for result in body.get("results") or []:
        rid = str(result.get("id"))
        if operation == "update":
            key = by_lookup.get(rid)
        else:
            held = str((result.get("properties") or {}).get(id_property or "") or "").strip().casefold()
            key = by_lookup.get(held)
        if key is not None:
            out[key] = WriteOutcome(True, rid, created=bool(result.get("new", False)))
    for error in body.get("errors") or []:
        context = error.get("context") or {}
        for key in context.get("objectWriteTraceId") or []:
            fields = tuple(dict.fromkeys(
                name for e in error.get("errors") or [] for name in (e.get("context") or {}).get("propertyName") or []))
            codes = [str(e.get("code")) for e in error.get("errors") or [] if e.get("code")]
            messages = [str(e.get("message")) for e in error.get("errors") or [] if e.get("message")]
            out[str(key)] = WriteOutcome(False, code=codes[0] if codes else str(error.get("category") or "ERROR"),
                                         message="; ".join(messages) or str(error.get("message") or ""),
                                         fields=fields)
    for entry in inputs:  # an input the answer does not mention was not written: never assume it was
        key = entry["objectWriteTraceId"]
        if key not in out:
            out[key] = WriteOutcome(False, code="NO_RESULT", message="HubSpot's answer did not mention this record")
    return out


# ---------------------------------------------------------------------------------------------- Salesforce


def salesforce_write(source: SalesforceSource, sobject: str, operation: Operation, items: Sequence[Item], *,
                     external_id: str | None = None, bulk_threshold: int | None = None,
                     sleep: Any = None) -> dict[str, WriteOutcome]:
    """Update (by Id) or upsert (on `external_id`) `items`: Collections in Composite, or one Bulk 2.0 job
    above the threshold (the source's configured one unless given)."""
    if not items:
        return {}
    threshold = source.bulk_threshold if bulk_threshold is None else bulk_threshold
    if len(items) > threshold:
        return _bulk(source, sobject, operation, items, external_id, sleep or source._sleep)
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
        subrequests = [{"method": method, "url": source._path(path), "referenceId": f"c{i}",
                        "body": {"allOrNone": False, "records": recs}} for i, (recs, _) in enumerate(call)]
        body = source.http.json("POST", source._path("composite"), object_type=sobject,
                                json_body={"allOrNone": False, "compositeRequest": subrequests})
        answers = {r.get("referenceId"): r for r in (body or {}).get("compositeResponse", []) if isinstance(r, dict)}
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
            for key, record, result in zip(chunk_keys, recs, results):
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


# ---------------------------------------------------------------------------------------------- opt-outs


def hubspot_unsubscribe_all(source: HubSpotSource, emails: Sequence[str]) -> dict[str, WriteOutcome]:
    """Opt addresses out of all e-mail (subscription preferences v4): HubSpot's ``hs_email_optout`` is
    read-only through the CRM API and follows this. One call per address; opt-outs are rare.

    Each address gets its own outcome, whatever happens to the others: a refusal, a garbled answer or a
    failure that outlasted every retry is that address's failure, not the run's (BudgetExhausted still
    stops the cycle). The address is the path of the call, so no outcome repeats the URL or the address."""
    from urllib.parse import quote

    out: dict[str, WriteOutcome] = {}
    for email in emails:
        try:
            source.http.json("POST", f"/communication-preferences/v4/statuses/{quote(email, safe='@')}/unsubscribe-all",
                             object_type="subscriptions", params={"channel": "EMAIL"})
            out[email] = WriteOutcome(True)
        except ApiError as exc:
            out[email] = WriteOutcome(False, code=exc.code or str(exc.status),
                                      message=_without(exc.vendor_message, email))
        except TransientApiError:
            out[email] = WriteOutcome(False, code="UNAVAILABLE", message=(
                "the subscription preferences API kept failing (server errors, throttling or timeouts) after "
                "every retry"))
        except MalformedResponse:
            out[email] = WriteOutcome(False, code="MALFORMED_RESPONSE", message=(
                "the subscription preferences API answered with a body that is not JSON"))
    return out


def _without(message: str, email: str) -> str:
    """A vendor message with the address it may repeat (plain or URL-encoded) masked."""
    from urllib.parse import quote

    for form in {email, quote(email, safe="@"), quote(email, safe="")}:
        message = message.replace(form, "[email]")
    return message


# ---------------------------------------------------------------------------------------------- links


def hubspot_associate(source: HubSpotSource, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]]
                      ) -> dict[tuple[str, str], WriteOutcome]:
    """Default (unlabelled) associations, 100 pairs per call (v4 batch associate).

    A batch refused whole (a 4xx: one record of it was archived or merged away meanwhile) is sent again
    pair by pair, so one gone record fails alone instead of failing the run or its batch."""
    out: dict[tuple[str, str], WriteOutcome] = {}
    path = f"/crm/v4/associations/{from_type}/{to_type}/batch/associate/default"
    for start in range(0, len(pairs), HUBSPOT_BATCH):
        chunk = list(pairs[start:start + HUBSPOT_BATCH])
        try:
            body = source.http.json("POST", path, object_type=f"{from_type}>{to_type}",
                                    json_body={"inputs": [{"from": {"id": a}, "to": {"id": b}} for a, b in chunk]})
        except ApiError as exc:
            if not 400 <= exc.status < 500 or exc.status in (401, 403):
                raise
            if len(chunk) == 1:
                out[chunk[0]] = WriteOutcome(False, chunk[0][0], code=exc.code, message=exc.vendor_message)
            else:
                for pair in chunk:
                    out.update(hubspot_associate(source, from_type, to_type, [pair]))
            continue
        failed: dict[tuple[str, str], tuple[str, str]] = {}
        for error in (body or {}).get("errors") or []:
            ids = [str(i) for i in (error.get("context") or {}).get("ids") or []]
            for pair in chunk:
                if pair[0] in ids or pair[1] in ids:
                    failed[pair] = (str(error.get("category") or "ERROR"), str(error.get("message") or ""))
        for pair in chunk:
            code, message = failed.get(pair, ("", ""))
            out[pair] = WriteOutcome(not code, pair[0], code=code, message=message)
    return out


def salesforce_create(source: SalesforceSource, sobject: str, items: Sequence[Item]) -> dict[str, WriteOutcome]:
    """Plain inserts through sObject Collections in Composite (for records without an external id, such
    as OpportunityContactRole)."""
    return _collections(source, sobject, "POST", "composite/sobjects",
                        [{"attributes": {"type": sobject}, **it.values} for it in items], [it.key for it in items])


# ---------------------------------------------------------------------------------------------- deletes


def hubspot_delete(source: HubSpotSource, object_type: str, ids: Sequence[str], *, gdpr: bool
                   ) -> dict[str, WriteOutcome]:
    """Archive records (100 per call), or GDPR-delete contacts (HubSpot's permanent delete: one call each).

    A record already gone counts as deleted."""
    out: dict[str, WriteOutcome] = {}
    if not gdpr:
        for start in range(0, len(ids), HUBSPOT_BATCH):
            chunk = list(ids[start:start + HUBSPOT_BATCH])
            source.http.json("POST", f"/crm/v3/objects/{object_type}/batch/archive", object_type=object_type,
                             json_body={"inputs": [{"id": i} for i in chunk]})
            out.update({i: WriteOutcome(True, i) for i in chunk})
        return out
    for rid in ids:
        try:
            source.http.json("POST", f"/crm/v3/objects/{object_type}/gdpr-delete", object_type=object_type,
                             json_body={"objectId": rid})
            out[rid] = WriteOutcome(True, rid)
        except ApiError as exc:
            out[rid] = WriteOutcome(exc.status == 404, rid, code=exc.code, message=exc.vendor_message)
    return out


def salesforce_delete(source: SalesforceSource, sobject: str, ids: Sequence[str]) -> dict[str, WriteOutcome]:
    """Delete records through sObject Collections, 200 per call; a record already deleted counts as deleted."""
    out: dict[str, WriteOutcome] = {}
    for start in range(0, len(ids), COLLECTION_SIZE):
        chunk = list(ids[start:start + COLLECTION_SIZE])
        body = source.http.json("DELETE", source._path("composite/sobjects"), object_type=sobject,
                                params={"ids": ",".join(chunk), "allOrNone": "false"})
        results = body if isinstance(body, list) else []
        for rid, result in zip(chunk, results):
            outcome = _save_result(Item(rid, rid, {}), result)
            if not outcome.ok and outcome.code == "ENTITY_IS_DELETED":
                outcome = WriteOutcome(True, rid)
            out[rid] = outcome
        for rid in chunk[len(results):]:
            out[rid] = WriteOutcome(False, rid, code="NO_RESULT", message="Salesforce's answer did not mention it")
    return out


# ---------------------------------------------------------------------------------------------- Bulk 2.0


def _csv_cell(value: Any) -> str:
    if value is None:
        return "#N/A"  # Bulk 2.0's explicit null; an empty cell leaves the field as it is
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bulk(source: SalesforceSource, sobject: str, operation: Operation, items: Sequence[Item],
          external_id: str | None, sleep: Any) -> dict[str, WriteOutcome]:
    key_column = "Id" if operation == "update" else str(external_id)
    columns = sorted({k for it in items for k in it.values} - {key_column})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([key_column, *columns])
    by_key: dict[str, str] = {}
    for item in items:
        ident = str(item.record_id if operation == "update" else item.values.get(key_column))
        by_key[ident] = item.key
        writer.writerow([ident, *(_csv_cell(item.values[c]) if c in item.values else "" for c in columns)])
    job_body: dict[str, Any] = {"object": sobject, "operation": operation, "contentType": "CSV", "lineEnding": "LF",
                                "columnDelimiter": "COMMA"}
    if operation == "upsert":
        job_body["externalIdFieldName"] = external_id
    job = source.http.json("POST", source._path("jobs/ingest"), object_type=sobject, json_body=job_body)
    job_id = str((job or {}).get("id"))
    source.http.request("PUT", source._path(f"jobs/ingest/{job_id}/batches"), object_type=sobject,
                        content=buffer.getvalue().encode(), headers={"Content-Type": "text/csv"})
    source.http.json("PATCH", source._path(f"jobs/ingest/{job_id}"), object_type=sobject,
                     json_body={"state": "UploadComplete"})
    for attempt in itertools.count():
        info = source.http.json("GET", source._path(f"jobs/ingest/{job_id}"), object_type=sobject) or {}
        state = info.get("state")
        if state == "JobComplete":
            break
        if state in ("Failed", "Aborted"):
            raise ApiError("salesforce", f"bulk ingest job {job_id}", 200, str(state),
                           str(info.get("errorMessage") or f"the job ended {state}"),
                           "look at the job in Setup > Bulk Data Load Jobs")
        sleep(BULK_POLL_SECONDS[min(attempt, len(BULK_POLL_SECONDS) - 1)])
    out: dict[str, WriteOutcome] = {}
    for row in _result_rows(source, sobject, job_id, "successfulResults"):
        key = by_key.get(row.get(key_column, ""))
        if key is not None:
            out[key] = WriteOutcome(True, row.get("sf__Id") or None, created=row.get("sf__Created") == "true")
    for row in _result_rows(source, sobject, job_id, "failedResults"):
        key = by_key.get(row.get(key_column, ""))
        if key is not None:
            code, _, rest = str(row.get("sf__Error", "")).partition(":")
            message, _, fields = rest.rstrip(" -").rpartition(":")
            out[key] = WriteOutcome(False, code=code or "ERROR", message=message or rest,
                                    fields=tuple(f for f in fields.split(",") if f))
    for ident, key in by_key.items():
        if key not in out:
            out[key] = WriteOutcome(False, code="NO_RESULT", message=f"bulk job {job_id} did not report {ident}")
    return out


def _result_rows(source: SalesforceSource, sobject: str, job_id: str, which: str) -> Iterable[dict[str, str]]:
    response = source.http.request("GET", source._path(f"jobs/ingest/{job_id}/{which}"), object_type=sobject,
                                   headers={"Accept": "text/csv"})
    return list(csv.DictReader(io.StringIO(response.text, newline="")))
