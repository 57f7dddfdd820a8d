"""Bulk API 2.0: query jobs (a first load too large for REST pages) and ingest jobs (writes above the
threshold: a handful of calls for any number of records). CSV both ways, typed back through describe."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..http import ApiError, MalformedResponse, TransientApiError, json_object
from ..ports import Item, Operation, WriteOutcome
from ._client import QUERY_PAGE, SYSTEM

if TYPE_CHECKING:
    from .source import SalesforceSource

__all__ = ["BULK_MAX_POLLS", "BULK_POLL_SECONDS", "BULK_RESULT_ROWS", "bulk_query_pages", "bulk_write"]

BULK_POLL_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
#: polls of one job (query or ingest) before giving up until the next cycle (read when a job is polled)
BULK_MAX_POLLS = 10_000
#: rows per Bulk 2.0 result request: 5x fewer calls than REST pages, and a page's memory stays small
BULK_RESULT_ROWS = 10_000


def bulk_query_pages(source: SalesforceSource, soql: str, *, object_type: str, all_rows: bool = True,
                     max_records: int = BULK_RESULT_ROWS) -> Iterator[list[dict[str, Any]]]:
    """A Bulk API 2.0 query job; CSV result sets typed back through describe."""
    job = source.http.json("POST", source.path("jobs/query"), object_type=object_type, json_body={
        "operation": "queryAll" if all_rows else "query", "query": soql, "contentType": "CSV",
        "columnDelimiter": "COMMA", "lineEnding": "LF"})
    job_id = _job_id(job, "query", object_type)
    _await_job(source, "query", job_id, object_type, source.sleep)
    types = source.field_types(object_type)
    locator: str | None = None
    while True:
        params: dict[str, Any] = {"maxRecords": max_records}
        if locator:
            params["locator"] = locator
        # a result set is streamed and handed on 2,000 rows at a time: memory stays that of a REST page
        with source.http.streamed("GET", source.path(f"jobs/query/{job_id}/results"), object_type=object_type,
                                params=params, headers={"Accept": "text/csv"}) as response:
            locator = response.headers.get("sforce-locator")
            reader = csv.DictReader(_lines(response.iter_text()))
            while rows := [_typed(row, types) for row in itertools.islice(reader, QUERY_PAGE)]:
                yield rows
        if not locator or locator == "null":
            return


def _job_id(job: Any, kind: str, object_type: str) -> str:
    """The id of a job just created; without one there is no job to poll (never ``jobs/<kind>/None``)."""
    job_id = json_object(job, SYSTEM, f"bulk {kind} job creation for {object_type}").get("id")
    if not isinstance(job_id, str) or not job_id:
        raise MalformedResponse(f"{SYSTEM} bulk {kind} job creation for {object_type}: the answer has no job id; "
                                "nothing was read or written through it")
    return job_id


def _await_job(source: SalesforceSource, kind: str, job_id: str, object_type: str,
               sleep: Callable[[float], None]) -> None:
    """Poll a job (`kind` query or ingest) until JobComplete, at most BULK_MAX_POLLS times: a job that ended
    Failed or Aborted is an ApiError, one still running after the last poll a TransientApiError (the run
    stops before anything is read from it or recorded as written; the next cycle asks again)."""
    polls = BULK_MAX_POLLS
    for attempt in range(polls):
        info = json_object(source.http.json("GET", source.path(f"jobs/{kind}/{job_id}"), object_type=object_type),
                           SYSTEM, f"bulk {kind} job {job_id}")
        state = info.get("state")
        if state == "JobComplete":
            return
        if state in ("Failed", "Aborted"):
            raise ApiError(SYSTEM, f"bulk {kind} job {job_id}", 200, str(state),
                           str(info.get("errorMessage") or f"the job ended {state}"),
                           "look at the job in Setup > Bulk Data Load Jobs")
        if attempt + 1 < polls:
            sleep(BULK_POLL_SECONDS[min(attempt, len(BULK_POLL_SECONDS) - 1)])
    raise TransientApiError(f"{SYSTEM} bulk {kind} job {job_id} ({object_type}) is still running after {polls} "
                            "polls; nothing was read from it or recorded, the next cycle starts again")


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


def _csv_cell(value: Any) -> str:
    if value is None:
        return "#N/A"  # Bulk 2.0's explicit null; an empty cell leaves the field as it is
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bulk_write(source: SalesforceSource, sobject: str, operation: Operation, items: Sequence[Item],
          external_id: str | None, sleep: Any) -> dict[str, WriteOutcome]:
    key_column = "Id" if operation == "update" else str(external_id)
    columns = sorted({k for it in items for k in it.values} - {key_column})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([key_column, *columns])
    by_key: dict[str, str] = {}
    for item in items:
        ident = str(item.record_id if operation == "update" else item.values.get(key_column))
        by_key[ident] = item.key
        writer.writerow([ident, *(_csv_cell(item.values[c]) if c in item.values else "" for c in columns)])
    job_body: dict[str, Any] = {"object": sobject, "operation": operation, "contentType": "CSV", "lineEnding": "LF",
                                "columnDelimiter": "COMMA"}
    if operation == "upsert":
        job_body["externalIdFieldName"] = external_id
    job = source.http.json("POST", source.path("jobs/ingest"), object_type=sobject, json_body=job_body)
    job_id = _job_id(job, "ingest", sobject)
    source.http.request("PUT", source.path(f"jobs/ingest/{job_id}/batches"), object_type=sobject,
                        content=buffer.getvalue().encode(), headers={"Content-Type": "text/csv"})
    source.http.json("PATCH", source.path(f"jobs/ingest/{job_id}"), object_type=sobject,
                     json_body={"state": "UploadComplete"})
    _await_job(source, "ingest", job_id, sobject, sleep)
    out: dict[str, WriteOutcome] = {}
    for row in _result_rows(source, sobject, job_id, "successfulResults"):
        key = by_key.get(row.get(key_column, ""))
        if key is not None:
            out[key] = WriteOutcome(True, row.get("sf__Id") or None, created=row.get("sf__Created") == "true")
    for row in _result_rows(source, sobject, job_id, "failedResults"):
        key = by_key.get(row.get(key_column, ""))
        if key is not None:
            code, message, fields = _bulk_error(str(row.get("sf__Error", "")))
            out[key] = WriteOutcome(False, code=code, message=message, fields=fields)
    for ident, key in by_key.items():
        if key not in out:
            out[key] = WriteOutcome(False, code="NO_RESULT", message=f"bulk job {job_id} did not report {ident}")
    return out


#: the field list that may close an ``sf__Error``: ``:Field1,Field2 --`` (see `_bulk_error`)
_ERROR_FIELDS = re.compile(r":([\w.]+(?:,[\w.]+)*) *--\s*$")


def _bulk_error(text: str) -> tuple[str, str, tuple[str, ...]]:
    """An ``sf__Error`` cell as (code, message, field names).

    Salesforce documents the cell only as "Error code and message" (Bulk API 2.0 developer guide, "Get Job
    Failed Record Results", developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/
    get_job_failed_results.htm; api-facts.md B9). As observed, it reads ``CODE:message:Field1,Field2 --``
    when the error names fields and ``CODE:message--`` when it does not (``UNABLE_TO_LOCK_ROW:unable to
    obtain exclusive access to this record--``): only a ``:names --`` tail gives field names, never the
    message text."""
    code, _, rest = text.partition(":")
    tail = _ERROR_FIELDS.search(rest)
    if tail is None:
        return code or "ERROR", rest.rstrip().removesuffix("--").rstrip(), ()
    return code or "ERROR", rest[:tail.start()].rstrip(), tuple(tail.group(1).split(","))


def _result_rows(source: SalesforceSource, sobject: str, job_id: str, which: str) -> Iterable[dict[str, str]]:
    response = source.http.request("GET", source.path(f"jobs/ingest/{job_id}/{which}"), object_type=sobject,
                                   headers={"Accept": "text/csv"})
    return list(csv.DictReader(io.StringIO(response.text, newline="")))
