"""sObject rows through simple-salesforce: CRUD, write rules with their exact error shapes, upsert, describe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce import SalesforceMalformedRequest, SalesforceMoreThanOneRecord, SalesforceResourceNotFound

from connector.sandbox.salesforce.testing import SalesforceSandbox

LEAD = {"FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical", "Email": "ada@example.com"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-rec")) as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def _errors(exc: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> list[dict[str, Any]]:
    content: Any = exc.value.content
    return list(content)


def test_create_get_update_delete(sb: SalesforceSandbox) -> None:
    sb.freeze(1_700_000_000_123)
    sf = sb.simple_salesforce()
    created = sf.Lead.create(LEAD)
    assert created["success"] is True and created["errors"] == [] and created["id"].startswith("00Q")
    rec = sf.Lead.get(created["id"])
    assert rec["attributes"] == {"type": "Lead", "url": f"/services/data/v62.0/sobjects/Lead/{created['id']}"}
    assert rec["Name"] == "Ada Lovelace" and rec["Status"] == "Open - Not Contacted"
    assert rec["IsConverted"] is False and rec["HasOptedOutOfEmail"] is False
    assert rec["CreatedDate"] == "2023-11-14T22:13:20.000+0000"  # server stamps drop the milliseconds
    assert rec["OwnerId"] == sb.state.integration_user_id == rec["CreatedById"]
    sb.clock.advance(5_000)
    assert sf.Lead.update(created["id"], {"Title": "Countess"}) == 204
    rec = sf.Lead.get(created["id"])
    assert rec["Title"] == "Countess" and rec["SystemModstamp"] == "2023-11-14T22:13:25.000+0000"
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(created["id"])


def test_required_fields_missing(sb: SalesforceSandbox) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sb.simple_salesforce().Lead.create({"FirstName": "X", "Email": "x@example.com"})
    assert _errors(exc) == [{"errorCode": "REQUIRED_FIELD_MISSING",
                             "message": "Required fields are missing: [LastName, Company]",
                             "fields": ["LastName", "Company"]}]


def test_restricted_picklist_and_types(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({**LEAD, "Status": "Hot"})
    assert _errors(exc)[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert _errors(exc)[0]["message"].endswith("bad value for restricted picklist field: Hot")
    assert _errors(exc)[0]["fields"] == ["Status"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({**LEAD, "Email": "not-an-email"})
    assert _errors(exc)[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({**LEAD, "LastName": "x" * 81})
    assert _errors(exc)[0]["errorCode"] == "STRING_TOO_LONG" and "max length=80" in _errors(exc)[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({**LEAD, "IsConverted": True})
    assert _errors(exc)[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({**LEAD, "Shoe_Size__c": 9})
    assert _errors(exc)[0] == {"errorCode": "INVALID_FIELD", "fields": [],
                               "message": "No such column 'Shoe_Size__c' on sobject of type Lead"}
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({**LEAD, "NumberOfEmployees": "many"})
    assert _errors(exc)[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_validation_rule_is_on_by_default_and_togglable(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "NoContact", "Company": "Acme"})
    assert _errors(exc) == [{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                             "message": "Lead requires Email or Phone", "fields": []}]
    sb.control().post("/_sandbox/salesforce/rules", json={"validation": False})
    assert sf.Lead.create({"LastName": "NoContact", "Company": "Acme"})["success"]


def test_duplicate_rule_off_by_default_then_blocks_same_email(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    first = sf.Lead.create(LEAD)["id"]
    assert sf.Lead.create({**LEAD, "Email": "ADA@example.com"})["success"]
    sb.control().post("/_sandbox/salesforce/rules", json={"duplicate": True})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create(LEAD)
    err = _errors(exc)[0]
    assert exc.value.status == 400
    assert err["errorCode"] == "DUPLICATES_DETECTED" and err["message"] == "Use one of these records?"
    matches = err["duplicateResult"]["matchResults"][0]["matchRecords"]
    assert first in [m["record"]["Id"] for m in matches]


def test_unique_external_id_and_upsert(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    out = sf.Contact.upsert("HubSpot_Contact_Id__c/hs-1", {"LastName": "Hopper", "Email": "grace@example.com"})
    assert out == 201
    again = sf.Contact.upsert("HubSpot_Contact_Id__c/hs-1", {"LastName": "Hopper", "Title": "RADM"})
    assert again == 200
    raw = sb.http.patch("/services/data/v62.0/sobjects/Contact/HubSpot_Contact_Id__c/hs-1", json={"Title": "Adm"})
    assert raw.status_code == 200 and raw.json()["created"] is False and raw.json()["success"] is True
    rec = sf.Contact.get_by_custom_id("HubSpot_Contact_Id__c", "hs-1")
    assert rec["Title"] == "Adm" and rec["HubSpot_Contact_Id__c"] == "hs-1"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "Dupe", "HubSpot_Contact_Id__c": "hs-1"})
    assert _errors(exc)[0]["errorCode"] == "DUPLICATE_VALUE"
    old = sb.http.patch("/services/data/v45.0/sobjects/Contact/HubSpot_Contact_Id__c/hs-1", json={"Title": "X"})
    assert old.status_code == 204
    missing = sb.http.patch("/services/data/v62.0/sobjects/Contact/No_Such__c/1", json={"LastName": "x"})
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_upsert_with_several_matches_answers_300(sb: SalesforceSandbox) -> None:
    sb.control().post("/_sandbox/salesforce/custom-fields", json={
        "sobject": "Account", "apiName": "Legacy_Id__c", "type": "Text", "length": 20, "externalId": True})
    sf = sb.simple_salesforce()
    a = sf.Account.create({"Name": "A", "Legacy_Id__c": "L1"})["id"]
    b = sf.Account.create({"Name": "B", "Legacy_Id__c": "L1"})["id"]
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Account.upsert("Legacy_Id__c/L1", {"Name": "C"})
    r = sb.http.get("/services/data/v62.0/sobjects/Account/Legacy_Id__c/L1")
    assert r.status_code == 300 and sorted(u.rsplit("/", 1)[1] for u in r.json()) == sorted([a, b])


def test_opportunity_stage_drives_closed_won_and_probability(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    acc = sf.Account.create({"Name": "Acme"})["id"]
    opp = sf.Opportunity.create({"Name": "Deal", "AccountId": acc, "StageName": "Proposal/Price Quote",
                                 "CloseDate": "2026-12-31", "Amount": 1000})["id"]
    rec = sf.Opportunity.get(opp)
    assert (rec["IsClosed"], rec["IsWon"], rec["Probability"]) == (False, False, 75)
    sf.Opportunity.update(opp, {"StageName": "Closed Won"})
    rec = sf.Opportunity.get(opp)
    assert (rec["IsClosed"], rec["IsWon"], rec["Probability"]) == (True, True, 100)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.update(opp, {"IsWon": False})
    assert _errors(exc)[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.create({"Name": "Bad", "StageName": "Won?", "CloseDate": "2026-01-01"})
    assert _errors(exc)[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_describe_has_field_metadata(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    d = sf.Lead.describe()
    fields = {f["name"]: f for f in d["fields"]}
    assert d["keyPrefix"] == "00Q"
    status = fields["Status"]
    assert status["restrictedPicklist"] is True and status["type"] == "picklist"
    assert {"value": "Closed - Converted", "label": "Closed - Converted", "active": True, "defaultValue": False,
            "validFor": None} in status["picklistValues"]
    hs = fields["HubSpot_Contact_Id__c"]
    assert (hs["externalId"], hs["unique"], hs["length"], hs["custom"]) == (True, True, 32, True)
    assert fields["OwnerId"]["referenceTo"] == ["User"] and fields["OwnerId"]["relationshipName"] == "Owner"
    # the connector scorer's outputs are there by default, on Contact too
    for obj in (sf.Lead, sf.Contact):
        got = {f["name"]: f for f in obj.describe()["fields"]}
        assert {n: (f["type"], f["soapType"], f["length"], f["precision"], [v["value"] for v in f["picklistValues"]])
                for n, f in got.items() if n.startswith("Connector_")} == {
            "Connector_Score__c": ("double", "xsd:double", 0, 5, []),
            "Connector_Grade__c": ("picklist", "xsd:string", 255, 0, ["A", "B", "C", "D"]),
            "Connector_Status__c": ("picklist", "xsd:string", 255, 0, ["Lead", "MQL", "SAL", "SQL", "Opportunity",
                                                                       "Customer", "Recycled", "Disqualified"]),
            "Connector_MQL_Date__c": ("datetime", "xsd:dateTime", 0, 0, []),
            "Connector_Status_Reason__c": ("string", "xsd:string", 255, 0, []),
            "Connector_Score_Reason__c": ("string", "xsd:string", 255, 0, []),
            "Connector_SLA_State__c": ("picklist", "xsd:string", 255, 0, ["On time", "Due soon", "Breached", "Met"]),
            "Connector_SLA_Due__c": ("datetime", "xsd:dateTime", 0, 0, []),
            "Connector_Touches_Before_MQL__c": ("double", "xsd:double", 0, 5, []),
            "Connector_First_Touch__c": ("string", "xsd:string", 255, 0, []),
            "Connector_Last_Touch__c": ("string", "xsd:string", 255, 0, []),
        }
        assert got["Connector_Grade__c"]["restrictedPicklist"] and got["Connector_MQL_Date__c"]["custom"]
    assert fields["LastName"]["nillable"] is False and fields["IsConverted"]["updateable"] is False
    names = [o["name"] for o in sf.describe()["sobjects"]]
    assert {"Lead", "Contact", "Account", "Opportunity", "CampaignMember"} <= set(names)


def test_converted_lead_cannot_be_updated(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    lead = sf.Lead.create({**LEAD, "HubSpot_Contact_Id__c": "hs-9"})["id"]
    out = sb.control().post(f"/_sandbox/salesforce/leads/{lead}/convert", json={}).json()
    rec = sf.Lead.get(lead)
    assert rec["IsConverted"] is True and rec["Status"] == "Closed - Converted"
    assert rec["ConvertedContactId"] == out["contactId"] and rec["ConvertedAccountId"] == out["accountId"]
    assert rec["ConvertedOpportunityId"] == out["opportunityId"] and rec["ConvertedDate"]
    contact = sf.Contact.get(out["contactId"])
    assert contact["AccountId"] == out["accountId"] and contact["Email"] == LEAD["Email"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead, {"Title": "x"})
    assert _errors(exc)[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_get_updated_and_get_deleted(sb: SalesforceSandbox) -> None:
    t0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    sb.freeze(int(t0.timestamp() * 1000))
    sf = sb.simple_salesforce()
    keep = sf.Lead.create(LEAD)["id"]
    gone = sf.Lead.create({**LEAD, "Email": "b@example.com"})["id"]
    sb.clock.advance(120_000)
    sf.Lead.delete(gone)
    sb.clock.advance(120_000)
    updated = sf.Lead.updated(t0 - timedelta(minutes=1), t0 + timedelta(minutes=10))
    assert updated["ids"] == [keep]
    assert updated["latestDateCovered"].startswith("2026-11-20T12:04:00")
    deleted = sf.Lead.deleted(t0, t0 + timedelta(minutes=10))
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert deleted["deletedRecords"][0]["deletedDate"] == "2026-11-20T12:02:00.000+0000"
    too_old = sb.http.get("/services/data/v62.0/sobjects/Lead/updated/",
                          params={"start": "2026-09-01T00:00:00+00:00", "end": "2026-11-20T00:00:00+00:00"})
    assert too_old.status_code == 400 and too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_change_as_named_user_and_undelete(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    lead = sf.Lead.create(LEAD)["id"]
    user = sb.state.integration_user_id[:3] + "5g000000000Z" + "AAA"
    ctl = sb.control()
    r = ctl.patch(f"/_sandbox/salesforce/records/{lead}", json={"userId": user, "fields": {"Rating": "Hot"}})
    assert r.status_code == 200 and r.json()["LastModifiedById"] == user
    assert sf.Lead.get(lead)["Rating"] == "Hot"
    ctl.post(f"/_sandbox/salesforce/records/{lead}/delete")
    ctl.post(f"/_sandbox/salesforce/records/{lead}/undelete")
    assert sf.Lead.get(lead)["IsDeleted"] is False


def test_activities_derive_their_fields(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    lead = sf.Lead.create(LEAD)["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Event.create({"WhoId": lead, "Subject": "Demo", "StartDateTime": "2026-05-01T10:00:00Z"})
    assert _errors(exc)[0]["fields"] == ["DurationInMinutes"]
    ev = sf.Event.create({"WhoId": lead, "Subject": "Demo", "StartDateTime": "2026-05-01T10:00:00Z",
                          "DurationInMinutes": 30})["id"]
    rec = sf.Event.get(ev)
    assert rec["EndDateTime"] == "2026-05-01T10:30:00.000+0000" and rec["ActivityDate"] == "2026-05-01"
    task = sf.Task.create({"WhoId": lead, "Subject": "Call", "TaskSubtype": "Call"})["id"]
    assert sf.Task.get(task)["Status"] == "Not Started" and sf.Task.get(task)["Priority"] == "Normal"
    sf.Task.update(task, {"Status": "Completed"})
    assert sf.Task.get(task)["CompletedDateTime"] is not None and sf.Task.get(task)["IsClosed"] is True
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Task.update(task, {"TaskSubtype": "Email"})
    assert _errors(exc)[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Task.create({"WhoId": "001000000000000AAA", "Subject": "x"})
    assert _errors(exc)[0]["errorCode"] == "MALFORMED_ID"
