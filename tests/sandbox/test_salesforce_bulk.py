"""Bulk API 2.0 through simple-salesforce's bulk2 client and raw HTTP: query locators, ingest results."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from connector.sandbox.dataset import SeedBatch
from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.testing import SalesforceSandbox

V = "/services/data/v62.0"
T0 = 1_767_225_600_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    # these tests are about data and shapes; Bulk timing has its own tests (test_salesforce_realism.py)
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-bulk"), bulk_timing="instant") as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def _seed(sb: SalesforceSandbox, n: int) -> None:
    leads = [{"Id": make_id("Lead", i + 1), "LastName": f'O"Brien, {i}', "Company": "Co\nLine2",
              "Email": f"l{i}@example.com", "CreatedDate": T0, "LastModifiedDate": T0, "SystemModstamp": T0 + i * 1000}
             for i in range(n)]
    sb.state.load(SeedBatch(salesforce={"Lead": leads}))


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk_query_with_locators(sb: SalesforceSandbox) -> None:
    _seed(sb, 25)
    sf = sb.simple_salesforce()
    pages = list(sf.bulk2.Lead.query("SELECT Id, LastName, Company, SystemModstamp, Owner.Name FROM Lead",
                                     max_records=10, wait=0))
    assert len(pages) == 3
    rows = [r for p in pages for r in _rows(p)]
    assert len(rows) == 25
    assert rows[0]["LastName"] == 'O"Brien, 0' and rows[0]["Company"] == "Co\nLine2"
    assert rows[0]["SystemModstamp"] == "2026-01-01T00:00:00.000Z"
    assert rows[0]["Owner.Name"] == "Integration User"
    assert list(rows[0]) == ["Id", "LastName", "Company", "SystemModstamp", "Owner.Name"]


def test_bulk_query_job_states_headers_and_query_all(sb: SalesforceSandbox) -> None:
    _seed(sb, 3)
    h = sb.http
    sb.simple_salesforce().Lead.delete(make_id("Lead", 1))
    sb.control().post("/_sandbox/salesforce/bulk-delay", json={"ms": 60_000})
    job = h.post(f"{V}/jobs/query", json={"operation": "queryAll", "query": "SELECT Id, IsDeleted FROM Lead"}).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750") and job["object"] == "Lead"
    assert h.get(f"{V}/jobs/query/{job['id']}").json()["state"] == "InProgress"
    early = h.get(f"{V}/jobs/query/{job['id']}/results")
    assert early.status_code == 412
    sb.clock.advance(60_000)
    assert h.get(f"{V}/jobs/query/{job['id']}").json()["state"] == "JobComplete"
    r = h.get(f"{V}/jobs/query/{job['id']}/results", params={"maxRecords": 2})
    assert r.headers["Sforce-NumberOfRecords"] == "2" and r.headers["Sforce-Locator"] != "null"
    r2 = h.get(f"{V}/jobs/query/{job['id']}/results", params={"locator": r.headers["Sforce-Locator"], "maxRecords": 2})
    assert r2.headers["Sforce-NumberOfRecords"] == "1" and r2.headers["Sforce-Locator"] == "null"
    rows = _rows(r.text) + _rows(r2.text)
    assert sorted(x["IsDeleted"] for x in rows) == ["false", "false", "true"]
    other = sb.http.get(f"/services/data/v60.0/jobs/query/{job['id']}")
    assert other.status_code == 409
    bad = h.post(f"{V}/jobs/query", json={"operation": "query", "query": "SELECT Nope__c FROM Lead"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_bulk_ingest_insert_with_failures(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    records = [
        {"LastName": "Good", "Company": "Co", "Email": "good@example.com"},
        {"LastName": "", "Company": "Co", "Email": "nolast@example.com"},
        {"LastName": "BadMail", "Company": "Co", "Email": "nope"},
    ]
    out = sf.bulk2.Lead.insert(records=records, wait=0)
    assert out[0]["numberRecordsProcessed"] == 3 and out[0]["numberRecordsFailed"] == 2
    job_id = out[0]["job_id"]
    ok = _rows(sf.bulk2.Lead.get_successful_records(job_id))
    assert len(ok) == 1 and ok[0]["sf__Created"] == "true" and ok[0]["sf__Id"].startswith("00Q")
    bad = _rows(sf.bulk2.Lead.get_failed_records(job_id))
    errors = sorted(b["sf__Error"] for b in bad)
    assert errors[0].startswith("INVALID_EMAIL_ADDRESS:") and errors[1].startswith("REQUIRED_FIELD_MISSING:")
    assert {b["Email"] for b in bad} == {"nolast@example.com", "nope"}


def test_bulk_ingest_upsert_update_delete_and_na(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    up = sf.bulk2.Contact.upsert(records=[{"HubSpot_Contact_Id__c": "h1", "LastName": "A", "Title": "T"},
                                          {"HubSpot_Contact_Id__c": "h2", "LastName": "B", "Title": "T"}],
                                 external_id_field="HubSpot_Contact_Id__c", wait=0)
    assert up[0]["numberRecordsFailed"] == 0
    cid = sf.Contact.get_by_custom_id("HubSpot_Contact_Id__c", "h1")["Id"]
    sf.bulk2.Contact.update(records=[{"Id": cid, "Title": "#N/A", "Department": ""}], wait=0)
    rec = sf.Contact.get(cid)
    assert rec["Title"] is None and rec["Department"] is None
    again = sf.bulk2.Contact.upsert(records=[{"HubSpot_Contact_Id__c": "h1", "LastName": "A2"}],
                                    external_id_field="HubSpot_Contact_Id__c", wait=0)
    ok = _rows(sf.bulk2.Contact.get_successful_records(again[0]["job_id"]))
    assert ok[0]["sf__Created"] == "false" and ok[0]["sf__Id"] == cid
    sf.bulk2.Contact.delete(records=[{"Id": cid}], wait=0)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_raw_ingest_flow_and_abort(sb: SalesforceSandbox) -> None:
    h = sb.http
    job = h.post(f"{V}/jobs/ingest", json={"object": "Account", "operation": "insert", "lineEnding": "LF"}).json()
    assert job["state"] == "Open" and job["contentUrl"] == f"services/data/v62.0/jobs/ingest/{job['id']}/batches"
    put = h.put(f"{V}/jobs/ingest/{job['id']}/batches", content=b'Name,Website\n"Acme, Inc",acme.example\n',
                headers={"Content-Type": "text/csv"})
    assert put.status_code == 201 and put.content == b""
    closed = h.patch(f"{V}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"}).json()
    assert closed["state"] == "UploadComplete"
    info = h.get(f"{V}/jobs/ingest/{job['id']}").json()
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 1
    assert sb.simple_salesforce().query("SELECT Name FROM Account")["records"][0]["Name"] == "Acme, Inc"
    job2 = h.post(f"{V}/jobs/ingest", json={"object": "Account", "operation": "insert"}).json()
    h.put(f"{V}/jobs/ingest/{job2['id']}/batches", content=b"Name\nX\n", headers={"Content-Type": "text/csv"})
    assert h.patch(f"{V}/jobs/ingest/{job2['id']}", json={"state": "Aborted"}).json()["state"] == "Aborted"
    un = h.get(f"{V}/jobs/ingest/{job2['id']}/unprocessedrecords")
    assert _rows(un.text) == [{"Name": "X"}]


def test_ingest_with_an_unknown_column_fails_the_job(sb: SalesforceSandbox) -> None:
    h = sb.http
    job = h.post(f"{V}/jobs/ingest", json={"object": "Lead", "operation": "insert"}).json()
    h.put(f"{V}/jobs/ingest/{job['id']}/batches", content=b"LastName,Company,Shoe__c\nA,B,9\n",
          headers={"Content-Type": "text/csv"})
    h.patch(f"{V}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    info = h.get(f"{V}/jobs/ingest/{job['id']}").json()
    assert info["state"] == "Failed" and info["errorMessage"] == "InvalidBatch : Field name not found : Shoe__c"
    assert _rows(h.get(f"{V}/jobs/ingest/{job['id']}/unprocessedrecords").text) == [
        {"LastName": "A", "Company": "B", "Shoe__c": "9"}]
