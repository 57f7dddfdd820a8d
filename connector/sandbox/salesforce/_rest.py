"""The REST resources: versions, limits, describe, sObject rows, upsert, getUpdated/getDeleted, query."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ._dispatch import Ctx, Resp, route
from ._errors import ApiError, RecordError
from ._query import query_more, run_query
from ._schema import SObjectDef
from ._values import format_datetime, normalize_id, parse_datetime, render
from ._writes import MultipleMatches
from .ids import prefix_object

__all__ = ["versions_body", "render_record", "obj_or_404", "save_result"]

_SEASONS = ("Summer", "Winter", "Spring")
_DAY_MS = 86_400_000


def versions_body(versions: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for v in versions:
        n = int(float(v)) - 40
        season = _SEASONS[n % 3]
        year = 17 + (n + 2) // 3
        out.append({"label": f"{season} '{year:02d}", "url": f"/services/data/v{v}", "version": v})
    return out


def obj_or_404(ctx: Ctx, name: str) -> SObjectDef:
    obj = ctx.state.schema.obj(name)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


def render_record(obj: SObjectDef, rec: dict[str, Any], version: str,
                  fields: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = OrderedDict()
    out["attributes"] = {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{rec['Id']}"}
    names = fields if fields is not None else list(obj.fields)
    for name in names:
        f = obj.fields[name]
        out[name] = render(f, rec.get(name))
    return out


def save_result(rid: str | None, errors: list[RecordError] | None = None,
                created: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "success": not errors, "errors": [e.save() for e in errors or []]}
    if created is not None:
        out["created"] = created
    return out


# ---- discovery -----------------------------------------------------------------------------------------
@route("GET", "")
def resources(ctx: Ctx) -> Resp:
    base = f"/services/data/v{ctx.version}"
    names = ("tooling", "metadata", "eclair", "folders", "prechatForms", "chatter", "tabs", "appMenu", "quickActions",
             "queryAll", "commerce", "wave", "iot", "analytics", "search", "identity", "composite",
             "parameterizedSearch",
             "fingerprint", "theme", "nouns", "event", "serviceTemplates", "recent", "connect", "licensing", "limits",
             "process", "async-queries", "query", "match", "emailConnect", "compactLayouts", "knowledgeManagement",
             "sobjects", "actions", "support", "jobs")
    return Resp(200, {n: f"{base}/{n}" for n in names})


@route("GET", "/limits")
def limits(ctx: Ctx) -> Resp:
    return Resp(200, ctx.state.limits_body())


def _basic(obj: SObjectDef, version: str) -> dict[str, Any]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    plural = obj.name + ("es" if obj.name.endswith("s") else "s")
    readonly = obj.name == "User"
    return {
        "activateable": False, "createable": not readonly, "custom": False, "customSetting": False,
        "deletable": not readonly, "deprecatedAndHidden": False, "feedEnabled": False, "hasSubtypes": False,
        "isSubtype": False, "keyPrefix": obj.key_prefix, "label": obj.name, "labelPlural": plural,
        "layoutable": True, "mergeable": obj.name in ("Lead", "Contact", "Account"), "mruEnabled": True,
        "name": obj.name, "queryable": True, "replicateable": True, "retrieveable": True, "searchable": True,
        "triggerable": True, "undeletable": True, "updateable": not readonly,
        "urls": {"rowTemplate": f"{base}/{{ID}}", "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
                 "describe": f"{base}/describe", "sobject": base},
    }


@route("GET", "/sobjects")
def describe_global(ctx: Ctx) -> Resp:
    objs = [_basic(o, ctx.version) for o in ctx.state.schema.objects.values()]
    return Resp(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})


@route("GET", "/sobjects/{sobject}/describe")
def describe(ctx: Ctx, sobject: str) -> Resp:
    obj = obj_or_404(ctx, sobject)
    body = _basic(obj, ctx.version)
    body["fields"] = [f.describe() for f in obj.fields.values()]
    body["childRelationships"] = []
    body["recordTypeInfos"] = []
    body["supportedScopes"] = [{"label": "All", "name": "everything"}]
    return Resp(200, body)


@route("GET", "/sobjects/{sobject}")
def basic_info(ctx: Ctx, sobject: str) -> Resp:
    obj = obj_or_404(ctx, sobject)
    return Resp(200, {"objectDescribe": _basic(obj, ctx.version), "recentItems": []})


# ---- rows ------------------------------------------------------------------------------------------------
@route("POST", "/sobjects/{sobject}")
def create(ctx: Ctx, sobject: str) -> Resp:
    obj = obj_or_404(ctx, sobject)
    body = ctx.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object value")
    rid = ctx.state.writer.create(obj.name, body)
    return Resp(201, save_result(rid))


def _window(ctx: Ctx, max_days: int) -> tuple[int, int]:
    start_text, end_text = ctx.params.get("start"), ctx.params.get("end")
    if not start_text or not end_text:
        raise ApiError(400, "MISSING_ARGUMENT", "start and end are required, as ISO-8601 datetimes")
    start, end = parse_datetime(start_text), parse_datetime(end_text)
    if start is None or end is None:
        raise ApiError(400, "INVALID_REPLICATION_DATE", f"invalid date: {start_text if start is None else end_text}")
    start, end = start // 60_000 * 60_000, end // 60_000 * 60_000  # Salesforce ignores the seconds
    now = ctx.state.clock.now_ms()
    if start < now - max_days * _DAY_MS:
        raise ApiError(400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {max_days} days ago")
    if end < start:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "endDate must chronologically follow the startDate")
    return start, min(end, now // 60_000 * 60_000 if end > now else end)


@route("GET", "/sobjects/{sobject}/updated")
def get_updated(ctx: Ctx, sobject: str) -> Resp:
    obj = obj_or_404(ctx, sobject)
    start, end = _window(ctx, 30)
    rows = ctx.state.store.ids("sobject = ? AND modstamp_ms >= ? AND modstamp_ms < ? AND is_deleted = 0",
                               [obj.name, start, end], "modstamp_ms, id", 600_001)
    if len(rows) > 600_000:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. Narrow the date range.")
    return Resp(200, {"ids": [r[0] for r in rows], "latestDateCovered": format_datetime(end)})


@route("GET", "/sobjects/{sobject}/deleted")
def get_deleted(ctx: Ctx, sobject: str) -> Resp:
    obj = obj_or_404(ctx, sobject)
    start, end = _window(ctx, 15)
    rows = ctx.state.store.ids("sobject = ? AND is_deleted = 1 AND deleted_ms >= ? AND deleted_ms < ?",
                               [obj.name, start, end], "deleted_ms, id", 600_001)
    if len(rows) > 600_000:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. Narrow the date range.")
    earliest = ctx.state.clock.now_ms() - 15 * _DAY_MS
    return Resp(200, {
        "deletedRecords": [{"id": r[0], "deletedDate": format_datetime(r[1])} for r in rows],
        "earliestDateAvailable": format_datetime(earliest // 60_000 * 60_000),
        "latestDateCovered": format_datetime(end),
    })


def _fields_param(ctx: Ctx, obj: SObjectDef) -> list[str] | None:
    text = ctx.params.get("fields")
    if not text:
        return None
    out = []
    for name in text.split(","):
        f = obj.get(name.strip())
        if f is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name.strip()}' on sobject of type {obj.name}")
        out.append(f.name)
    return out


def _load(ctx: Ctx, obj: SObjectDef, record_id: str) -> dict[str, Any]:
    rid = normalize_id(record_id)
    if rid is None or prefix_object(rid) != obj.name:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    rec = ctx.state.store.get(rid)
    if rec is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if rec.get("IsDeleted"):
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return rec


@route("GET", "/sobjects/{sobject}/{recordId}")
def get_record(ctx: Ctx, sobject: str, recordId: str) -> Resp:  # noqa: N803 - the name folds ids in counters
    obj = obj_or_404(ctx, sobject)
    fields = _fields_param(ctx, obj)
    return Resp(200, render_record(obj, _load(ctx, obj, recordId), ctx.version, fields))


@route("PATCH", "/sobjects/{sobject}/{recordId}")
def update(ctx: Ctx, sobject: str, recordId: str) -> Resp:  # noqa: N803
    obj = obj_or_404(ctx, sobject)
    _load(ctx, obj, recordId)
    body = ctx.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object value")
    ctx.state.writer.update(obj.name, recordId, body)
    return Resp(204)


@route("DELETE", "/sobjects/{sobject}/{recordId}")
def delete(ctx: Ctx, sobject: str, recordId: str) -> Resp:  # noqa: N803
    obj = obj_or_404(ctx, sobject)
    _load(ctx, obj, recordId)
    ctx.state.writer.delete(obj.name, recordId)
    return Resp(204)


def _ext_field(ctx: Ctx, obj: SObjectDef, name: str) -> Any:
    f = obj.get(name)
    if f is None or not (f.external_id or f.name == "Id"):
        raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
    return f


def _multiple(ctx: Ctx, exc: MultipleMatches) -> Resp:
    return Resp(300, [f"/services/data/v{ctx.version}/sobjects/{exc.sobject}/{i}" for i in exc.ids])


@route("GET", "/sobjects/{sobject}/{extField}/{externalId}")
def get_by_external_id(ctx: Ctx, sobject: str, extField: str, externalId: str) -> Resp:  # noqa: N803
    obj = obj_or_404(ctx, sobject)
    f = _ext_field(ctx, obj, extField)
    ids = ctx.state.writer.find_by_external_id(obj, f, externalId)
    live = [i for i in ids if not (ctx.state.store.get(i) or {}).get("IsDeleted")]
    if not live:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if len(live) > 1:
        return _multiple(ctx, MultipleMatches(obj.name, live))
    return Resp(200, render_record(obj, _load(ctx, obj, live[0]), ctx.version, _fields_param(ctx, obj)))


@route("PATCH", "/sobjects/{sobject}/{extField}/{externalId}")
def upsert(ctx: Ctx, sobject: str, extField: str, externalId: str) -> Resp:  # noqa: N803
    obj = obj_or_404(ctx, sobject)
    f = _ext_field(ctx, obj, extField)
    body = ctx.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object value")
    if any(k.lower() in ("id", f.name.lower()) for k in body if k != "attributes") and f.name != "Id":
        bad = next(k for k in body if k.lower() in ("id", f.name.lower()))
        raise ApiError(400, "INVALID_FIELD",
                       f"The field {bad} cannot be specified in the body of an upsert by {f.name}", [bad])
    if (ctx.params.get("updateOnly", "").lower() == "true"
            and not ctx.state.writer.find_by_external_id(obj, f, externalId)):
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    try:
        out = ctx.state.writer.upsert(obj.name, f.name, externalId, body)
    except MultipleMatches as exc:
        return _multiple(ctx, exc)
    if float(ctx.version) < 46.0:
        return Resp(201, save_result(out.id)) if out.created else Resp(204)
    return Resp(201 if out.created else 200, save_result(out.id, created=out.created))


# ---- query -------------------------------------------------------------------------------------------------
def _batch_size(ctx: Ctx) -> int:
    opts = ctx.headers.get("sforce-query-options", "")
    for part in opts.split(","):
        k, _, v = part.strip().partition("=")
        if k.strip().lower() == "batchsize" and v.strip().isdigit():
            return max(200, min(2000, int(v)))
    return 2000


@route("GET", "/query", is_query=True)
def query(ctx: Ctx) -> Resp:
    return Resp(200, run_query(ctx.state, ctx.params.get("q", ""), all_rows=False, version=ctx.version,
                               batch_size=_batch_size(ctx)))


@route("GET", "/queryAll", is_query=True)
def query_all(ctx: Ctx) -> Resp:
    return Resp(200, run_query(ctx.state, ctx.params.get("q", ""), all_rows=True, version=ctx.version,
                               batch_size=_batch_size(ctx)))


@route("GET", "/query/{locator}", is_query=True)
def query_next(ctx: Ctx, locator: str) -> Resp:
    return Resp(200, query_more(ctx.state, locator, ctx.version))


@route("GET", "/queryAll/{locator}", is_query=True)
def query_all_next(ctx: Ctx, locator: str) -> Resp:
    return Resp(200, query_more(ctx.state, locator, ctx.version))
