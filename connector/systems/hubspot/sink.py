"""HubSpot's Sink: batch updates and upserts, associations, archives and GDPR deletes, opt-outs (optouts.py).

``batch/update`` and ``batch/upsert`` take 100 inputs per call, every input carrying an
``objectWriteTraceId`` so that one bad input fails alone (207 Multi-Status) instead of the batch.
Creates are upserts on a unique cross-reference property, so replaying a create whose answer was lost
finds the record instead of making a second one. Every outcome comes back keyed by the caller's key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..http import ApiError, HttpLayer, MalformedResponse, json_object
from ..ports import Item, Operation, WriteOutcome
from ._client import SYSTEM
from .lookups import current_values
from .optouts import OptOuts
from .source import HubSpotSource

__all__ = ["HUBSPOT_BATCH", "HubSpotSink", "hubspot_calls"]

HUBSPOT_BATCH = 100


def hubspot_calls(records: int) -> int:
    return -(-records // HUBSPOT_BATCH)


class HubSpotSink:
    """Writes to HubSpot through the connection of a `HubSpotSource` (one ledger, one budget)."""

    system = SYSTEM
    batch_size = HUBSPOT_BATCH

    def __init__(self, source: HubSpotSource) -> None:
        self.http = source.http
        self._opt_outs = OptOuts(source.http)

    def write(self, object_type: str, operation: Operation, items: Sequence[Item], *, id_field: str | None
              ) -> dict[str, WriteOutcome]:
        """Batch update (by id) or upsert (by `id_field`, values as strings) of `items`, 100 per call."""
        return _write(self.http, object_type, operation, items, id_property=id_field)

    def create(self, object_type: str, items: Sequence[Item]) -> dict[str, WriteOutcome]:
        """HubSpot records are created by upsert on their cross-reference property (`write`), never blind."""
        return {i.key: WriteOutcome(False, code="UNSUPPORTED", message="HubSpot creates are upserts: use write")
                for i in items}

    def delete(self, object_type: str, ids: Sequence[str], *, erase: bool = False) -> dict[str, WriteOutcome]:
        """Archive records (100 per call), or with `erase` GDPR-delete contacts (one call each)."""
        return _delete(self.http, object_type, ids, gdpr=erase)

    def associate(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]], *,
                  type_id: int | None = None) -> dict[tuple[str, str], WriteOutcome]:
        """Default (unlabelled) associations, or with `type_id` HubSpot's labelled ones (14: a company's parent
        company), 100 pairs per call."""
        return _associate(self.http, from_type, to_type, pairs, type_id)

    def opt_out(self, emails: Sequence[str]) -> dict[str, WriteOutcome]:
        """Opt addresses out of all e-mail (subscription preferences: ``hs_email_optout`` is read-only), 100
        a call on Enterprise accounts, else one a call (optouts.py); an outcome per address."""
        return self._opt_outs.send(emails)

    def current(self, object_type: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The records' values now (batch read, 100 a call): what the push checks before an update."""
        return current_values(self.http, object_type, ids, fields)


def _chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _write(http: HttpLayer, object_type: str, operation: Operation, items: Sequence[Item], *,
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
        body = http.json("POST", f"/crm/v3/objects/{object_type}/batch/{operation}", object_type=object_type,
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


def _associate(http: HttpLayer, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]],
               type_id: int | None = None) -> dict[tuple[str, str], WriteOutcome]:
    """Default (unlabelled) associations, 100 pairs per call (v4 batch associate); with `type_id`, that
    HUBSPOT_DEFINED label (v4 batch create, which adds the unlabelled type too).

    A batch refused whole (a 4xx: one record of it was archived or merged away meanwhile) is sent again
    pair by pair, so one gone record fails alone instead of failing the run or its batch."""
    out: dict[tuple[str, str], WriteOutcome] = {}
    base = f"/crm/v4/associations/{from_type}/{to_type}/batch"
    path = f"{base}/associate/default" if type_id is None else f"{base}/create"
    types = [] if type_id is None else [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]
    for start in range(0, len(pairs), HUBSPOT_BATCH):
        chunk = list(pairs[start:start + HUBSPOT_BATCH])
        inputs = [{"from": {"id": a}, "to": {"id": b}, **({"types": types} if types else {})} for a, b in chunk]
        try:
            body = http.json("POST", path, object_type=f"{from_type}>{to_type}", json_body={"inputs": inputs})
        except ApiError as exc:
            if not 400 <= exc.status < 500 or exc.status in (401, 403):
                raise
            if len(chunk) == 1:
                out[chunk[0]] = WriteOutcome(False, chunk[0][0], code=exc.code, message=exc.vendor_message)
            else:
                for pair in chunk:
                    out.update(_associate(http, from_type, to_type, [pair], type_id))
            continue
        failed: dict[tuple[str, str], tuple[str, str]] = {}
        for error in json_object(body, "hubspot", f"{from_type}>{to_type} associate").get("errors") or []:
            ids = [str(i) for i in (error.get("context") or {}).get("ids") or []]
            for pair in chunk:
                if pair[0] in ids or pair[1] in ids:
                    failed[pair] = (str(error.get("category") or "ERROR"), str(error.get("message") or ""))
        for pair in chunk:
            code, message = failed.get(pair, ("", ""))
            out[pair] = WriteOutcome(not code, pair[0], code=code, message=message)
    return out


def _delete(http: HttpLayer, object_type: str, ids: Sequence[str], *, gdpr: bool
                   ) -> dict[str, WriteOutcome]:
    """Archive records (100 per call), or GDPR-delete contacts (HubSpot's permanent delete: one call each).

    A record already gone counts as deleted."""
    out: dict[str, WriteOutcome] = {}
    if not gdpr:
        for start in range(0, len(ids), HUBSPOT_BATCH):
            chunk = list(ids[start:start + HUBSPOT_BATCH])
            http.json("POST", f"/crm/v3/objects/{object_type}/batch/archive", object_type=object_type,
                             json_body={"inputs": [{"id": i} for i in chunk]})
            out.update({i: WriteOutcome(True, i) for i in chunk})
        return out
    for rid in ids:
        try:
            http.json("POST", f"/crm/v3/objects/{object_type}/gdpr-delete", object_type=object_type,
                             json_body={"objectId": rid})
            out[rid] = WriteOutcome(True, rid)
        except ApiError as exc:
            out[rid] = WriteOutcome(exc.status == 404, rid, code=exc.code, message=exc.vendor_message)
    return out
