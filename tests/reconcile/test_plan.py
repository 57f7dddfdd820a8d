"""Change planning: minimal updates, directions, fill-blank, creates under inclusion and privacy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from connector.reconcile import (ContactMapping, FieldChange, NewRecordId, RecordKey, SourceRecord, parse_contacts,
                                 reconcile)

from .factories import OWNERS, contact_id, contacts_mapping, hs, lead_id, sf

BASIS = "Legitimate interest – prospect/lead"


def changes(*records: SourceRecord, mapping: ContactMapping | None = None,
            links: Mapping[RecordKey, str] | None = None) -> tuple[FieldChange, ...]:
    return reconcile(list(records), mapping or contacts_mapping(), links=links, owners=OWNERS).changes


def by_field(chs: Iterable[FieldChange]) -> dict[tuple[str, str], FieldChange]:
    return {(c.system, c.field): c for c in chs}


def paired(**hs_fields: Any) -> SourceRecord:
    return hs("1", salesforce_lead_id=lead_id(1), **hs_fields)


def sfl(**fields: Any) -> SourceRecord:
    return sf(lead_id(1), HubSpot_Contact_Id__c="1", **fields)


def test_agreeing_records_need_no_changes() -> None:
    assert changes(paired(email="a@x.com", phone="+1 415 555 0100", hs_lead_status="CONNECTED", country="USA",
                          lifecyclestage="marketingqualifiedlead"),
                   sfl(Email="A@x.com", Phone="(415) 555-0100", Status="Working - Contacted",
                       Country="United States")) == ()


def test_update_contains_only_differing_fields() -> None:
    chs = by_field(changes(paired(t=1, firstname="Bob", email="a@x.com"),
                           sfl(t=2, FirstName="Robert", Email="a@x.com")))
    assert set(chs) == {("hubspot", "firstname")}
    c = chs[("hubspot", "firstname")]
    assert (c.record_id, c.old, c.new) == ("1", "Bob", "Robert") and "prefer_salesforce_unless_blank" in c.reason


def test_values_are_written_in_the_targets_native_form() -> None:
    chs = by_field(changes(paired(t=1, hs_email_optout="true", hubspot_owner_id="102", annualrevenue="1000.5"),
                           sfl(t=2, HasOptedOutOfEmail=False, OwnerId="005000000000001AAA", AnnualRevenue=None)))
    assert chs[("salesforce", "HasOptedOutOfEmail")].new is True
    assert chs[("hubspot", "hubspot_owner_id")].new == "101"
    assert chs[("salesforce", "AnnualRevenue")].new == 1000.5


def test_opt_out_is_never_turned_back_to_false() -> None:
    chs = by_field(changes(paired(t=9, hs_email_optout="false"), sfl(t=1, HasOptedOutOfEmail=True)))
    assert chs[("hubspot", "hs_email_optout")].new == "true"
    assert ("salesforce", "HasOptedOutOfEmail") not in chs


def test_an_opt_out_in_hubspot_reaches_salesforce() -> None:
    chs = by_field(changes(paired(t=1, hs_email_optout="true"), sfl(t=9, HasOptedOutOfEmail=False)))
    assert chs[("salesforce", "HasOptedOutOfEmail")].new is True and ("hubspot", "hs_email_optout") not in chs


def test_a_blank_hubspot_opt_out_is_never_written_false() -> None:
    """HubSpot's blank hs_email_optout already means "not opted out", and writing "false" would be an opt-in
    (which the push never sends): no change is planned, so the person settles instead of being planned for
    every cycle. A new HubSpot contact gets no "false" either; an opt-out still goes."""
    assert ("hubspot", "hs_email_optout") not in by_field(changes(paired(t=9), sfl(t=1, HasOptedOutOfEmail=False)))
    assert ("hubspot", "hs_email_optout") not in by_field(changes(
        paired(t=1, hs_email_optout="true"), sfl(t=9, HasOptedOutOfEmail=False)))
    created = by_field(changes(sf(contact_id(5), "Contact", Email="c@x.com", LastName="C", HasOptedOutOfEmail=False)))
    assert ("hubspot", "email") in created and ("hubspot", "hs_email_optout") not in created
    created = by_field(changes(sf(contact_id(5), "Contact", Email="c@x.com", LastName="C", HasOptedOutOfEmail=True)))
    assert created[("hubspot", "hs_email_optout")].new == "true"


def test_one_way_fields_follow_their_direction() -> None:
    # lead_source writes Salesforce only; a HubSpot blank is never filled from Salesforce.
    chs = by_field(changes(paired(hs_analytics_source="REFERRALS"), sfl(LeadSource=None)))
    assert chs[("salesforce", "LeadSource")].new == "Partner Referral"
    chs = by_field(changes(paired(hs_analytics_source=None), sfl(LeadSource="Web")))
    assert ("hubspot", "hs_analytics_source") not in chs


def test_fill_blank_only_fills_but_never_overwrites() -> None:
    chs = by_field(changes(paired(lifecyclestage=None), sfl(Status="Working - Contacted")))
    assert chs[("hubspot", "lifecyclestage")].new == "salesqualifiedlead"
    chs = by_field(changes(paired(lifecyclestage="customer"), sfl(Status="Open - Not Contacted")))
    assert ("hubspot", "lifecyclestage") not in chs


def test_blank_is_never_written_over_a_value_without_allow_blanking() -> None:
    chs = changes(paired(t=9, email="", jobtitle="CEO"), sfl(t=1, Email="a@x.com", Title=None))
    assert all(c.new not in (None, "") for c in chs)
    m = parse_contacts('[fields.title]\nhubspot = "jobtitle"\nsalesforce = { lead = "Title" }\n'
                       'rule = "always_salesforce"\nallow_blanking = true\n')
    [c] = [c for c in changes(paired(jobtitle="CEO"), sfl(Title=None), mapping=m) if c.field == "jobtitle"]
    assert c.new == ""  # HubSpot clears a property with an empty string


def test_broken_values_are_not_overwritten() -> None:
    result = reconcile([paired(phone="call me"), sfl(Phone="4155550100")], contacts_mapping(), owners=OWNERS)
    assert not any(c.field == "phone" for c in result.changes)
    assert [i.field for i in result.issues] == ["phone"]


def test_unknown_owner_email_is_an_issue_not_a_write() -> None:
    owners = replace(OWNERS, hubspot={"101": "ann@corp.example"})
    result = reconcile([paired(t=1, hubspot_owner_id="101"), sfl(t=2, OwnerId="005000000000002AAA")],
                       contacts_mapping(), owners=owners)
    assert not any(c.field == "hubspot_owner_id" for c in result.changes)
    [issue] = [i for i in result.issues if "no hubspot owner has this email" in i.message]
    assert ((issue.system, issue.record_id, issue.field, issue.value)
            == ("hubspot", "1", "hubspot_owner_id", "bo@corp.example"))


def test_cross_references_are_kept_in_step() -> None:
    chs = by_field(changes(hs("1", email="a@x.com"), sf(contact_id(4), "Contact", Email="a@x.com")))
    assert chs[("hubspot", "salesforce_contact_id")].new == contact_id(4)
    assert chs[("salesforce", "HubSpot_Contact_Id__c")].new == "1"


def mql(**extra: Any) -> SourceRecord:
    fields: dict[str, Any] = dict(email="a@x.com", firstname="Ann", lifecyclestage="marketingqualifiedlead",
                                  hs_legal_basis=BASIS, phone="4155550100")
    fields.update(extra)
    return hs("1", **fields)


def test_create_in_salesforce_as_lead_with_placeholders() -> None:
    chs = changes(mql())
    creates = [c for c in chs if c.system == "salesforce"]
    assert all(c.record_id is None and c.object_type == "Lead" for c in creates)
    # the echo: what HubSpot must take from the new Lead (its default status), planned in the same run
    assert [(c.field, c.new, c.record_id) for c in chs if c.system == "hubspot"] == [
        ("hs_lead_status", "NEW", "1"),
        ("salesforce_lead_id", NewRecordId("salesforce", "Lead"), "1"),  # push writes the new Lead's id here
    ]
    assert {c.person_id for c in chs} == {"hs-1"}
    f = by_field(chs)
    assert f[("salesforce", "Email")].new == "a@x.com" and f[("salesforce", "Phone")].new == "+14155550100"
    assert f[("salesforce", "LastName")].new == "[not provided]"
    assert f[("salesforce", "Company")].new == "[not provided]"
    assert f[("salesforce", "HubSpot_Contact_Id__c")].new == "1"
    assert f[("salesforce", "Status")].new == "Open - Not Contacted"
    f = by_field(changes(mql(hs_lead_status="CONNECTED")))
    assert f[("salesforce", "Status")].new == "Working - Contacted"


def test_create_as_contact_when_the_contact_has_a_deal() -> None:
    chs = changes(replace(mql(), associations={"deals": ("77",)}))
    creates = [c for c in chs if c.record_id is None]
    assert {c.object_type for c in creates} == {"Contact"} and "Company" not in {c.field for c in creates}
    assert [c.new for c in chs if c.system == "hubspot"] == [NewRecordId("salesforce", "Contact")]


def test_inclusion_lifecycle_threshold() -> None:
    assert changes(mql(lifecyclestage="lead")) == ()
    assert changes(mql(lifecyclestage="other")) == ()
    assert changes(mql(lifecyclestage="customer")) != ()


def test_privacy_requires_a_lawful_basis_or_rule() -> None:
    assert changes(mql(hs_legal_basis=None)) == ()
    assert changes(mql(hs_legal_basis="Not applicable")) == ()
    assert changes(mql(hs_legal_basis=f"Not applicable;{BASIS}")) != ()
    m = parse_contacts('[privacy]\nallow_when = [{ property = "country", values = ["United States"] }]\n'
                       '[fields.email]\nhubspot = "email"\nsalesforce = { lead = "Email" }\n')
    assert changes(mql(hs_legal_basis=None, country="United States"), mapping=m) != ()


def test_every_salesforce_person_with_email_goes_to_hubspot() -> None:
    chs = by_field(changes(sf(contact_id(1), "Contact", Email="a@x.com", LastName="Lee", MailingCountry="USA")))
    assert chs[("hubspot", "lastname")].new == "Lee" and chs[("hubspot", "country")].new == "United States"
    assert chs[("hubspot", "salesforce_contact_id")].new == contact_id(1)
    assert all(c.record_id is None for c in chs.values() if c.system == "hubspot")
    assert chs[("salesforce", "HubSpot_Contact_Id__c")].new == NewRecordId("hubspot", "contacts")
    assert changes(sf(lead_id(1), LastName="NoEmail")) == ()


def test_converted_lead_is_never_written() -> None:
    lead = sf(lead_id(1), Email="a@x.com", FirstName="Old", IsConverted=True, ConvertedContactId=contact_id(1),
              HubSpot_Contact_Id__c="1")
    contact = sf(contact_id(1), "Contact", Email="a@x.com", FirstName="New", HubSpot_Contact_Id__c="1")
    chs = changes(hs("1", email="a@x.com", firstname="New", salesforce_contact_id=contact_id(1)), lead, contact)
    assert all(c.record_id != lead_id(1) for c in chs)


def test_stored_links_feed_the_person_id() -> None:
    r = reconcile([paired(email="a@x.com"), sfl(Email="a@x.com")], contacts_mapping(),
                  links={RecordKey("hubspot", "contacts", "1"): "person-9"})
    assert [p.person_id for p in r.people] == ["person-9"]
    assert r.people[0].links == (RecordKey("hubspot", "contacts", "1"), RecordKey("salesforce", "Lead", lead_id(1)))
    assert r.people[0].value("email") == "a@x.com"


def test_field_change_is_a_value() -> None:
    c = FieldChange("hubspot", "contacts", "1", "email", None, "a@x.com", "x")
    assert c == FieldChange("hubspot", "contacts", "1", "email", None, "a@x.com", "x")


def test_gc_pause_is_restored_and_changes_nothing() -> None:
    import gc

    records = [paired(t=1, firstname="Bob"), sfl(t=2, FirstName="Robert")]
    assert gc.isenabled()
    with_pause = reconcile(records, contacts_mapping(), owners=OWNERS)
    assert gc.isenabled()
    assert reconcile(records, contacts_mapping(), owners=OWNERS, pause_gc=False) == with_pause
