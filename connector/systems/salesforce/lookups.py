"""Look-ups before a write: the live Leads and Contacts Salesforce holds for given e-mail addresses and
cross-reference ids (before a create), and the values records hold now (before an update, `current_values`).

One SOQL query per object for up to 200 creates, ``WHERE (Email IN (...) OR HubSpot_Contact_Id__c IN
(...))``, five queries to a Composite request (which counts as ONE API call). Every value is escaped
with simple-salesforce's ``format_soql``, and a query whose URL would pass Salesforce's 16,384-byte URI
limit is split. Records come back as the pull would stage them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from simple_salesforce.format import format_soql

from ..http import ApiError, MalformedResponse
from ..ports import LookupKey, StagedRecord
from .composite import composite_answers
from .records import to_staged

if TYPE_CHECKING:
    from .source import SalesforceSource

__all__ = ["LOOKUP_KEYS_PER_QUERY", "LOOKUP_QUERIES_PER_CALL", "current_values", "lookup_soql", "salesforce_find",
           "salesforce_lookup_calls"]

#: creates looked up per SOQL query (each brings an e-mail address and a cross-reference id)
LOOKUP_KEYS_PER_QUERY = 200
#: queries per Composite request (Salesforce allows five query subrequests in one)
LOOKUP_QUERIES_PER_CALL = 5
#: Salesforce answers 414 to a URI over 16,384 bytes; a query's URL stays under this, with room for the path
MAX_QUERY_URL_BYTES = 15_000



def salesforce_lookup_calls(creates: int, objects: int = 2) -> int:
    """The API calls looking up `creates` Salesforce creates over `objects` objects cost (plan's forecast).

    A lower bound as well: each query carries 200 creates, and five queries share one Composite call
    (more only when addresses are so long that a query must be split, or one matches over 2,000 records)."""
    if creates <= 0:
        return 0
    queries = objects * -(-creates // LOOKUP_KEYS_PER_QUERY)
    return -(-queries // LOOKUP_QUERIES_PER_CALL)


def lookup_soql(sobject: str, fields: Sequence[str], keys: Sequence[LookupKey], ref_field: str, *,
                live_only: str | None = None) -> str:
    """The query finding `sobject` records that hold one of the keys' e-mail addresses or cross-reference
    ids, every value escaped; `live_only` is an extra condition (a Lead's ``IsConverted = false``)."""
    emails = sorted({e for e, _ in keys if e})
    refs = sorted({r for _, r in keys if r})
    if not emails and not refs:
        raise ValueError("a look-up needs at least one e-mail address or cross-reference id")
    terms = []
    if emails:
        terms.append(format_soql("Email IN {}", emails))
    if refs:
        terms.append(format_soql(f"{ref_field} IN {{}}", refs))
    where = " OR ".join(terms)
    if live_only:
        where = f"({where}) AND {live_only}"
    return f"SELECT {', '.join(fields)} FROM {sobject} WHERE {where}"


def _query_url(source: SalesforceSource, soql: str) -> str:
    return source.path("query/") + "?q=" + quote(soql, safe="")


def _query_chunks(source: SalesforceSource, sobject: str, fields: Sequence[str], keys: Sequence[LookupKey],
                  ref_field: str, live_only: str | None) -> Iterator[str]:
    """The URLs of the queries covering `keys`: 200 keys each, fewer when the URL would grow too long."""
    start = 0
    while start < len(keys):
        size = min(LOOKUP_KEYS_PER_QUERY, len(keys) - start)
        while True:
            url = _query_url(source, lookup_soql(sobject, fields, keys[start:start + size], ref_field,
                                                 live_only=live_only))
            if len(url.encode()) <= MAX_QUERY_URL_BYTES or size == 1:
                break
            size = max(1, size // 2)
        yield url
        start += size


def salesforce_find(source: SalesforceSource, keys: Sequence[LookupKey], *, fields: Mapping[str, Sequence[str]],
                    ref_field: str) -> list[StagedRecord]:
    """Every live Lead (not converted) and Contact holding one of the keys' e-mail addresses or
    cross-reference ids, as the pull stages them. `fields` names what to read per object (the pull's
    fields); Id, SystemModstamp and IsDeleted are always read.

    Raises ApiError when Salesforce refuses a query (the creates must then wait: none goes out unlooked)."""
    keys = [k for k in dict.fromkeys(keys) if k[0] or k[1]]
    if not keys:
        return []
    urls: list[tuple[str, str]] = []
    for sobject, wanted in fields.items():
        columns = list(dict.fromkeys(["Id", "SystemModstamp", "IsDeleted", *wanted]))
        live_only = "IsConverted = false" if sobject == "Lead" else None
        urls += [(sobject, url) for url in _query_chunks(source, sobject, columns, keys, ref_field, live_only)]
    return [to_staged(sobject, r) for sobject, page in _query_pages(source, urls, "lookup", "look-up")
            for r in page]


def _query_pages(source: SalesforceSource, urls: Sequence[tuple[str, str]], label: str, purpose: str
                 ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every page of the queries `urls` ((object, query URL) each), five to a Composite call (ONE API call),
    the rest of each by query-more; a refused query raises (`_answer`)."""
    for start in range(0, len(urls), LOOKUP_QUERIES_PER_CALL):
        call = urls[start:start + LOOKUP_QUERIES_PER_CALL]
        subrequests = [{"method": "GET", "url": url, "referenceId": f"f{i}"} for i, (_, url) in enumerate(call)]
        answers = composite_answers(source, subrequests, label, f"composite {purpose}")
        for i, (sobject, _) in enumerate(call):
            for page in source.follow(_answer(answers.get(f"f{i}"), sobject, purpose), sobject):
                yield sobject, page


def _answer(sub: dict[str, Any] | None, sobject: str, purpose: str = "look-up") -> dict[str, Any]:
    waiting = "nothing was created" if purpose == "look-up" else "nothing was updated"
    if sub is None:
        raise MalformedResponse(f"salesforce composite: no answer for the {sobject} {purpose}; {waiting}")
    status = int(sub.get("httpStatusCode") or 0)
    body = sub.get("body")
    if status >= 400:
        error = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
        raise ApiError("salesforce", f"composite {purpose} {sobject}", status, str(error.get("errorCode") or status),
                       str(error.get("message") or ""), (
                           "the creates wait for the next sync; if this persists, check that the connector's user "
                           "can read Lead and Contact and the cross-reference field") if purpose == "look-up" else (
                           f"the updates wait for the next sync; if this persists, check that the connector's user "
                           f"can read {sobject} and the mapped fields"))
    if not isinstance(body, dict):
        raise MalformedResponse(f"salesforce composite: the {sobject} {purpose} answer has no body; {waiting}")
    return body


def current_values(source: SalesforceSource, sobject: str, ids: Sequence[str], fields: Sequence[str]
                   ) -> dict[str, dict[str, Any]]:
    """The values `ids` hold now for `fields`, read just before an update (a record deleted since is absent).

    ``SELECT Id, <fields> FROM <sobject> WHERE Id IN (...)``, 200 ids a query and five queries to a Composite
    call: one call for the 1,000 records one write call takes. Raises ApiError when a query is refused (the
    update then waits: nothing is written unchecked)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    columns = ", ".join(dict.fromkeys(["Id", *fields]))
    urls = [(sobject, _query_url(source, format_soql(f"SELECT {columns} FROM {sobject} WHERE Id IN {{}}",
                                                     wanted[start:start + LOOKUP_KEYS_PER_QUERY])))
            for start in range(0, len(wanted), LOOKUP_KEYS_PER_QUERY)]
    return {str(r["Id"]): r for _, page in _query_pages(source, urls, f"{sobject}:check", "check")
            for r in page if isinstance(r, dict) and r.get("Id")}
