"""Composite requests: window queries and change probes packed into as few calls as Salesforce allows.

A Composite call counts as ONE API call and carries at most 5 queries and 25 subrequests. A probe
(getUpdated + getDeleted, which are not queries) tells whether an object changed in a window without
a query, so an idle poll of more than five objects still costs one call. Windows are read with
``queryAll`` on ``SystemModstamp`` (half-open, ordered by SystemModstamp then Id), so one query returns
changes, deletions (``IsDeleted``) and merge losers (``MasterRecordId``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from ...errors import ConnectorError
from ..http import ApiError, MalformedResponse, json_object
from ..ports import ChangeProbe, ProbeResult, Window, WindowRead
from ._client import QUERY_PAGE, SYSTEM, describe_error, sf_to_ms, soql_datetime

if TYPE_CHECKING:
    from .source import SalesforceSource

__all__ = ["COMPOSITE_QUERIES", "COMPOSITE_SUBREQUESTS", "NOT_DELETABLE", "composite", "composite_answers",
           "query_more", "window_soql"]

COMPOSITE_SUBREQUESTS = 25
#: a Composite call carries at most this many query (or collection) subrequests
COMPOSITE_QUERIES = 5
#: getUpdated and getDeleted ignore the seconds of their bounds: they answer in whole minutes
MINUTE_MS = 60_000
#: objects without IsDeleted (Users are deactivated, never deleted)
NOT_DELETABLE = frozenset({"User"})


def _iso_minute(ms: int) -> str:
    """A getUpdated/getDeleted bound: Salesforce ignores the seconds, so none are sent (what is asked is
    what is answered, whichever way a server would treat them)."""
    return datetime.fromtimestamp(ms // MINUTE_MS * MINUTE_MS / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:00+00:00")


def window_soql(sobject: str, fields: Sequence[str], window: Window) -> str:
    system = ["Id", "SystemModstamp"] + ([] if sobject in NOT_DELETABLE else ["IsDeleted"])
    wanted = system + [f for f in fields if f not in ("Id", "SystemModstamp", "IsDeleted")]
    ranges = [f"SystemModstamp >= {soql_datetime(start)} AND SystemModstamp < {soql_datetime(end)}"
              for start, end in window.ranges()]
    where = ranges[0] if len(ranges) == 1 else " OR ".join(f"({r})" for r in ranges)  # less the window's skip
    return f"SELECT {', '.join(wanted)} FROM {sobject} WHERE {where} ORDER BY SystemModstamp, Id"

def composite_answers(source: SalesforceSource, subrequests: Sequence[dict[str, Any]], label: str, what: str
                      ) -> dict[Any, dict[str, Any]]:
    """One Composite call (ONE API call; `label` is what the ledger counts it under) and its subrequests'
    answers by ``referenceId``; `what` names the call if the answer is no JSON object."""
    body = source.http.json("POST", source.path("composite"), object_type=label,
                            json_body={"allOrNone": False, "compositeRequest": list(subrequests)})
    return {r.get("referenceId"): r for r in json_object(body, SYSTEM, what).get("compositeResponse") or []
            if isinstance(r, dict)}


def composite(source: SalesforceSource,
              items: Sequence[WindowRead | ChangeProbe]) -> list[dict[str, Any] | ProbeResult]:
    """Run window queries and change probes packed into as few Composite calls as the limits allow.

    A Composite call counts as ONE API call and carries at most 5 queries and 25 subrequests. A probe
    (getUpdated + getDeleted, which are not queries) tells whether an object changed in a window
    without a query, so an idle poll of more than five objects still costs one call.
    Returns, per item: the query's first body (continue it with `follow`) or a ProbeResult.
    """
    results: list[dict[str, Any] | ProbeResult] = []
    chunk: list[WindowRead | ChangeProbe] = []
    queries = subrequests = 0
    for item in items:
        q, n = (1, 1) if isinstance(item, WindowRead) else (0, 2)
        if chunk and (queries + q > COMPOSITE_QUERIES or subrequests + n > COMPOSITE_SUBREQUESTS):
            results.extend(_composite_call(source, chunk))
            chunk, queries, subrequests = [], 0, 0
        chunk.append(item)
        queries, subrequests = queries + q, subrequests + n
    if chunk:
        results.extend(_composite_call(source, chunk))
    return results

def _composite_call(source: SalesforceSource,
                    chunk: Sequence[WindowRead | ChangeProbe]) -> list[dict[str, Any] | ProbeResult]:
    subrequests: list[dict[str, Any]] = []
    for i, item in enumerate(chunk):
        if isinstance(item, WindowRead):
            subrequests.append({
                "method": "GET", "referenceId": f"q{i}",
                "url": source.path("queryAll/") + "?q=" + _url_quote(window_soql(item.object_type, item.fields,
                                                                                      item.window)),
                "httpHeaders": {"Sforce-Query-Options": f"batchSize={QUERY_PAGE}"}})
        else:
            span = f"?start={_url_quote(_iso_minute(item.window.start))}&end={_url_quote(_iso_minute(item.window.end))}"
            subrequests.append({"method": "GET", "referenceId": f"u{i}",
                                "url": source.path(f"sobjects/{item.object_type}/updated/") + span})
            if item.object_type not in NOT_DELETABLE:  # Users are deactivated (an update), never deleted
                subrequests.append({"method": "GET", "referenceId": f"d{i}",
                                    "url": source.path(f"sobjects/{item.object_type}/deleted/") + span})
    label = chunk[0].object_type if len(chunk) == 1 else "composite"
    responses = composite_answers(source, subrequests, label, f"composite {label}")
    out: list[dict[str, Any] | ProbeResult] = []
    for i, item in enumerate(chunk):
        if isinstance(item, WindowRead):
            out.append(_sub_body(responses, f"q{i}", item.object_type))
        else:
            bodies = [_sub_body(responses, f"{kind}{i}", item.object_type) for kind in ("u", "d")
                      if kind == "u" or item.object_type not in NOT_DELETABLE]
            covered = min(sf_to_ms(b.get("latestDateCovered")) or item.window.start for b in bodies)
            changed = any(b.get("ids") or b.get("deletedRecords") for b in bodies)
            out.append(ProbeResult(item.object_type, changed=changed, covered_until=min(covered, item.window.end)))
    return out

def _sub_body(responses: dict[Any, dict[str, Any]], ref: str, sobject: str) -> dict[str, Any]:
    sub = responses.get(ref)
    if sub is None:
        raise MalformedResponse(f"salesforce composite: no answer for the {sobject} subrequest {ref}")
    status = int(sub.get("httpStatusCode", 0))
    if status >= 400:
        info = describe_error(httpx.Response(status, json=sub.get("body")))
        raise ApiError(SYSTEM, f"composite {ref[0]} {sobject}", status, info.code, info.message, info.hint)
    if not isinstance(sub.get("body"), dict):
        raise MalformedResponse(f"salesforce composite: the {sobject} answer has no body")
    return sub["body"]


def _url_quote(soql: str) -> str:
    return quote(soql, safe="")


def query_more(source: SalesforceSource, pages: Sequence[tuple[str, str]]) -> list[dict[str, Any] | ConnectorError]:
    """The next pages of several queries (`pages`: object and ``nextRecordsUrl`` each, at most five) in ONE
    Composite call instead of one call each. Per page, its body, or the error its subrequest got (raised only
    when its own read reaches it: another query's failure is not this one's)."""
    subrequests = [{"method": "GET", "referenceId": f"m{i}", "url": url,
                    "httpHeaders": {"Sforce-Query-Options": f"batchSize={QUERY_PAGE}"}}
                   for i, (_, url) in enumerate(pages)]
    label = pages[0][0] if len(pages) == 1 else "composite"
    responses = composite_answers(source, subrequests, label, f"composite {label}")
    out: list[dict[str, Any] | ConnectorError] = []
    for i, (sobject, _) in enumerate(pages):
        try:
            out.append(_sub_body(responses, f"m{i}", sobject))
        except (ApiError, MalformedResponse) as exc:
            out.append(exc)
    return out
