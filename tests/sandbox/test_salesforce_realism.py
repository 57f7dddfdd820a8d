"""Behaviours of a real org the connector must survive: Bulk 2.0 jobs that take time (InProgress, 412),
and what the milliseconds of a SOQL datetime literal do. Each test names its source."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from connector.sandbox.dataset import SeedBatch
from connector.sandbox.salesforce import SalesforceState
from connector.sandbox.salesforce._bulk import BULK_BASE_MS, INGEST_ROWS_PER_MS, QUERY_ROWS_PER_MS
from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.testing import SalesforceSandbox

V = "/services/data/v62.0"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a whole second


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-real")) as sb:  # the defaults: realistic
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    server.freeze(T0 + 3_600_000)
    return server


def _leads(sb: SalesforceSandbox, n: int, *, stamp: int = T0, step_ms: int = 0) -> list[str]:
    ids = [make_id("Lead", i + 1) for i in range(n)]
    sb.state.load(SeedBatch(salesforce={"Lead": [
        {"Id": rid, "LastName": f"L{i}", "Company": "Acme", "Email": f"l{i}@example.com", "CreatedDate": T0,
         "LastModifiedDate": stamp + i * step_ms, "SystemModstamp": stamp + i * step_ms}
        for i, rid in enumerate(ids)]}))
    return ids


def test_the_defaults_are_realistic(tmp_path: object) -> None:
    from pathlib import Path

    from connector.sandbox.clock import SandboxClock

    state = SalesforceState(Path(str(tmp_path)), SandboxClock())
    try:
        assert (state.bulk_timing, state.soql_datetime_millis) == ("realistic", "truncate")
    finally:
        state.close()


# ---- Bulk 2.0 jobs take time ------------------------------------------------------------------------
# Source: Bulk API 2.0 job states (developer.salesforce.com/docs/platform/api-asynch/guide/
# bulk-api-2-job-states): UploadComplete -> InProgress -> JobComplete; results of an unfinished query job
# answer 412 (facts sheet, secondary). How long a job takes is not documented: the sandbox's figures
# (BULK_BASE_MS, rows per ms) are inferred, and scaled to the job's size so large jobs poll longer.


def test_a_query_job_is_in_progress_for_a_time_scaled_to_its_rows(sb: SalesforceSandbox) -> None:
    _leads(sb, 1_000)
    h = sb.http
    job = h.post(f"{V}/jobs/query", json={"operation": "query", "query": "SELECT Id FROM Lead"}).json()
    assert job["state"] == "UploadComplete"
    took = BULK_BASE_MS + 1_000 // QUERY_ROWS_PER_MS
    running = h.get(f"{V}/jobs/query/{job['id']}").json()
    assert running["state"] == "InProgress" and running["numberRecordsProcessed"] == 0
    early = h.get(f"{V}/jobs/query/{job['id']}/results")
    assert early.status_code == 412 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    sb.clock.advance(took - 1)
    assert h.get(f"{V}/jobs/query/{job['id']}").json()["state"] == "InProgress"
    sb.clock.advance(1)
    done = h.get(f"{V}/jobs/query/{job['id']}").json()
    assert done["state"] == "JobComplete" and done["numberRecordsProcessed"] == 1_000
    rows = list(csv.DictReader(io.StringIO(h.get(f"{V}/jobs/query/{job['id']}/results").text)))
    assert len(rows) == 1_000


def test_an_ingest_job_writes_its_records_only_when_it_completes(sb: SalesforceSandbox) -> None:
    h = sb.http
    job = h.post(f"{V}/jobs/ingest", json={"object": "Lead", "operation": "insert"}).json()
    body = "LastName,Company,Email\n" + "".join(f"N{i},Acme,n{i}@example.com\n" for i in range(500))
    assert h.put(f"{V}/jobs/ingest/{job['id']}/batches", content=body,
                 headers={"Content-Type": "text/csv"}).status_code == 201
    closed = h.patch(f"{V}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"}).json()
    assert closed["state"] == "UploadComplete"
    assert h.get(f"{V}/jobs/ingest/{job['id']}").json()["state"] == "InProgress"
    assert h.get(f"{V}/jobs/ingest/{job['id']}/successfulResults").status_code == 400
    assert sb.simple_salesforce().query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    sb.clock.advance(BULK_BASE_MS + 500 // INGEST_ROWS_PER_MS)
    info = h.get(f"{V}/jobs/ingest/{job['id']}").json()
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 500
    assert sb.simple_salesforce().query("SELECT COUNT() FROM Lead")["totalSize"] == 500


def test_instant_bulk_jobs_for_benchmarks(sb: SalesforceSandbox) -> None:
    _leads(sb, 3)
    settings = sb.control().post("/_sandbox/salesforce/settings", json={"bulk_timing": "instant"})
    assert settings.json() == {"bulk_timing": "instant", "bulk_delay_ms": 0, "soql_datetime_millis": "truncate"}
    job = sb.http.post(f"{V}/jobs/query", json={"operation": "query", "query": "SELECT Id FROM Lead"}).json()
    assert sb.http.get(f"{V}/jobs/query/{job['id']}").json()["state"] == "JobComplete"
    assert sb.control().post("/_sandbox/salesforce/settings", json={"bulk_timing": "slow"}).status_code == 400
    sb.state.reset()
    assert sb.state.bulk_timing == "realistic"


# ---- milliseconds in a SOQL datetime literal ------------------------------------------------------------
# The SOQL reference lists datetime literals to the second (YYYY-MM-DDThh:mm:ssZ; developer.salesforce.com
# .../soql_sosl/sforce_api_calls_soql_select_dateformats.htm) but Salesforce accepts fractional seconds
# (bitbucket RoseSilverSoftware/illuminatedcloud issue 2283: "CreatedDate >= 2022-12-01T10:47:53.299852-06:00"
# runs) and ignores the milliseconds when it compares: "The system currently ignores the milliseconds for the
# purposes of considering two values equal" (salesforce.stackexchange.com/questions/234824, a SystemModstamp
# filter 900 ms past the stored value still matching it). Chosen: truncate ("honour" is the alternative).


def test_milliseconds_in_a_datetime_literal_are_truncated(sb: SalesforceSandbox) -> None:
    first, second = _leads(sb, 2, stamp=T0, step_ms=1_000)  # stamps T0 and T0 + 1 s
    sf = sb.simple_salesforce()

    def ids(where: str) -> list[str]:
        return [r["Id"] for r in sf.query_all(f"SELECT Id FROM Lead WHERE {where} ORDER BY Id")["records"]]

    assert ids("SystemModstamp >= 2026-01-01T00:00:00.900Z") == [first, second]  # as >= 00:00:00
    assert ids("SystemModstamp < 2026-01-01T00:00:01.500Z") == [first]  # as < 00:00:01
    assert ids("SystemModstamp > 2026-01-01T00:00:00.999+00:00") == [second]


def test_milliseconds_honoured_when_the_org_is_set_so(sb: SalesforceSandbox) -> None:
    first, second = _leads(sb, 2, stamp=T0, step_ms=1_000)
    sb.control().post("/_sandbox/salesforce/settings", json={"soql_datetime_millis": "honour"})
    sf = sb.simple_salesforce()
    got = sf.query_all("SELECT Id FROM Lead WHERE SystemModstamp >= 2026-01-01T00:00:00.900Z")["records"]
    assert [r["Id"] for r in got] == [second]
    got = sf.query_all("SELECT Id FROM Lead WHERE SystemModstamp < 2026-01-01T00:00:01.500Z ORDER BY Id")["records"]
    assert [r["Id"] for r in got] == [first, second]
