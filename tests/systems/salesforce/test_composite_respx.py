"""Composite packing (`salesforce.composite`, through `SalesforceSource.composite`) against respx: five window
queries per call, a change probe's getUpdated and getDeleted in one call, a refused subrequest and a missing
one, with exact call counts."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from connector.systems.http import ApiError, MalformedResponse
from connector.systems.ports import ChangeProbe, ProbeResult, Window, WindowRead
from tests.systems.respx_vendors import SF_API, salesforce, sf_composite, sf_granted, sf_query

COMPOSITE = f"{SF_API}/composite"
T0 = 1_700_000_000_000


def test_six_window_queries_take_two_composite_calls(router: respx.Router, sleeps: list[float]) -> None:
    """At most five query subrequests per Composite call (api-facts.md B3a)."""
    sf_granted(router)

    def answer(request: httpx.Request) -> httpx.Response:
        subs = json.loads(request.content)["compositeRequest"]
        return sf_composite(*[(s["referenceId"], 200, sf_query([])) for s in subs])

    route = router.post(COMPOSITE).mock(side_effect=answer)
    source, ledger = salesforce(router, sleeps)
    window = Window(T0, T0 + 60_000)
    items = [WindowRead(name, ("Email",), window) for name in ("Lead", "Contact", "Account", "Task", "Event", "User")]
    results = source.composite(items)
    assert results == [sf_query([])] * 6 and route.call_count == 2 and ledger.total() == 2
    sizes = [len(json.loads(c.request.content)["compositeRequest"]) for c in route.calls]
    assert sizes == [5, 1]
    assert "IsDeleted" not in json.loads(route.calls[1].request.content)["compositeRequest"][0]["url"]  # User


def test_a_probe_reads_get_updated_and_get_deleted_in_the_same_call(router: respx.Router, sleeps: list[float]
                                                                    ) -> None:
    """getUpdated / getDeleted shapes (SF-UPD, SF-DEL; api-facts.md B5 🟡)."""
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(
        ("u0", 200, {"ids": [], "latestDateCovered": "2023-11-14T23:13:00.000+0000"}),
        ("d0", 200, {"deletedRecords": [{"id": "00Q9", "deletedDate": "2023-11-14T22:13:20.000+0000"}],
                     "earliestDateAvailable": "2023-11-01T00:00:00.000+0000",
                     "latestDateCovered": "2023-11-14T23:13:00.000+0000"})))
    source, _ = salesforce(router, sleeps)
    [result] = source.composite([ChangeProbe("Lead", Window(T0, T0 + 3_600_000))])
    assert result == ProbeResult("Lead", changed=True, covered_until=1_700_003_580_000)  # whole minutes
    assert route.call_count == 1


def test_a_failed_subrequest_is_an_api_error_with_the_vendor_code(router: respx.Router, sleeps: list[float]) -> None:
    """INVALID_FIELD inside a 200 Composite answer (its message as camel-quarkus#3022 quotes it; B7)."""
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(("q0", 400, [{
        "message": "No such column 'Foo__c' on entity 'Lead'. If you are attempting to use a custom field, be sure "
                   "to append the '__c' after the custom field name.", "errorCode": "INVALID_FIELD", "fields": None}])))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.composite([WindowRead("Lead", ("Foo__c",), Window(T0, T0 + 1))])
    assert (caught.value.status, caught.value.code) == (400, "INVALID_FIELD") and "mapping" in caught.value.hint
    assert route.call_count == 1 and sleeps == []


def test_a_composite_answer_missing_a_subrequest_is_malformed(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(("q7", 200, sf_query([]))))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="no answer for the Lead subrequest q0"):
        source.composite([WindowRead("Lead", ("Email",), Window(T0, T0 + 1))])
    assert route.call_count == 1


def test_a_composite_answer_that_is_a_list_is_malformed_without_its_content(router: respx.Router,
                                                                             sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=httpx.Response(200, json=[{"Email": "ann@example.test"}]))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="salesforce composite Lead: expected a JSON object") as caught:
        source.composite([WindowRead("Lead", ("Email",), Window(T0, T0 + 1))])
    assert "ann@example.test" not in str(caught.value) and route.call_count == 1
