"""The Salesforce adapter (read side): leads, contacts, opportunities and activity, incrementally.

- Windows are read with ``queryAll`` on ``SystemModstamp`` (half-open, ordered by SystemModstamp then
  Id), so one query returns changes, deletions (``IsDeleted``) and merge losers (``MasterRecordId``).
  Query locators page through a consistent result, so records changing mid-pull shift nothing.
- Up to five window queries travel in one Composite request, which counts as ONE API call: an idle
  poll of five objects costs one call.
- Large loads go through Bulk API 2.0 query jobs (CSV, typed back through describe).
- Every literal that comes from data is escaped with simple-salesforce's ``format_soql``.
"""

from __future__ import annotations

import csv
import itertools
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import httpx
from simple_salesforce.format import format_soql

from ..config import SalesforceConfig
from ..errors import ConfigError, ConfigProblem
from ..pull.cursor import Window, whole_minute
from ..pull.streams import COMPOSITE_QUERIES, ChangeProbe, ProbeResult, WindowQuery
from ..store.staging import StagedRecord
from .http import DEFAULT_RETRY, ApiError, ErrorInfo, HttpLayer, MalformedResponse, RetryPolicy, Verdict
from .ledger import CallLedger
from .pacing import DailyBudget, parse_sforce_limit_info
from .tls import make_ssl_context
from .tokens import TokenReply, request_token, safe_code, safe_text

__all__ = ["SalesforceSource", "SalesforceAuth", "soql_datetime", "sf_to_ms", "QUERY_PAGE"]

log = logging.getLogger(__name__)

SYSTEM = "salesforce"
TOKEN_PATH = "/services/oauth2/token"
QUERY_PAGE = 2000
COMPOSITE_SUBREQUESTS = 25
#: objects without IsDeleted (Users are deactivated, never deleted)
NOT_DELETABLE = frozenset({"User"})
BULK_POLL_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
#: rows per Bulk 2.0 result request: 5x fewer calls than REST pages, and a page's memory stays small
BULK_RESULT_ROWS = 10_000

_HINTS = {
    "INVALID_SESSION_ID": "check the Salesforce credentials in the configuration",
    "INVALID_FIELD": "the field does not exist on this object in your org: fix the mapping, or add the custom "
                     "field (`connector setup` lists the ones the connector needs)",
    "INVALID_TYPE": "the object is not available to the connector's user: check its profile or permission set",
    "INSUFFICIENT_ACCESS": "the connector's user lacks access: grant it in its permission set",
    "API_DISABLED_FOR_ORG": "the org's edition has no API access",
    "MALFORMED_QUERY": "this is a connector bug: please report it with this message",
}


def _iso_minute(ms: int) -> str:
    """A getUpdated/getDeleted bound: Salesforce ignores the seconds, so none are sent (what is asked is
    what is answered, whichever way a server would treat them)."""
    return datetime.fromtimestamp(whole_minute(ms) / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:00+00:00")


def soql_datetime(ms: int) -> str:
    """A SOQL datetime literal (unquoted, UTC, millisecond precision)."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def sf_to_ms(value: str | None) -> int | None:
    """``2024-01-02T03:04:05.000+0000`` (REST) or ``...Z`` (Bulk CSV) -> epoch ms."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, list):
        return [e for e in body if isinstance(e, dict)]
    if isinstance(body, dict) and "error" in body:  # OAuth errors
        return [{"errorCode": body.get("error"), "message": body.get("error_description", "")}]
    return []


def _classify(response: httpx.Response) -> Verdict:
    status = response.status_code
    if status < 400:
        return "ok"
    errors = _errors(response)
    codes = {str(e.get("errorCode")) for e in errors}
    if status == 401:
        return "refresh"
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return "budget" if _daily_total_spent(response, errors) else "retry"
    if "UNABLE_TO_LOCK_ROW" in codes or "QUERY_TIMEOUT" in codes or status in (408, 429) or status >= 500:
        return "retry"
    return "fail"


def _daily_total_spent(response: httpx.Response, errors: list[dict[str, Any]]) -> bool:
    """Whether a REQUEST_LIMIT_EXCEEDED is the org's rolling 24 h total ("TotalRequests Limit exceeded."),
    which lasts, rather than a concurrency limit ("ConcurrentPerOrgLongTxn Limit exceeded.", "ConcurrentRequests
    ... Limit exceeded"), which clears as soon as the org's long-running requests finish. Salesforce sends the
    same code for both (API Request Limits and Allocations); the message, or usage at the limit in
    Sforce-Limit-Info, tells them apart."""
    if any("TotalRequests" in str(e.get("message", "")) for e in errors if e.get("errorCode") == "REQUEST_LIMIT_EXCEEDED"):
        return True
    usage = parse_sforce_limit_info(response.headers.get("sforce-limit-info"))
    return usage is not None and usage[0] >= usage[1]


def _describe(response: httpx.Response) -> ErrorInfo:
    errors = _errors(response)
    if not errors:
        return ErrorInfo(code=str(response.status_code), message=response.text[:300])
    code = str(errors[0].get("errorCode"))
    message = "; ".join(str(e.get("message")) for e in errors)
    return ErrorInfo(code=code, message=message, hint=_HINTS.get(code, ""))


#: OAuth refusals of the credentials themselves (anything else the token endpoint refuses is not a
#: configuration problem): the fix for each
_TOKEN_REFUSALS: dict[str, str | dict[str, str]] = {
    "invalid_client_id": "[salesforce].client_id is not the consumer key of a connected app in this org (check "
                         "client_id, and that login_url / instance_url name the right org)",
    "invalid_client": "check [salesforce].client_secret (the connected app's consumer secret) and client_id",
    "invalid_grant": {
        "client_credentials": "enable the client credentials flow on the connected app and give it a run-as user",
        "password": "check [salesforce].username, password and security_token; the user may be locked out",
        "jwt_bearer": "check [salesforce].username, that the connected app holds the certificate of "
                      "private_key_file and that the user is pre-authorized for the app",
    },
    "unauthorized_client": "the connected app does not allow this flow for this user: check its OAuth policies",
    "unsupported_grant_type": "enable this OAuth flow on the connected app, or change [salesforce].auth",
    "inactive_user": "the connector's Salesforce user is inactive: reactivate it or configure another one",
    "inactive_org": "the Salesforce org is inactive or locked",
}


class SalesforceAuth:
    """Session tokens from the configured OAuth flow, re-granted when a session expires.

    Token requests are retried like any call (`tokens.request_token`); only a refusal of the
    credentials (`invalid_client`, `invalid_grant`, ...) is a configuration error.
    """

    def __init__(self, config: SalesforceConfig, verify: Any, *, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Any = time.sleep, transport: httpx.BaseTransport | None = None) -> None:
        self._config = config
        self._token: str | None = config.session_id.get_secret_value() if config.session_id else None
        self._client = httpx.Client(base_url=config.login_url or config.instance_url, verify=verify,
                                    timeout=config.timeout_seconds, trust_env=False, transport=transport)
        self._retry, self._sleep = retry, sleep
        self.grants = 0

    def close(self) -> None:
        self._client.close()

    def authenticate(self) -> None:
        """Get a session now (before the first read), so bad credentials stop the run before it starts."""
        if self._token is None:
            self.refresh()

    def headers(self) -> dict[str, str]:
        if self._token is None:
            self.refresh()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        """A new session from the configured flow; raises ConfigError when the credentials are refused,
        ApiError for any other refusal, TransientApiError or MalformedResponse when no answer was usable."""
        cfg = self._config
        if cfg.auth == "session":
            return False
        form: dict[str, str] = {"client_id": cfg.client_id or ""}
        if cfg.auth == "client_credentials":
            form.update(grant_type="client_credentials", client_secret=_secret(cfg.client_secret))
        elif cfg.auth == "password":
            form.update(grant_type="password", client_secret=_secret(cfg.client_secret), username=cfg.username or "",
                        password=_secret(cfg.password) + _secret(cfg.security_token))
        else:
            form.update(grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=self._jwt())
        reply = request_token(self._client, TOKEN_PATH, form, system=SYSTEM, retry=self._retry, sleep=self._sleep,
                              ca_bundle=str(cfg.ca_bundle) if cfg.ca_bundle else None)
        if not reply.granted:
            sent = [v for k, v in form.items() if k not in ("grant_type", "client_id")]
            sent += [_secret(cfg.password), _secret(cfg.security_token)]
            raise _token_refused(cfg, reply, sent)
        self._token = str(reply.body["access_token"])
        self.grants += 1
        return True

    def _jwt(self) -> str:
        import jwt  # PyJWT, with cryptography for RS256

        cfg = self._config
        if cfg.private_key_file is None:
            raise ConfigError("[salesforce].private_key_file is required for auth = 'jwt_bearer'")
        claims = {"iss": cfg.client_id, "sub": cfg.username, "aud": cfg.login_url or cfg.instance_url,
                  "exp": int(time.time()) + 180}
        try:
            return str(jwt.encode(claims, cfg.private_key_file.read_bytes(), algorithm="RS256"))
        except (OSError, ValueError, jwt.PyJWTError) as exc:  # unreadable, or not an RSA private key in PEM
            raise ConfigError([ConfigProblem("salesforce", "[salesforce].private_key_file",
                                             f"cannot sign the JWT with {cfg.private_key_file}: {type(exc).__name__}",
                                             "point it at the connected app certificate's RSA private key (PEM)")]
                              ) from exc


def _token_refused(cfg: SalesforceConfig, reply: TokenReply, sent: list[str]) -> ConfigError | ApiError:
    """A refused token request: a ConfigError when the credentials were refused, else an ApiError."""
    code = safe_code(reply.body.get("error"))
    description = safe_text(reply.body.get("error_description"), sent)
    known = _TOKEN_REFUSALS.get(code)
    fix = known.get(cfg.auth, "check the credentials in [salesforce]") if isinstance(known, dict) else known
    if fix is not None and reply.status in (400, 401, 403):
        what = f"token request refused: {code}" + (f" ({description})" if description else "")
        return ConfigError([ConfigProblem("salesforce", f"[salesforce].auth = {cfg.auth!r}", what, fix)])
    return ApiError(SYSTEM, f"POST {TOKEN_PATH}", reply.status, code, description or "(no description)",
                    "if this persists, check login_url / instance_url and the connected app's settings")


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


class SalesforceSource:
    """Reads Salesforce for one run; counts every call in `ledger`."""

    system = SYSTEM

    def __init__(self, config: SalesforceConfig, ledger: CallLedger, *, prior_calls_today: int = 0,
                 daily_limit: int | None = None, transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY, sleep: Any = time.sleep) -> None:
        ca_bundle = str(config.ca_bundle) if config.ca_bundle else None
        verify = make_ssl_context(ca_bundle, system=SYSTEM)
        self.version = f"v{config.api_version}"
        self.bulk_threshold = config.bulk_threshold
        self.auth = SalesforceAuth(config, verify, retry=retry, sleep=sleep, transport=transport)
        # the org's real limit is learnt from Sforce-Limit-Info on every response (`daily_limit` can only lower it)
        self.http = HttpLayer(
            SYSTEM, config.instance_url, auth=self.auth, ledger=ledger,
            budget=DailyBudget(SYSTEM, daily_limit, config.daily_budget_share, prior_calls=prior_calls_today),
            verify=verify, timeout=config.timeout_seconds, retry=retry, classify=_classify, describe=_describe,
            transport=transport, sleep=sleep, ca_bundle=ca_bundle,
        )
        self._sleep = sleep
        self._describes: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self.http.close()
        self.auth.close()

    def authenticate(self) -> None:
        """Get a session before the first read (a token grant is not an API call)."""
        self.auth.authenticate()

    def learn_limits(self) -> None:
        """Ask the org for its rolling 24 h allowance and usage (``GET /limits``, one API call) when no response
        of this run has told the budget yet: a forecast needs the figure before anything was read."""
        budget = self.http.budget
        if budget is None or budget.account_used is not None:
            return
        try:
            body = self.http.json("GET", self._path("limits"), object_type="limits")
        except ApiError as exc:  # /limits needs "View Setup and Configuration"; a refusal still carries the header
            log.warning("salesforce: GET /limits refused (%s); the org's daily figure comes from the next call", exc.code)
            return
        daily = body.get("DailyApiRequests") if isinstance(body, dict) else None
        if isinstance(daily, dict) and isinstance(daily.get("Max"), int) and isinstance(daily.get("Remaining"), int):
            budget.observe_account(limit=daily["Max"], used=daily["Max"] - daily["Remaining"])

    def _path(self, rest: str) -> str:
        return f"/services/data/{self.version}/{rest}"

    # ------------------------------------------------------------------ metadata

    def describe(self, sobject: str) -> dict[str, Any]:
        """The object's describe (cached for the run)."""
        if sobject not in self._describes:
            body = self.http.json("GET", self._path(f"sobjects/{sobject}/describe"), object_type=sobject)
            if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
                raise MalformedResponse(f"salesforce describe {sobject}: no field list in the response")
            self._describes[sobject] = body
        return self._describes[sobject]

    def refresh_describe(self, sobject: str) -> None:
        """Forget the cached describe of ``sobject``: the next ``describe()`` reads it again."""
        self._describes.pop(sobject, None)

    def field_types(self, sobject: str) -> dict[str, str]:
        return {f["name"]: f["type"] for f in self.describe(sobject)["fields"]}

    # ------------------------------------------------------------------ queries

    def window_soql(self, sobject: str, fields: Sequence[str], window: Window) -> str:
        system = ["Id", "SystemModstamp"] + ([] if sobject in NOT_DELETABLE else ["IsDeleted"])
        wanted = system + [f for f in fields if f not in ("Id", "SystemModstamp", "IsDeleted")]
        return (f"SELECT {', '.join(wanted)} FROM {sobject} WHERE SystemModstamp >= {soql_datetime(window.start)} "
                f"AND SystemModstamp < {soql_datetime(window.end)} ORDER BY SystemModstamp, Id")

    def query_pages(self, soql: str, *, object_type: str, all_rows: bool = True) -> Iterator[list[dict[str, Any]]]:
        """Run a query (queryAll by default) and follow nextRecordsUrl; yields pages of up to 2,000."""
        body = self.http.json("GET", self._path("queryAll/" if all_rows else "query/"), object_type=object_type,
                              params={"q": soql}, headers={"Sforce-Query-Options": f"batchSize={QUERY_PAGE}"})
        yield from self._follow(body, object_type)

    def _follow(self, body: Any, object_type: str) -> Iterator[list[dict[str, Any]]]:
        while True:
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise MalformedResponse(f"salesforce {object_type}: query response without records; nothing was "
                                        "stored and no cursor moved")
            if body["records"]:
                yield body["records"]
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            body = self.http.json("GET", next_url, object_type=object_type,
                                  headers={"Sforce-Query-Options": f"batchSize={QUERY_PAGE}"})

    def composite(self, items: Sequence[WindowQuery | ChangeProbe]) -> list[dict[str, Any] | ProbeResult]:
        """Run window queries and change probes packed into as few Composite calls as the limits allow.

        A Composite call counts as ONE API call and carries at most 5 queries and 25 subrequests. A probe
        (getUpdated + getDeleted, which are not queries) tells whether an object changed in a window
        without a query, so an idle poll of more than five objects still costs one call.
        Returns, per item: the query's first body (continue it with `follow`) or a ProbeResult.
        """
        results: list[dict[str, Any] | ProbeResult] = []
        chunk: list[WindowQuery | ChangeProbe] = []
        queries = subrequests = 0
        for item in items:
            q, n = (1, 1) if isinstance(item, WindowQuery) else (0, 2)
            if chunk and (queries + q > COMPOSITE_QUERIES or subrequests + n > COMPOSITE_SUBREQUESTS):
                results.extend(self._composite_call(chunk))
                chunk, queries, subrequests = [], 0, 0
            chunk.append(item)
            queries, subrequests = queries + q, subrequests + n
        if chunk:
            results.extend(self._composite_call(chunk))
        return results

    def _composite_call(self, chunk: Sequence[WindowQuery | ChangeProbe]) -> list[dict[str, Any] | ProbeResult]:
        subrequests: list[dict[str, Any]] = []
        for i, item in enumerate(chunk):
            if isinstance(item, WindowQuery):
                subrequests.append({
                    "method": "GET", "referenceId": f"q{i}",
                    "url": self._path("queryAll/") + "?q=" + _url_quote(self.window_soql(item.sobject, item.fields,
                                                                                          item.window)),
                    "httpHeaders": {"Sforce-Query-Options": f"batchSize={QUERY_PAGE}"}})
            else:
                span = f"?start={_url_quote(_iso_minute(item.window.start))}&end={_url_quote(_iso_minute(item.window.end))}"
                subrequests.append({"method": "GET", "referenceId": f"u{i}",
                                    "url": self._path(f"sobjects/{item.sobject}/updated/") + span})
                if item.sobject not in NOT_DELETABLE:  # Users are deactivated (an update), never deleted
                    subrequests.append({"method": "GET", "referenceId": f"d{i}",
                                        "url": self._path(f"sobjects/{item.sobject}/deleted/") + span})
        label = chunk[0].sobject if len(chunk) == 1 else "composite"
        body = self.http.json("POST", self._path("composite"), object_type=label,
                              json_body={"allOrNone": False, "compositeRequest": subrequests})
        responses = {r.get("referenceId"): r for r in (body or {}).get("compositeResponse", [])}
        out: list[dict[str, Any] | ProbeResult] = []
        for i, item in enumerate(chunk):
            if isinstance(item, WindowQuery):
                out.append(self._sub_body(responses, f"q{i}", item.sobject))
            else:
                bodies = [self._sub_body(responses, f"{kind}{i}", item.sobject) for kind in ("u", "d")
                          if kind == "u" or item.sobject not in NOT_DELETABLE]
                covered = min(sf_to_ms(b.get("latestDateCovered")) or item.window.start for b in bodies)
                changed = any(b.get("ids") or b.get("deletedRecords") for b in bodies)
                out.append(ProbeResult(item.sobject, changed=changed, covered_until=min(covered, item.window.end)))
        return out

    def _sub_body(self, responses: dict[Any, dict[str, Any]], ref: str, sobject: str) -> dict[str, Any]:
        sub = responses.get(ref)
        if sub is None:
            raise MalformedResponse(f"salesforce composite: no answer for the {sobject} subrequest {ref}")
        status = int(sub.get("httpStatusCode", 0))
        if status >= 400:
            info = _describe(httpx.Response(status, json=sub.get("body")))
            raise ApiError(SYSTEM, f"composite {ref[0]} {sobject}", status, info.code, info.message, info.hint)
        if not isinstance(sub.get("body"), dict):
            raise MalformedResponse(f"salesforce composite: the {sobject} answer has no body")
        return sub["body"]

    def first_pages(self, requests: Sequence[tuple[str, Sequence[str], Window]]) -> list[tuple[str, dict[str, Any]]]:
        """Each window query's first page (five per Composite call); continue a body with `follow`."""
        bodies = self.composite([WindowQuery(o, tuple(f), w) for o, f, w in requests])
        return [(o, b) for (o, _, _), b in zip(requests, bodies) if isinstance(b, dict)]

    def follow(self, body: dict[str, Any], sobject: str) -> Iterator[list[dict[str, Any]]]:
        """The pages of a query result, from its first body on (query-more through nextRecordsUrl)."""
        return self._follow(body, sobject)

    def window_pages(self, requests: Sequence[tuple[str, Sequence[str], Window]]
                     ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Every page of several windows: first pages by Composite, the rest by query-more, in order."""
        for sobject, body in self.first_pages(requests):
            for page in self._follow(body, sobject):
                yield sobject, page

    # ------------------------------------------------------------------ bulk 2.0

    def bulk_query_pages(self, soql: str, *, object_type: str, all_rows: bool = True,
                         max_records: int = BULK_RESULT_ROWS) -> Iterator[list[dict[str, Any]]]:
        """A Bulk API 2.0 query job; CSV result sets typed back through describe."""
        job = self.http.json("POST", self._path("jobs/query"), object_type=object_type, json_body={
            "operation": "queryAll" if all_rows else "query", "query": soql, "contentType": "CSV",
            "columnDelimiter": "COMMA", "lineEnding": "LF"})
        job_id = str((job or {}).get("id"))
        for attempt in range(10_000):
            state = (self.http.json("GET", self._path(f"jobs/query/{job_id}"), object_type=object_type) or {}).get("state")
            if state == "JobComplete":
                break
            if state in ("Failed", "Aborted"):
                raise ApiError(SYSTEM, f"bulk query job {job_id}", 200, str(state), f"the job ended {state}",
                               "look at the job in Setup > Bulk Data Load Jobs")
            self._sleep(BULK_POLL_SECONDS[min(attempt, len(BULK_POLL_SECONDS) - 1)])
        types = self.field_types(object_type)
        locator: str | None = None
        while True:
            params: dict[str, Any] = {"maxRecords": max_records}
            if locator:
                params["locator"] = locator
            # a result set is streamed and handed on 2,000 rows at a time: memory stays that of a REST page
            with self.http.streamed("GET", self._path(f"jobs/query/{job_id}/results"), object_type=object_type,
                                    params=params, headers={"Accept": "text/csv"}) as response:
                locator = response.headers.get("sforce-locator")
                reader = csv.DictReader(_lines(response.iter_text()))
                while rows := [_typed(row, types) for row in itertools.islice(reader, QUERY_PAGE)]:
                    yield rows
            if not locator or locator == "null":
                return

    # ------------------------------------------------------------------ conversion

    def to_staged(self, sobject: str, record: dict[str, Any]) -> StagedRecord:
        data = {k: v for k, v in record.items() if k != "attributes"}
        modified = sf_to_ms(data.get("SystemModstamp"))
        if modified is None:
            raise MalformedResponse(f"salesforce {sobject} {data.get('Id')}: no SystemModstamp")
        email = data.get("Email")
        return StagedRecord(
            system=SYSTEM, object_type=sobject, record_id=str(data["Id"]), modified_at=modified, data=data,
            deleted=bool(data.get("IsDeleted")), merged_into=data.get("MasterRecordId") or None,
            email_norm=email.strip().casefold() if isinstance(email, str) and email.strip() else None,
        )

    def email_soql(self, sobject: str, fields: Sequence[str], emails: Sequence[str]) -> str:
        """A lookup by e-mail address, every value escaped (quotes and backslashes cannot change the query)."""
        return format_soql(f"SELECT {', '.join(fields)} FROM {sobject} WHERE Email IN {{}}", list(emails))


def _url_quote(soql: str) -> str:
    from urllib.parse import quote

    return quote(soql, safe="")


def _lines(chunks: Iterator[str]) -> Iterator[str]:
    """Text chunks -> lines with their endings kept (csv needs them inside quoted multi-line cells)."""
    rest = ""
    for chunk in chunks:
        parts = (rest + chunk).splitlines(keepends=True)
        rest = parts.pop() if parts and not parts[-1].endswith(("\n", "\r")) else ""
        yield from parts
    if rest:
        yield rest


def _typed(row: dict[str, str], types: dict[str, str]) -> dict[str, Any]:
    """Bulk CSV cells are text; give them their describe types (empty cell = null)."""
    out: dict[str, Any] = {}
    for key, text in row.items():
        kind = types.get(key, "string")
        if text == "":
            out[key] = None
        elif kind == "boolean":
            out[key] = text.lower() == "true"
        elif kind in ("int",):
            out[key] = int(float(text))
        elif kind in ("double", "currency", "percent"):
            out[key] = float(text)
        else:
            out[key] = text
    return out
