"""The seed contract: every sObject of the dataset loads, queries and relates; the public API is stable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import connector.sandbox.salesforce as sfpkg
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.salesforce import CustomField, SalesforceState
from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.testing import SalesforceSandbox

T0 = 1_767_225_600_000
A = {"CreatedDate": T0, "LastModifiedDate": T0, "SystemModstamp": T0}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-seed")) as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def world() -> SeedBatch:
    user, acc, camp = make_id("User", 1), make_id("Account", 1), make_id("Campaign", 1)
    lead, con, opp = make_id("Lead", 1), make_id("Contact", 1), make_id("Opportunity", 1)
    return SeedBatch(salesforce={
        "User": [{"Id": user, "Username": "rep@example.com", "Email": "rep@example.com", "FirstName": "Rita",
                  "LastName": "Rep", "Name": "Rita Rep", "Alias": "rrep", "IsActive": True, **A}],
        "Account": [{"Id": acc, "Name": "Acme", "Industry": "Technology", "NumberOfEmployees": 120,
                     "AnnualRevenue": 5e6, "Website": "acme.example", "BillingCity": "Lyon", "BillingState": None,
                     "BillingCountry": "France", "Type": "Prospect", "OwnerId": user, **A}],
        "Campaign": [{"Id": camp, "Name": "Webinar", "Type": "Webinar", "Status": "Completed", "IsActive": True,
                      "StartDate": "2026-01-02", **A}],
        "Lead": [{"Id": lead, "FirstName": "Lou", "LastName": "Lead", "Company": "Startup", "Email": "lou@example.com",
                  "Status": "Working - Contacted", "LeadSource": "Web", "Rating": "Warm", "OwnerId": user,
                  "HasOptedOutOfEmail": False, "HubSpot_Contact_Id__c": "101", "Connector_Score__c": 42,
                  "Connector_Status__c": "MQL", **A}],
        "Contact": [{"Id": con, "FirstName": "Cy", "LastName": "Contact", "Email": "cy@example.com", "AccountId": acc,
                     "Department": "IT", "MailingCountry": "France", "OwnerId": user, "HubSpot_Contact_Id__c": "102",
                     **A}],
        "Opportunity": [{"Id": opp, "Name": "Acme deal", "AccountId": acc, "StageName": "Negotiation/Review",
                         "Amount": 12000.0, "CloseDate": "2026-03-31", "OwnerId": user,
                         "HubSpot_Deal_Id__c": "d1", **A}],
        "OpportunityContactRole": [{"Id": make_id("OpportunityContactRole", 1), "OpportunityId": opp, "ContactId": con,
                                    "Role": "Decision Maker", "IsPrimary": True, **A}],
        "Task": [{"Id": make_id("Task", 1), "WhoId": lead, "Subject": "Call", "Status": "Completed", "Priority": "High",
                  "ActivityDate": "2026-01-03", "TaskSubtype": "Call", "Type": "Call", "CallDurationInSeconds": 300,
                  "CallType": "Outbound", "OwnerId": user, "CompletedDateTime": T0, **A}],
        "Event": [{"Id": make_id("Event", 1), "WhoId": con, "WhatId": opp, "Subject": "Demo", "StartDateTime": T0,
                   "EndDateTime": T0 + 3_600_000, "DurationInMinutes": 60, "ActivityDateTime": T0,
                   "ActivityDate": "2026-01-01", "IsAllDayEvent": False, "OwnerId": user, **A}],
        "CampaignMember": [{"Id": make_id("CampaignMember", 1), "CampaignId": camp, "LeadId": lead,
                            "Status": "Responded", "FirstRespondedDate": "2026-01-02", **A}],
    })


def test_every_dataset_object_loads_and_queries(sb: SalesforceSandbox) -> None:
    sb.state.load(world())
    sf = sb.simple_salesforce()
    for obj in ("User", "Account", "Campaign", "Lead", "Contact", "Opportunity", "OpportunityContactRole", "Task",
                "Event", "CampaignMember"):
        assert sf.query(f"SELECT COUNT() FROM {obj}")["totalSize"] >= 1, obj
    opp = sf.query("SELECT IsClosed, IsWon, Probability, Account.Name, Owner.Name FROM Opportunity")["records"][0]
    assert (opp["IsClosed"], opp["IsWon"], opp["Probability"], opp["Account"]["Name"], opp["Owner"]["Name"]) == \
        (False, False, 90, "Acme", "Rita Rep")
    task = sf.query("SELECT Who.Name, CompletedDateTime FROM Task")["records"][0]
    assert task["Who"]["Name"] == "Lou Lead" and task["CompletedDateTime"] == "2026-01-01T00:00:00.000+0000"
    ocr = sf.query("SELECT Contact.Account.Name, Opportunity.StageName FROM OpportunityContactRole")["records"][0]
    assert ocr["Contact"]["Account"]["Name"] == "Acme" and ocr["Opportunity"]["StageName"] == "Negotiation/Review"
    cm = sf.query("SELECT HasResponded, Lead.Email, Campaign.Name FROM CampaignMember")["records"][0]
    assert cm["HasResponded"] is True and cm["Lead"]["Email"] == "lou@example.com"
    lead = sf.Lead.get_by_custom_id("HubSpot_Contact_Id__c", "101")
    assert lead["Connector_Score__c"] == 42 and lead["Connector_Status__c"] == "MQL"
    assert sf.Opportunity.get_by_custom_id("HubSpot_Deal_Id__c", "d1")["Amount"] == 12000.0


def test_merge_reparents_children(sb: SalesforceSandbox) -> None:
    sb.state.load(world())
    sf = sb.simple_salesforce()
    other = sf.Contact.create({"LastName": "Twin", "Email": "twin@example.com"})["id"]
    sb.control().post("/_sandbox/salesforce/merge", json={"masterId": other, "mergeIds": [make_id("Contact", 1)]})
    ocr = sf.query("SELECT ContactId FROM OpportunityContactRole")["records"][0]
    assert ocr["ContactId"] == other
    loser = sf.query_all(f"SELECT IsDeleted, MasterRecordId FROM Contact WHERE Id = '{make_id('Contact', 1)}'",
                         include_deleted=True)
    assert loser["records"][0]["MasterRecordId"] == other


def test_custom_fields_config_and_validation(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="must end in '__c'"):
        CustomField("Lead", "Score", "Number").field_def()
    with pytest.raises(ValueError, match="unknown type"):
        CustomField("Lead", "Score__c", "Blob").field_def()
    with pytest.raises(ValueError, match="needs picklist_values"):
        CustomField("Lead", "Tier__c", "Picklist").field_def()


def test_public_api() -> None:
    assert {"SalesforceState", "SalesforceLimits", "CustomField", "DEFAULT_CUSTOM_FIELDS", "create_app"} <= \
        set(sfpkg.__all__)
    assert sfpkg.SalesforceLimits().daily_api_requests == 115_000
    names = {(c.sobject, c.api_name) for c in sfpkg.DEFAULT_CUSTOM_FIELDS}
    assert ("Lead", "HubSpot_Contact_Id__c") in names and ("Opportunity", "HubSpot_Deal_Id__c") in names
    import inspect

    params = inspect.signature(SalesforceState).parameters
    assert list(params)[:2] == ["data_dir", "clock"]
    assert {"rate_limits", "limits", "custom_fields", "token_ttl_seconds"} <= set(params)
