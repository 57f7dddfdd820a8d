"""Salesforce's Source: leads, contacts, opportunities and activity, read incrementally.

Up to five window queries travel in one Composite request (`composite`), which counts as ONE API
call: an idle poll of five objects costs one call, and change probes cover the rest. Large first loads
go through Bulk API 2.0 query jobs (`bulk`). Every literal that comes from data is escaped with
simple-salesforce's ``format_soql``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
from simple_salesforce.format import format_soql

from ...config import SalesforceConfig
from ...errors import ConnectorError
from ..http import DEFAULT_RETRY, ApiError, MalformedResponse, RetryPolicy
from ..ledger import CallLedger
from ..ports import ChangeProbe, LookupKey, ProbeResult, StagedRecord, Window, WindowPages, WindowRead
from ._client import QUERY_PAGE, SYSTEM, connect
from .bulk import BULK_RESULT_ROWS, bulk_query_pages
from .composite import COMPOSITE_QUERIES, composite, query_more, window_soql
from .lookups import salesforce_find
from .metadata import create_custom_field
from .records import to_staged

__all__ = ["SalesforceSource"]

log = logging.getLogger(__name__)


class SalesforceSource:
    """Reads Salesforce for one run; counts every call in `ledger`."""

    system = SYSTEM
    #: window reads one Composite call answers; a poll probes further objects instead
    reads_per_call = COMPOSITE_QUERIES

    def __init__(self, config: SalesforceConfig, ledger: CallLedger, *, prior_calls_today: int = 0,
                 daily_limit: int | None = None, transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY, sleep: Any = time.sleep) -> None:
        self.version = f"v{config.api_version}"
        self.bulk_threshold = config.bulk_threshold
        self.http, self.auth = connect(config, ledger, prior_calls_today=prior_calls_today, daily_limit=daily_limit,
                                       transport=transport, retry=retry, sleep=sleep)
        self.sleep = sleep
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
            body = self.http.json("GET", self.path("limits"), object_type="limits")
        except ApiError as exc:  # /limits needs "View Setup and Configuration"; a refusal still carries the header
            log.warning("salesforce: GET /limits refused (%s); the org's daily figure comes from the next call",
                        exc.code)
            return
        daily = body.get("DailyApiRequests") if isinstance(body, dict) else None
        if isinstance(daily, dict) and isinstance(daily.get("Max"), int) and isinstance(daily.get("Remaining"), int):
            budget.observe_account(limit=daily["Max"], used=daily["Max"] - daily["Remaining"])

    def path(self, rest: str) -> str:
        """The REST path of `rest` in the configured API version."""
        return f"/services/data/{self.version}/{rest}"

    # ------------------------------------------------------------------ metadata

    def describe(self, sobject: str) -> dict[str, Any]:
        """The object's describe (cached for the run)."""
        if sobject not in self._describes:
            body = self.http.json("GET", self.path(f"sobjects/{sobject}/describe"), object_type=sobject)
            if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
                raise MalformedResponse(f"salesforce describe {sobject}: no field list in the response")
            self._describes[sobject] = body
        return self._describes[sobject]

    def refresh_describe(self, sobject: str) -> None:
        """Forget the cached describe of `sobject`: the next `describe` reads it again (after a setup created
        fields)."""
        self._describes.pop(sobject, None)

    def create_custom_field(self, sobject: str, body: dict[str, Any]) -> None:
        """Add a custom field (the sandbox only: see `metadata`); raises ApiError when refused. The cached
        describe is not refreshed."""
        create_custom_field(self.http, sobject, body)

    def calls_made(self) -> int:
        """The calls Salesforce has been sent so far in this run (from the shared ledger)."""
        return self.http.ledger.total(self.system)

    def field_types(self, sobject: str) -> dict[str, str]:
        return {f["name"]: f["type"] for f in self.describe(sobject)["fields"]}

    # ------------------------------------------------------------------ queries

    def window_soql(self, sobject: str, fields: Sequence[str], window: Window) -> str:
        return window_soql(sobject, fields, window)

    def query_pages(self, soql: str, *, object_type: str, all_rows: bool = True) -> Iterator[list[dict[str, Any]]]:
        """Run a query (queryAll by default) and follow nextRecordsUrl; yields pages of up to 2,000."""
        body = self.http.json("GET", self.path("queryAll/" if all_rows else "query/"), object_type=object_type,
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

    def composite(self, items: Sequence[WindowRead | ChangeProbe]) -> list[dict[str, Any] | ProbeResult]:
        """Window queries and change probes packed into Composite calls: per item, the query's first body
        (continue it with `follow`) or a ProbeResult."""
        return composite(self, items)

    def first_pages(self, requests: Sequence[tuple[str, Sequence[str], Window]]) -> list[tuple[str, dict[str, Any]]]:
        """Each window query's first page (five per Composite call); continue a body with `follow`."""
        bodies = self.composite([WindowRead(o, tuple(f), w) for o, f, w in requests])
        return [(o, b) for (o, _, _), b in zip(requests, bodies, strict=True) if isinstance(b, dict)]

    def follow(self, body: dict[str, Any], sobject: str) -> Iterator[list[dict[str, Any]]]:
        """The pages of a query result, from its first body on (query-more through nextRecordsUrl)."""
        return self._follow(body, sobject)

    def window_pages(self, requests: Sequence[tuple[str, Sequence[str], Window]]
                     ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Every page of several windows: first pages by Composite, the rest by query-more, in order."""
        for sobject, body in self.first_pages(requests):
            for page in self._follow(body, sobject):
                yield sobject, page

    def read_windows(self, requests: Sequence[WindowRead | ChangeProbe]) -> list[WindowPages | ProbeResult]:
        """The Source port's reads: first pages and probes packed into Composite calls (`composite`), the rest
        of each read by query-more as it is iterated, or, for a first load above the bulk threshold, as one
        Bulk 2.0 query job."""
        answers = self.composite(requests)
        more = _MorePages(self)  # the reads' query-more, five to a Composite call
        out: list[WindowPages | ProbeResult] = []
        for n, (request, answer) in enumerate(zip(requests, answers, strict=True)):
            if isinstance(answer, ProbeResult):
                out.append(answer)
            else:  # a read's first body (`composite` answers a probe with a ProbeResult, never a body)
                out.append(_WindowPages(self, request, answer, more, n))  # type: ignore[arg-type]
        return out

    def find(self, keys: Sequence[LookupKey], *, fields: Mapping[str, Sequence[str]], ref_field: str
             ) -> list[StagedRecord]:
        """Every live Lead and Contact holding one of the keys' e-mail addresses or cross-reference ids."""
        return salesforce_find(self, keys, fields=fields, ref_field=ref_field)

    # ------------------------------------------------------------------ bulk 2.0

    def bulk_query_pages(self, soql: str, *, object_type: str, all_rows: bool = True,
                         max_records: int = BULK_RESULT_ROWS) -> Iterator[list[dict[str, Any]]]:
        """A Bulk API 2.0 query job; CSV result sets typed back through describe."""
        return bulk_query_pages(self, soql, object_type=object_type, all_rows=all_rows, max_records=max_records)

    # ------------------------------------------------------------------ conversion

    def to_staged(self, sobject: str, record: dict[str, Any]) -> StagedRecord:
        return to_staged(sobject, record)

    def email_soql(self, sobject: str, fields: Sequence[str], emails: Sequence[str]) -> str:
        """A lookup by e-mail address, every value escaped (quotes and backslashes cannot change the query)."""
        return format_soql(f"SELECT {', '.join(fields)} FROM {sobject} WHERE Email IN {{}}", list(emails))


class _MorePages:
    """The query-more of one `read_windows` call's REST reads, five to a Composite call (ONE API call) instead
    of one call each: when the read being iterated needs its next page, the other reads' next pages ride in
    the same call and are kept until their read gets to them (one page of 2,000 rows at most per read)."""

    def __init__(self, source: SalesforceSource) -> None:
        self.source = source
        #: read number -> (object, nextRecordsUrl) of the page it will need next, not fetched yet
        self.pending: dict[int, tuple[str, str]] = {}
        #: read number -> its next page (or the error its subrequest got), fetched along with another read's
        self.fetched: dict[int, dict[str, Any] | ConnectorError] = {}

    def offer(self, n: int, sobject: str, body: dict[str, Any]) -> None:
        """Read `n` holds `body`: the page after it may ride along with another read's query-more."""
        url = body.get("nextRecordsUrl")
        if n not in self.fetched and not body.get("done", True) and isinstance(url, str) and url:
            self.pending[n] = (sobject, url)

    def next_body(self, n: int) -> dict[str, Any]:
        """Read `n`'s next page: fetched already, or fetched now with up to four other reads' next pages."""
        got = self.fetched.pop(n, None)
        if got is None:
            wanted = [n] + [m for m in self.pending if m != n][:COMPOSITE_QUERIES - 1]
            answers = query_more(self.source, [self.pending.pop(m) for m in wanted])
            got = answers[0]
            self.fetched.update(zip(wanted[1:], answers[1:], strict=True))
        if isinstance(got, ConnectorError):
            raise got
        return got


class _WindowPages:
    """One window read's pages: REST pages in modified order, or a first load's Bulk 2.0 export (unordered)."""

    def __init__(self, source: SalesforceSource, request: WindowRead, first: dict[str, Any], more: _MorePages,
                 n: int) -> None:
        self._source, self._request, self._first, self._more, self._n = source, request, first, more, n
        self.ordered = not (request.initial and int(first.get("totalSize") or 0) > source.bulk_threshold)
        if self.ordered:
            more.offer(n, request.object_type, first)

    def _rest_pages(self) -> Iterator[list[dict[str, Any]]]:
        body, sobject = self._first, self._request.object_type
        while True:
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise MalformedResponse(f"salesforce {sobject}: query response without records; nothing was "
                                        "stored and no cursor moved")
            if body["records"]:
                yield body["records"]
            if body.get("done", True) or not body.get("nextRecordsUrl"):
                return
            self._more.offer(self._n, sobject, body)
            body = self._more.next_body(self._n)

    def __iter__(self) -> Iterator[list[StagedRecord]]:
        source, sobject = self._source, self._request.object_type
        if self.ordered:
            pages = self._rest_pages()
        else:
            soql = source.window_soql(sobject, self._request.fields, self._request.window).rsplit(" ORDER BY", 1)[0]
            pages = source.bulk_query_pages(soql, object_type=sobject)
        for page in pages:
            yield [source.to_staged(sobject, r) for r in page]
