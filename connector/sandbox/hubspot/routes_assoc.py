"""Associations v4: batch read (<= 1,000 inputs, paging per input), default associate, create (labelled or not),
archive (whole associations or single labels), and the labels an object pair has."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import HubSpotError, json_response, not_found
from .http_util import decode_cursor, encode_cursor, endpoint, int_param, json_body, object_type_of
from .associations import labels_for
from .schema import ASSOCIATION_DEFS, OBJECT_TYPE_IDS
from .services import Services
from .values import iso

__all__ = ["association_routes"]

MAX_READ_INPUTS = 1000
PAGE = 500


def association_routes(svc: Services) -> list[BaseRoute]:
    assoc, records, clock = svc.assoc, svc.records, svc.state.clock

    def pair(request: Request, a: str = "fromObjectType", b: str = "toObjectType") -> tuple[str, str]:
        return object_type_of(request.path_params[a]), object_type_of(request.path_params[b])

    def existing(object_type: str, raw: Any) -> int:
        try:
            object_id = int(str(raw))
        except ValueError:
            raise not_found(object_type, str(raw)) from None
        row = records.get_row(object_type, object_id)
        if row is None or row.archived:
            raise not_found(object_type, str(raw))
        return object_id

    def done(started: int, results: list[Any], errors: list[Any] | None = None, status: int = 200) -> Response:
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        body["startedAt"] = iso(started)
        body["completedAt"] = iso(clock.now_ms())
        return json_response(body, 207 if errors else status)

    @endpoint
    async def batch_read(request: Request) -> Response:
        from_type, to_type = pair(request)
        body = await json_body(request)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: `inputs` must be a list")
        if len(inputs) > MAX_READ_INPUTS:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Batch read accepts at most {MAX_READ_INPUTS} inputs; "
                                                        f"got {len(inputs)}")
        started = clock.now_ms()
        results, errors = [], []
        for item in inputs:
            raw = str(item.get("id", ""))
            try:
                from_id = int(raw)
            except ValueError:
                from_id = -1
            items, next_after = assoc.page(from_type, from_id, to_type, decode_cursor(item.get("after")), PAGE)
            if not items:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                               "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                               "message": f"No {to_type[:-1]}s are associated with {from_type[:-1]} {raw}.",
                               "context": {"fromObjectId": [raw]}})
                continue
            result: dict[str, Any] = {"from": {"id": raw},
                                      "to": [{"toObjectId": to_id, "associationTypes": types}
                                             for to_id, types in items]}
            if next_after is not None:
                result["paging"] = {"next": {"after": encode_cursor(next_after)}}
            results.append(result)
        return done(started, results, errors)

    @endpoint
    async def list_for_record(request: Request) -> Response:
        from_type, to_type = pair(request, "objectType", "toObjectType")
        from_id = existing(from_type, request.path_params["objectId"])
        limit = min(int_param(request, "limit", PAGE), PAGE)
        items, next_after = assoc.page(from_type, from_id, to_type, decode_cursor(request.query_params.get("after")),
                                       limit)
        body: dict[str, Any] = {"results": [{"toObjectId": i, "associationTypes": t} for i, t in items]}
        if next_after is not None:
            body["paging"] = {"next": {"after": encode_cursor(next_after)}}
        return json_response(body)

    def default_pair(from_type: str, from_id: int, to_type: str, to_id: int) -> list[dict[str, Any]]:
        assoc.add(from_type, from_id, to_type, to_id)
        return [{"from": {"id": str(from_id)}, "to": {"id": str(to_id)},
                 "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                                     "associationTypeId": assoc.default_type(from_type, to_type)}},
                {"from": {"id": str(to_id)}, "to": {"id": str(from_id)},
                 "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                                     "associationTypeId": assoc.default_type(to_type, from_type)}}]

    @endpoint
    async def put_default(request: Request) -> Response:
        from_type, to_type = pair(request)
        started = clock.now_ms()
        from_id = existing(from_type, request.path_params["fromObjectId"])
        to_id = existing(to_type, request.path_params["toObjectId"])
        return done(started, default_pair(from_type, from_id, to_type, to_id))

    @endpoint
    async def batch_default(request: Request) -> Response:
        from_type, to_type = pair(request)
        body = await json_body(request)
        started = clock.now_ms()
        results: list[Any] = []
        with svc.db.transaction():
            for item in body.get("inputs") or []:
                from_id = existing(from_type, (item.get("from") or {}).get("id"))
                to_id = existing(to_type, (item.get("to") or {}).get("id"))
                results += default_pair(from_type, from_id, to_type, to_id)
        return done(started, results)

    def labelled(from_type: str, from_id: int, to_type: str, to_id: int, specs: Any) -> dict[str, Any]:
        """Create the requested types between two records; the LabelsBetweenObjectPair answer."""
        if not isinstance(specs, list) or not specs:
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: give at least one association type "
                                                        "({associationCategory, associationTypeId})")
        checked = [assoc.check_type(from_type, to_type, str(spec.get("associationCategory")),
                                    _type_id(spec.get("associationTypeId"))) for spec in specs]
        with svc.db.transaction():
            type_ids: list[int] = []
            for spec in checked:
                type_ids = assoc.add(from_type, from_id, to_type, to_id, spec.type_id)
        labels = [ASSOCIATION_DEFS[t].label for t in type_ids if t in ASSOCIATION_DEFS and ASSOCIATION_DEFS[t].label]
        return {"fromObjectTypeId": OBJECT_TYPE_IDS[from_type], "fromObjectId": from_id,
                "toObjectTypeId": OBJECT_TYPE_IDS[to_type], "toObjectId": to_id, "labels": labels}

    @endpoint
    async def put_labeled(request: Request) -> Response:
        from_type, to_type = pair(request, "objectType", "toObjectType")
        from_id = existing(from_type, request.path_params["objectId"])
        to_id = existing(to_type, request.path_params["toObjectId"])
        return json_response(labelled(from_type, from_id, to_type, to_id, await json_body(request)), 201)

    @endpoint
    async def batch_create(request: Request) -> Response:
        from_type, to_type = pair(request)
        body = await json_body(request)
        started = clock.now_ms()
        results = []
        with svc.db.transaction():
            for item in body.get("inputs") or []:
                from_id = existing(from_type, (item.get("from") or {}).get("id"))
                to_id = existing(to_type, (item.get("to") or {}).get("id"))
                results.append(labelled(from_type, from_id, to_type, to_id, item.get("types")))
        return done(started, results, status=201)

    @endpoint
    async def batch_archive_labels(request: Request) -> Response:
        """Remove the given types only; the unlabeled type removes the whole association (SDK docstring)."""
        from_type, to_type = pair(request)
        body = await json_body(request)
        with svc.db.transaction():
            for item in body.get("inputs") or []:
                from_id = _type_id((item.get("from") or {}).get("id"))
                to_id = _type_id((item.get("to") or {}).get("id"))
                for spec in item.get("types") or []:
                    checked = assoc.check_type(from_type, to_type, str(spec.get("associationCategory")),
                                               _type_id(spec.get("associationTypeId")))
                    assoc.remove_label(from_type, from_id, to_type, to_id, checked.type_id)
        return Response(status_code=204)

    @endpoint
    async def list_labels(request: Request) -> Response:
        from_type, to_type = pair(request)
        assoc.default_type(from_type, to_type)
        return json_response({"results": [d.spec() for d in labels_for(from_type, to_type)]})

    @endpoint
    async def delete_one(request: Request) -> Response:
        from_type, to_type = pair(request, "objectType", "toObjectType")
        assoc.remove(from_type, int(request.path_params["objectId"]), to_type, int(request.path_params["toObjectId"]))
        return Response(status_code=204)

    @endpoint
    async def batch_archive(request: Request) -> Response:
        from_type, to_type = pair(request)
        body = await json_body(request)
        with svc.db.transaction():
            for item in body.get("inputs") or []:
                from_id = int(str((item.get("from") or {}).get("id")))
                for to in item.get("to") or []:
                    assoc.remove(from_type, from_id, to_type, int(str(to.get("id"))))
        return Response(status_code=204)

    base = "/crm/v4/associations/{fromObjectType}/{toObjectType}"
    obj = "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}"
    return [
        Route(f"{base}/batch/read", batch_read, methods=["POST"]),
        Route(f"{base}/batch/associate/default", batch_default, methods=["POST"]),
        Route(f"{base}/batch/create", batch_create, methods=["POST"]),
        Route(f"{base}/batch/archive", batch_archive, methods=["POST"]),
        Route(f"{base}/batch/labels/archive", batch_archive_labels, methods=["POST"]),
        Route(f"{base}/labels", list_labels, methods=["GET"]),
        Route("/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}",
              put_default, methods=["PUT"]),
        Route(obj, list_for_record, methods=["GET"]),
        Route(f"{obj}/{{toObjectId}}", put_labeled, methods=["PUT"]),
        Route(f"{obj}/{{toObjectId}}", delete_one, methods=["DELETE"]),
    ]


def _type_id(raw: Any) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid input JSON: {raw!r} is not an integer id") from None
