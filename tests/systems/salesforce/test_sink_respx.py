"""SalesforceSink against respx: sObject Collections in Composite with per-record errors (DUPLICATE_VALUE's
field read from its message), 200 records per collection and five collections per call, a refused or short
collection, and deletes, with exact call counts and every outcome keyed back to the caller's key."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from connector.systems.http import MalformedResponse
from connector.systems.ports import Item, WriteOutcome
from connector.systems.salesforce import SalesforceSink
from tests.systems.respx_vendors import SF_API, json_of, salesforce, sf_composite, sf_granted

COMPOSITE = f"{SF_API}/composite"


def test_collections_in_composite_keep_per_record_errors_and_parse_duplicate_value_field(
        router: respx.Router, sleeps: list[float]) -> None:
    """SaveResults in input order (SF-COLL; api-facts.md B3). DUPLICATE_VALUE names its field only in the
    message, worded as SFDO-Community/declarative-lookup-rollup-summaries#1039 quotes it."""
    sf_granted(router)
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
    out = SalesforceSink(source).write("Contact", "upsert", items, id_field="HubSpot_Contact_Id__c")
    assert out["k0"] == WriteOutcome(True, "0035e00000AAAAA", created=True)
    assert out["k1"] == WriteOutcome(False, code="DUPLICATE_VALUE", message=duplicate["message"],
                                     fields=("HubSpot_Contact_Id__c",))
    assert out["k2"] == WriteOutcome(False, code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                     message=picklist["message"], fields=("LeadSource",))
    assert out["k3"] == WriteOutcome(True, "0035e00000BBBBB", created=False)
    assert route.call_count == 1 and ledger.total() == 1
    [sub] = json_of(route.calls[0])["compositeRequest"]
    assert (sub["method"], sub["url"]) == (
        "PATCH", "/services/data/v62.0/composite/sobjects/Contact/HubSpot_Contact_Id__c")
    assert sub["body"]["allOrNone"] is False and sub["body"]["records"][0]["attributes"] == {"type": "Contact"}


def test_1001_updates_take_two_composite_calls_of_200_record_collections(router: respx.Router, sleeps: list[float]
                                                                          ) -> None:
    """200 records per collection (SF-COLL), five collections per Composite call (B3a)."""
    sf_granted(router)

    def answer(request: httpx.Request) -> httpx.Response:
        subs = json.loads(request.content)["compositeRequest"]
        return sf_composite(*[(s["referenceId"], 200, [{"id": r["Id"], "success": True, "errors": []}
                                                       for r in s["body"]["records"]]) for s in subs])

    route = router.post(COMPOSITE).mock(side_effect=answer)
    source, ledger = salesforce(router, sleeps)
    items = [Item(f"k{i}", f"003{i:012d}", {"Title": "CTO"}) for i in range(1001)]
    out = SalesforceSink(source).write("Contact", "update", items, id_field=None)
    assert len(out) == 1001 and all(o.ok for o in out.values()) and out["k7"].record_id == "003000000000007"
    assert route.call_count == 2 and ledger.total() == 2
    shapes = [[len(s["body"]["records"]) for s in json_of(c)["compositeRequest"]] for c in route.calls]
    assert shapes == [[200] * 5, [1]]


def test_a_refused_collection_fails_its_records_and_only_those(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(
        ("c0", 400, [{"errorCode": "INVALID_FIELD", "message": "No such column 'Foo__c' on sobject of type Lead"}]),
        ("c1", 200, [{"id": "00Q2", "success": True, "errors": []}])))
    source, _ = salesforce(router, sleeps)
    records = [Item(f"k{i}", f"00Q{i}", {"Foo__c": 1}) for i in range(201)]
    out = SalesforceSink(source).write("Lead", "update", records, id_field=None)
    assert {out[f"k{i}"].code for i in range(200)} == {"INVALID_FIELD"}
    assert out["k200"] == WriteOutcome(True, "00Q2") and route.call_count == 1


def test_a_collection_answer_of_the_wrong_length_is_no_result_never_success(
        router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    router.post(COMPOSITE).mock(return_value=sf_composite(("c0", 200, [{"id": "00Q1", "success": True}])))
    source, _ = salesforce(router, sleeps)
    out = SalesforceSink(source).create("OpportunityContactRole", [Item("a", None, {"Role": "Buyer"}),
                                                                Item("b", None, {"Role": "User"})])
    assert {k: o.code for k, o in out.items()} == {"a": "NO_RESULT", "b": "NO_RESULT"}


def test_delete_counts_entity_is_deleted_as_done_and_unanswered_ids_as_not(router: respx.Router, sleeps: list[float]
                                                                           ) -> None:
    sf_granted(router)
    route = router.delete(f"{SF_API}/composite/sobjects").mock(return_value=httpx.Response(200, json=[
        {"id": "00Q1", "success": True, "errors": []},
        {"id": None, "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED",
                                                    "message": "entity is deleted", "fields": []}]}]))
    source, _ = salesforce(router, sleeps)
    out = SalesforceSink(source).delete("Lead", ["00Q1", "00Q2", "00Q3"])
    assert out == {"00Q1": WriteOutcome(True, "00Q1"), "00Q2": WriteOutcome(True, "00Q2"),
                   "00Q3": WriteOutcome(False, "00Q3", code="NO_RESULT",
                                        message="Salesforce's answer did not mention it")}
    assert route.call_count == 1
    assert dict(route.calls[0].request.url.params) == {"ids": "00Q1,00Q2,00Q3", "allOrNone": "false"}


def test_a_collections_answer_that_is_a_list_is_malformed_without_its_content(router: respx.Router,
                                                                              sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=httpx.Response(200, json=[{"Email": "ann@example.test"}]))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="salesforce composite Lead write: expected a JSON object") as caught:
        SalesforceSink(source).write("Lead", "update", [Item("a", "00Q1", {"LastName": "Ng"})], id_field=None)
    assert "ann@example.test" not in str(caught.value) and route.call_count == 1
