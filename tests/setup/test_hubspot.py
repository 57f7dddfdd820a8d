"""`connector setup` in HubSpot, against the sandbox: the group and properties created once, clashes reported."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.properties import OptionInput, PropertyCreate

from connector.reconcile import Mappings
from connector.sandbox.runner import Sandbox
from connector.setup import CONNECTOR_GROUP, CONNECTOR_STATUS_VALUES, required_hubspot_properties, run_setup

from .conftest import HS_NAMES, MakeSources, names, sdk


def test_fresh_portal_gets_group_and_properties(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    out = report.to_json()
    assert names(out["hubspot"]["created"]) == HS_NAMES
    assert {(e["object"], e["name"]) for e in out["hubspot"]["created"] if e.get("kind") == "group"} == {
        ("contacts", CONNECTOR_GROUP), ("deals", CONNECTOR_GROUP), ("companies", CONNECTOR_GROUP)}
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
    # the scorer's outputs, typed as the scorer writes them
    typed = {n: (p["type"], p["fieldType"], [o["value"] for o in p["options"]], p["description"])
             for n, p in listed.items() if n.startswith("connector_")}
    scorer = "Set by the connector's scorer."
    assert typed == {
        "connector_score": ("number", "number", [], scorer),
        "connector_grade": ("enumeration", "select", ["A", "B", "C", "D"], scorer),
        "connector_status": ("enumeration", "select", ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer",
                                                       "Recycled", "Disqualified"], scorer),
        "connector_mql_date": ("datetime", "date", [], scorer),
        "connector_status_reason": ("string", "text", [], scorer),
        "connector_score_reason": ("string", "textarea", [], scorer),
        "connector_sla_state": ("enumeration", "select", ["On time", "Due soon", "Breached", "Met"], scorer),
        "connector_sla_due": ("datetime", "date", [], scorer),
        "connector_touches_before_mql": ("number", "number", [], scorer),
        "connector_first_touch": ("string", "text", [], scorer),
        "connector_last_touch": ("string", "text", [], scorer),
    }
    # every call is counted: 3 property lists, 3 group lists, 3 group creates (contacts, deals, companies),
    # 15 property creates
    assert out["api_calls"]["hubspot"] == 24


def test_unique_property_makes_upserts_idempotent(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(bare)
    run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    lead_id = "00Q000000000001AAA"
    body = {"inputs": [{"idProperty": "salesforce_lead_id", "id": lead_id,
                        "properties": {"email": "upsert-once@example.com", "salesforce_lead_id": lead_id}}]}
    upsert = "/crm/v3/objects/contacts/batch/upsert"
    first = src.hubspot.http.json("POST", upsert, object_type="contacts", json_body=body)
    again = src.hubspot.http.json("POST", upsert, object_type="contacts", json_body=body)
    assert first["results"][0]["new"] is True and again["results"][0]["new"] is False
    assert first["results"][0]["id"] == again["results"][0]["id"]


def test_incompatible_existing_property_is_reported_not_changed(bare: Sandbox, mappings: Mappings,
                                                                sources_for: MakeSources) -> None:
    client = sdk(bare)
    group = "contactinformation"
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="connector_score", label="Score (text)", type="string", field_type="text", group_name=group))
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="salesforce_lead_id", label="Lead id", type="string", field_type="text", group_name=group))
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="connector_status", label="Status", type="enumeration", field_type="select", group_name=group,
        options=[OptionInput(label="MQL", value="MQL", display_order=0, hidden=False)]))
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    problems = {p["name"]: p for p in report.hubspot.problems}
    assert set(problems) == {"connector_score", "salesforce_lead_id", "connector_status"}
    assert "type 'string'" in problems["connector_score"]["message"]
    assert "unique" in problems["salesforce_lead_id"]["message"]
    assert "'SAL'" in problems["connector_status"]["message"]
    assert {e["name"] for e in report.hubspot.created if e.get("kind") != "group"} == {
        "salesforce_contact_id", "salesforce_opportunity_id", "salesforce_account_id", "connector_grade",
        "connector_mql_date",
        "connector_status_reason", "connector_score_reason", "connector_sla_state", "connector_sla_due",
        "connector_touches_before_mql", "connector_first_touch", "connector_last_touch"}
    assert client.crm.properties.core_api.get_by_name("contacts", "connector_score").type == "string"


def test_required_properties_are_all_creatable(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    """Every spec's body is accepted as is (types and field types agree with HubSpot's combinations)."""
    src = sources_for(bare)
    run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    for spec in required_hubspot_properties(mappings):
        got = {p["name"]: p for p in src.hubspot.properties(spec.object_type)}[spec.name]
        assert (got["type"], got["fieldType"], got["groupName"]) == (spec.type, spec.field_type, spec.group)


SCORED = {"connector_score": "87", "connector_grade": "B", "connector_status": "MQL",
          "connector_mql_date": "2026-03-01T12:00:00.000Z", "connector_status_reason": "Score crossed 60",
          "connector_score_reason": "Director at a 500-person manufacturer; 3 webinar visits"}


def test_scorer_outputs_round_trip_through_the_portal(bare: Sandbox, mappings: Mappings,
                                                       sources_for: MakeSources) -> None:
    """After setup the scorer's values are accepted and read back as HubSpot stores them: a datetime given as
    ISO-8601 or as epoch milliseconds comes back as ISO-8601 UTC with milliseconds; a grade outside A-D and a
    date that is no date are refused."""
    src = sources_for(bare)
    run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    contacts = sdk(bare).crm.contacts.basic_api
    created = contacts.create(SimplePublicObjectInputForCreate(properties=SCORED))
    got = contacts.get_by_id(created.id, properties=list(SCORED)).properties
    assert {n: got[n] for n in SCORED} == SCORED
    contacts.update(created.id, SimplePublicObjectInput(properties={"connector_mql_date": "1772366400000",
                                                                     "connector_grade": "A",
                                                                     "connector_status": "Lead"}))
    got = contacts.get_by_id(created.id, properties=list(SCORED)).properties
    assert (got["connector_mql_date"], got["connector_grade"], got["connector_status"]) == (
        "2026-03-01T12:00:00.000Z", "A", "Lead")
    for bad in ({"connector_grade": "E"}, {"connector_grade": "a"}, {"connector_status": "Nurture"},
                {"connector_mql_date": "first of March"}):
        with pytest.raises(ContactsApiException) as err:
            contacts.update(created.id, SimplePublicObjectInput(properties=bad))
        assert err.value.status == 400
        assert ("INVALID_DATE" if "connector_mql_date" in bad else "INVALID_OPTION") in str(err.value.body)
    assert contacts.get_by_id(created.id, properties=["connector_grade"]).properties["connector_grade"] == "A"
