"""Token requests (Salesforce's OAuth 2.0 token endpoint, HubSpot's refresh grant), guarded like any call.

- Dropped or refused connections, timeouts, 408/423/425/429 and 5xx answers are retried with the HTTP
  layer's backoff (``Retry-After`` honoured); so is a garbled 200 (not JSON, or without an access token).
  What still fails after the last attempt is a ``TransientApiError`` (or ``MalformedResponse``): exit 1,
  "try again later", never "invalid configuration".
- A TLS certificate that does not verify is a ``ConfigError`` naming ``ca_bundle`` at once.
- Any other answer is returned: a grant, or a refusal that the adapter reads (only a refusal of the
  credentials themselves is a configuration error).
- A token body can echo what was sent: nothing from it reaches a message unless it passed `safe_text`.

Token requests are not API calls: they are neither counted in the run's ledger nor charged to the budget.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from ..logs import redact
from .http import (
    MalformedResponse,
    Retryable,
    RetryPolicy,
    TransientApiError,
    backoff,
    origin_of,
    retry_after_seconds,
)
from .tls import tls_config_error, verify_failure

__all__ = ["TokenReply", "request_token", "safe_code", "safe_text"]

log = logging.getLogger(__name__)

_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class TokenReply:
    """The token endpoint's final answer: a grant (status 200, a non-empty ``access_token``) or a refusal."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)  # the JSON object answered ({} when it was not one)

    @property
    def granted(self) -> bool:
        return self.status == 200


class _Garbled(Retryable):
    """A 200 whose body is not a usable grant (a proxy's page, a truncated body)."""


def request_token(client: httpx.Client, path: str, form: Mapping[str, str], *, system: str, retry: RetryPolicy,
                  sleep: Callable[[float], None], ca_bundle: str | None) -> TokenReply:
    """POST `form` to `path`, retrying what is transient; returns the grant or the refusal.

    Raises TransientApiError (still failing after the last attempt), MalformedResponse (every 200 was
    unusable) or ConfigError (the server's certificate does not verify).
    """
    where = f"{origin_of(client.base_url)}{path}"

    def attempt() -> TokenReply:
        try:
            response = client.post(path, data=dict(form))
        except httpx.TransportError as exc:
            failure = verify_failure(exc)
            if failure is not None:
                raise tls_config_error(system, str(client.base_url), ca_bundle, failure) from exc
            raise Retryable(f"cannot reach {where}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status in (408, 423, 425, 429) or status >= 500:
            raise Retryable(f"{where} answered {status}", retry_after_seconds(response))
        try:
            body = response.json()
        except ValueError:
            body = None
        if status == 200:
            if not isinstance(body, dict):
                raise _Garbled("the answer is not a JSON object")
            if not isinstance(body.get("access_token"), str) or not body["access_token"]:
                raise _Garbled("the answer has no access_token")
        return TokenReply(status, body if isinstance(body, dict) else {})

    retrying = Retrying(
        stop=stop_after_attempt(retry.attempts), wait=backoff(retry), retry=retry_if_exception_type(Retryable),
        sleep=sleep, reraise=True,
        before_sleep=lambda state: log.warning(
            "%s token request: %s; retry %d of %d", system, state.outcome.exception() if state.outcome else "?",
            state.attempt_number, retry.attempts - 1),
    )
    try:
        return retrying(attempt)
    except _Garbled as exc:
        raise MalformedResponse(
            f"{system} token request to {where}: {exc} after {retry.attempts} attempts (the body is not shown: it "
            "can hold credentials); check that the URL is the system's own token endpoint and that no proxy "
            "rewrites its answers") from exc
    except Retryable as exc:
        raise TransientApiError(
            f"{system} token request: still failing after {retry.attempts} attempts ({exc}); nothing was lost, "
            "the next cycle tries again") from exc


def safe_code(value: Any) -> str:
    """An error code fit to print: a short identifier, else "unknown"."""
    return value if isinstance(value, str) and _CODE.match(value) else "unknown"


def safe_text(value: Any, sent: Iterable[str] = (), limit: int = 200) -> str:
    """A vendor's description fit to print: what was `sent` masked, secrets and personal data redacted, short."""
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    for secret in sorted((s for s in sent if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[secret]")
    text = redact(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
