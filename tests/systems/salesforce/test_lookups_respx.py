"""Salesforce look-ups before a create (`salesforce.lookups`, through `SalesforceSource.find`) against respx:
one Composite call for both objects, query-more for a large answer, and a refused or missing subrequest
stopping the creates (never "not found")."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from connector.systems.http import ApiError, MalformedResponse
from tests.systems.respx_vendors import SF_API, salesforce, sf_composite, sf_granted, sf_query, sf_record

COMPOSITE = f"{SF_API}/composite"
FIELDS = {"Lead": ["Email", "HubSpot_Contact_Id__c"], "Contact": ["Email", "HubSpot_Contact_Id__c"]}
KEYS = [("ann@example.test", "900"), (None, "501")]


def test_leads_and_contacts_are_looked_up_in_one_call_then_query_more(router: respx.Router, sleeps: list[float]
                                                                     ) -> None:
    sf_granted(router)
    more = "/services/data/v62.0/query/01gRO0000016PIAYA2-2000"
    composite = router.post(COMPOSITE).mock(return_value=sf_composite(
        ("f0", 200, sf_query([sf_record("Lead", "00Q1", Email="Ann@Example.test")], next_url=more, total=2)),
        ("f1", 200, sf_query([]))))
    follow = router.get(f"{SF_API}/query/01gRO0000016PIAYA2-2000").mock(return_value=httpx.Response(
        200, json=sf_query([sf_record("Lead", "00Q2", HubSpot_Contact_Id__c="501")], total=2)))
    source, ledger = salesforce(router, sleeps)
    found = source.find(KEYS, fields=FIELDS, ref_field="HubSpot_Contact_Id__c")
    assert [(r.object_type, r.record_id, r.email_norm) for r in found] == [
        ("Lead", "00Q1", "ann@example.test"), ("Lead", "00Q2", None)]
    assert composite.call_count == 1 and follow.call_count == 1 and ledger.total() == 2
    subs = json.loads(composite.calls[0].request.content)["compositeRequest"]
    soql = [parse_qs(urlsplit(s["url"]).query)["q"][0] for s in subs]
    assert soql == [
        ("SELECT Id, SystemModstamp, IsDeleted, Email, HubSpot_Contact_Id__c FROM Lead WHERE "
         "(Email IN ('ann@example.test') OR HubSpot_Contact_Id__c IN ('501','900')) AND IsConverted = false"),
        ("SELECT Id, SystemModstamp, IsDeleted, Email, HubSpot_Contact_Id__c FROM Contact WHERE "
         "Email IN ('ann@example.test') OR HubSpot_Contact_Id__c IN ('501','900')")]


def test_a_refused_look_up_stops_the_creates(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(
        ("f0", 200, sf_query([])),
        ("f1", 400, [{"errorCode": "INVALID_FIELD", "message": "No such column 'HubSpot_Contact_Id__c' on entity "
                                                                "'Contact'."}])))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.find(KEYS, fields=FIELDS, ref_field="HubSpot_Contact_Id__c")
    assert (caught.value.status, caught.value.code) == (400, "INVALID_FIELD") and route.call_count == 1


def test_a_look_up_without_an_answer_is_malformed(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(("f0", 200, sf_query([]))))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="no answer for the Contact look-up"):
        source.find(KEYS, fields=FIELDS, ref_field="HubSpot_Contact_Id__c")
    assert route.call_count == 1


def test_a_look_up_answer_that_is_a_list_is_malformed_without_its_content(router: respx.Router,
                                                                          sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.post(COMPOSITE).mock(return_value=httpx.Response(200, json=[{"Email": "ann@example.test"}]))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="salesforce composite look-up: expected a JSON object") as caught:
        source.find(KEYS, fields=FIELDS, ref_field="HubSpot_Contact_Id__c")
    assert "ann@example.test" not in str(caught.value) and route.call_count == 1
