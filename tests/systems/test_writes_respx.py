"""The write side against respx: HubSpot's 207 batch answers, Salesforce's sObject Collections in Composite
(per-record errors, DUPLICATE_VALUE's field), deletes and Bulk 2.0 ingest polling, with exact call counts
and every outcome keyed back to the caller's key."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from connector.systems.http import ApiError
from connector.systems.writes import (
    BULK_POLL_SECONDS,
    Item,
    WriteOutcome,
    hubspot_associate,
    hubspot_delete,
    hubspot_write,
    salesforce_create,
    salesforce_delete,
    salesforce_write,
)
from tests.systems.respx_vendors import (  # noqa: F401
    HS,
    SF_API,
    SF_GRANT,
    SF_TOKEN,
    hs_error,
    hs_record,
    hubspot,
    router_fixture,
    salesforce,
    sf_composite,
    sleeps_fixture,
)

CONTACTS = f"{HS}/crm/v3/objects/contacts"
COMPOSITE = f"{SF_API}/composite"
T0 = 1_700_000_000_000


def body_of(call: respx.models.Call) -> Any:
    return json.loads(call.request.content)


# ---------------------------------------------------------------------------------------------- HubSpot 207


def test_a_207_batch_update_gives_each_input_its_own_outcome(router: respx.Router, sleeps: list[float]) -> None:
    """HS-ERR's 207 Multi-Status (api-facts.md A3): created/updated records in ``results``, each failed input
    named by its ``objectWriteTraceId`` in ``errors[].context``; an input mentioned nowhere was not written."""
    route = router.post(f"{CONTACTS}/batch/update").mock(return_value=httpx.Response(207, json={
        "status": "COMPLETE",
        "results": [hs_record(101, "2024-08-15T17:09:13.648Z", firstname="Ada")],
        "numErrors": 1,
        "errors": [{"status": "error", "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid",
                    "errors": [{"message": "discount was not a valid number", "code": "INVALID_INTEGER",
                                "context": {"propertyName": ["discount"]}}],
                    "context": {"objectWriteTraceId": ["k-bad"]}}],
        "startedAt": "2024-08-15T17:09:13.610Z", "completedAt": "2024-08-15T17:09:13.910Z"}))
    source, ledger = hubspot(router, sleeps)
    items = [Item("k-ok", "101", {"firstname": "Ada", "hs_email_optout": False}),
             Item("k-bad", "102", {"discount": "ten"}),
             Item("k-silent", "103", {"firstname": None})]
    out = hubspot_write(source, "contacts", "update", items)
    assert out == {
        "k-ok": WriteOutcome(True, "101"),
        "k-bad": WriteOutcome(False, code="INVALID_INTEGER", message="discount was not a valid number",
                              fields=("discount",)),
        "k-silent": WriteOutcome(False, code="NO_RESULT", message="HubSpot's answer did not mention this record"),
    }
    assert route.call_count == 1 and ledger.total() == 1
    assert body_of(route.calls[0])["inputs"] == [
        {"properties": {"firstname": "Ada", "hs_email_optout": "false"}, "objectWriteTraceId": "k-ok", "id": "101"},
        {"properties": {"discount": "ten"}, "objectWriteTraceId": "k-bad", "id": "102"},
        {"properties": {"firstname": ""}, "objectWriteTraceId": "k-silent", "id": "103"}]  # "" clears (HS-SPEC)


def test_an_upsert_maps_results_back_by_the_id_property_and_reports_new(router: respx.Router, sleeps: list[float]
                                                                        ) -> None:
    """Upsert results carry ``new`` (HS-SPEC SimplePublicUpsertObject); an input without the id property never
    leaves the process."""
    route = router.post(f"{CONTACTS}/batch/upsert").mock(return_value=httpx.Response(200, json={
        "status": "COMPLETE", "results": [
            {**hs_record(201, T0, sf_contact_id="003A"), "new": True},
            {**hs_record(202, T0, sf_contact_id="003b"), "new": False}]}))
    source, _ = hubspot(router, sleeps)
    items = [Item("a", None, {"sf_contact_id": "003A"}), Item("b", None, {"sf_contact_id": "003B"}),
             Item("c", None, {"firstname": "no key"})]
    out = hubspot_write(source, "contacts", "upsert", items, id_property="sf_contact_id")
    assert out["a"] == WriteOutcome(True, "201", created=True)
    assert out["b"] == WriteOutcome(True, "202", created=False)  # matched case-insensitively
    assert out["c"].code == "MISSING_ID_PROPERTY" and not out["c"].ok
    assert route.call_count == 1
    assert [(i["id"], i["idProperty"]) for i in body_of(route.calls[0])["inputs"]] == [
        ("003A", "sf_contact_id"), ("003B", "sf_contact_id")]


def test_batch_writes_go_100_inputs_per_call(router: respx.Router, sleeps: list[float]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        return httpx.Response(200, json={"status": "COMPLETE",
                                         "results": [hs_record(i["id"], T0) for i in inputs]})

    route = router.post(f"{CONTACTS}/batch/update").mock(side_effect=answer)
    source, ledger = hubspot(router, sleeps)
    out = hubspot_write(source, "contacts", "update", [Item(f"k{i}", str(i), {"x": i}) for i in range(250)])
    assert all(o.ok for o in out.values()) and len(out) == 250
    assert route.call_count == 3 and ledger.total() == 3
    assert [len(body_of(c)["inputs"]) for c in route.calls] == [100, 100, 50]


def test_a_batch_associate_refused_whole_is_sent_again_pair_by_pair(router: respx.Router, sleeps: list[float]
                                                                    ) -> None:
    route = router.post(f"{HS}/crm/v4/associations/deals/contacts/batch/associate/default").mock(side_effect=[
        hs_error(400, "VALIDATION_ERROR", "one record is archived"),
        httpx.Response(200, json={"status": "COMPLETE", "results": []}),
        hs_error(404, "OBJECT_NOT_FOUND", "deal 2 was not found"),
    ])
    source, _ = hubspot(router, sleeps)
    out = hubspot_associate(source, "deals", "contacts", [("1", "10"), ("2", "20")])
    assert out[("1", "10")] == WriteOutcome(True, "1")
    assert out[("2", "20")] == WriteOutcome(False, "2", code="OBJECT_NOT_FOUND", message="deal 2 was not found")
    assert route.call_count == 3
    assert [len(body_of(c)["inputs"]) for c in route.calls] == [2, 1, 1]


def test_a_gdpr_delete_of_a_record_already_gone_counts_as_deleted(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(f"{CONTACTS}/gdpr-delete").mock(side_effect=[
        httpx.Response(204), hs_error(404, "OBJECT_NOT_FOUND", "resource not found"),
        hs_error(400, "VALIDATION_ERROR", "objectId is not valid")])
    source, _ = hubspot(router, sleeps)
    out = hubspot_delete(source, "contacts", ["1", "2", "3"], gdpr=True)
    assert [out[i].ok for i in ("1", "2", "3")] == [True, True, False]
    assert out["3"].code == "VALIDATION_ERROR" and route.call_count == 3


# ---------------------------------------------------------------------------------------------- Salesforce Collections


def granted(router: respx.Router) -> respx.Route:
    return router.post(SF_TOKEN).mock(return_value=httpx.Response(200, json=SF_GRANT))


def test_collections_in_composite_keep_per_record_errors_and_parse_duplicate_value_field(
        router: respx.Router, sleeps: list[float]) -> None:
    """SaveResults in input order (SF-COLL; api-facts.md B3). DUPLICATE_VALUE names its field only in the
    message, worded as SFDO-Community/declarative-lookup-rollup-summaries#1039 quotes it."""
    granted(router)
    duplicate: dict[str, Any] = {"statusCode": "DUPLICATE_VALUE", "fields": [],
                 "message": "duplicate value found: HubSpot_Contact_Id__c duplicates value on record with id: "
                            "0035e00000AbCdE"}
    picklist: dict[str, Any] = {"statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["LeadSource"],
                "message": "Lead Source: bad value for restricted picklist field: Fax"}
    route = router.post(COMPOSITE).mock(return_value=sf_composite(("c0", 200, [
        {"id": "0035e00000AAAAA", "success": True, "errors": [], "created": True},
        {"id": None, "success": False, "errors": [duplicate]},
        {"id": None, "success": False, "errors": [picklist]},
        {"id": "0035e00000BBBBB", "success": True, "errors": [], "created": False}])))
    source, ledger = salesforce(router, sleeps)
    items = [Item(f"k{i}", None, {"HubSpot_Contact_Id__c": f"hs-{i}", "LastName": "X"}) for i in range(4)]
    out = salesforce_write(source, "Contact", "upsert", items, external_id="HubSpot_Contact_Id__c")
    assert out["k0"] == WriteOutcome(True, "0035e00000AAAAA", created=True)
    assert out["k1"] == WriteOutcome(False, code="DUPLICATE_VALUE", message=duplicate["message"],
                                     fields=("HubSpot_Contact_Id__c",))
    assert out["k2"] == WriteOutcome(False, code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                     message=picklist["message"], fields=("LeadSource",))
    assert out["k3"] == WriteOutcome(True, "0035e00000BBBBB", created=False)
    assert route.call_count == 1 and ledger.total() == 1
    [sub] = body_of(route.calls[0])["compositeRequest"]
    assert (sub["method"], sub["url"]) == ("PATCH", "/services/data/v62.0/composite/sobjects/Contact/HubSpot_Contact_Id__c")
    assert sub["body"]["allOrNone"] is False and sub["body"]["records"][0]["attributes"] == {"type": "Contact"}


def test_1001_updates_take_two_composite_calls_of_200_record_collections(router: respx.Router, sleeps: list[float]
                                                                          ) -> None:
    """200 records per collection (SF-COLL), five collections per Composite call (B3a)."""
    granted(router)

    def answer(request: httpx.Request) -> httpx.Response:
        subs = json.loads(request.content)["compositeRequest"]
        return sf_composite(*[(s["referenceId"], 200, [{"id": r["Id"], "success": True, "errors": []}
                                                       for r in s["body"]["records"]]) for s in subs])

    route = router.post(COMPOSITE).mock(side_effect=answer)
    source, ledger = salesforce(router, sleeps)
    items = [Item(f"k{i}", f"003{i:012d}", {"Title": "CTO"}) for i in range(1001)]
    out = salesforce_write(source, "Contact", "update", items)
    assert len(out) == 1001 and all(o.ok for o in out.values()) and out["k7"].record_id == "003000000000007"
    assert route.call_count == 2 and ledger.total() == 2
    shapes = [[len(s["body"]["records"]) for s in body_of(c)["compositeRequest"]] for c in route.calls]
    assert shapes == [[200] * 5, [1]]


def test_a_refused_collection_fails_its_records_and_only_those(router: respx.Router, sleeps: list[float]) -> None:
    granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(
        ("c0", 400, [{"errorCode": "INVALID_FIELD", "message": "No such column 'Foo__c' on sobject of type Lead"}]),
        ("c1", 200, [{"id": "00Q2", "success": True, "errors": []}])))
    source, _ = salesforce(router, sleeps)
    records = [Item(f"k{i}", f"00Q{i}", {"Foo__c": 1}) for i in range(201)]
    out = salesforce_write(source, "Lead", "update", records)
    assert {out[f"k{i}"].code for i in range(200)} == {"INVALID_FIELD"}
    assert out["k200"] == WriteOutcome(True, "00Q2") and route.call_count == 1


def test_a_collection_answer_of_the_wrong_length_is_no_result_never_success(
        router: respx.Router, sleeps: list[float]) -> None:
    granted(router)
    router.post(COMPOSITE).mock(return_value=sf_composite(("c0", 200, [{"id": "00Q1", "success": True}])))
    source, _ = salesforce(router, sleeps)
    out = salesforce_create(source, "OpportunityContactRole", [Item("a", None, {"Role": "Buyer"}),
                                                               Item("b", None, {"Role": "User"})])
    assert {k: o.code for k, o in out.items()} == {"a": "NO_RESULT", "b": "NO_RESULT"}


def test_delete_counts_entity_is_deleted_as_done_and_unanswered_ids_as_not(router: respx.Router, sleeps: list[float]
                                                                           ) -> None:
    granted(router)
    route = router.delete(f"{SF_API}/composite/sobjects").mock(return_value=httpx.Response(200, json=[
        {"id": "00Q1", "success": True, "errors": []},
        {"id": None, "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED",
                                                    "message": "entity is deleted", "fields": []}]}]))
    source, _ = salesforce(router, sleeps)
    out = salesforce_delete(source, "Lead", ["00Q1", "00Q2", "00Q3"])
    assert out == {"00Q1": WriteOutcome(True, "00Q1"), "00Q2": WriteOutcome(True, "00Q2"),
                   "00Q3": WriteOutcome(False, "00Q3", code="NO_RESULT",
                                        message="Salesforce's answer did not mention it")}
    assert route.call_count == 1
    assert dict(route.calls[0].request.url.params) == {"ids": "00Q1,00Q2,00Q3", "allOrNone": "false"}


# ---------------------------------------------------------------------------------------------- Bulk 2.0 ingest


JOB = "7505e00000XyZabAAB"


def ingest(state: str, **extra: Any) -> httpx.Response:
    """An ingest job (SF-BULKI; api-facts.md B9)."""
    return httpx.Response(200, json={"id": JOB, "operation": "upsert", "object": "Contact", "state": state,
                                     "externalIdFieldName": "HubSpot_Contact_Id__c", "contentType": "CSV",
                                     "apiVersion": 62.0, "contentUrl": f"services/data/v62.0/jobs/ingest/{JOB}/batches",
                                     "lineEnding": "LF", "columnDelimiter": "COMMA", **extra})


def bulk_routes(router: respx.Router, polls: list[httpx.Response]) -> dict[str, respx.Route]:
    granted(router)
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
    bulk_sleeps: list[float] = []
    out = salesforce_write(source, "Contact", "upsert", items, external_id="HubSpot_Contact_Id__c",
                           bulk_threshold=2, sleep=bulk_sleeps.append)
    assert out["a"] == WriteOutcome(True, "0035e0000AAA", created=True)
    assert out["b"] == WriteOutcome(False, code="REQUIRED_FIELD_MISSING",
                                    message="Required fields are missing: [LastName]", fields=("LastName",))
    assert out["c"] == WriteOutcome(False, code="NO_RESULT", message=f"bulk job {JOB} did not report hs-3")
    assert bulk_sleeps == list(BULK_POLL_SECONDS[:2]) and sleeps == []
    assert {name: r.call_count for name, r in routes.items()} == {"create": 1, "upload": 1, "close": 1, "poll": 3}
    assert ok.call_count == failed.call_count == 1 and ledger.total() == 8
    assert body_of(routes["create"].calls[0]) == {
        "object": "Contact", "operation": "upsert", "contentType": "CSV", "lineEnding": "LF",
        "columnDelimiter": "COMMA", "externalIdFieldName": "HubSpot_Contact_Id__c"}
    upload = routes["upload"].calls[0].request
    assert upload.headers["Content-Type"] == "text/csv"
    assert upload.content.decode() == "HubSpot_Contact_Id__c,LastName\nhs-1,Ng\nhs-2,#N/A\nhs-3,Lost\n"  # #N/A: null
    assert body_of(routes["close"].calls[0]) == {"state": "UploadComplete"}


def test_a_failed_ingest_job_is_an_api_error_with_its_message(router: respx.Router, sleeps: list[float]) -> None:
    routes = bulk_routes(router, [ingest("Failed", errorMessage="InvalidBatch : Field name not found : Foo__c")])
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError, match="Field name not found") as caught:
        salesforce_write(source, "Contact", "update", [Item("a", "003A", {"Foo__c": 1})], bulk_threshold=0,
                         sleep=sleeps.append)
    assert caught.value.code == "Failed" and routes["poll"].call_count == 1 and sleeps == []
