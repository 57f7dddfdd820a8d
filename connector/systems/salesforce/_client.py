"""Salesforce's connection: auth (OAuth password, client credentials, JWT), how its answers are classified,
and its time literals.

`connect` builds the one `HttpLayer` a `SalesforceSource` and a `SalesforceSink` share: every call
budgeted against the org's daily limit (learnt from ``Sforce-Limit-Info``) and counted in the ledger.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

from ...config import SalesforceConfig
from ...errors import ConfigError, ConfigProblem
from ..http import DEFAULT_RETRY, ApiError, ErrorInfo, HttpLayer, RetryPolicy, Verdict
from ..ledger import CallLedger
from ..pacing import DailyBudget, parse_sforce_limit_info
from ..tls import make_ssl_context
from ..tokens import TokenReply, request_token, safe_code, safe_text

__all__ = ["QUERY_PAGE", "SYSTEM", "SalesforceAuth", "connect", "describe_error", "sf_to_ms", "soql_datetime"]

SYSTEM = "salesforce"
TOKEN_PATH = "/services/oauth2/token"
#: records per REST query page (``Sforce-Query-Options: batchSize``)
QUERY_PAGE = 2000

_HINTS = {
    "INVALID_SESSION_ID": "check the Salesforce credentials in the configuration",
    "INVALID_FIELD": "the field does not exist on this object in your org: fix the mapping, or add the custom "
                     "field (`connector setup` lists the ones the connector needs)",
    "INVALID_TYPE": "the object is not available to the connector's user: check its profile or permission set",
    "INSUFFICIENT_ACCESS": "the connector's user lacks access: grant it in its permission set",
    "API_DISABLED_FOR_ORG": "the org's edition has no API access",
    "MALFORMED_QUERY": "this is a connector bug: please report it with this message",
}


def soql_datetime(ms: int) -> str:
    """A SOQL datetime literal (unquoted, UTC, millisecond precision)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


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
    if any("TotalRequests" in str(e.get("message", ""))
           for e in errors if e.get("errorCode") == "REQUEST_LIMIT_EXCEEDED"):
        return True
    usage = parse_sforce_limit_info(response.headers.get("sforce-limit-info"))
    return usage is not None and usage[0] >= usage[1]


def describe_error(response: httpx.Response) -> ErrorInfo:
    """A Salesforce error answer's code, message and fix (a Composite subrequest's, too)."""
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


def connect(config: SalesforceConfig, ledger: CallLedger, *, prior_calls_today: int = 0,
            daily_limit: int | None = None, transport: httpx.BaseTransport | None = None,
            retry: RetryPolicy = DEFAULT_RETRY, sleep: Any = time.sleep) -> tuple[HttpLayer, SalesforceAuth]:
    """The HTTP layer for one run and the `SalesforceAuth` that signs its calls."""
    ca_bundle = str(config.ca_bundle) if config.ca_bundle else None
    verify = make_ssl_context(ca_bundle, system=SYSTEM)
    auth = SalesforceAuth(config, verify, retry=retry, sleep=sleep, transport=transport)
    # the org's real limit is learnt from Sforce-Limit-Info on every response (`daily_limit` can only lower it)
    http = HttpLayer(
        SYSTEM, config.instance_url, auth=auth, ledger=ledger,
        budget=DailyBudget(SYSTEM, daily_limit, config.daily_budget_share, prior_calls=prior_calls_today),
        verify=verify, timeout=config.timeout_seconds, retry=retry, classify=_classify, describe=describe_error,
        transport=transport, sleep=sleep, ca_bundle=ca_bundle,
    )
    return http, auth
