"""The setup report, built by hand (no I/O): when it is ok, its --json shape and its terminal lines."""

from __future__ import annotations

from connector.errors import ConfigProblem
from connector.setup import FieldSpec, SetupReport, SystemReport, problem_json


def test_empty_report_is_ok_and_has_the_json_shape() -> None:
    report = SetupReport(applied=True, api_calls={"hubspot": 2, "salesforce": 3})
    assert report.ok
    assert report.to_json() == {
        "applied": True, "ok": True,
        "hubspot": {"created": [], "present": [], "missing": [], "problems": []},
        "salesforce": {"created": [], "present": [], "missing": [], "problems": []},
        "api_calls": {"hubspot": 2, "salesforce": 3}, "suggestions": []}


def test_anything_missing_or_clashing_makes_it_not_ok() -> None:
    missing = SetupReport(applied=False, salesforce=SystemReport(missing=[{"object": "Lead", "api_name": "X__c"}]))
    clash = SetupReport(applied=True, hubspot=SystemReport(problems=[{"object": "contacts", "name": "x",
                                                                      "message": "m", "hint": "h"}]))
    assert not missing.ok and not clash.ok
    suggested = SetupReport(applied=True, suggestions=[{"source": "c.toml", "key": "k", "message": "m", "hint": "h"}])
    assert suggested.ok  # suggestions never make the report not ok


def test_lines_name_each_entry_and_count_per_system() -> None:
    score = FieldSpec("Lead", "Connector_Score__c", "Connector Score", "Number", precision=5, scale=0).to_json()
    ident = FieldSpec("Lead", "HubSpot_Contact_Id__c", "HubSpot Contact Id", "Text", length=32, external_id=True,
                      unique=True).to_json()
    report = SetupReport(
        applied=True,
        hubspot=SystemReport(created=[{"object": "contacts", "name": "hubspot_salesforce_connector", "kind": "group"},
                                      {"object": "contacts", "name": "connector_score"}],
                             problems=[{"object": "contacts", "name": "salesforce_lead_id", "message": "exists",
                                        "hint": "archive it"}]),
        salesforce=SystemReport(present=[{"object": "Contact", "api_name": "Connector_Score__c"}],
                                missing=[score, ident]),
        api_calls={"hubspot": 4, "salesforce": 3},
        suggestions=[{"source": "contacts.toml", "key": "fields.city.salesforce.lead", "message": "holds at most 40",
                      "hint": "add truncate"}])
    assert report.lines() == [
        "HubSpot: created group contacts.hubspot_salesforce_connector",
        "HubSpot: created contacts.connector_score",
        "HubSpot: PROBLEM contacts.salesforce_lead_id: exists (fix: archive it)",
        "HubSpot: 0 present, 2 created, 0 missing, 1 problem(s)",
        "Salesforce: missing Lead.Connector_Score__c (Number(5,0))",
        "Salesforce: missing Lead.HubSpot_Contact_Id__c (Text(32), External ID, Unique)",
        "Salesforce: 1 present, 0 created, 2 missing, 0 problem(s)",
        "suggestion: contacts.toml: fields.city.salesforce.lead: holds at most 40 (add truncate)",
        "api calls: hubspot 4, salesforce 3",
    ]


def test_problem_json_is_the_cli_shape() -> None:
    p = ConfigProblem("mappings/contacts.toml", "fields.city.hubspot", "does not exist", "fix the name")
    assert problem_json(p) == {"source": "mappings/contacts.toml", "key": "fields.city.hubspot",
                               "message": "does not exist", "hint": "fix the name"}
