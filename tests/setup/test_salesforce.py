"""`connector setup` in Salesforce, against the sandbox: fields created there, listed for an admin elsewhere."""

from __future__ import annotations

from connector.reconcile import Mappings
from connector.sandbox.runner import Sandbox
from connector.setup import CONNECTOR_STATUS_VALUES, run_setup

from .conftest import MakeSources


def test_salesforce_fields_listed_when_create_is_off(bare: Sandbox, mappings: Mappings,
                                                     sources_for: MakeSources) -> None:
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    missing = {(e["object"], e["api_name"]): e for e in report.to_json()["salesforce"]["missing"]}
    assert set(missing) == {(o, n) for o in ("Lead", "Contact")
                            for n in ("HubSpot_Contact_Id__c", "Connector_Score__c", "Connector_Status__c")} | {
        ("Opportunity", "HubSpot_Deal_Id__c")}
    assert missing[("Lead", "HubSpot_Contact_Id__c")] == {
        "object": "Lead", "api_name": "HubSpot_Contact_Id__c", "label": "HubSpot Contact Id", "type": "Text",
        "length": 32, "external_id": True, "unique": True}
    assert missing[("Contact", "Connector_Status__c")]["picklist_values"] == list(CONNECTOR_STATUS_VALUES)
    assert report.salesforce.created == [] and not report.ok
    assert "Connector_Score__c" not in {f["name"] for f in sources_for(bare).salesforce.describe("Lead")["fields"]}
    assert any("missing Lead.Connector_Score__c (Number(5,0))" in line for line in report.lines())


def test_salesforce_fields_created_in_the_sandbox(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=True)
    assert len(report.salesforce.created) == 7 and report.salesforce.missing == [] and report.ok
    # the adapter's describe cache was dropped: the same source sees the new fields
    lead = {f["name"]: f for f in src.salesforce.describe("Lead")["fields"]}
    assert lead["HubSpot_Contact_Id__c"]["externalId"] and lead["HubSpot_Contact_Id__c"]["unique"]
    assert lead["Connector_Score__c"]["type"] == "double"
    assert [v["value"] for v in lead["Connector_Status__c"]["picklistValues"]] == list(CONNECTOR_STATUS_VALUES)
    # and the id field works as an upsert key
    path = f"/services/data/{src.salesforce.version}/sobjects/Lead/HubSpot_Contact_Id__c/12345"
    body = {"LastName": "Upsert", "Company": "Acme", "Email": "upsert@example.com"}
    created = src.salesforce.http.request("PATCH", path, object_type="Lead", json_body=body)
    updated = src.salesforce.http.request("PATCH", path, object_type="Lead", json_body=body)
    assert (created.status_code, updated.status_code) == (201, 200)


def test_shipped_org_already_has_the_fields(shipped: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(shipped)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=False, create_salesforce_fields=False)
    assert report.salesforce.missing == [] and report.salesforce.problems == []
    assert len(report.salesforce.present) == 7
