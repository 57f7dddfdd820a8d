"""HubSpotSink against respx: 207 batch answers with an outcome per input keyed back to the caller's key,
upserts mapped back by their id property, 100 inputs per call, associations retried pair by pair and GDPR
deletes, with exact call counts."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from connector.systems.http import MalformedResponse
from connector.systems.hubspot import HubSpotSink
from connector.systems.ports import Item, WriteOutcome
from tests.systems.respx_vendors import HS, hs_error, hs_record, hubspot, json_of

CONTACTS = f"{HS}/crm/v3/objects/contacts"
T0 = 1_700_000_000_000


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
    out = HubSpotSink(source).write("contacts", "update", items, id_field=None)
    assert out == {
        "k-ok": WriteOutcome(True, "101"),
        "k-bad": WriteOutcome(False, code="INVALID_INTEGER", message="discount was not a valid number",
                              fields=("discount",)),
        "k-silent": WriteOutcome(False, code="NO_RESULT", message="HubSpot's answer did not mention this record"),
    }
    assert route.call_count == 1 and ledger.total() == 1
    assert json_of(route.calls[0])["inputs"] == [
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
    out = HubSpotSink(source).write("contacts", "upsert", items, id_field="sf_contact_id")
    assert out["a"] == WriteOutcome(True, "201", created=True)
    assert out["b"] == WriteOutcome(True, "202", created=False)  # matched case-insensitively
    assert out["c"].code == "MISSING_ID_PROPERTY" and not out["c"].ok
    assert route.call_count == 1
    assert [(i["id"], i["idProperty"]) for i in json_of(route.calls[0])["inputs"]] == [
        ("003A", "sf_contact_id"), ("003B", "sf_contact_id")]


def test_batch_writes_go_100_inputs_per_call(router: respx.Router, sleeps: list[float]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        return httpx.Response(200, json={"status": "COMPLETE",
                                         "results": [hs_record(i["id"], T0) for i in inputs]})

    route = router.post(f"{CONTACTS}/batch/update").mock(side_effect=answer)
    source, ledger = hubspot(router, sleeps)
    items = [Item(f"k{i}", str(i), {"x": i}) for i in range(250)]
    out = HubSpotSink(source).write("contacts", "update", items, id_field=None)
    assert all(o.ok for o in out.values()) and len(out) == 250
    assert route.call_count == 3 and ledger.total() == 3
    assert [len(json_of(c)["inputs"]) for c in route.calls] == [100, 100, 50]


def test_a_batch_associate_refused_whole_is_sent_again_pair_by_pair(router: respx.Router, sleeps: list[float]
                                                                    ) -> None:
    route = router.post(f"{HS}/crm/v4/associations/deals/contacts/batch/associate/default").mock(side_effect=[
        hs_error(400, "VALIDATION_ERROR", "one record is archived"),
        httpx.Response(200, json={"status": "COMPLETE", "results": []}),
        hs_error(404, "OBJECT_NOT_FOUND", "deal 2 was not found"),
    ])
    source, _ = hubspot(router, sleeps)
    out = HubSpotSink(source).associate("deals", "contacts", [("1", "10"), ("2", "20")])
    assert out[("1", "10")] == WriteOutcome(True, "1")
    assert out[("2", "20")] == WriteOutcome(False, "2", code="OBJECT_NOT_FOUND", message="deal 2 was not found")
    assert route.call_count == 3
    assert [len(json_of(c)["inputs"]) for c in route.calls] == [2, 1, 1]


def test_a_gdpr_delete_of_a_record_already_gone_counts_as_deleted(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(f"{CONTACTS}/gdpr-delete").mock(side_effect=[
        httpx.Response(204), hs_error(404, "OBJECT_NOT_FOUND", "resource not found"),
        hs_error(400, "VALIDATION_ERROR", "objectId is not valid")])
    source, _ = hubspot(router, sleeps)
    out = HubSpotSink(source).delete("contacts", ["1", "2", "3"], erase=True)
    assert [out[i].ok for i in ("1", "2", "3")] == [True, True, False]
    assert out["3"].code == "VALIDATION_ERROR" and route.call_count == 3


def test_a_batch_associate_answer_that_is_a_list_is_malformed_without_its_content(router: respx.Router,
                                                                                  sleeps: list[float]) -> None:
    route = router.post(f"{HS}/crm/v4/associations/deals/contacts/batch/associate/default").mock(
        return_value=httpx.Response(200, json=[{"email": "ann@example.test"}]))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(MalformedResponse, match="hubspot deals>contacts associate: expected a JSON object") as caught:
        HubSpotSink(source).associate("deals", "contacts", [("1", "10")])
    assert "ann@example.test" not in str(caught.value) and route.call_count == 1
