"""HubSpot's connection: auth (private app or OAuth), how its answers are classified, and shared shapes.

`connect` builds the one `HttpLayer` a `HubSpotSource` and a `HubSpotSink` share: every call paced,
budgeted and counted in the run's ledger.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from ...config import HubSpotConfig
from ...errors import ConfigError, ConfigProblem
from ..http import (
    DEFAULT_RETRY,
    ApiError,
    ErrorInfo,
    HttpLayer,
    MalformedResponse,
    RetryPolicy,
    StaticToken,
    Verdict,
    default_classify,
    retry_after_seconds,
)
from ..ledger import CallLedger
from ..pacing import DailyBudget, WindowPacer
from ..tls import make_ssl_context
from ..tokens import request_token, safe_code, safe_text

__all__ = ["MODIFIED_PROPERTY", "SYSTEM", "HubSpotOAuth", "authenticate", "close", "connect", "field", "malformed",
           "modified_property", "paged", "to_ms"]

SYSTEM = "hubspot"
#: the search rate limit is about 5 requests/s per account (4/s in older docs): stay under the smaller
SEARCH_PER_SECOND = 4
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate"}  # every other object: hs_lastmodifieddate

_HINTS = {
    "INVALID_AUTHENTICATION": "check the private app token (CONNECTOR_HUBSPOT_ACCESS_TOKEN) or the OAuth app",
    "EXPIRED_AUTHENTICATION": "the OAuth refresh token may have been revoked; reinstall the app",
    "MISSING_SCOPES": "give the private app the crm.objects.* read and write scopes it is missing",
    "VALIDATION_ERROR": "a value does not fit the HubSpot property; check the mapping for that property",
    "OBJECT_NOT_FOUND": "the record was deleted or merged in HubSpot",
}


def modified_property(object_type: str) -> str:
    return MODIFIED_PROPERTY.get(object_type, "hs_lastmodifieddate")


def to_ms(value: str | int | None) -> int | None:
    """HubSpot times: ISO-8601 strings ("2024-01-17T19:55:04.281Z") or epoch-ms strings."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)


def _classify(response: httpx.Response) -> Verdict:
    if response.status_code == 429:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("policyName") == "DAILY":
            return "budget"
    return default_classify(response)


def _wait_hint(response: httpx.Response) -> float | None:
    """How long to wait before sending again: ``Retry-After`` when HubSpot sends one. A rate-limit 429 need not
    carry it (api-facts.md A9), and a jittered backoff from half a second can spend every attempt inside the
    window while another app of the portal holds the burst limit, failing the sync (bench/run.py saw six 429s
    in 9.6 s). So, by ``policyName``: TEN_SECONDLY_ROLLING waits a fifth of its interval
    (``X-HubSpot-RateLimit-Interval-Milliseconds``, 10 s: 2 s), so that the retries span a whole window;
    SECONDLY (search) waits a second."""
    sent = retry_after_seconds(response)
    if sent is not None or response.status_code != 429:
        return sent
    try:
        body = response.json()
    except ValueError:
        return None
    policy = body.get("policyName") if isinstance(body, dict) else None
    if policy == "TEN_SECONDLY_ROLLING":
        try:
            interval = float(response.headers.get("x-hubspot-ratelimit-interval-milliseconds", "")) / 1000
        except ValueError:
            interval = 10.0
        return max(interval, 1.0) / 5
    if policy == "SECONDLY":
        return 1.0
    return None


def _describe(response: httpx.Response) -> ErrorInfo:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):  # not JSON, or not HubSpot's error object: the status and the text are all
        return ErrorInfo(code=str(response.status_code), message=response.text[:300])
    category = str(body.get("category") or body.get("errorType") or response.status_code)
    message = str(body.get("message") or "")
    return ErrorInfo(code=category, message=message, hint=_HINTS.get(category, ""))


#: HubSpot's refusals of the OAuth credentials (400 ``{"status": "BAD_REFRESH_TOKEN", ...}``): the key to fix
_TOKEN_REFUSALS = {
    "BAD_CLIENT_ID": "[hubspot].client_id",
    "BAD_CLIENT_SECRET": "[hubspot].client_secret",
    "BAD_REFRESH_TOKEN": "[hubspot].refresh_token",
    "BAD_GRANT_TYPE": "[hubspot].auth",
}


class HubSpotOAuth:
    """OAuth access tokens from a refresh token, renewed a minute before they expire (and on 401).

    Token requests are retried like any call (`tokens.request_token`); only a refusal of the app's
    credentials or the refresh token is a configuration error.
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str, refresh_token: str,
                 verify: Any, timeout: float, *, retry: RetryPolicy = DEFAULT_RETRY, sleep: Any = time.sleep,
                 transport: httpx.BaseTransport | None = None, ca_bundle: str | None = None) -> None:
        self._client = httpx.Client(base_url=base_url, verify=verify, timeout=timeout, trust_env=False,
                                    transport=transport)
        self._form = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": client_secret,
                      "refresh_token": refresh_token}
        self._retry, self._sleep, self._ca_bundle = retry, sleep, ca_bundle
        self._token: str | None = None
        self._expires_at = 0.0

    def close(self) -> None:
        self._client.close()

    def headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires_at - 60:
            self.refresh()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        """A new access token; raises ConfigError when HubSpot refuses the credentials, ApiError for any other
        refusal, TransientApiError or MalformedResponse when no answer was usable."""
        reply = request_token(self._client, "/oauth/v1/token", self._form, system=SYSTEM, retry=self._retry,
                              sleep=self._sleep, ca_bundle=self._ca_bundle)
        if not reply.granted:
            sent = [self._form["client_secret"], self._form["refresh_token"]]
            code = safe_code(reply.body.get("status") or reply.body.get("error"))
            message = safe_text(reply.body.get("message") or reply.body.get("error_description"), sent)
            key = _TOKEN_REFUSALS.get(code)
            if key is not None and reply.status in (400, 401, 403):
                raise ConfigError([ConfigProblem(
                    "hubspot", key, f"token refresh refused: {code}" + (f" ({message})" if message else ""),
                    "check [hubspot].client_id, client_secret and refresh_token (CONNECTOR_HUBSPOT_REFRESH_TOKEN); "
                    "a refresh token stops working when the app is uninstalled: install it again for a new one")])
            raise ApiError(SYSTEM, "POST /oauth/v1/token", reply.status, code, message or "(no message)",
                           "if this persists, check [hubspot].base_url and the app's settings")
        body = reply.body
        self._token = str(body["access_token"])
        try:
            lifetime = float(body.get("expires_in", 1800))
        except (TypeError, ValueError):
            lifetime = 1800.0
        self._expires_at = time.monotonic() + lifetime
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            self._form["refresh_token"] = body["refresh_token"]
        return True


def connect(config: HubSpotConfig, ledger: CallLedger, *, prior_calls_today: int = 0,
            transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
            sleep: Any = time.sleep) -> HttpLayer:
    """The HTTP layer for one run: the configured auth, the daily budget, the general and search pacers."""
    ca_bundle = str(config.ca_bundle) if config.ca_bundle else None
    verify = make_ssl_context(ca_bundle, system=SYSTEM)
    if config.auth == "private_app":
        if config.access_token is None:
            raise ConfigError("[hubspot].access_token is required for auth = 'private_app'")
        auth: Any = StaticToken(config.access_token.get_secret_value())
    else:
        if not (config.client_id and config.client_secret and config.refresh_token):
            raise ConfigError("[hubspot] OAuth needs client_id, client_secret and refresh_token")
        auth = HubSpotOAuth(config.base_url, config.client_id, config.client_secret.get_secret_value(),
                            config.refresh_token.get_secret_value(), verify, config.timeout_seconds,
                            retry=retry, sleep=sleep, transport=transport, ca_bundle=ca_bundle)
    return HttpLayer(
        SYSTEM, config.base_url, auth=auth, ledger=ledger,
        budget=DailyBudget(SYSTEM, config.daily_limit, config.daily_budget_share, prior_calls=prior_calls_today),
        pacers={"default": WindowPacer(config.requests_per_10s, 10.0, headroom=config.burst_share, sleep=sleep),
                "search": WindowPacer(SEARCH_PER_SECOND, 1.0, headroom=1.0, sleep=sleep)},
        verify=verify, timeout=config.timeout_seconds, retry=retry, classify=_classify, describe=_describe,
        wait_hint=_wait_hint,
        transport=transport, sleep=sleep, ca_bundle=ca_bundle,
    )


def authenticate(http: HttpLayer) -> None:
    """Get an OAuth access token before the first read (a private-app token has no grant: HubSpot checks it
    with the first call)."""
    if isinstance(http.auth, HubSpotOAuth):
        http.auth.headers()


def close(http: HttpLayer) -> None:
    http.close()
    if isinstance(http.auth, HubSpotOAuth):
        http.auth.close()


def paged(http: HttpLayer, path: str, params: dict[str, Any], object_type: str, after: str | None = None
           ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """GET `path` page after page by ``paging.next.after``; yields (results, token of the next page)."""
    while True:
        body = http.json("GET", path, object_type=object_type,
                              params={**params, **({"after": after} if after else {})})
        results = field(body, "results", list, object_type)
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if results:
            yield results, after
        if not after:
            return


def field(body: Any, key: str, kind: type, object_type: str) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        raise malformed(object_type, f"expected {key!r} as {kind.__name__}")
    return body[key]


def malformed(object_type: str, what: str) -> Exception:
    return MalformedResponse(f"hubspot {object_type}: unexpected response shape ({what}); nothing was stored "
                             "and no cursor moved")
