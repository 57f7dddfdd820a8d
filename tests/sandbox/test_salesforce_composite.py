"""sObject Collections and Composite: per-record results, allOrNone rollback, references, one call counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.sandbox.salesforce.testing import SalesforceSandbox

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-comp")) as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def _lead(n: int, **extra: object) -> dict[str, object]:
    return {"attributes": {"type": "Lead"}, "LastName": f"L{n}", "Company": "Co", "Email": f"l{n}@example.com", **extra}


def test_collection_create_partial_failure_in_input_order(sb: SalesforceSandbox) -> None:
    records = [_lead(1), _lead(2, Status="Bogus"), {"attributes": {"type": "Account"}, "Name": "Acme"}]
    r = sb.http.post(f"{V}/composite/sobjects", json={"allOrNone": False, "records": records})
    assert r.status_code == 200
    out = r.json()
    assert [x["success"] for x in out] == [True, False, True]
    assert out[0]["id"].startswith("00Q") and out[2]["id"].startswith("001")
    assert out[1]["id"] is None
    assert out[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert out[1]["errors"][0]["fields"] == ["Status"]


def test_collection_all_or_none_rolls_back(sb: SalesforceSandbox) -> None:
    r = sb.http.post(f"{V}/composite/sobjects",
                     json={"allOrNone": True, "records": [_lead(1), _lead(2, LastName=None)]})
    out = r.json()
    assert out[0] == {"id": None, "success": False, "errors": [{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
        "fields": []}]}
    assert out[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sb.simple_salesforce().query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_collection_update_upsert_retrieve_delete(sb: SalesforceSandbox) -> None:
    h = sb.http
    ids = [x["id"] for x in h.post(f"{V}/composite/sobjects", json={"records": [_lead(1), _lead(2)]}).json()]
    upd = h.patch(f"{V}/composite/sobjects", json={"records": [
        {"attributes": {"type": "Lead"}, "id": ids[0], "Title": "CEO"},
        {"attributes": {"type": "Lead"}, "id": ids[1], "Email": "bad"}]}).json()
    assert upd[0] == {"id": ids[0], "success": True, "errors": []}
    assert upd[1]["success"] is False and upd[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    ups = h.patch(f"{V}/composite/sobjects/Contact/HubSpot_Contact_Id__c", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "HubSpot_Contact_Id__c": "h1", "LastName": "One"},
        {"attributes": {"type": "Contact"}, "HubSpot_Contact_Id__c": "h1", "LastName": "One again"}]}).json()
    assert [(x["success"], x["created"]) for x in ups] == [(True, True), (True, False)]
    got = h.get(f"{V}/composite/sobjects/Lead", params={"ids": f"{ids[0]},{ids[1]}", "fields": "Id,Title"}).json()
    assert got[0]["Title"] == "CEO" and got[0]["attributes"]["type"] == "Lead" and got[1]["Title"] is None
    dele = h.delete(f"{V}/composite/sobjects", params={"ids": f"{ids[0]},001000000000000AAA"}).json()
    assert dele[0] == {"id": ids[0], "success": True, "errors": []}
    assert dele[1]["success"] is False and "id" not in dele[1]
    too_many = h.post(f"{V}/composite/sobjects", json={"records": [_lead(i) for i in range(201)]})
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_composite_references_and_one_call(sb: SalesforceSandbox) -> None:
    sb.counter.reset()
    body = {"allOrNone": False, "compositeRequest": [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acc", "body": {"Name": "Acme"}},
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Doe", "AccountId": "@{acc.id}"}},
        {"method": "GET", "url": f"{V}/sobjects/Contact/@{{con.id}}?fields=AccountId", "referenceId": "get"},
        {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Contact", "referenceId": "q"},
    ]}
    r = sb.http.post(f"{V}/composite", json=body)
    assert r.status_code == 200
    out = {x["referenceId"]: x for x in r.json()["compositeResponse"]}
    assert out["acc"]["httpStatusCode"] == 201
    assert out["acc"]["httpHeaders"]["Location"] == f"{V}/sobjects/Account/{out['acc']['body']['id']}"
    assert out["get"]["body"]["AccountId"] == out["acc"]["body"]["id"]
    assert out["q"]["body"]["totalSize"] == 1
    assert sb.counter.total() == 1 and sb.state.api_usage() == 1


def test_composite_all_or_none_halts_and_rolls_back(sb: SalesforceSandbox) -> None:
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "ok", "body": {"Name": "Acme"}},
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "bad", "body": {"Nope": 1}},
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "later", "body": {"Name": "B"}},
    ]}
    out = {x["referenceId"]: x for x in sb.http.post(f"{V}/composite", json=body).json()["compositeResponse"]}
    assert out["bad"]["httpStatusCode"] == 400 and out["bad"]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert out["ok"]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert out["later"]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sb.simple_salesforce().query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_composite_limits(sb: SalesforceSandbox) -> None:
    q = {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Lead"}
    six = [{**q, "referenceId": f"q{i}"} for i in range(6)]
    r = sb.http.post(f"{V}/composite", json={"compositeRequest": six})
    assert r.status_code == 400
    many = [{"method": "GET", "url": f"{V}/limits", "referenceId": f"l{i}"} for i in range(26)]
    assert sb.http.post(f"{V}/composite", json={"compositeRequest": many}).status_code == 400
