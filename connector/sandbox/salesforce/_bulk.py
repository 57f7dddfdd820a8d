"""Bulk API 2.0: query jobs (CSV results with locators) and ingest jobs (CSV uploads, per-row results).

Jobs take time, as in a real org: with ``state.bulk_timing == "realistic"`` (the default) a job stays
UploadComplete/InProgress for ``BULK_BASE_MS`` plus a time scaled to its rows (``bulk_job_ms``) of
sandbox time, plus ``state.bulk_delay_ms``; results asked for before that answer 412. A query job
reads its rows when it is created (a snapshot; the delay is then known); an ingest job writes its rows
once the delay after UploadComplete has passed. ``"instant"`` (benchmarks) drops the scaled part.
Query results are written to a CSV file in the data directory; a locator is the base64 row offset,
like Salesforce's opaque locators.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._dispatch import Ctx, Resp, route
from ._errors import ApiError, RecordError
from ._query import ordered_records, plan_query, Resolver
from ._values import format_datetime
from ._writes import MultipleMatches
from .ids import make_id

__all__ = ["BULK_BASE_MS", "INGEST_ROWS_PER_MS", "Job", "QUERY_ROWS_PER_MS", "bulk_job_ms"]

_DELIMS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_DT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
_CSV = "text/csv"

#: a job's fixed cost: Salesforce queues every job before a worker picks it up (inferred; not documented)
BULK_BASE_MS = 2_000
#: rows a query job reads, and records an ingest job writes, per millisecond of sandbox time (inferred)
QUERY_ROWS_PER_MS = 50
INGEST_ROWS_PER_MS = 1


def bulk_job_ms(state: Any, kind: str, rows: int) -> int:
    """How long a job of `rows` stays in progress, in sandbox milliseconds."""
    extra = int(state.bulk_delay_ms)
    if state.bulk_timing != "realistic":
        return extra
    return extra + BULK_BASE_MS + rows // (QUERY_ROWS_PER_MS if kind == "query" else INGEST_ROWS_PER_MS)


@dataclass
class Job:
    """One Bulk API 2.0 job and, once processed, its results."""

    id: str
    kind: str  # "query" | "ingest"
    operation: str
    object: str
    version: str
    created_ms: int
    modstamp_ms: int
    state: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    query: str = ""
    external_id: str | None = None
    ready_ms: int | None = None
    data: list[bytes] = field(default_factory=list)
    processed: int = 0
    failed: int = 0
    started: float = 0.0
    processing_ms: int = 0
    error_message: str | None = None
    results_file: Path | None = None
    offsets: array = field(default_factory=lambda: array("q"))  # type: ignore[type-arg]
    header: bytes = b""
    ok_rows: list[list[str]] = field(default_factory=list)
    bad_rows: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ran: bool = False  # its rows were read (query) or written (ingest)

    def info(self, state: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object,
            "createdById": state.integration_user_id, "createdDate": format_datetime(self.created_ms),
            "systemModstamp": format_datetime(self.modstamp_ms), "state": self.state,
        }
        if self.kind == "ingest" and self.external_id:
            out["externalIdFieldName"] = self.external_id
        out.update(concurrencyMode="Parallel", contentType="CSV", apiVersion=float(self.version))
        if self.kind == "ingest":
            out["jobType"] = "V2Ingest"
            out["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
        else:
            out["jobType"] = "V2Query"
        out.update(lineEnding=self.line_ending, columnDelimiter=self.column_delimiter)
        if self.state not in ("Open", "UploadComplete") or self.kind == "query":
            done = self.state in ("JobComplete", "Failed", "Aborted")
            out.update(numberRecordsProcessed=self.processed if done else 0, retries=0,
                       totalProcessingTime=self.processing_ms if done else 0)
            if self.kind == "ingest":
                out.update(numberRecordsFailed=self.failed, apiActiveProcessingTime=self.processing_ms,
                           apexProcessingTime=0)
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out


def _new_id(ctx: Ctx) -> str:
    st = ctx.state
    st.bulk_job_counter = getattr(st, "bulk_job_counter", 0) + 1
    return make_id("BulkJob", st.bulk_job_counter)


def _job(ctx: Ctx, kind: str, job_id: str) -> Job:
    job = ctx.state.jobs.get(job_id)
    if job is None or job.kind != kind:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if job.version != ctx.version:
        raise ApiError(409, "INVALIDJOBSTATE",
                       f"Job {job_id} was created with API version {job.version}; use the same version")
    return job


def _options(body: dict[str, Any]) -> tuple[str, str]:
    delim = str(body.get("columnDelimiter") or "COMMA").upper()
    ending = str(body.get("lineEnding") or "LF").upper()
    if delim not in _DELIMS:
        raise ApiError(400, "INVALIDJOB", f"Invalid columnDelimiter {delim}; use one of {', '.join(_DELIMS)}")
    if ending not in _ENDINGS:
        raise ApiError(400, "INVALIDJOB", f"Invalid lineEnding {ending}; use LF or CRLF")
    if str(body.get("contentType") or "CSV").upper() != "CSV":
        raise ApiError(400, "INVALIDJOB", "contentType must be CSV")
    return delim, ending


# ---- query jobs --------------------------------------------------------------------------------------------
@route("POST", "/jobs/query")
def create_query_job(ctx: Ctx) -> Resp:
    body = ctx.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    operation = body.get("operation")
    if operation not in ("query", "queryAll"):
        raise ApiError(400, "INVALIDJOB", f"Invalid operation {operation!r}; use query or queryAll")
    delim, ending = _options(body)
    text = str(body.get("query") or "")
    if not text.strip():
        raise ApiError(400, "INVALIDJOB", "The query is required")
    plan = plan_query(ctx.state, text, all_rows=operation == "queryAll", version=ctx.version)
    if plan.bq.is_count or plan.bq.offset:
        raise ApiError(400, "INVALIDJOB", "Bulk API 2.0 query jobs do not support COUNT() or OFFSET")
    now = ctx.state.stamp()
    job = Job(_new_id(ctx), "query", operation, plan.bq.sobject, ctx.version, now, now, "UploadComplete",
              delim, ending, query=text)
    created = ctx.state.clock.now_ms()
    if ctx.state.bulk_timing == "realistic":
        _process(ctx, job)  # read the rows now: how long the job takes depends on how many there are
        job.state = "UploadComplete"
        job.ready_ms = created + bulk_job_ms(ctx.state, "query", job.processed)
    else:
        job.ready_ms = created + bulk_job_ms(ctx.state, "query", 0)
    ctx.state.jobs[job.id] = job
    ctx.state.bulk_query_jobs_today.append(ctx.state.clock.now_ms())
    return Resp(200, job.info(ctx.state))


def _advance(ctx: Ctx, job: Job) -> None:
    """Complete a ready job whose time has come (running it first if it has not run yet)."""
    if job.state not in ("UploadComplete", "InProgress") or job.ready_ms is None:
        return
    if ctx.state.clock.now_ms() < job.ready_ms:
        job.state = "InProgress"
        return
    if not job.ran:
        _process(ctx, job)
    elif job.state in ("UploadComplete", "InProgress"):
        job.state = "JobComplete"
    job.modstamp_ms = ctx.state.stamp()


def _process(ctx: Ctx, job: Job) -> None:
    start = time.monotonic()
    if job.kind == "query":
        _run_query(ctx, job)
    else:
        _run_ingest(ctx, job)
    job.ran = True
    job.processing_ms = int((time.monotonic() - start) * 1000)


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str) and _DT.match(v):
        return v[:-5] + "Z"
    return str(v)


def _flatten(projected: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in projected.items():
        if k == "attributes":
            continue
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _run_query(ctx: Ctx, job: Job) -> None:
    state = ctx.state
    plan = plan_query(state, job.query, all_rows=job.operation == "queryAll", version=job.version)
    columns = list(getattr(plan.bq, "selected", []) or [])
    folder = state.data_dir / "bulk"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job.id}.csv"
    sep, eol = _DELIMS[job.column_delimiter], _ENDINGS[job.line_ending]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=eol, quoting=csv.QUOTE_ALL)
    resolve = Resolver(state)
    offsets = array("q")
    n = 0
    with path.open("wb") as fh:
        writer.writerow(columns)
        job.header = buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
        pos = 0
        for rec in ordered_records(state, plan):
            flat = _flatten(plan.bq.project(rec, resolve))
            if not columns:
                columns = list(flat)
            writer.writerow([_csv_value(flat.get(c)) for c in columns])
            data = buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
            offsets.append(pos)
            fh.write(data)
            pos += len(data)
            n += 1
        offsets.append(pos)
    job.results_file, job.offsets, job.processed, job.state = path, offsets, n, "JobComplete"


def _encode_locator(n: int) -> str:
    return base64.b64encode(str(n).encode()).decode().rstrip("=")


def _decode_locator(text: str) -> int:
    try:
        return int(base64.b64decode(text + "=" * (-len(text) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator {text}") from exc


@route("GET", "/jobs/query/{jobId}")
def get_query_job(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    job = _job(ctx, "query", jobId)
    _advance(ctx, job)
    return Resp(200, job.info(ctx.state))


@route("GET", "/jobs/query/{jobId}/results")
def query_results(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    job = _job(ctx, "query", jobId)
    _advance(ctx, job)
    if job.state != "JobComplete" or job.results_file is None:
        raise ApiError(412, "JOB_NOT_COMPLETE", f"Job {job.id} is not complete: its state is {job.state}")
    start = _decode_locator(ctx.params["locator"]) if ctx.params.get("locator") else 0
    max_text = ctx.params.get("maxRecords")
    if max_text is not None and (not max_text.isdigit() or int(max_text) < 1):
        raise ApiError(400, "INVALIDPARAMETER", "maxRecords must be a positive integer")
    size = int(max_text) if max_text else 50_000
    total = len(job.offsets) - 1
    start = min(max(start, 0), total)
    end = min(start + size, total)
    with job.results_file.open("rb") as fh:
        fh.seek(job.offsets[start])
        chunk = fh.read(job.offsets[end] - job.offsets[start])
    headers = {"Sforce-Locator": _encode_locator(end) if end < total else "null",
               "Sforce-NumberOfRecords": str(end - start)}
    return Resp(200, job.header + chunk, headers, _CSV)


def _set_state(ctx: Ctx, job: Job) -> Resp:
    body = ctx.json() or {}
    want = body.get("state")
    if job.kind == "ingest" and want == "UploadComplete":
        if job.state != "Open":
            raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}; only an Open job can be closed")
        job.state = "UploadComplete"
        job.ready_ms = ctx.state.clock.now_ms() + bulk_job_ms(ctx.state, "ingest", len(_rows(job)[1]))
        info = job.info(ctx.state)
        _advance(ctx, job)  # Salesforce starts at once; the client still sees UploadComplete here
        return Resp(200, info)
    if want == "Aborted":
        if job.state in ("JobComplete", "Failed", "Aborted"):
            raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is already {job.state}")
        job.state = "Aborted"
        job.modstamp_ms = ctx.state.stamp()
        if job.kind == "ingest":
            job.unprocessed = _rows(job)[1]
        return Resp(200, job.info(ctx.state))
    raise ApiError(400, "INVALIDJOBSTATE", f"Invalid state {want!r}; use UploadComplete or Aborted")


@route("PATCH", "/jobs/query/{jobId}")
def patch_query_job(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    return _set_state(ctx, _job(ctx, "query", jobId))


def _delete_job(ctx: Ctx, job: Job) -> Resp:
    if job.state in ("Open", "UploadComplete", "InProgress"):
        raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}; abort it before deleting")
    ctx.state.jobs.pop(job.id, None)
    if job.results_file is not None:
        job.results_file.unlink(missing_ok=True)
    return Resp(204)


@route("DELETE", "/jobs/query/{jobId}")
def delete_query_job(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    return _delete_job(ctx, _job(ctx, "query", jobId))


def _list(ctx: Ctx, kind: str) -> Resp:
    jobs = [j.info(ctx.state) for j in ctx.state.jobs.values() if j.kind == kind]
    return Resp(200, {"done": True, "records": jobs, "nextRecordsUrl": None})


@route("GET", "/jobs/query")
def list_query_jobs(ctx: Ctx) -> Resp:
    return _list(ctx, "query")


# ---- ingest jobs --------------------------------------------------------------------------------------------
_INGEST_OPS = ("insert", "update", "upsert", "delete", "hardDelete")


@route("POST", "/jobs/ingest")
def create_ingest_job(ctx: Ctx) -> Resp:
    body = ctx.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    operation = body.get("operation")
    if operation not in _INGEST_OPS:
        raise ApiError(400, "INVALIDJOB", f"Invalid operation {operation!r}; use one of {', '.join(_INGEST_OPS)}")
    obj = ctx.state.schema.obj(str(body.get("object") or ""))
    if obj is None:
        raise ApiError(400, "INVALIDJOB", f"Entity '{body.get('object')}' is not supported by the Bulk API.")
    delim, ending = _options(body)
    ext = body.get("externalIdFieldName")
    if operation == "upsert":
        f = obj.get(str(ext or ""))
        if f is None or not (f.external_id or f.name == "Id"):
            raise ApiError(400, "INVALIDJOB", f"External ID field {ext!r} is not an External ID field of {obj.name}")
        ext = f.name
    now = ctx.state.stamp()
    job = Job(_new_id(ctx), "ingest", operation, obj.name, ctx.version, now, now, "Open", delim, ending,
              external_id=ext if operation == "upsert" else None)
    ctx.state.jobs[job.id] = job
    return Resp(200, job.info(ctx.state))


@route("PUT", "/jobs/ingest/{jobId}/batches")
def upload(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    job = _job(ctx, "ingest", jobId)
    if job.state != "Open":
        raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}; data can only be uploaded to an Open job")
    if job.data:
        raise ApiError(400, "INVALIDJOBSTATE", "Job data was already uploaded; a Bulk API 2.0 job takes one upload")
    job.data.append(ctx.raw)
    return Resp(201, b"", {}, "text/plain")


def _rows(job: Job) -> tuple[list[str], list[list[str]]]:
    text = b"".join(job.data).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_DELIMS[job.column_delimiter])
    rows = [r for r in reader if r]
    return (rows[0], rows[1:]) if rows else ([], [])


def _run_ingest(ctx: Ctx, job: Job) -> None:
    header, rows = _rows(job)
    job.columns = header
    obj = ctx.state.schema.objects[job.object]
    w = ctx.state.writer
    if job.operation in ("delete", "hardDelete") and [h.lower() for h in header] != ["id"]:
        job.state, job.error_message = "Failed", "InvalidBatch : The 'delete' batch must contain only 'Id' column"
        job.unprocessed = rows
        return
    unknown = [h for h in header if obj.get(h) is None]
    if unknown:
        job.state, job.error_message = "Failed", f"InvalidBatch : Field name not found : {unknown[0]}"
        job.unprocessed = rows
        return
    for row in rows:
        if len(row) != len(header):
            job.bad_rows.append(["", f"INVALID_FIELD:Wrong number of columns ({len(row)}, expected {len(header)}): --",
                                 *row])
            job.failed += 1
            job.processed += 1
            continue
        values = dict(zip(header, row, strict=True))
        rid, created = "", "false"
        try:
            with ctx.state.store.transaction():
                if job.operation == "insert":
                    rid, created = w.create(obj.name, values, csv=True), "true"
                elif job.operation == "update":
                    rid = _row_id(values)
                    w.update(obj.name, rid, {k: v for k, v in values.items() if k.lower() != "id"}, csv=True)
                elif job.operation == "upsert":
                    out = w.upsert(obj.name, job.external_id or "Id", None, values, csv=True)
                    rid, created = out.id, "true" if out.created else "false"
                else:
                    rid = _row_id(values)
                    w.delete(obj.name, rid)
                    if job.operation == "hardDelete":
                        ctx.state.store.delete_hard(rid)
            job.ok_rows.append([rid, created, *row])
        except RecordError as exc:
            fields = ",".join(exc.fields)
            job.bad_rows.append([values.get("Id", "") if job.operation != "insert" else "",
                                 f"{exc.code}:{exc.message}:{fields} --", *row])
            job.failed += 1
        except MultipleMatches as exc:
            job.bad_rows.append(["", f"DUPLICATE_EXTERNAL_ID:{len(exc.ids)} records match:{job.external_id} --", *row])
            job.failed += 1
        job.processed += 1
    job.state = "JobComplete"


def _row_id(values: dict[str, str]) -> str:
    rid = next((v for k, v in values.items() if k.lower() == "id"), "")
    if not rid:
        raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
    return rid


@route("PATCH", "/jobs/ingest/{jobId}")
def patch_ingest_job(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    return _set_state(ctx, _job(ctx, "ingest", jobId))


@route("GET", "/jobs/ingest/{jobId}")
def get_ingest_job(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    job = _job(ctx, "ingest", jobId)
    _advance(ctx, job)
    return Resp(200, job.info(ctx.state))


@route("DELETE", "/jobs/ingest/{jobId}")
def delete_ingest_job(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    return _delete_job(ctx, _job(ctx, "ingest", jobId))


@route("GET", "/jobs/ingest")
def list_ingest_jobs(ctx: Ctx) -> Resp:
    return _list(ctx, "ingest")


def _csv_out(job: Job, lead: list[str], rows: list[list[str]]) -> Resp:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=_DELIMS[job.column_delimiter], lineterminator=_ENDINGS[job.line_ending],
                        quoting=csv.QUOTE_ALL)
    writer.writerow([*lead, *job.columns])
    writer.writerows(rows)
    return Resp(200, buf.getvalue().encode(), {}, _CSV)


def _finished(ctx: Ctx, jobId: str) -> Job:  # noqa: N803
    job = _job(ctx, "ingest", jobId)
    _advance(ctx, job)
    if job.state not in ("JobComplete", "Failed", "Aborted"):
        raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}; results exist once it is complete")
    return job


@route("GET", "/jobs/ingest/{jobId}/successfulResults")
def successful_results(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    job = _finished(ctx, jobId)
    return _csv_out(job, ["sf__Id", "sf__Created"], job.ok_rows)


@route("GET", "/jobs/ingest/{jobId}/failedResults")
def failed_results(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    job = _finished(ctx, jobId)
    return _csv_out(job, ["sf__Id", "sf__Error"], job.bad_rows)


@route("GET", "/jobs/ingest/{jobId}/unprocessedrecords")
def unprocessed_records(ctx: Ctx, jobId: str) -> Resp:  # noqa: N803
    job = _job(ctx, "ingest", jobId)
    if not job.columns:
        job.columns = _rows(job)[0]
    return _csv_out(job, [], job.unprocessed)
