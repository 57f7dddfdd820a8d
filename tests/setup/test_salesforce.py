"""`connector setup` in Salesforce, against the sandbox: fields created there, listed for an admin elsewhere."""

from __future__ import annotations

from connector.reconcile import Mappings
from connector.sandbox.runner import Sandbox
import pytest

from connector.setup import CONNECTOR_STATUS_VALUES, run_setup
from connector.systems.http import ApiError

from .conftest import SF_NAMES, MakeSources


def test_salesforce_fields_listed_when_create_is_off(bare: Sandbox, mappings: Mappings,
                                                     sources_for: MakeSources) -> None:
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=False)
    missing = {(e["object"], e["api_name"]): e for e in report.to_json()["salesforce"]["missing"]}
    assert set(missing) == SF_NAMES
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
    assert {(e["object"], e["api_name"]) for e in report.salesforce.created} == SF_NAMES
    assert report.salesforce.missing == [] and report.ok
    # the adapter's describe cache was dropped: the same source sees the new fields
    lead = {f["name"]: f for f in src.salesforce.describe("Lead")["fields"]}
    assert lead["HubSpot_Contact_Id__c"]["externalId"] and lead["HubSpot_Contact_Id__c"]["unique"]
    assert lead["Connector_Score__c"]["type"] == "double"
    assert [v["value"] for v in lead["Connector_Status__c"]["picklistValues"]] == list(CONNECTOR_STATUS_VALUES)
    # the scorer's outputs, on both objects, with the describe an org gives them
    for obj in ("Lead", "Contact"):
        got = {f["name"]: f for f in src.salesforce.describe(obj)["fields"]}
        assert {n: (got[n]["type"], got[n]["length"], got[n]["precision"], got[n]["scale"],
                    [v["value"] for v in got[n]["picklistValues"]], got[n]["restrictedPicklist"], got[n]["custom"])
                for n in got if n.startswith("Connector_")} == {
            "Connector_Score__c": ("double", 0, 5, 0, [], False, True),
            "Connector_Grade__c": ("picklist", 255, 0, 0, ["A", "B", "C", "D"], True, True),
            "Connector_Status__c": ("picklist", 255, 0, 0, ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer",
                                                          "Recycled", "Disqualified"], True, True),
            "Connector_MQL_Date__c": ("datetime", 0, 0, 0, [], False, True),
            "Connector_Status_Reason__c": ("string", 255, 0, 0, [], False, True),
            "Connector_Score_Reason__c": ("string", 255, 0, 0, [], False, True),
            "Connector_SLA_State__c": ("picklist", 255, 0, 0, ["On time", "Due soon", "Breached", "Met"], True,
                                       True),
            "Connector_SLA_Due__c": ("datetime", 0, 0, 0, [], False, True),
            "Connector_Touches_Before_MQL__c": ("double", 0, 5, 0, [], False, True),
            "Connector_First_Touch__c": ("string", 255, 0, 0, [], False, True),
            "Connector_Last_Touch__c": ("string", 255, 0, 0, [], False, True),
        }
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
    assert {(e["object"], e["api_name"]) for e in report.salesforce.present} == SF_NAMES


SCORED = {"Connector_Score__c": 87, "Connector_Grade__c": "B", "Connector_Status__c": "MQL",
          "Connector_MQL_Date__c": "2026-03-01T12:00:00.000+0000", "Connector_Status_Reason__c": "Score crossed 60",
          "Connector_Score_Reason__c": "Director at a 500-person manufacturer; 3 webinar visits"}


@pytest.mark.parametrize("sobject, required", [
    ("Lead", {"LastName": "Scored", "Company": "Acme", "Email": "scored@example.com"}),
    ("Contact", {"LastName": "Scored", "Email": "scored@example.com"}),
])
def test_scorer_outputs_round_trip_through_the_org(bare: Sandbox, mappings: Mappings, sources_for: MakeSources,
                                                   sobject: str, required: dict[str, str]) -> None:
    """The fields setup created take the scorer's values and give them back in Salesforce's REST form (a
    DateTime as ``...000+0000``); a grade outside the picklist and a reason longer than 255 are refused as
    Salesforce refuses them."""
    src = sources_for(bare)
    run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=True)
    base = f"/services/data/{src.salesforce.version}/sobjects/{sobject}"

    def read(record_id: str) -> dict[str, object]:
        got = src.salesforce.http.json("GET", f"{base}/{record_id}", object_type=sobject)
        return {n: got[n] for n in SCORED}

    record_id = src.salesforce.http.json("POST", base, object_type=sobject, json_body={**required, **SCORED})["id"]
    assert read(record_id) == SCORED
    src.salesforce.http.request("PATCH", f"{base}/{record_id}", object_type=sobject, json_body={
        "Connector_MQL_Date__c": "2026-03-02T08:30:00Z", "Connector_Grade__c": "A", "Connector_Status__c": "Lead",
        "Connector_Score_Reason__c": "x" * 255})
    assert read(record_id) == {**SCORED, "Connector_MQL_Date__c": "2026-03-02T08:30:00.000+0000",
                               "Connector_Grade__c": "A", "Connector_Status__c": "Lead",
                               "Connector_Score_Reason__c": "x" * 255}
    for bad, code in (({"Connector_Grade__c": "E"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
                      ({"Connector_Status__c": "Nurture"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
                      ({"Connector_Score_Reason__c": "x" * 256}, "STRING_TOO_LONG"),
                      ({"Connector_Status_Reason__c": "y" * 256}, "STRING_TOO_LONG"),
                      ({"Connector_MQL_Date__c": "first of March"}, "JSON_PARSER_ERROR")):
        with pytest.raises(ApiError) as err:
            src.salesforce.http.request("PATCH", f"{base}/{record_id}", object_type=sobject, json_body=bad)
        assert (err.value.status, err.value.code) == (400, code)
    assert read(record_id)["Connector_Grade__c"] == "A"
