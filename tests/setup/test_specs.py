"""What the connector needs in each system, computed from the mappings alone."""

from __future__ import annotations

from pathlib import Path

from connector.reconcile import Mappings
from connector.setup import (CONNECTOR_GROUP, CONNECTOR_GROUP_LABEL, CONNECTOR_STATUS_VALUES, FieldSpec, PropertySpec,
                             required_hubspot_properties, required_salesforce_fields)

from .conftest import HS_NAMES, SF_NAMES, copy_mappings


def with_contacts(tmp_path: Path, extra: str, *replace: tuple[str, str]) -> Mappings:
    """A copy of the shipped contacts.toml with text replaced and appended (opportunities.toml not copied)."""
    return copy_mappings(tmp_path, extra, *replace, opportunities=False)


def test_hubspot_properties_for_the_shipped_mappings(mappings: Mappings) -> None:
    specs = {(s.object_type, s.name): s for s in required_hubspot_properties(mappings)}
    assert set(specs) == HS_NAMES
    for name in ("salesforce_lead_id", "salesforce_contact_id"):
        s = specs[("contacts", name)]
        assert (s.type, s.field_type, s.has_unique_value) == ("string", "text", True)
    assert (specs[("contacts", "connector_score")].type, specs[("contacts", "connector_score")].field_type) == \
        ("number", "number")
    status = specs[("contacts", "connector_status")]
    assert status.type == "enumeration" and status.options == CONNECTOR_STATUS_VALUES
    assert all(s.group == CONNECTOR_GROUP for s in specs.values())


def test_hubspot_properties_of_the_scorer_outputs(mappings: Mappings) -> None:
    """Score, grade, status, MQL date and the two reasons, each typed as HubSpot's UI would create it."""
    specs = {s.name: s for s in required_hubspot_properties(mappings) if s.name.startswith("connector_")}
    assert {n: (s.type, s.field_type, s.options) for n, s in specs.items()} == {
        "connector_score": ("number", "number", ()),
        "connector_grade": ("enumeration", "select", ("A", "B", "C", "D")),
        "connector_status": ("enumeration", "select", ("Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer",
                                                       "Recycled", "Disqualified")),
        "connector_mql_date": ("datetime", "date", ()),
        "connector_status_reason": ("string", "text", ()),
        "connector_score_reason": ("string", "textarea", ()),
        "connector_sla_state": ("enumeration", "select", ("On time", "Due soon", "Breached", "Met")),
        "connector_sla_due": ("datetime", "date", ()),
        "connector_touches_before_mql": ("number", "number", ()),
        "connector_first_touch": ("string", "text", ()),
        "connector_last_touch": ("string", "text", ()),
    }
    assert {s.description for s in specs.values()} == {"Set by the connector's scorer."}
    assert all(s.object_type == "contacts" and s.group == CONNECTOR_GROUP and not s.has_unique_value
               for s in specs.values())
    assert CONNECTOR_GROUP_LABEL == "HubSpot–Salesforce connector"


def test_property_body_is_the_properties_api_shape() -> None:
    body = PropertySpec("contacts", "connector_status", "Connector status", "enumeration", "select",
                        options=("MQL", "SQL")).body()
    assert body["groupName"] == CONNECTOR_GROUP and body["fieldType"] == "select" and body["hasUniqueValue"] is False
    assert body["options"] == [{"label": "MQL", "value": "MQL", "displayOrder": 0, "hidden": False},
                               {"label": "SQL", "value": "SQL", "displayOrder": 1, "hidden": False}]


def test_salesforce_fields_for_the_shipped_mappings(mappings: Mappings) -> None:
    specs = {(s.sobject, s.api_name): s for s in required_salesforce_fields(mappings)}
    assert set(specs) == SF_NAMES
    ident = specs[("Lead", "HubSpot_Contact_Id__c")]
    assert ident.type == "Text" and ident.external_id and ident.unique and ident.length == 32
    score = specs[("Contact", "Connector_Score__c")]
    assert (score.type, score.precision, score.scale) == ("Number", 5, 0)
    status = specs[("Lead", "Connector_Status__c")]
    assert status.type == "Picklist" and status.picklist_values == CONNECTOR_STATUS_VALUES
    deal = specs[("Opportunity", "HubSpot_Deal_Id__c")]
    assert deal.external_id and deal.unique


def test_salesforce_fields_of_the_scorer_outputs(mappings: Mappings) -> None:
    """The same six outputs on Lead and on Contact, as an admin types them into Setup."""
    specs = required_salesforce_fields(mappings)
    for obj in ("Lead", "Contact"):
        got = {s.api_name: s.to_json() for s in specs if s.sobject == obj and s.api_name.startswith("Connector_")}
        base = {"object": obj, "external_id": False, "unique": False}
        assert got == {
            "Connector_Score__c": {**base, "api_name": "Connector_Score__c", "label": "Connector Score",
                                   "type": "Number", "precision": 5, "scale": 0},
            "Connector_Grade__c": {**base, "api_name": "Connector_Grade__c", "label": "Connector Grade",
                                   "type": "Picklist", "picklist_values": ["A", "B", "C", "D"]},
            "Connector_Status__c": {**base, "api_name": "Connector_Status__c", "label": "Connector Status",
                                    "type": "Picklist",
                                    "picklist_values": ["Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer",
                                                        "Recycled", "Disqualified"]},
            "Connector_MQL_Date__c": {**base, "api_name": "Connector_MQL_Date__c", "label": "Connector MQL Date",
                                      "type": "DateTime"},
            "Connector_Status_Reason__c": {**base, "api_name": "Connector_Status_Reason__c",
                                           "label": "Connector Status Reason", "type": "Text", "length": 255},
            "Connector_Score_Reason__c": {**base, "api_name": "Connector_Score_Reason__c",
                                          "label": "Connector Score Reason", "type": "Text", "length": 255},
            "Connector_SLA_State__c": {**base, "api_name": "Connector_SLA_State__c", "label": "Connector SLA State",
                                       "type": "Picklist", "picklist_values": ["On time", "Due soon", "Breached",
                                                                               "Met"]},
            "Connector_SLA_Due__c": {**base, "api_name": "Connector_SLA_Due__c", "label": "Connector SLA Due",
                                     "type": "DateTime"},
            "Connector_Touches_Before_MQL__c": {**base, "api_name": "Connector_Touches_Before_MQL__c",
                                                "label": "Connector Touches Before MQL", "type": "Number",
                                                "precision": 5, "scale": 0},
            "Connector_First_Touch__c": {**base, "api_name": "Connector_First_Touch__c",
                                         "label": "Connector First Touch", "type": "Text", "length": 255},
            "Connector_Last_Touch__c": {**base, "api_name": "Connector_Last_Touch__c",
                                        "label": "Connector Last Touch", "type": "Text", "length": 255},
        }
    assert {s.description for s in specs if s.api_name.startswith("Connector_")} == {"Set by the connector's scorer."}


def test_missing_entry_names_everything_an_admin_types_in() -> None:
    entry = FieldSpec("Lead", "Connector_Score__c", "Connector Score", "Number", precision=5, scale=0).to_json()
    assert entry == {"object": "Lead", "api_name": "Connector_Score__c", "label": "Connector Score", "type": "Number",
                     "precision": 5, "scale": 0, "external_id": False, "unique": False}
    text = FieldSpec("Lead", "X__c", "X", "Text", length=32, external_id=True, unique=True).to_json()
    assert text["length"] == 32 and "precision" not in text and "picklist_values" not in text


def test_identity_names_come_from_the_mapping(tmp_path: Path) -> None:
    m = with_contacts(tmp_path, "", ('hubspot_lead_id_property = "salesforce_lead_id"',
                                     'hubspot_lead_id_property = "sf_lead_ref"'),
                      ('[custom_fields]\nhubspot = []', '[custom_fields]\nhubspot = ["sf_lead_ref"]'))
    names = {s.name for s in required_hubspot_properties(m)}
    assert "sf_lead_ref" in names and "salesforce_lead_id" not in names


def test_custom_fields_get_types_from_their_transforms(tmp_path: Path) -> None:
    extra = '''
[fields.renewal_date]
hubspot = "renewal_date"
salesforce = { lead = "Renewal_Date__c", contact = "Renewal_Date__c" }
transforms = ["date"]

[fields.vip]
hubspot = "is_vip"
salesforce = { contact = "VIP__c" }
transforms = ["boolean"]

[fields.seats]
hubspot = "seats"
salesforce = { lead = "Seats__c" }
transforms = ["integer"]

[fields.tier]
hubspot = "tier"
salesforce = { lead = "Tier__c" }

[fields.tier.values.to_salesforce]
gold = "Gold"
silver = "Silver"

[fields.tier.values.to_hubspot]
Gold = "gold"
Silver = "silver"
Bronze = "silver"

[fields.nickname]
hubspot = "nickname"
'''
    m = with_contacts(tmp_path, extra, (
        '[custom_fields]\nhubspot = []\nlead = []\ncontact = []',
        ('[custom_fields]\nhubspot = ["renewal_date", "is_vip", "seats", "tier", "nickname"]\n'
         'lead = ["Renewal_Date__c", "Seats__c", "Tier__c"]\ncontact = ["Renewal_Date__c", "VIP__c"]')))
    hs = {s.name: s for s in required_hubspot_properties(m)}
    assert (hs["renewal_date"].type, hs["renewal_date"].field_type) == ("date", "date")
    assert (hs["is_vip"].type, hs["is_vip"].field_type) == ("bool", "booleancheckbox")
    assert hs["seats"].type == "number"
    assert hs["tier"].type == "enumeration" and set(hs["tier"].options) == {"gold", "silver"}
    assert (hs["nickname"].type, hs["nickname"].field_type) == ("string", "text")
    assert all(s.group == CONNECTOR_GROUP for s in hs.values())
    sf = {(s.sobject, s.api_name): s for s in required_salesforce_fields(m)}
    assert sf[("Lead", "Renewal_Date__c")].type == "Date" and sf[("Contact", "Renewal_Date__c")].type == "Date"
    assert sf[("Contact", "VIP__c")].type == "Checkbox"
    assert (sf[("Lead", "Seats__c")].type, sf[("Lead", "Seats__c")].scale) == ("Number", 0)
    assert sf[("Lead", "Tier__c")].type == "Picklist"
    assert set(sf[("Lead", "Tier__c")].picklist_values) == {"Gold", "Silver", "Bronze"}


def test_boolean_property_options_are_labelled_yes_and_no() -> None:
    body = PropertySpec("contacts", "is_vip", "Is vip", "bool", "booleancheckbox", options=("true", "false")).body()
    assert [(o["label"], o["value"]) for o in body["options"]] == [("Yes", "true"), ("No", "false")]


def test_sandbox_body_is_the_custom_field_route_shape() -> None:
    status = FieldSpec("Lead", "Connector_Status__c", "Connector Status", "Picklist", picklist_values=("MQL", "SQL"))
    assert status.sandbox_body() == {"sobject": "Lead", "apiName": "Connector_Status__c", "type": "Picklist",
                                     "label": "Connector Status", "externalId": False, "unique": False,
                                     "picklistValues": ["MQL", "SQL"], "restricted": True}
    score = FieldSpec("Lead", "Connector_Score__c", "Connector Score", "Number", precision=5)
    assert (score.sandbox_body()["precision"], score.sandbox_body()["scale"]) == (5, 0)
    assert score.describe_types == frozenset({"double", "int"})


def test_only_declared_custom_names_are_created(tmp_path: Path) -> None:
    """[custom_fields] says what setup must create: a name mapped without it must exist already, and a standard
    Salesforce field (no __c) is never created, declared or not."""
    extra = ('[fields.nickname]\nhubspot = "nickname"\nsalesforce = { lead = "Nickname__c" }\n'
             '[fields.tier]\nhubspot = "tier"\nsalesforce = { lead = "Tier__c" }\ntransforms = ["trim"]\n'
             '[fields.zip]\nhubspot = "zip"\nsalesforce = { lead = "PostalCode" }\n')
    undeclared = with_contacts(tmp_path, extra)
    assert {(s.object_type, s.name) for s in required_hubspot_properties(undeclared)} == HS_NAMES - {
        ("deals", "salesforce_opportunity_id"), ("companies", "salesforce_account_id")}
    assert {(s.sobject, s.api_name) for s in required_salesforce_fields(undeclared)} == SF_NAMES - {
        ("Opportunity", "HubSpot_Deal_Id__c"), ("Account", "HubSpot_Company_Id__c")}
    (tmp_path / "declared").mkdir()
    declared = with_contacts(tmp_path / "declared", extra, (
        '[custom_fields]\nhubspot = []\nlead = []',
        '[custom_fields]\nhubspot = ["tier", "zip"]\nlead = ["Tier__c", "PostalCode"]'))
    hs = {s.name for s in required_hubspot_properties(declared)}
    sf = {s.api_name for s in required_salesforce_fields(declared)}
    assert {"tier", "zip"} <= hs and "nickname" not in hs
    assert "Tier__c" in sf and "Nickname__c" not in sf and "PostalCode" not in sf
