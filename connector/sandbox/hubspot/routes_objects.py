"""CRM object endpoints: list, get, create, update, archive, search, merge and GDPR delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import HubSpotError, json_response, not_found
from .gate import TOKEN_KEY
from .http_util import (bool_param, decode_cursor, encode_cursor, endpoint, int_param, json_body, list_param,
                        object_type_of)
from .records import Row
from .schema import DEFAULT_RETURNED, normalize_object_type
from .search import build_search
from .services import Services

__all__ = ["object_routes"]


def object_routes(svc: Services, prefix: str) -> list[BaseRoute]:
    """Routes for one path prefix (``/crm/v3/objects`` or ``/crm/objects/2026-03``)."""
    records, state = svc.records, svc.state

    def source(request: Request) -> Any:
        return state.api_source(request.scope.get(TOKEN_KEY))

    def wanted(object_type: str, request: Request) -> tuple[list[str], list[str] | None, list[str]]:
        props = list_param(request, "properties") or DEFAULT_RETURNED[object_type]
        history = list_param(request, "propertiesWithHistory")
        assoc = [t for t in (normalize_object_type(a) for a in list_param(request, "associations") or []) if t]
        return props, history, assoc

    def render(row: Row, props: list[str], history: list[str] | None, assoc: list[str]) -> dict[str, Any]:
        out = records.render(row, props, with_history=history)
        if assoc:
            linked = svc.assoc.v3(row.type, row.id, assoc)
            if linked:
                out["associations"] = linked
        return out

    @endpoint
    async def list_objects(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        props, history, assoc = wanted(object_type, request)
        limit = int_param(request, "limit", 10)
        cap = 50 if history else 100
        if limit < 1 or limit > cap:
            raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and {cap}, got {limit}")
        after = decode_cursor(request.query_params.get("after"))
        archived = 1 if bool_param(request, "archived") else 0
        with svc.db.lock:
            ids = [r[0] for r in svc.db.conn.execute(
                "SELECT id FROM records WHERE type=? AND archived=? AND id>=? ORDER BY id LIMIT ?",
                (object_type, archived, after, limit + 1))]
        rows = records.rows(object_type, ids[:limit], history=bool(history))
        body: dict[str, Any] = {"results": [render(rows[i], props, history, assoc) for i in ids[:limit]]}
        if len(ids) > limit:
            cursor = encode_cursor(ids[limit])
            body["paging"] = {"next": {"after": cursor, "link": f"{request.url.path}?after={cursor}"}}
        return json_response(body)

    @endpoint
    async def get_object(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        props, history, assoc = wanted(object_type, request)
        row = records.resolve(object_type, request.path_params["objectId"], request.query_params.get("idProperty"),
                              archived=bool_param(request, "archived"))
        if row is None:
            raise not_found(object_type, request.path_params["objectId"])
        return json_response(render(row, props, history, assoc))

    @endpoint
    async def create_object(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        row = svc.create_one(object_type, body, source(request))
        return json_response(records.render(row, _written(object_type, row)), 201)

    @endpoint
    async def update_object(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        row = records.resolve(object_type, request.path_params["objectId"], request.query_params.get("idProperty"))
        if row is None:
            raise not_found(object_type, request.path_params["objectId"])
        values = records.validate(object_type, body.get("properties") or {}, creating=False)
        records.check_unique(object_type, values, row.id)
        row = records.update(row, values, source(request))
        return json_response(records.render(row, _written(object_type, row, values)))

    @endpoint
    async def archive_object(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        row = records.resolve(object_type, request.path_params["objectId"])
        if row is not None:
            records.set_archived(row, True)
        return Response(status_code=204)

    @endpoint
    async def search(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        query = build_search(object_type, body, svc.registry)
        where, params = query.where, list(query.params)
        lag = state.account.search_lag_ms
        if lag:  # the index has not caught up with records created or changed within the lag
            where += " AND modified <= ?"
            params.append(state.clock.now_ms() - lag)
        with svc.db.lock:
            total = svc.db.conn.execute(f"SELECT count(*) FROM records WHERE {where}", params).fetchone()[0]
            ids = [r[0] for r in svc.db.conn.execute(
                f"SELECT id FROM records WHERE {where} ORDER BY {query.order} LIMIT ? OFFSET ?",
                (*params, query.limit, query.offset))]
        rows = records.rows(object_type, ids)
        props = query.properties or DEFAULT_RETURNED[object_type]
        out: dict[str, Any] = {"total": total, "results": [records.render(rows[i], props) for i in ids if i in rows]}
        next_offset = query.offset + len(ids)
        if ids and next_offset < total:
            out["paging"] = {"next": {"after": str(next_offset)}}
        return json_response(out)

    @endpoint
    async def merge(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        row = svc.merge(object_type, body, source(request))
        return json_response(records.render(row, DEFAULT_RETURNED[object_type] + ["hs_merged_object_ids"]))

    @endpoint
    async def gdpr_delete(request: Request) -> Response:
        body = await json_body(request)
        svc.gdpr_delete(str(body.get("objectId", "")), body.get("idProperty"))
        return Response(status_code=204)

    from .routes_batch import batch_routes

    p = prefix
    return [
        Route(f"{p}/contacts/gdpr-delete", gdpr_delete, methods=["POST"]),
        Route(f"{p}/{{objectType}}/search", search, methods=["POST"]),
        Route(f"{p}/{{objectType}}/merge", merge, methods=["POST"]),
        *batch_routes(svc, p),
        Route(f"{p}/{{objectType}}", list_objects, methods=["GET"]),
        Route(f"{p}/{{objectType}}", create_object, methods=["POST"]),
        Route(f"{p}/{{objectType}}/{{objectId}}", get_object, methods=["GET"]),
        Route(f"{p}/{{objectType}}/{{objectId}}", update_object, methods=["PATCH"]),
        Route(f"{p}/{{objectType}}/{{objectId}}", archive_object, methods=["DELETE"]),
    ]


def _written(object_type: str, row: Row, values: dict[str, str | None] | None = None) -> list[str]:
    """Properties a create/update response shows: the defaults, every value the record has, what was written."""
    return list(dict.fromkeys(DEFAULT_RETURNED[object_type] + sorted(row.props) + sorted(values or {})))
