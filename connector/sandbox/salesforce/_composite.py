"""sObject Collections and Composite: many records or many requests in one API call.

Collections save up to 200 records with per-record SaveResults in input order; ``allOrNone`` rolls
everything back and marks the valid records ALL_OR_NONE_OPERATION_ROLLED_BACK. Composite runs up to
25 subrequests through the same handlers as top-level calls, resolving ``@{ref.path}`` references.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._dispatch import Ctx, Resp, dispatch, find, route, split_url
from ._errors import ROLLED_BACK, ApiError, RecordError
from ._rest import obj_or_404, render_record, save_result
from ._values import normalize_id
from ._writes import MultipleMatches
from .ids import prefix_object

__all__ = ["MAX_RECORDS", "MAX_SUBREQUESTS"]

MAX_RECORDS = 200
MAX_SUBREQUESTS = 25
MAX_QUERY_SUBREQUESTS = 5


class _Rollback(Exception):
    """Raised inside a transaction to undo it."""


def _records(ctx: Ctx) -> tuple[list[Any], bool]:
    body = ctx.json()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object with a 'records' array")
    records = body["records"]
    if len(records) > MAX_RECORDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call")
    all_or_none = bool(body.get("allOrNone", False)) or ctx.all_or_none
    return records, all_or_none


def _run(ctx: Ctx, items: list[Any], op: Any, all_or_none: bool) -> list[dict[str, Any]]:
    """Apply `op(item) -> (id, created)` to each item; SaveResults in order, with allOrNone semantics."""
    results: list[dict[str, Any]] = []
    failed = False
    store = ctx.state.store
    try:
        with store.transaction():
            for item in items:
                try:
                    with store.transaction():
                        rid, created = op(item)
                    results.append(save_result(rid, created=created))
                except RecordError as exc:
                    failed = True
                    bad_id = item if isinstance(item, str) else None
                    results.append(save_result(bad_id, [exc], created=None))
                except MultipleMatches as exc:
                    failed = True
                    err = RecordError("DUPLICATE_EXTERNAL_ID",
                                      f"Foreign key external ID: {len(exc.ids)} records match", [])
                    results.append(save_result(None, [err]))
            if failed and all_or_none:
                raise _Rollback
    except _Rollback:
        for r in results:
            if r["success"]:
                r.update(id=None, success=False, errors=[ROLLED_BACK.save()])
                r.pop("created", None)
    return results


def _typed(item: Any) -> str:
    if not isinstance(item, dict):
        raise RecordError("JSON_PARSER_ERROR", "each record must be a JSON object", [])
    attrs = item.get("attributes")
    kind = attrs.get("type") if isinstance(attrs, dict) else None
    if not kind:
        raise RecordError("INVALID_TYPE", "No sObject type specified for the record in attributes", [])
    return str(kind)


@route("POST", "/composite/sobjects", is_query=True)
def create_many(ctx: Ctx) -> Resp:
    records, aon = _records(ctx)
    w = ctx.state.writer

    def op(item: Any) -> tuple[str, None]:
        kind = _typed(item)
        if any(k.lower() == "id" for k in item):
            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        return w.create(kind, item), None

    return Resp(200, [_strip_created(r) for r in _run(ctx, records, op, aon)])


def _strip_created(r: dict[str, Any]) -> dict[str, Any]:
    r.pop("created", None)
    return r


@route("PATCH", "/composite/sobjects", is_query=True)
def update_many(ctx: Ctx) -> Resp:
    records, aon = _records(ctx)
    w = ctx.state.writer

    def op(item: Any) -> tuple[str, None]:
        kind = _typed(item)
        rid = next((v for k, v in item.items() if k.lower() == "id"), None)
        if not rid:
            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
        body = {k: v for k, v in item.items() if k.lower() != "id"}
        return w.update(kind, str(rid), body), None

    results = _run(ctx, records, op, aon)
    for item, r in zip(records, results, strict=True):
        if not r["success"] and r["id"] is None and isinstance(item, dict) and r["errors"][0]["statusCode"] != \
                ROLLED_BACK.code:
            r["id"] = next((v for k, v in item.items() if k.lower() == "id"), None)
    return Resp(200, [_strip_created(r) for r in results])


@route("DELETE", "/composite/sobjects", is_query=True)
def delete_many(ctx: Ctx) -> Resp:
    ids = [i for i in ctx.params.get("ids", "").split(",") if i]
    if not ids:
        raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(ids) > MAX_RECORDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 200 records into this call")
    aon = ctx.params.get("allOrNone", "false").lower() == "true" or ctx.all_or_none
    w = ctx.state.writer

    def op(rid: str) -> tuple[str, None]:
        if prefix_object(normalize_id(rid) or "") is None:
            raise RecordError("MALFORMED_ID", f"malformed id {rid}", [])
        return w.delete(None, rid), None

    results = _run(ctx, ids, op, aon)
    for r in results:
        if r["success"] is False:
            r.pop("id", None)  # DeleteResults of failed items carry no id (Salesforce's own example)
    return Resp(200, [_strip_created(r) for r in results])


@route("PATCH", "/composite/sobjects/{sobject}/{extField}", is_query=True)
def upsert_many(ctx: Ctx, sobject: str, extField: str) -> Resp:  # noqa: N803
    obj = obj_or_404(ctx, sobject)
    f = obj.get(extField)
    if f is None or not (f.external_id or f.name == "Id"):
        raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {extField}")
    records, aon = _records(ctx)
    w = ctx.state.writer

    def op(item: Any) -> tuple[str, bool]:
        kind = _typed(item)
        if ctx.state.schema.object_name(kind) != obj.name:
            raise RecordError("INVALID_TYPE", f"all records must be of type {obj.name}", [])
        out = w.upsert(obj.name, f.name, None, item)
        return out.id, out.created

    return Resp(200, _run(ctx, records, op, aon))


def _retrieve(ctx: Ctx, sobject: str, ids: list[str], fields: list[str]) -> Resp:
    obj = obj_or_404(ctx, sobject)
    if not fields:
        raise ApiError(400, "MISSING_ARGUMENT", "fields parameter is required")
    if len(ids) > 2000:
        raise ApiError(400, "EXCEEDED_ID_LIMIT",
                       "record limit reached. cannot submit more than 2000 records into this call")
    names = []
    for name in fields:
        fd = obj.get(name.strip())
        if fd is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name.strip()}' on sobject of type {obj.name}")
        names.append(fd.name)
    norm = [normalize_id(i) or i for i in ids]
    got = ctx.state.store.get_many(norm)
    out = []
    for rid in norm:
        rec = got.get(rid)
        out.append(None if rec is None or rec.get("IsDeleted") else render_record(obj, rec, ctx.version, names))
    return Resp(200, out)


@route("GET", "/composite/sobjects/{sobject}", is_query=True)
def retrieve_many(ctx: Ctx, sobject: str) -> Resp:
    ids = [i for i in ctx.params.get("ids", "").split(",") if i]
    return _retrieve(ctx, sobject, ids, [f for f in ctx.params.get("fields", "").split(",") if f])


@route("POST", "/composite/sobjects/{sobject}", is_query=True)
def retrieve_many_post(ctx: Ctx, sobject: str) -> Resp:
    body = ctx.json() or {}
    return _retrieve(ctx, sobject, list(body.get("ids") or []), list(body.get("fields") or []))


# ---- Composite ----------------------------------------------------------------------------------------------
_REF = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_HALTED = [{"errorCode": "PROCESSING_HALTED",
            "message": "The transaction was rolled back since another operation in the same transaction failed."}]


def _lookup(results: dict[str, Any], ref: str, path: str) -> Any:
    if ref not in results:
        raise KeyError(ref)
    value = results[ref]
    for part in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, index = part
        value = value[int(index)] if index else value[key]
    return value


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _REF.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    return value


@route("POST", "/composite")
def composite(ctx: Ctx) -> Resp:
    body = ctx.json()
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must have a 'compositeRequest' array")
    subs = body["compositeRequest"]
    if not subs or len(subs) > MAX_SUBREQUESTS:
        raise ApiError(400, "LIMIT_EXCEEDED", f"A composite request can have 1 to {MAX_SUBREQUESTS} subrequests")
    aon = bool(body.get("allOrNone", False))
    queries = 0
    refs: set[str] = set()
    for sub in subs:
        if not isinstance(sub, dict) or not sub.get("method") or not sub.get("url") or not sub.get("referenceId"):
            raise ApiError(400, "INVALID_FIELD", "Each subrequest needs method, url and referenceId")
        if sub["referenceId"] in refs:
            raise ApiError(400, "DUPLICATE_VALUE",
                           f"Duplicate referenceId provided in the request: {sub['referenceId']}")
        refs.add(sub["referenceId"])
        _, path, _ = split_url(str(sub["url"]).split("@{")[0] + "x" if "@{" in str(sub["url"]) else str(sub["url"]))
        found = _safe_find(str(sub["method"]).upper(), path)
        if found is not None and found.is_query:
            queries += 1
    if queries > MAX_QUERY_SUBREQUESTS:
        raise ApiError(400, "LIMIT_EXCEEDED",
                       f"A composite request can have at most {MAX_QUERY_SUBREQUESTS} query or "
                       "sObject Collections subrequests")
    out: list[dict[str, Any]] = []
    results: dict[str, Any] = {}
    store = ctx.state.store
    try:
        with store.transaction():
            for sub in subs:
                ref = sub["referenceId"]
                try:
                    url = _substitute(str(sub["url"]), results)
                    sub_body = _substitute(sub.get("body"), results)
                except (KeyError, IndexError, TypeError):
                    out.append(_entry(400, [{"errorCode": "PROCESSING_HALTED",
                                             "message": "Invalid reference specified. "
                                                        f"No value for {sub['url']} found"}],
                                      ref))
                    if aon:
                        raise _Rollback from None
                    continue
                version, path, params = split_url(url)
                if version is None:
                    out.append(_entry(400, [{"errorCode": "INVALID_URL", "message": f"Invalid URL: {url}"}], ref))
                    if aon:
                        raise _Rollback
                    continue
                sub_ctx = Ctx(ctx.state, str(sub["method"]).upper(), version, path, params,
                              b"" if sub_body is None else json.dumps(sub_body).encode(),
                              {k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()},
                              ctx.base_url, in_composite=True, all_or_none=aon)
                try:
                    with store.transaction():
                        resp, _ = dispatch(sub_ctx)
                        if resp.status >= 400:
                            raise _Rollback
                except _Rollback:
                    pass
                headers = dict(resp.headers)
                if resp.status == 201 and isinstance(resp.body, dict) and resp.body.get("id"):
                    kind = prefix_object(str(resp.body["id"])) or ""
                    headers["Location"] = f"/services/data/v{version}/sobjects/{kind}/{resp.body['id']}"
                out.append(_entry(resp.status, resp.body, ref, headers))
                if resp.status < 400:
                    results[ref] = resp.body
                elif aon:
                    raise _Rollback
    except _Rollback:
        done = {e["referenceId"] for e in out if e["httpStatusCode"] >= 400}
        out = [e if e["referenceId"] in done else _entry(400, _HALTED, e["referenceId"]) for e in out]
        seen = {e["referenceId"] for e in out}
        out += [_entry(400, _HALTED, s["referenceId"]) for s in subs if s["referenceId"] not in seen]
    return Resp(200, {"compositeResponse": out})


def _safe_find(method: str, path: str) -> Any:
    try:
        found = find(method, path)
    except ApiError:
        return None
    return found[0] if found else None


def _entry(status: int, body: Any, ref: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers or {}, "httpStatusCode": status, "referenceId": ref}
