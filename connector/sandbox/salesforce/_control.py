"""Control routes under /_sandbox/salesforce/: what only a human (or the test) can do to the org.

Convert and merge leads, delete and undelete, change a field as a named user, pin a record's
SystemModstamp, expire sessions, toggle the validation and duplicate rules, add a custom field, and
set how Bulk jobs take time and how SOQL datetime literals' milliseconds count. Never counted,
faulted or rate-limited.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._errors import ApiError, RecordError
from ._schema import CustomField
from ._values import normalize_id, parse_datetime
from .ids import prefix_object

if TYPE_CHECKING:
    from ._state import SalesforceState

__all__ = ["control_routes", "PREFIX"]

PREFIX = "/_sandbox/salesforce"


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"request body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    return body


def _wrap(fn: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            out = await fn(request)
        except RecordError as exc:
            return JSONResponse([exc.rest()], status_code=exc.status)
        except ApiError as exc:
            return JSONResponse(exc.body, status_code=exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return out if isinstance(out, Response) else JSONResponse(out)

    return endpoint


def _ms(value: Any) -> int:
    if isinstance(value, int):
        return value
    ms = parse_datetime(str(value))
    if ms is None:
        raise ValueError(f"not a datetime (epoch ms or ISO-8601): {value!r}")
    return ms


def control_routes(state: SalesforceState) -> list[BaseRoute]:
    """The Salesforce-specific control API."""

    async def credentials(request: Request) -> Any:
        return {"client_id": state.client_id, "client_secret": state.client_secret, "username": state.username,
                "password": state.password, "security_token": state.security_token,
                "instance_url": f"{request.url.scheme}://{request.url.netloc}"}

    async def token(request: Request) -> Any:
        return {"access_token": state.issue_token(), "instance_url": f"{request.url.scheme}://{request.url.netloc}"}

    async def expire(request: Request) -> Any:
        return {"expired": state.expire_tokens()}

    async def usage(request: Request) -> Any:
        return {"used": state.api_usage(), "max": state.limits.daily_api_requests}

    async def convert(request: Request) -> Any:
        body = await _json(request)
        return state.convert_lead(request.path_params["leadId"], contact_id=body.get("contactId"),
                                  account_id=body.get("accountId"),
                                  create_opportunity=bool(body.get("createOpportunity", True)),
                                  opportunity_name=body.get("opportunityName"),
                                  converted_status=body.get("convertedStatus", "Closed - Converted"),
                                  user_id=body.get("userId"))

    async def merge(request: Request) -> Any:
        body = await _json(request)
        master, losers = body["masterId"], list(body["mergeIds"])
        with state.store.transaction():
            state.writer.merge(master, losers)
        return {"masterId": master, "mergedIds": losers}

    async def delete(request: Request) -> Any:
        rid = request.path_params["recordId"]
        return {"id": state.writer.delete(None, rid)}

    async def undelete(request: Request) -> Any:
        return {"id": state.writer.undelete(request.path_params["recordId"])}

    async def change(request: Request) -> Any:
        body = await _json(request)
        rid = request.path_params["recordId"]
        user = body.get("userId")
        with state.store.transaction():
            state.writer.update(None, rid, body.get("fields") or {}, user_id=user, system=bool(body.get("system")))
        return _raw(rid)

    def _raw(rid: str) -> Any:
        rec = state.store.get(normalize_id(rid) or rid)
        if rec is None:
            raise ApiError(404, "NOT_FOUND", f"no record {rid}")
        return rec

    async def get_raw(request: Request) -> Any:
        return _raw(request.path_params["recordId"])

    async def modstamp(request: Request) -> Any:
        body = await _json(request)
        rid = normalize_id(request.path_params["recordId"]) or ""
        rec = state.store.get(rid)
        if rec is None:
            raise ApiError(404, "NOT_FOUND", f"no record {request.path_params['recordId']}")
        for key in ("SystemModstamp", "LastModifiedDate", "CreatedDate"):
            if key in body:
                rec[key] = _ms(body[key])
        obj = state.schema.objects[prefix_object(rid) or ""]
        state.store.put(obj.name, rec, [(f.name, str(rec[f.name])) for f in obj.external_ids
                                        if rec.get(f.name) not in (None, "")])
        return rec

    async def rules(request: Request) -> Any:
        body = await _json(request)
        if "validation" in body:
            state.rules.lead_requires_email_or_phone = bool(body["validation"])
        if "validationMessage" in body:
            state.rules.validation_message = str(body["validationMessage"])
        if "duplicate" in body:
            state.rules.duplicate_rule = bool(body["duplicate"])
        return {"validation": state.rules.lead_requires_email_or_phone, "duplicate": state.rules.duplicate_rule,
                "validationMessage": state.rules.validation_message}

    async def custom_field(request: Request) -> Any:
        body = await _json(request)
        cf = CustomField(
            sobject=body["sobject"], api_name=body["apiName"], type=body.get("type", "Text"),
            label=body.get("label", ""), length=int(body.get("length", 255)),
            precision=int(body.get("precision", 18)), scale=int(body.get("scale", 0)),
            picklist_values=tuple(body.get("picklistValues") or ()), restricted=bool(body.get("restricted", True)),
            external_id=bool(body.get("externalId", False)), unique=bool(body.get("unique", False)),
        )
        return state.add_custom_field(cf).describe()

    async def bulk_delay(request: Request) -> Any:
        body = await _json(request)
        state.bulk_delay_ms = int(body.get("ms", 0))
        return {"ms": state.bulk_delay_ms}

    async def settings(request: Request) -> Any:
        """Read or change how the org behaves where orgs (or readings of the docs) differ."""
        if request.method == "POST":
            body = await _json(request)
            unknown = sorted(set(body) - {"bulk_timing", "bulk_delay_ms", "soql_datetime_millis"})
            if unknown:
                raise ValueError(f"unknown settings {unknown}; known: bulk_timing, bulk_delay_ms, soql_datetime_millis")
            if "bulk_timing" in body and body["bulk_timing"] not in ("realistic", "instant"):
                raise ValueError("bulk_timing must be 'realistic' or 'instant'")
            if "soql_datetime_millis" in body and body["soql_datetime_millis"] not in ("truncate", "honour"):
                raise ValueError("soql_datetime_millis must be 'truncate' or 'honour'")
            delay = body.get("bulk_delay_ms", state.bulk_delay_ms)
            if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
                raise ValueError("bulk_delay_ms must be a whole number of milliseconds >= 0")
            state.bulk_timing = body.get("bulk_timing", state.bulk_timing)
            state.soql_datetime_millis = body.get("soql_datetime_millis", state.soql_datetime_millis)
            state.bulk_delay_ms = delay
        return {"bulk_timing": state.bulk_timing, "bulk_delay_ms": state.bulk_delay_ms,
                "soql_datetime_millis": state.soql_datetime_millis}

    async def counts(request: Request) -> Any:
        return state.store.counts()

    table: list[tuple[str, Any, list[str]]] = [
        ("/credentials", credentials, ["GET"]),
        ("/token", token, ["POST"]),
        ("/tokens/expire", expire, ["POST"]),
        ("/usage", usage, ["GET"]),
        ("/counts", counts, ["GET"]),
        ("/leads/{leadId}/convert", convert, ["POST"]),
        ("/merge", merge, ["POST"]),
        ("/records/{recordId}", get_raw, ["GET"]),
        ("/records/{recordId}", change, ["PATCH"]),
        ("/records/{recordId}/delete", delete, ["POST"]),
        ("/records/{recordId}/undelete", undelete, ["POST"]),
        ("/records/{recordId}/modstamp", modstamp, ["POST"]),
        ("/rules", rules, ["POST"]),
        ("/custom-fields", custom_field, ["POST"]),
        ("/bulk-delay", bulk_delay, ["POST"]),
        ("/settings", settings, ["GET", "POST"]),
    ]
    return [Route(PREFIX + path, _wrap(fn), methods=methods) for path, fn, methods in table]
