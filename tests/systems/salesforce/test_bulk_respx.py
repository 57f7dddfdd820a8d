"""Bulk API 2.0 (`salesforce.bulk`) against respx: a query job (through `SalesforceSource.bulk_query_pages`) and
an ingest job (through `SalesforceSink.write` above its bulk threshold) polled with the injected sleep, CSV read
back typed and keyed to the caller's keys, and failed jobs as API errors, with exact call counts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from connector.systems.http import ApiError, MalformedResponse, TransientApiError
from connector.systems.ports import Item, WriteOutcome
from connector.systems.salesforce import SalesforceSink
from connector.systems.salesforce import bulk
from connector.systems.salesforce.bulk import BULK_POLL_SECONDS
from tests.systems.respx_vendors import SF_API, json_of, salesforce, sf_granted


# ---------------------------------------------------------------------------------------------- Bulk 2.0 query


def job(state: str) -> httpx.Response:
    """A query job (SF-BULKQ; api-facts.md B9)."""
    return httpx.Response(200, json={"id": "750R0000000zlh9IAA", "operation": "queryAll", "object": "Lead",
                                     "state": state, "concurrencyMode": "Parallel", "contentType": "CSV",
                                     "apiVersion": 62.0, "lineEnding": "LF", "columnDelimiter": "COMMA"})


def describe() -> httpx.Response:
    return httpx.Response(200, json={"name": "Lead", "fields": [
        {"name": "Id", "type": "id"}, {"name": "IsDeleted", "type": "boolean"},
        {"name": "NumberOfEmployees", "type": "int"}, {"name": "AnnualRevenue", "type": "currency"}]})


def test_a_bulk_query_polls_with_the_injected_sleep_and_follows_locators(router: respx.Router, sleeps: list[float]
                                                                          ) -> None:
    sf_granted(router)
    create = router.post(f"{SF_API}/jobs/query").mock(return_value=job("UploadComplete"))
    poll = router.get(f"{SF_API}/jobs/query/750R0000000zlh9IAA").mock(
        side_effect=[job("UploadComplete"), job("InProgress"), job("JobComplete")])
    fields = router.get(f"{SF_API}/sobjects/Lead/describe").mock(return_value=describe())
    header = "Id,IsDeleted,NumberOfEmployees,AnnualRevenue\n"
    results = router.get(f"{SF_API}/jobs/query/750R0000000zlh9IAA/results").mock(side_effect=[
        httpx.Response(200, text=header + '00Q1,false,12,1500.5\n00Q2,true,,\n',
                       headers={"Sforce-Locator": "MTAwMDA", "Sforce-NumberOfRecords": "2"}),
        httpx.Response(200, text=header + '00Q3,false,"7",\n',
                       headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"}),  # literal "null": done
    ])
    source, ledger = salesforce(router, sleeps)
    pages = list(source.bulk_query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert pages == [
        [{"Id": "00Q1", "IsDeleted": False, "NumberOfEmployees": 12, "AnnualRevenue": 1500.5},
         {"Id": "00Q2", "IsDeleted": True, "NumberOfEmployees": None, "AnnualRevenue": None}],
        [{"Id": "00Q3", "IsDeleted": False, "NumberOfEmployees": 7, "AnnualRevenue": None}]]
    assert sleeps == list(BULK_POLL_SECONDS[:2])  # two polls found it unfinished; nothing waited for real
    assert (create.call_count, poll.call_count, fields.call_count, results.call_count) == (1, 3, 1, 2)
    assert ledger.total() == 7
    assert json.loads(create.calls[0].request.content) == {
        "operation": "queryAll", "query": "SELECT Id FROM Lead", "contentType": "CSV", "columnDelimiter": "COMMA",
        "lineEnding": "LF"}
    assert [dict(c.request.url.params) for c in results.calls] == [
        {"maxRecords": "10000"}, {"maxRecords": "10000", "locator": "MTAwMDA"}]


def test_a_failed_bulk_query_job_is_an_api_error(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    router.post(f"{SF_API}/jobs/query").mock(return_value=job("UploadComplete"))
    poll = router.get(f"{SF_API}/jobs/query/750R0000000zlh9IAA").mock(side_effect=[job("InProgress"), job("Failed")])
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError, match="the job ended Failed") as caught:
        list(source.bulk_query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert caught.value.code == "Failed" and poll.call_count == 2 and sleeps == [BULK_POLL_SECONDS[0]]


def test_a_query_job_created_without_an_id_is_malformed_and_never_polled(router: respx.Router,
                                                                         sleeps: list[float]) -> None:
    sf_granted(router)
    create = router.post(f"{SF_API}/jobs/query").mock(
        return_value=httpx.Response(200, json={"state": "UploadComplete"}))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="bulk query job creation for Lead: the answer has no job id"):
        list(source.bulk_query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert create.call_count == 1 and sleeps == []  # the strict router fails any poll of jobs/query/None


def test_a_query_job_still_running_after_the_last_poll_is_try_again_later(
        router: respx.Router, sleeps: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BULK_MAX_POLLS", 3)
    sf_granted(router)
    router.post(f"{SF_API}/jobs/query").mock(return_value=job("UploadComplete"))
    poll = router.get(f"{SF_API}/jobs/query/750R0000000zlh9IAA").mock(return_value=job("InProgress"))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(TransientApiError, match="bulk query job 750R0000000zlh9IAA .* still running after 3 polls"):
        list(source.bulk_query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert poll.call_count == 3 and sleeps == list(BULK_POLL_SECONDS[:2])  # no results read, no wait after the last


# ---------------------------------------------------------------------------------------------- Bulk 2.0 ingest


JOB = "7505e00000XyZabAAB"


def ingest(state: str, **extra: Any) -> httpx.Response:
    """An ingest job (SF-BULKI; api-facts.md B9)."""
    return httpx.Response(200, json={"id": JOB, "operation": "upsert", "object": "Contact", "state": state,
                                     "externalIdFieldName": "HubSpot_Contact_Id__c", "contentType": "CSV",
                                     "apiVersion": 62.0, "contentUrl": f"services/data/v62.0/jobs/ingest/{JOB}/batches",
                                     "lineEnding": "LF", "columnDelimiter": "COMMA", **extra})


def bulk_routes(router: respx.Router, polls: list[httpx.Response]) -> dict[str, respx.Route]:
    sf_granted(router)
    return {
        "create": router.post(f"{SF_API}/jobs/ingest").mock(return_value=ingest("Open")),
        "upload": router.put(f"{SF_API}/jobs/ingest/{JOB}/batches").mock(return_value=httpx.Response(201)),
        "close": router.patch(f"{SF_API}/jobs/ingest/{JOB}").mock(return_value=ingest("UploadComplete")),
        "poll": router.get(f"{SF_API}/jobs/ingest/{JOB}").mock(side_effect=polls),
    }


def test_a_bulk_upsert_polls_with_the_injected_sleep_and_reads_both_result_sets(
        router: respx.Router, sleeps: list[float]) -> None:
    routes = bulk_routes(router, [ingest("UploadComplete"), ingest("InProgress"), ingest("JobComplete")])
    ok = router.get(f"{SF_API}/jobs/ingest/{JOB}/successfulResults").mock(return_value=httpx.Response(
        200, text='"sf__Id","sf__Created",HubSpot_Contact_Id__c,LastName\n"0035e0000AAA","true",hs-1,Ng\n'))
    failed = router.get(f"{SF_API}/jobs/ingest/{JOB}/failedResults").mock(return_value=httpx.Response(
        200, text='"sf__Id","sf__Error",HubSpot_Contact_Id__c,LastName\n'
                  '"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",hs-2,\n'))
    source, ledger = salesforce(router, sleeps)
    items = [Item("a", None, {"HubSpot_Contact_Id__c": "hs-1", "LastName": "Ng"}),
             Item("b", None, {"HubSpot_Contact_Id__c": "hs-2", "LastName": None}),
             Item("c", None, {"HubSpot_Contact_Id__c": "hs-3", "LastName": "Lost"})]
    out = SalesforceSink(source, bulk_threshold=2).write("Contact", "upsert", items, id_field="HubSpot_Contact_Id__c")
    assert out["a"] == WriteOutcome(True, "0035e0000AAA", created=True)
    assert out["b"] == WriteOutcome(False, code="REQUIRED_FIELD_MISSING",
                                    message="Required fields are missing: [LastName]", fields=("LastName",))
    assert out["c"] == WriteOutcome(False, code="NO_RESULT", message=f"bulk job {JOB} did not report hs-3")
    assert sleeps == list(BULK_POLL_SECONDS[:2])  # two polls found it unfinished; nothing waited for real
    assert {name: r.call_count for name, r in routes.items()} == {"create": 1, "upload": 1, "close": 1, "poll": 3}
    assert ok.call_count == failed.call_count == 1 and ledger.total() == 8
    assert json_of(routes["create"].calls[0]) == {
        "object": "Contact", "operation": "upsert", "contentType": "CSV", "lineEnding": "LF",
        "columnDelimiter": "COMMA", "externalIdFieldName": "HubSpot_Contact_Id__c"}
    upload = routes["upload"].calls[0].request
    assert upload.headers["Content-Type"] == "text/csv"
    assert upload.content.decode() == "HubSpot_Contact_Id__c,LastName\nhs-1,Ng\nhs-2,#N/A\nhs-3,Lost\n"  # #N/A: null
    assert json_of(routes["close"].calls[0]) == {"state": "UploadComplete"}


def test_a_failed_ingest_job_is_an_api_error_with_its_message(router: respx.Router, sleeps: list[float]) -> None:
    routes = bulk_routes(router, [ingest("Failed", errorMessage="InvalidBatch : Field name not found : Foo__c")])
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError, match="Field name not found") as caught:
        SalesforceSink(source, bulk_threshold=0).write("Contact", "update", [Item("a", "003A", {"Foo__c": 1})],
                                                       id_field=None)
    assert caught.value.code == "Failed" and routes["poll"].call_count == 1 and sleeps == []


def test_an_ingest_job_created_without_an_id_is_malformed_and_nothing_is_uploaded(router: respx.Router,
                                                                                  sleeps: list[float]) -> None:
    sf_granted(router)
    create = router.post(f"{SF_API}/jobs/ingest").mock(return_value=httpx.Response(200, json=[{"id": JOB}]))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="bulk ingest job creation for Contact: expected a JSON object"):
        SalesforceSink(source, bulk_threshold=0).write("Contact", "update", [Item("a", "003A", {"LastName": "Ng"})],
                                                       id_field=None)
    assert create.call_count == 1 and sleeps == []


def test_an_ingest_job_answer_with_a_null_id_is_malformed(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    router.post(f"{SF_API}/jobs/ingest").mock(return_value=httpx.Response(200, json={"id": None, "state": "Open"}))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="bulk ingest job creation for Contact: the answer has no job id"):
        SalesforceSink(source, bulk_threshold=0).write("Contact", "update", [Item("a", "003A", {"LastName": "Ng"})],
                                                       id_field=None)


def test_an_ingest_job_still_running_after_the_last_poll_is_try_again_later(
        router: respx.Router, sleeps: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "BULK_MAX_POLLS", 3)
    routes = bulk_routes(router, [ingest("InProgress")] * 3)
    source, _ = salesforce(router, sleeps)
    with pytest.raises(TransientApiError, match=f"bulk ingest job {JOB} .* still running after 3 polls"):
        SalesforceSink(source, bulk_threshold=0).write("Contact", "update", [Item("a", "003A", {"LastName": "Ng"})],
                                                       id_field=None)
    assert routes["poll"].call_count == 3 and sleeps == list(BULK_POLL_SECONDS[:2])  # no result sets read


def test_an_ingest_error_without_a_fields_tail_names_no_field(router: respx.Router, sleeps: list[float]) -> None:
    """``sf__Error`` is "code and message" (SF-BULKI; api-facts.md B9); only a ``:names --`` tail names fields."""
    bulk_routes(router, [ingest("JobComplete")])
    router.get(f"{SF_API}/jobs/ingest/{JOB}/successfulResults").mock(return_value=httpx.Response(
        200, text='"sf__Id","sf__Created",Id,LastName\n'))
    router.get(f"{SF_API}/jobs/ingest/{JOB}/failedResults").mock(return_value=httpx.Response(
        200, text='"sf__Id","sf__Error",Id,LastName\n'
                  '"003A","UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record--",003A,Ng\n'
                  '"003B","FIELD_CUSTOM_VALIDATION_EXCEPTION:Name: must not be blank:LastName,FirstName --",003B,\n'))
    source, _ = salesforce(router, sleeps)
    items = [Item("a", "003A", {"LastName": "Ng"}), Item("b", "003B", {"LastName": None})]
    out = SalesforceSink(source, bulk_threshold=0).write("Contact", "update", items, id_field=None)
    assert out["a"] == WriteOutcome(False, code="UNABLE_TO_LOCK_ROW",
                                    message="unable to obtain exclusive access to this record")
    assert out["b"] == WriteOutcome(False, code="FIELD_CUSTOM_VALIDATION_EXCEPTION", message="Name: must not be blank",
                                    fields=("LastName", "FirstName"))
