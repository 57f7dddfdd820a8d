"""`connector setup` against the sandbox: creates what is missing, once; lists what only an admin can add."""

from __future__ import annotations

from collections.abc import Callable

import hubspot
from hubspot.crm.properties import OptionInput, PropertyCreate

from connector.reconcile import Mappings
from connector.sandbox.runner import Sandbox
from connector.setup import CONNECTOR_GROUP, CONNECTOR_STATUS_VALUES, required_hubspot_properties, run_setup
from connector.systems.hubspot import HubSpotSource
from connector.systems.salesforce import SalesforceSource

from .conftest import Sources

MakeSources = Callable[[Sandbox], Sources]
HS_NAMES = {("contacts", "salesforce_lead_id"), ("contacts", "salesforce_contact_id"),
            ("contacts", "connector_score"), ("contacts", "connector_status"), ("deals", "salesforce_opportunity_id")}


def sdk(sb: Sandbox) -> hubspot.Client:
    info = sb.info()
    return hubspot.Client.create(access_token=info.hubspot_access_token, host=info.hubspot_base_url,
                                 ssl_ca_cert=info.ca_file)


def names(entries: list[dict[str, object]], key: str = "name") -> set[tuple[str, str]]:
    return {(str(e["object"]), str(e[key])) for e in entries if e.get("kind") != "group"}


def test_fresh_portal_gets_group_and_properties(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    out = report.to_json()
    assert names(out["hubspot"]["created"]) == HS_NAMES
    assert {(e["object"], e["name"]) for e in out["hubspot"]["created"] if e.get("kind") == "group"} == {
        ("contacts", CONNECTOR_GROUP), ("deals", CONNECTOR_GROUP)}
    assert out["hubspot"]["problems"] == [] and out["hubspot"]["missing"] == []
    # seen through the plain properties API ...
    listed = {p["name"]: p for p in src.hubspot.http.json("GET", "/crm/v3/properties/contacts",
                                                          object_type="contacts")["results"]}
    assert listed["salesforce_lead_id"]["hasUniqueValue"] is True
    assert listed["salesforce_contact_id"]["groupName"] == CONNECTOR_GROUP
    assert [o["value"] for o in listed["connector_status"]["options"]] == list(CONNECTOR_STATUS_VALUES)
    # ... and through the official SDK
    client = sdk(bare)
    score = client.crm.properties.core_api.get_by_name("contacts", "connector_score")
    assert score.type == "number" and score.group_name == CONNECTOR_GROUP
    groups = {g.name: g.label for g in client.crm.properties.groups_api.get_all("contacts").results}
    assert groups[CONNECTOR_GROUP] == "HubSpot–Salesforce connector"
    deal = client.crm.properties.core_api.get_by_name("deals", "salesforce_opportunity_id")
    assert deal.has_unique_value is True
    # every call is counted: 2 property lists, 2 group lists, 2 group creates, 5 property creates
    assert out["api_calls"]["hubspot"] == 11


def test_unique_property_makes_upserts_idempotent(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(bare)
    run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    body = {"inputs": [{"idProperty": "salesforce_lead_id", "id": "00Q000000000001AAA",
                        "properties": {"email": "upsert-once@example.com", "salesforce_lead_id": "00Q000000000001AAA"}}]}
    first = src.hubspot.http.json("POST", "/crm/v3/objects/contacts/batch/upsert", object_type="contacts", json_body=body)
    again = src.hubspot.http.json("POST", "/crm/v3/objects/contacts/batch/upsert", object_type="contacts", json_body=body)
    assert first["results"][0]["new"] is True and again["results"][0]["new"] is False
    assert first["results"][0]["id"] == again["results"][0]["id"]


def test_second_run_creates_nothing(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    first = run_setup(*_pair(sources_for(bare)), mappings, apply=True, create_salesforce_fields=True)
    assert first.hubspot.created and first.salesforce.created
    second = run_setup(*_pair(sources_for(bare)), mappings, apply=True, create_salesforce_fields=True)
    out = second.to_json()
    assert out["hubspot"]["created"] == [] and out["salesforce"]["created"] == []
    assert names(out["hubspot"]["present"]) == HS_NAMES
    assert len(out["salesforce"]["present"]) == 7
    assert out["hubspot"]["problems"] == out["salesforce"]["problems"] == []
    assert second.ok
    # one properties call per HubSpot object, one describe per Salesforce object, nothing else
    assert out["api_calls"] == {"hubspot": 2, "salesforce": 3}


def test_dry_run_lists_and_changes_nothing(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=False, create_salesforce_fields=True)
    out = report.to_json()
    assert out["applied"] is False and out["hubspot"]["created"] == [] and out["salesforce"]["created"] == []
    assert names(out["hubspot"]["missing"]) == HS_NAMES
    assert {e["name"] for e in out["hubspot"]["missing"] if e.get("kind") == "group"} == {CONNECTOR_GROUP}
    assert len(out["salesforce"]["missing"]) == 7
    after = sources_for(bare)
    assert "connector_score" not in {p["name"] for p in after.hubspot.properties("contacts")}
    assert "Connector_Score__c" not in {f["name"] for f in after.salesforce.describe("Lead")["fields"]}


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
    path = src.salesforce.path("sobjects/Lead/HubSpot_Contact_Id__c/12345")
    body = {"LastName": "Upsert", "Company": "Acme", "Email": "upsert@example.com"}
    created = src.salesforce.http.request("PATCH", path, object_type="Lead", json_body=body)
    updated = src.salesforce.http.request("PATCH", path, object_type="Lead", json_body=body)
    assert (created.status_code, updated.status_code) == (201, 200)


def test_shipped_org_already_has_the_fields(shipped: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(shipped)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=False, create_salesforce_fields=False)
    assert report.salesforce.missing == [] and report.salesforce.problems == []
    assert len(report.salesforce.present) == 7


def test_incompatible_existing_property_is_reported_not_changed(bare: Sandbox, mappings: Mappings,
                                                                sources_for: MakeSources) -> None:
    client = sdk(bare)
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="connector_score", label="Score (text)", type="string", field_type="text", group_name="contactinformation"))
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="salesforce_lead_id", label="Lead id", type="string", field_type="text", group_name="contactinformation"))
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="connector_status", label="Status", type="enumeration", field_type="select",
        group_name="contactinformation", options=[OptionInput(label="MQL", value="MQL", display_order=0, hidden=False)]))
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    problems = {p["name"]: p for p in report.hubspot.problems}
    assert set(problems) == {"connector_score", "salesforce_lead_id", "connector_status"}
    assert "type 'string'" in problems["connector_score"]["message"]
    assert "unique" in problems["salesforce_lead_id"]["message"]
    assert "'SAL'" in problems["connector_status"]["message"]
    assert {e["name"] for e in report.hubspot.created if e.get("kind") != "group"} == {
        "salesforce_contact_id", "salesforce_opportunity_id"}
    assert client.crm.properties.core_api.get_by_name("contacts", "connector_score").type == "string"


def test_required_properties_are_all_creatable(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    """Every spec's body is accepted as is (types and field types agree with HubSpot's combinations)."""
    src = sources_for(bare)
    run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    for spec in required_hubspot_properties(mappings):
        got = {p["name"]: p for p in src.hubspot.properties(spec.object_type)}[spec.name]
        assert (got["type"], got["fieldType"], got["groupName"]) == (spec.type, spec.field_type, spec.group)


def _pair(src: Sources) -> tuple[HubSpotSource, SalesforceSource]:
    return src.hubspot, src.salesforce
