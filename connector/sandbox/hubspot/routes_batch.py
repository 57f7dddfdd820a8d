"""Batch endpoints: read, create, update, upsert, archive (at most 100 inputs each).

Without ``objectWriteTraceId`` on the inputs a batch write is all-or-nothing (the first invalid input
fails the whole request with its 4xx; inferred, the docs are silent); with trace ids, valid inputs are
written and the invalid ones come back in ``errors`` with HTTP 207 (documented). The account settings
``untraced_batch`` and ``batch_read_missing`` switch the undocumented cases to their alternatives.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import HubSpotError, json_response
from .gate import TOKEN_KEY
from .http_util import bool_param, endpoint, json_body, object_type_of
from .records import Row
from .schema import DEFAULT_RETURNED, SINGULAR
from .services import Services
from .values import iso

__all__ = ["batch_routes"]

MAX_INPUTS = 100
MAX_HISTORY_INPUTS = 50


def _inputs(body: Any, cap: int = MAX_INPUTS) -> list[Any]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: `inputs` must be a list")
    if len(inputs) > cap:
        raise HubSpotError(400, "VALIDATION_ERROR",
                           f"The maximum number of inputs supported in a batch request is {cap}; got {len(inputs)}",
                           context={"maxInputs": [str(cap)]})
    return inputs


def _error_item(exc: HubSpotError, trace: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"status": "error", "category": exc.category, "message": exc.message,
                            "context": dict(exc.context or {})}
    if exc.errors:
        item["errors"] = exc.errors
    if trace is not None:
        item["context"]["objectWriteTraceId"] = [trace]
    return item


def batch_routes(svc: Services, prefix: str) -> list[BaseRoute]:
    records = svc.records

    def envelope(started: int, results: list[dict[str, Any]], errors: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        body["startedAt"] = iso(started)
        body["completedAt"] = iso(svc.state.clock.now_ms())
        return body

    def run_writes(inputs: list[Any], one: Any) -> tuple[list[Any], list[dict[str, Any]]]:
        """Apply `one` per input; traced batches collect errors, untraced ones fail whole."""
        traced = any(isinstance(i, dict) and i.get("objectWriteTraceId") for i in inputs)
        results: list[Any] = []
        errors: list[dict[str, Any]] = []
        with svc.db.transaction():
            if not traced and svc.state.account.untraced_batch == "all-or-nothing":
                return [one(i) for i in inputs], []
            for item in inputs:
                try:
                    results.append(one(item))
                except HubSpotError as exc:
                    trace = item.get("objectWriteTraceId") if isinstance(item, dict) else None
                    errors.append(_error_item(exc, str(trace) if trace else None))
        return results, errors

    @endpoint
    async def batch_read(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        history = body.get("propertiesWithHistory") or None
        inputs = _inputs(body)
        if history and len(inputs) > MAX_HISTORY_INPUTS:
            raise HubSpotError(400, "VALIDATION_ERROR", "maximum number of inputs supported in a batch request "
                                                        f"for property histories is {MAX_HISTORY_INPUTS}")
        props = body.get("properties") or DEFAULT_RETURNED[object_type]
        archived = bool_param(request, "archived")
        started = svc.state.clock.now_ms()
        results, missing, seen = [], [], set()
        for item in inputs:
            raw = str(item.get("id", ""))
            row = records.resolve(object_type, raw, body.get("idProperty"), archived=archived)
            if row is None:
                missing.append(raw)
            elif row.id not in seen:
                seen.add(row.id)
                results.append(records.render(row, props, with_history=history))
        errors = []
        if missing and svc.state.account.batch_read_missing == "error-207":
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not get some {SINGULAR[object_type].upper()} objects, they may be "
                                      "deleted or not exist. Check that ids are valid.",
                           "context": {"ids": missing}})
        return json_response(envelope(started, results, errors), 207 if errors else 200)

    @endpoint
    async def batch_create(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        inputs = _inputs(await json_body(request))
        source = svc.state.api_source(request.scope.get(TOKEN_KEY))
        started = svc.state.clock.now_ms()
        pending: dict[tuple[str, str], int] = {}

        def one(item: Any) -> Row:
            values, targets = svc.prepare_create(object_type, item)
            records.check_unique(object_type, values, None, pending)
            row = svc.finish_create(object_type, values, targets, source)
            for name in ("email", *svc.registry.unique_props(object_type)):
                if row.props.get(name):
                    pending[(name, row.props[name].lower() if name == "email" else row.props[name])] = row.id
            return row

        rows, errors = run_writes(inputs, one)
        results = [records.render(r, list(dict.fromkeys(DEFAULT_RETURNED[object_type] + sorted(r.props))))
                   for r in rows]
        return json_response(envelope(started, results, errors), 207 if errors else 201)

    @endpoint
    async def batch_update(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        inputs = _inputs(await json_body(request))
        source = svc.state.api_source(request.scope.get(TOKEN_KEY))
        started = svc.state.clock.now_ms()
        ids = [str(i.get("id")) for i in inputs if isinstance(i, dict)]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: {dupes}. IDs must be "
                                                        "unique", context={"ids": dupes})

        def one(item: Any) -> Row:
            raw = str(item.get("id", ""))
            row = records.resolve(object_type, raw, item.get("idProperty"))
            if row is None:
                raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Object {raw} of type {object_type} was not found",
                                   context={"ids": [raw]})
            values = records.validate(object_type, item.get("properties") or {}, creating=False)
            records.check_unique(object_type, values, row.id)
            return records.update(row, values, source)

        rows, errors = run_writes(inputs, one)
        results = [records.render(r, list(dict.fromkeys(DEFAULT_RETURNED[object_type] + sorted(r.props))))
                   for r in rows]
        return json_response(envelope(started, results, errors), 207 if errors else 200)

    @endpoint
    async def batch_upsert(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        inputs = _inputs(await json_body(request))
        source = svc.state.api_source(request.scope.get(TOKEN_KEY))
        started = svc.state.clock.now_ms()

        def one(item: Any) -> tuple[Row, bool]:
            id_property = item.get("idProperty")
            raw = str(item.get("id", ""))
            if not id_property or not raw:
                raise HubSpotError(400, "VALIDATION_ERROR", "Each upsert input needs `id` and `idProperty` (email or "
                                                            "a unique property)")
            existing = records.find_by_property(object_type, id_property, raw)
            props = dict(item.get("properties") or {})
            row = records.get_row(object_type, existing) if existing is not None else None
            if row is not None:
                values = records.validate(object_type, props, creating=False)
                records.check_unique(object_type, values, row.id)
                return records.update(row, values, source), False
            props.setdefault(id_property, raw)
            values, targets = svc.prepare_create(object_type, {"properties": props})
            records.check_unique(object_type, values, None)
            return svc.finish_create(object_type, values, targets, source), True

        pairs, errors = run_writes(inputs, one)
        results = []
        for row, new in pairs:
            out = records.render(row, list(dict.fromkeys(DEFAULT_RETURNED[object_type] + sorted(row.props))))
            out["new"] = new
            results.append(out)
        return json_response(envelope(started, results, errors), 207 if errors else 200)

    @endpoint
    async def batch_archive(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        inputs = _inputs(await json_body(request))
        with svc.db.transaction():
            for item in inputs:
                row = records.resolve(object_type, str(item.get("id", "")))
                if row is not None:
                    records.set_archived(row, True)
        return Response(status_code=204)

    p = prefix
    return [
        Route(f"{p}/{{objectType}}/batch/read", batch_read, methods=["POST"]),
        Route(f"{p}/{{objectType}}/batch/create", batch_create, methods=["POST"]),
        Route(f"{p}/{{objectType}}/batch/update", batch_update, methods=["POST"]),
        Route(f"{p}/{{objectType}}/batch/upsert", batch_upsert, methods=["POST"]),
        Route(f"{p}/{{objectType}}/batch/archive", batch_archive, methods=["POST"]),
    ]
