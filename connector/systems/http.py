"""One HTTP layer per system: every request counted, paced, retried and translated in one place.

The adapters above it only say what to ask for. This layer:

- counts every request that leaves the process in the run's ``CallLedger`` (per system and object);
- waits for the system's pacers (burst window, search rate) and checks the daily budget first;
- retries 429/5xx/423, timeouts and dropped connections with jittered exponential backoff
  (tenacity), honouring ``Retry-After`` when the server sends one; a TLS certificate that does not
  verify is a configuration error (``[<system>].ca_bundle``), never retried (see ``tls.py``);
- refreshes an expired token once per request (401) and sends the request again;
- turns a spent daily allowance into ``BudgetExhausted`` (the cycle stops cleanly and resumes later)
  and any other refusal into ``ApiError`` carrying the system's own code, message and a fix.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import unquote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ..errors import ConnectorError, RetryLater
from ..logs import redact
from .ledger import CallLedger
from .pacing import BudgetExhausted, DailyBudget, WindowPacer
from .tls import make_ssl_context, tls_config_error, verify_failure

__all__ = [
    "HttpLayer",
    "Auth",
    "StaticToken",
    "RetryPolicy",
    "ApiError",
    "TransientApiError",
    "MalformedResponse",
    "json_object",
    "ErrorInfo",
    "Verdict",
    "make_ssl_context",
    "backoff",
    "DEFAULT_RETRY",
    "Retryable",
    "retry_after_seconds",
    "origin_of",
]

log = logging.getLogger(__name__)

Verdict = Literal["ok", "retry", "refresh", "budget", "fail"]


class ApiError(ConnectorError):
    """The system refused a request and retrying will not help; the message says what to fix."""

    def __init__(self, system: str, endpoint: str, status: int, code: str, message: str, hint: str = "") -> None:
        self.system, self.endpoint, self.status, self.code, self.vendor_message, self.hint = (
            system, endpoint, status, code, message, hint)
        text = f"{system} {endpoint} answered {status} {code}: {message}"
        super().__init__(f"{text} (fix: {hint})" if hint else text)


class TransientApiError(RetryLater):
    """A transient failure outlasted every retry; the next cycle starts again from the same cursor."""


class MalformedResponse(ConnectorError):
    """A response body could not be parsed; nothing derived from it is stored or advanced."""


def json_object(body: Any, system: str, what: str) -> dict[str, Any]:
    """A parsed body that must be a JSON object (an empty body reads as ``{}``); anything else (a list, a
    string) raises MalformedResponse naming the call, never the body's content (it may hold personal data)."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise MalformedResponse(f"{system} {what}: expected a JSON object, got a JSON {type(body).__name__}; "
                                "nothing from it was stored and no cursor moved")
    return body


@dataclass(frozen=True)
class ErrorInfo:
    """A system's own reading of an error response."""

    code: str
    message: str
    hint: str = ""


class Auth(Protocol):
    """Supplies credentials; `refresh` gets new ones after a 401 and says whether it could."""

    def headers(self) -> dict[str, str]: ...

    def refresh(self) -> bool: ...


class StaticToken:
    """A bearer token that cannot be refreshed (private app token, given session id)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        return False


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up until the next cycle."""

    attempts: int = 6
    initial: float = 0.5
    maximum: float = 30.0
    max_retry_after: float = 300.0


#: the policy adapters use unless told otherwise
DEFAULT_RETRY = RetryPolicy()


class Retryable(Exception):
    """Inside the retry loop only: this attempt failed transiently (tenacity tries again)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def backoff(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """Tenacity's wait: exactly ``Retry-After`` (capped) when the server sent one, else jittered exponential."""
    jitter = wait_random_exponential(multiplier=policy.initial, max=policy.maximum)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        return float(jitter(state))

    return wait


Classifier = Callable[[httpx.Response], Verdict]
Describer = Callable[[httpx.Response], ErrorInfo]


def default_classify(response: httpx.Response) -> Verdict:
    status = response.status_code
    if status < 400:
        return "ok"
    if status == 401:
        return "refresh"
    if status in (408, 423, 425, 429) or status >= 500:
        return "retry"
    return "fail"


def default_describe(response: httpx.Response) -> ErrorInfo:
    return ErrorInfo(code=str(response.status_code), message=response.text[:500])


class HttpLayer:
    """Sends requests to one system on behalf of its adapter."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        auth: Auth,
        ledger: CallLedger,
        budget: DailyBudget | None = None,
        pacers: Mapping[str, WindowPacer] | None = None,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        classify: Classifier = default_classify,
        describe: Describer = default_describe,
        wait_hint: Callable[[httpx.Response], float | None] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ca_bundle: str | None = None,
    ) -> None:
        self.system = system
        self.ca_bundle = ca_bundle  # named in the error when a certificate does not verify
        self.auth = auth
        self.ledger = ledger
        self.budget = budget
        self.pacers = dict(pacers or {})
        self.retry = retry
        self._classify = classify
        self._describe = describe
        #: how long a retried answer asks to wait (default: its Retry-After header); None: jittered backoff
        self._wait_hint = wait_hint or retry_after_seconds
        self._sleep = sleep
        self._client = httpx.Client(base_url=base_url, verify=verify, timeout=timeout, transport=transport,
                                    trust_env=False, headers={"User-Agent": "hubspot-salesforce-connector"})

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ public

    def request(
        self,
        method: str,
        url: str,
        *,
        object_type: str,
        pace: str = "default",
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one logical request (retrying as needed); returns the successful response.

        With `stream`, the body is not read: the caller reads it and must close the response (use `streamed`).
        """
        endpoint = _endpoint(method, url)

        def attempt() -> httpx.Response:
            return self._attempt(method, url, endpoint, object_type, pace, params, json_body, content, headers,
                                 stream)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=backoff(self.retry),
            retry=retry_if_exception_type(Retryable),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "%s %s: %s; retry %d of %d", self.system, endpoint,
                state.outcome.exception() if state.outcome else "?", state.attempt_number, self.retry.attempts - 1),
        )
        try:
            return retrying(attempt)
        except Retryable as exc:
            raise TransientApiError(
                f"{self.system} {endpoint}: still failing after {self.retry.attempts} attempts ({exc}); "
                "nothing was lost, the next cycle starts from the same place"
            ) from exc

    @contextmanager
    def streamed(self, method: str, url: str, *, object_type: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """`request` without reading the body, closed on exit: large results never sit in memory whole."""
        response = self.request(method, url, object_type=object_type, stream=True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    def json(self, method: str, url: str, *, object_type: str, **kwargs: Any) -> Any:
        """`request` and parse the JSON body; a truncated or garbled body is retried, then MalformedResponse."""
        endpoint = _endpoint(method, url)
        last: Exception | None = None
        for _ in range(max(1, self.retry.attempts // 2)):
            response = self.request(method, url, object_type=object_type, **kwargs)
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                last = exc
                log.warning("%s %s: unparseable response body (%s); asking again", self.system, endpoint, exc)
        raise MalformedResponse(
            f"{self.system} {endpoint}: the response body is not valid JSON ({last}); nothing from it was stored "
            "and no cursor moved. If this persists, the system or a proxy in between is corrupting responses."
        )

    # ------------------------------------------------------------------ internals

    def _attempt(self, method: str, url: str, endpoint: str, object_type: str, pace: str,
                 params: Mapping[str, Any] | None, json_body: Any, content: bytes | str | None,
                 headers: Mapping[str, str] | None, stream: bool = False) -> httpx.Response:
        refreshed = False
        while True:
            if self.budget is not None:
                self.budget.check()
            for name in ("default", pace) if pace != "default" else ("default",):
                pacer = self.pacers.get(name)
                if pacer is not None:
                    pacer.acquire()
            request_headers = {**self.auth.headers(), **(headers or {})}
            try:
                request = self._client.build_request(method, url, params=params, json=json_body, content=content,
                                                     headers=request_headers)
                response = self._client.send(request, stream=stream)
            except httpx.ConnectError as exc:
                failure = verify_failure(exc)
                if failure is not None:  # a trust problem: retrying cannot fix it
                    raise tls_config_error(self.system, str(self._client.base_url), self.ca_bundle, failure) from exc
                raise Retryable(f"cannot connect to {origin_of(self._client.base_url)}: {exc}") from exc
            except httpx.TimeoutException as exc:
                self._count(object_type)
                raise Retryable(f"timed out: {type(exc).__name__}") from exc
            except httpx.TransportError as exc:
                self._count(object_type)
                raise Retryable(f"connection dropped: {exc}") from exc
            self._count(object_type)
            for pacer in self.pacers.values():
                pacer.observe(response.headers)
            if self.budget is not None:
                self.budget.observe(response.headers)
            verdict = self._classify(response)
            if verdict == "ok":
                return response
            if stream:  # an error answer is small: read it for the message, then let the connection go
                response.read()
                response.close()
            if verdict == "refresh" and not refreshed and self.auth.refresh():
                refreshed = True
                continue
            info = self._describe(response)
            if verdict == "retry":
                raise Retryable(f"{response.status_code} {info.code}", self._wait_hint(response))
            if verdict == "budget":
                raise BudgetExhausted(f"{self.system}: {info.message} ({info.code}); the sync resumes on a later cycle")
            if verdict == "refresh":
                raise ApiError(self.system, endpoint, response.status_code, info.code, info.message,
                               info.hint or "check the credentials in the configuration")
            raise ApiError(self.system, endpoint, response.status_code, info.code, info.message, info.hint)

    def _count(self, object_type: str) -> None:
        self.ledger.record(self.system, object_type)
        if self.budget is not None:
            self.budget.spend()


def _endpoint(method: str, url: str) -> str:
    """How errors and logs name a request: its path without the query, personal data in it masked (the
    subscription preferences API takes an e-mail address as a path segment)."""
    return f"{method} {redact(unquote(url.split('?', 1)[0]))}"


def origin_of(url: httpx.URL) -> str:
    """``https://host:port`` of a URL: where a connection failed, without path or query."""
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta or HTTP date), or None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
