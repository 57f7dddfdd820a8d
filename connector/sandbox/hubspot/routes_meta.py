"""Schema and account endpoints: properties and groups, owners, deal pipelines, OAuth tokens."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import HubSpotError, json_response
from .http_util import bool_param, decode_cursor, encode_cursor, endpoint, int_param, json_body, object_type_of
from .schema import DEAL_PIPELINE
from .services import Services
from .values import iso

__all__ = ["meta_routes"]

_EPOCH = 1_577_836_800_000  # when the sandbox account's built-in definitions were "created"


def _pipeline() -> dict[str, Any]:
    stages = [{"id": sid, "label": label, "displayOrder": i,
               "metadata": {"isClosed": "true" if closed else "false", "probability": prob},
               "createdAt": iso(_EPOCH), "updatedAt": iso(_EPOCH), "archived": False,
               "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"}
              for i, (sid, label, prob, closed) in enumerate(DEAL_PIPELINE["stages"])]
    return {"id": DEAL_PIPELINE["id"], "label": DEAL_PIPELINE["label"], "displayOrder": 0, "stages": stages,
            "createdAt": iso(_EPOCH), "updatedAt": iso(_EPOCH), "archived": False}


def meta_routes(svc: Services) -> list[BaseRoute]:
    state, registry = svc.state, svc.registry

    @endpoint
    async def list_properties(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        return json_response({"results": [p.to_api(iso) for p in registry.all(object_type)]})

    @endpoint
    async def get_property(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        prop = registry.get(object_type, request.path_params["propertyName"])
        if prop is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND",
                               f"Unable to find property {request.path_params['propertyName']} on {object_type}")
        return json_response(prop.to_api(iso))

    @endpoint
    async def create_property(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        body = await json_body(request)
        if not isinstance(body, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: the property must be an object")
        return json_response(registry.create(object_type, body).to_api(iso), 201)

    @endpoint
    async def list_groups(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        return json_response({"results": registry.groups(object_type)})

    @endpoint
    async def create_group(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        return json_response(registry.create_group(object_type, await json_body(request)), 201)

    @endpoint
    async def list_owners(request: Request) -> Response:
        limit = int_param(request, "limit", 100)
        if limit < 1 or limit > 500:
            raise HubSpotError(400, "VALIDATION_ERROR", f"limit must be between 1 and 500, got {limit}")
        after = decode_cursor(request.query_params.get("after"))
        email = (request.query_params.get("email") or "").lower()
        if bool_param(request, "archived"):
            return json_response({"results": []})
        sql, params = "SELECT id, json FROM owners WHERE id>=?", [str(after)]
        if email:
            sql += " AND email=?"
            params.append(email)
        with svc.db.lock:
            rows = svc.db.conn.execute(sql + " ORDER BY id LIMIT ?", (*params, limit + 1)).fetchall()
        body: dict[str, Any] = {"results": [_owner(json.loads(blob)) for _, blob in rows[:limit]]}
        if len(rows) > limit:
            cursor = encode_cursor(rows[limit][0])
            body["paging"] = {"next": {"after": cursor, "link": f"{request.url.path}?after={cursor}"}}
        return json_response(body)

    @endpoint
    async def get_owner(request: Request) -> Response:
        with svc.db.lock:
            r = svc.db.conn.execute("SELECT json FROM owners WHERE id=?",
                                    (int_param_value(request.path_params["ownerId"]),)).fetchone()
        if r is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Owner {request.path_params['ownerId']} not found")
        return json_response(_owner(json.loads(r[0])))

    @endpoint
    async def pipelines(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        if object_type != "deals":
            return json_response({"results": []})
        return json_response({"results": [_pipeline()]})

    @endpoint
    async def pipeline(request: Request) -> Response:
        object_type = object_type_of(request.path_params["objectType"])
        if object_type != "deals" or request.path_params["pipelineId"] != "default":
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Pipeline {request.path_params['pipelineId']} not found")
        return json_response(_pipeline())

    async def oauth_token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return _oauth_error("BAD_GRANT_TYPE", "grant_type must be refresh_token in the sandbox")
        if form.get("client_id") != state.oauth_client_id:
            return _oauth_error("BAD_CLIENT_ID", "missing or unknown client id")
        if form.get("client_secret") != state.oauth_client_secret:
            return _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret")
        if form.get("refresh_token") != state.oauth_refresh_token:
            return _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        token, ttl = state.issue_access_token()
        return JSONResponse({"token_type": "bearer", "refresh_token": state.oauth_refresh_token,
                             "access_token": token, "expires_in": ttl, "hub_id": state.portal_id,
                             "user_id": 1, "scopes": ["crm.objects.contacts.read", "crm.objects.contacts.write"]})

    async def access_token_info(request: Request) -> Response:
        info = state.token(request.path_params["token"])
        if info is None or not info.oauth:
            return _oauth_error("BAD_ACCESS_TOKEN", "unknown access token", 404)
        left = max(0, ((info.expires_ms or 0) - state.clock.now_ms()) // 1000)
        return JSONResponse({"token": request.path_params["token"], "hub_id": state.portal_id,
                             "app_id": int(info.app_id), "expires_in": left, "user_id": 1, "token_type": "access",
                             "scopes": ["crm.objects.contacts.read", "crm.objects.contacts.write"]})

    return [
        Route("/crm/v3/properties/{objectType}/groups", list_groups, methods=["GET"]),
        Route("/crm/v3/properties/{objectType}/groups", create_group, methods=["POST"]),
        Route("/crm/v3/properties/{objectType}", list_properties, methods=["GET"]),
        Route("/crm/v3/properties/{objectType}", create_property, methods=["POST"]),
        Route("/crm/v3/properties/{objectType}/{propertyName}", get_property, methods=["GET"]),
        Route("/crm/v3/owners", list_owners, methods=["GET"]),
        Route("/crm/v3/owners/", list_owners, methods=["GET"]),
        Route("/crm/v3/owners/{ownerId}", get_owner, methods=["GET"]),
        Route("/crm/v3/pipelines/{objectType}", pipelines, methods=["GET"]),
        Route("/crm/v3/pipelines/{objectType}/{pipelineId}", pipeline, methods=["GET"]),
        Route("/oauth/v1/token", oauth_token, methods=["POST"]),
        Route("/oauth/v1/access-tokens/{token}", access_token_info, methods=["GET"]),
    ]


def int_param_value(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Owner {raw} not found") from None


def _owner(o: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(o["id"]), "email": o.get("email"), "firstName": o.get("firstName"),
            "lastName": o.get("lastName"), "userId": o.get("userId"), "userIdIncludingInactive": o.get("userId"),
            "createdAt": iso(_EPOCH), "updatedAt": iso(_EPOCH), "archived": False, "teams": []}


def _oauth_error(status: str, message: str, code: int = 400) -> Response:
    return JSONResponse({"status": status, "message": message, "correlationId": "00000000-0000-0000-0000-000000000000"},
                        status_code=code)
