"""Communication preferences (subscriptions): v3 per subscription, v4 per contact and in batches.

One store serves both versions: a status per (email, subscription), and a portal-wide "unsubscribed
from all" status per email. v3 speaks ``SUBSCRIBED``/``NOT_SUBSCRIBED``, v4 ``SUBSCRIBED``/
``UNSUBSCRIBED``/``NOT_SPECIFIED`` with a timestamp and a source per status. The batch v4 endpoints
need a Marketing Hub Enterprise account (``tier``), as HubSpot documents for their scopes; other
tiers get HubSpot's 403 MISSING_SCOPES. A batch takes at most 100 inputs (HubSpot's batch cap; not
stated for these endpoints); the batch unsubscribe answers 200 with an address that is no address as its
own error (``errors``, ``numErrors``) and opts out the rest. ``hs_email_optout`` on the contact follows
the statuses.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import HubSpotError, json_response
from .http_util import bool_param, endpoint, json_body
from .records import WriteSource
from .services import Services
from .values import iso

__all__ = ["MAX_BATCH_INPUTS", "SUBSCRIPTIONS", "preference_routes"]

SUBSCRIPTIONS = [
    {"id": "1", "name": "Marketing Information", "description": "Marketing offers and updates.",
     "purpose": "Marketing", "communicationMethod": "Email"},
    {"id": "2", "name": "One to One", "description": "One to one emails from sales.", "purpose": "Sales",
     "communicationMethod": "Email"},
]
_V4 = "/communication-preferences/v4"
_V3 = "/communication-preferences/v3"
#: what the sandbox records as a status's source when it was set through the API
API_SOURCE = "API"
_SCOPES_HELP = "https://developers.hubspot.com/scopes"
#: inputs per batch call: HubSpot's cap on its CRM batch endpoints; the v4 spec states none (⚠ inferred)
MAX_BATCH_INPUTS = 100


def _missing_scopes(scope: str) -> HubSpotError:
    """HubSpot's 403 for a call the app's scopes (or the account's tier) do not allow."""
    return HubSpotError(
        403, "MISSING_SCOPES",
        f"This app hasn't been granted all required scopes to make this call. Read more about required scopes "
        f"here: {_SCOPES_HELP}.",
        errors=[{"message": "One or more of the following scopes are required.",
                 "context": {"requiredGranularScopes": [scope]}}],
        extra={"links": {"scopes": _SCOPES_HELP}})


def _valid_email(raw: object) -> str | None:
    """The address in canonical form (trimmed, lower case), or None when `raw` is no e-mail address."""
    email = raw.strip().lower() if isinstance(raw, str) else ""
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        return None
    return email


def _email(raw: object) -> str:
    email = _valid_email(raw)
    if email is None:
        raise HubSpotError(400, "VALIDATION_ERROR", f"{raw!r} is not a valid email address: subscriberIdString "
                                                    "is the contact's email address")
    return email


def _invalid_input(raw: object) -> dict[str, Any]:
    """One batch input that is no e-mail address, as HubSpot's batch responses list an input's error."""
    context = {"subscriberIdString": [str(raw)]}
    return {"status": "error", "category": "VALIDATION_ERROR", "message": "One or more inputs were invalid.",
            "context": context, "errors": [{"code": "400", "in": "inputs", "message": "Invalid subscriber identifier.",
                                            "subCategory": "INVALID_EMAIL", "context": context}]}


def preference_routes(svc: Services) -> list[BaseRoute]:
    state = svc.state

    def stored(email: str) -> tuple[dict[str, tuple[str, int | None, str | None]], tuple[str, int, str] | None]:
        with svc.db.lock:
            rows = svc.db.conn.execute("SELECT subscription_id, status, timestamp, source FROM subscriptions "
                                       "WHERE email=?", (email,)).fetchall()
            wide = svc.db.conn.execute("SELECT status, timestamp, source FROM wide_status WHERE email=?",
                                       (email,)).fetchone()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}, (wide[0], wide[1], wide[2]) if wide else None

    def v4_statuses(email: str, reason: str | None = None) -> list[dict[str, Any]]:
        per_sub, wide = stored(email)
        out = []
        for s in SUBSCRIPTIONS:
            status, ts, source = per_sub.get(s["id"], ("NOT_SPECIFIED", None, None))
            if wide is not None and wide[0] == "UNSUBSCRIBED":
                status, ts, source = "UNSUBSCRIBED", wide[1], wide[2]
            item: dict[str, Any] = {
                "channel": "EMAIL", "source": source or "", "status": "UNSUBSCRIBED" if status == "NOT_SUBSCRIBED"
                else status, "subscriberIdString": email, "subscriptionId": int(s["id"]),
                "subscriptionName": s["name"], "timestamp": iso(ts if ts is not None else state.clock.now_ms()),
                "businessUnitId": 0}
            if reason:
                item["setStatusSuccessReason"] = reason
            out.append(item)
        return out

    def wide_statuses(email: str) -> list[dict[str, Any]]:
        _, wide = stored(email)
        if wide is None or wide[0] != "UNSUBSCRIBED":
            return []
        return [{"channel": "EMAIL", "status": "UNSUBSCRIBED", "subscriberIdString": email,
                 "timestamp": iso(wide[1]), "wideStatusType": "PORTAL_WIDE", "businessUnitId": 0}]

    def unsubscribe_all(email: str) -> None:
        now = state.clock.now_ms()
        with svc.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO wide_status VALUES (?, 'UNSUBSCRIBED', ?, ?)",
                         (email, now, API_SOURCE))
            for s in SUBSCRIPTIONS:
                conn.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, 'NOT_SUBSCRIBED', ?, ?)",
                             (email, s["id"], now, API_SOURCE))
        _sync_optout(svc, email)

    def envelope(started: int, results: list[Any]) -> dict[str, Any]:
        return {"status": "COMPLETE", "results": results, "startedAt": iso(started),
                "completedAt": iso(state.clock.now_ms())}

    def channel(request: Request) -> None:
        value = request.query_params.get("channel")
        if value != "EMAIL":
            raise HubSpotError(400, "VALIDATION_ERROR", f"channel must be EMAIL (the only channel), got {value!r}")

    def raw_inputs(body: Any) -> list[Any]:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: `inputs` must be a non-empty list of "
                                                        "email addresses")
        if len(inputs) > MAX_BATCH_INPUTS:
            raise HubSpotError(400, "VALIDATION_ERROR", "The maximum number of inputs supported in a batch request "
                                                        f"is {MAX_BATCH_INPUTS}; got {len(inputs)}",
                               context={"maxInputs": [str(MAX_BATCH_INPUTS)]})
        return inputs

    def batch_inputs(body: Any) -> list[str]:
        return [_email(i) for i in raw_inputs(body)]

    def enterprise(scope: str) -> None:
        if state.account.tier != "enterprise":
            raise _missing_scopes(scope)

    # ---- v3 --------------------------------------------------------------------------------------------
    @endpoint
    async def definitions(request: Request) -> Response:
        return json_response({"subscriptionDefinitions": [
            {**s, "isActive": True, "isDefault": True, "isInternal": False, "createdAt": "2020-01-01T00:00:00.000Z",
             "updatedAt": "2020-01-01T00:00:00.000Z"} for s in SUBSCRIPTIONS]})

    def v3_statuses(email: str) -> list[dict[str, Any]]:
        per_sub, _ = stored(email.lower())
        return [{"id": s["id"], "name": s["name"], "description": s["description"],
                 "status": per_sub.get(s["id"], ("SUBSCRIBED",))[0], "sourceName": "Sandbox",
                 "preferenceGroupName": None, "legalBasis": None, "legalBasisExplanation": None}
                for s in SUBSCRIPTIONS]

    @endpoint
    async def v3_status(request: Request) -> Response:
        email = request.path_params["emailAddress"]
        return json_response({"recipient": email, "subscriptionStatuses": v3_statuses(email)})

    async def v3_change(request: Request, new_status: str) -> Response:
        body = await json_body(request)
        email = str(body.get("emailAddress") or "").strip().lower()
        sub = str(body.get("subscriptionId") or "")
        if not email or sub not in {s["id"] for s in SUBSCRIPTIONS}:
            raise HubSpotError(400, "VALIDATION_ERROR", "emailAddress and a known subscriptionId are required "
                                                        f"(known: {[s['id'] for s in SUBSCRIPTIONS]})")
        current = {s["id"]: s["status"] for s in v3_statuses(email)}
        if current[sub] == new_status:
            raise HubSpotError(400, "VALIDATION_ERROR", f"{email} is already {new_status.lower()} for {sub}")
        with svc.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?, ?)",
                         (email, sub, new_status, state.clock.now_ms(), API_SOURCE))
            if new_status == "SUBSCRIBED":
                conn.execute("DELETE FROM wide_status WHERE email=?", (email,))
        _sync_optout(svc, email)
        found = next(s for s in v3_statuses(email) if s["id"] == sub)
        return json_response({"recipient": email, "subscriptionId": sub, **found})

    @endpoint
    async def v3_unsubscribe(request: Request) -> Response:
        return await v3_change(request, "NOT_SUBSCRIBED")

    @endpoint
    async def v3_subscribe(request: Request) -> Response:
        return await v3_change(request, "SUBSCRIBED")

    # ---- v4, one contact --------------------------------------------------------------------------------
    @endpoint
    async def v4_status(request: Request) -> Response:
        channel(request)
        started = state.clock.now_ms()
        return json_response(envelope(started, v4_statuses(_email(request.path_params["subscriberIdString"]))))

    @endpoint
    async def v4_wide_status(request: Request) -> Response:
        channel(request)
        started = state.clock.now_ms()
        return json_response(envelope(started, wide_statuses(_email(request.path_params["subscriberIdString"]))))

    @endpoint
    async def v4_unsubscribe_all(request: Request) -> Response:
        channel(request)
        email = _email(request.path_params["subscriberIdString"])
        started = state.clock.now_ms()
        unsubscribe_all(email)
        verbose = bool_param(request, "verbose")
        return json_response(envelope(started, v4_statuses(email, "UNSUBSCRIBE_FROM_ALL_OCCURRED") if verbose else []))

    # ---- v4, batches (Marketing Hub Enterprise) ---------------------------------------------------------
    @endpoint
    async def batch_unsubscribe_all(request: Request) -> Response:
        enterprise("subscription-status-batch-write")
        channel(request)
        inputs = raw_inputs(await json_body(request))
        started = state.clock.now_ms()
        emails: dict[str, None] = {}
        errors = []
        for raw in inputs:
            email = _valid_email(raw)
            if email is None:
                errors.append(_invalid_input(raw))
            elif email not in emails:
                emails[email] = None
                unsubscribe_all(email)
        results = [{"subscriberIdString": e, "statuses": v4_statuses(e, "UNSUBSCRIBE_FROM_ALL_OCCURRED")}
                   for e in emails] if bool_param(request, "verbose") else []
        body = envelope(started, results)
        if errors:  # the only documented answer is 200: its schema carries the inputs' errors
            body.update(numErrors=len(errors), errors=errors)
        return json_response(body)

    @endpoint
    async def batch_wide_read(request: Request) -> Response:
        enterprise("subscription-status-batch-read")
        channel(request)
        emails = batch_inputs(await json_body(request))
        started = state.clock.now_ms()
        return json_response(envelope(started, [{"subscriberIdString": e, "wideStatuses": wide_statuses(e)}
                                                for e in dict.fromkeys(emails)]))

    @endpoint
    async def batch_read(request: Request) -> Response:
        enterprise("subscription-status-batch-read")
        channel(request)
        emails = batch_inputs(await json_body(request))
        started = state.clock.now_ms()
        return json_response(envelope(started, [{"subscriberIdString": e, "statuses": v4_statuses(e)}
                                                for e in dict.fromkeys(emails)]))

    return [
        Route(f"{_V3}/definitions", definitions, methods=["GET"]),
        Route(f"{_V3}/status/email/{{emailAddress}}", v3_status, methods=["GET"]),
        Route(f"{_V3}/unsubscribe", v3_unsubscribe, methods=["POST"]),
        Route(f"{_V3}/subscribe", v3_subscribe, methods=["POST"]),
        # the batch routes come first: "batch" must never be taken for a subscriber's address
        Route(f"{_V4}/statuses/batch/unsubscribe-all", batch_unsubscribe_all, methods=["POST"]),
        Route(f"{_V4}/statuses/batch/unsubscribe-all/read", batch_wide_read, methods=["POST"]),
        Route(f"{_V4}/statuses/batch/read", batch_read, methods=["POST"]),
        Route(f"{_V4}/statuses/{{subscriberIdString}}", v4_status, methods=["GET"]),
        Route(f"{_V4}/statuses/{{subscriberIdString}}/unsubscribe-all", v4_wide_status, methods=["GET"]),
        Route(f"{_V4}/statuses/{{subscriberIdString}}/unsubscribe-all", v4_unsubscribe_all, methods=["POST"]),
    ]


def _sync_optout(svc: Services, email: str) -> None:
    """hs_email_optout is true once the address is unsubscribed from every email subscription."""
    with svc.db.lock:
        rows = svc.db.conn.execute("SELECT count(*) FROM subscriptions WHERE email=? AND status='NOT_SUBSCRIBED'",
                                   (email,)).fetchone()[0]
        wide = svc.db.conn.execute("SELECT 1 FROM wide_status WHERE email=? AND status='UNSUBSCRIBED'",
                                   (email,)).fetchone()
    contact_id = svc.records.find_by_property("contacts", "email", email)
    if contact_id is None:
        return
    row = svc.records.get_row("contacts", contact_id)
    if row is not None:
        value = "true" if wide or rows >= len(SUBSCRIPTIONS) else "false"
        if value == "false" and row.props.get("hs_email_optout") is None:
            return
        svc.records.update(row, {"hs_email_optout": value}, WriteSource("EMAIL", "communication-preferences"))
