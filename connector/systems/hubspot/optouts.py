"""HubSpot opt-outs: "unsubscribe from all e-mail" through communication preferences v4, because
``hs_email_optout`` is read-only through the CRM API.

On a Marketing Hub Enterprise account one call opts out up to 100 addresses (``POST
/communication-preferences/v4/statuses/batch/unsubscribe-all``, scope ``subscription-status-batch-write``).
Other accounts cannot be granted that scope: their first batch is refused (403) and from then on the
addresses go one a call (``POST …/statuses/{email}/unsubscribe-all``), as they did before batches.

Each address gets its own outcome, whatever happens to the others: an input HubSpot reports in the batch
answer's ``errors`` fails alone; a batch the whole of which failed after every retry fails each of its
addresses (UNAVAILABLE, MALFORMED_RESPONSE); a batch refused whole for what it holds (a 4xx) is sent again
address by address, so one bad address fails alone. BudgetExhausted still stops the cycle. No outcome
names an address (personal data): vendor messages are masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from ..http import ApiError, HttpLayer, MalformedResponse, TransientApiError
from ..ports import WriteOutcome

__all__ = ["OPT_OUT_BATCH", "OptOuts", "opt_out_calls"]

#: addresses per batch call: HubSpot caps its batch endpoints at 100 inputs (the v4 spec states no cap
#: for this one, so the sandbox applies the same 100; docs/sandbox/hubspot.md)
OPT_OUT_BATCH = 100
_BATCH_PATH = "/communication-preferences/v4/statuses/batch/unsubscribe-all"
_OBJECT = "subscriptions"
_UNAVAILABLE = WriteOutcome(False, code="UNAVAILABLE", message=(
    "the subscription preferences API kept failing (server errors, throttling or timeouts) after every retry"))
_NOT_JSON = WriteOutcome(False, code="MALFORMED_RESPONSE", message=(
    "the subscription preferences API answered with a body that is not JSON"))
_NOT_A_BATCH = WriteOutcome(False, code="MALFORMED_RESPONSE", message=(
    "the subscription preferences API answered a batch with a body that is not a batch response"))
_NOT_MENTIONED = WriteOutcome(False, code="NO_RESULT", message="HubSpot's answer did not mention this address")


def opt_out_calls(addresses: int, *, batched: bool = True) -> int:
    """Calls to opt out `addresses`: a batch call per 100 on Enterprise accounts, else one per address."""
    return -(-addresses // OPT_OUT_BATCH) if batched else addresses


class OptOuts:
    """Sends opt-outs in batches until HubSpot refuses the batch scope, then one address a call (for the
    rest of this object's life: one refused call per run on accounts below Enterprise)."""

    def __init__(self, http: HttpLayer) -> None:
        self.http = http
        #: False once HubSpot refused a batch with 403 (the account or the app lacks the batch scope)
        self.batched = True

    def send(self, emails: Sequence[str]) -> dict[str, WriteOutcome]:
        """An outcome per address of `emails` (keyed as given), in batches of 100 while batches are allowed."""
        addresses = list(dict.fromkeys(emails))
        out: dict[str, WriteOutcome] = {}
        for start in range(0, len(addresses), OPT_OUT_BATCH):
            chunk = addresses[start:start + OPT_OUT_BATCH]
            if self.batched:
                try:
                    out.update(_batch(self.http, chunk))
                    continue
                except _SendSingly as refused:
                    self.batched = not refused.scope
            out.update(_singly(self.http, chunk))
        return out


class _SendSingly(Exception):
    """HubSpot refused a batch whole for what it holds (or, with `scope`, for the app's scopes)."""

    def __init__(self, *, scope: bool) -> None:
        super().__init__("batch refused")
        self.scope = scope


def _batch(http: HttpLayer, chunk: list[str]) -> dict[str, WriteOutcome]:
    """One batch call for `chunk` (at most 100 addresses); raises _SendSingly when it is refused whole."""
    try:
        body = http.json("POST", _BATCH_PATH, object_type=_OBJECT, params={"channel": "EMAIL", "verbose": "true"},
                         json_body={"inputs": chunk})
    except ApiError as exc:
        if 400 <= exc.status < 500 and exc.status != 401:
            raise _SendSingly(scope=exc.status == 403) from exc
        failed = WriteOutcome(False, code=exc.code or str(exc.status), message=_masked(exc.vendor_message, chunk))
        return dict.fromkeys(chunk, failed)
    except TransientApiError:
        return dict.fromkeys(chunk, _UNAVAILABLE)
    except MalformedResponse:
        return dict.fromkeys(chunk, _NOT_JSON)
    return _batch_outcomes(body, chunk)


def _batch_outcomes(body: Any, chunk: list[str]) -> dict[str, WriteOutcome]:
    """Outcomes from a batch answer (BatchResponsePublicBulkOptOutFromAllResponse, asked ``verbose``): an
    address in ``results`` is opted out, one named in an error's ``context`` failed, and one the answer
    does not mention was not opted out (never assume it was)."""
    if (not isinstance(body, dict) or not isinstance(body.get("results", []), list)
            or not isinstance(body.get("errors") or [], list)):
        return dict.fromkeys(chunk, _NOT_A_BATCH)
    by_address: dict[str, list[str]] = {}
    for email in chunk:
        by_address.setdefault(_canonical(email), []).append(email)
    out: dict[str, WriteOutcome] = {}
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        details = [d for d in error.get("errors") or [] if isinstance(d, dict)]
        codes = [str(c) for d in details for c in (d.get("subCategory"), d.get("code")) if isinstance(c, str) and c]
        messages = [str(d["message"]) for d in details if d.get("message")] or [str(error.get("message") or "")]
        failed = WriteOutcome(False, code=codes[0] if codes else str(error.get("category") or "ERROR"),
                              message=_masked("; ".join(messages), chunk))
        for named in _named(error, details):
            for email in by_address.get(named, []):
                out[email] = failed
    for result in body.get("results") or []:
        if isinstance(result, dict):
            for email in by_address.get(_canonical(result.get("subscriberIdString")), []):
                out.setdefault(email, WriteOutcome(True))
    return {email: out.get(email, _NOT_MENTIONED) for email in chunk}


def _named(error: dict[str, Any], details: list[dict[str, Any]]) -> set[str]:
    """The inputs an error names: every string in its context (and its details' contexts), canonical."""
    names: set[str] = set()
    for context in (error.get("context"), *(d.get("context") for d in details)):
        if isinstance(context, dict):
            for values in context.values():
                for value in values if isinstance(values, list) else [values]:
                    names.add(_canonical(value))
    return names


def _canonical(value: object) -> str:
    return value.strip().casefold() if isinstance(value, str) else ""


def _singly(http: HttpLayer, emails: Iterable[str]) -> dict[str, WriteOutcome]:
    """One call per address (every account's endpoint). The address is the path of the call, so no outcome
    repeats the URL or the address."""
    out: dict[str, WriteOutcome] = {}
    for email in emails:
        try:
            http.json("POST", f"/communication-preferences/v4/statuses/{quote(email, safe='@')}/unsubscribe-all",
                      object_type=_OBJECT, params={"channel": "EMAIL"})
            out[email] = WriteOutcome(True)
        except ApiError as exc:
            out[email] = WriteOutcome(False, code=exc.code or str(exc.status),
                                      message=_masked(exc.vendor_message, [email]))
        except TransientApiError:
            out[email] = _UNAVAILABLE
        except MalformedResponse:
            out[email] = _NOT_JSON
    return out


def _masked(message: str, emails: Iterable[str]) -> str:
    """A vendor message with every address it may repeat (plain or URL-encoded, in any case) masked."""
    forms = {form for email in emails if email for form in (email, quote(email, safe="@"), quote(email, safe=""))}
    if not forms or not message:
        return message
    pattern = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, "[email]", message, flags=re.IGNORECASE)
