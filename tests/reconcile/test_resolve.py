"""Field resolution with provenance: agreement, blanks, broken values, time basis."""

from __future__ import annotations

from connector.reconcile import (ContactMapping, Issue, Provenance, SourceRecord, TransformContext, parse_contacts,
                                 resolve_fields)

from .factories import OWNERS, contacts_mapping, hs, lead_id, sf

CTX = TransformContext(OWNERS)


def resolved(hs_rec: SourceRecord | None, sf_rec: SourceRecord | None,
             mapping: ContactMapping | None = None) -> tuple[dict[str, Provenance], list[Issue]]:
    fields, issues = resolve_fields((mapping or contacts_mapping()).fields, hs_rec, sf_rec, CTX)
    return {r.mapping.name: r.provenance for r in fields}, issues


def test_equal_in_unified_form_is_not_a_conflict() -> None:
    prov, issues = resolved(hs("1", phone="+1 (415) 555-0100"), sf(lead_id(1), Phone="4155550100"))
    assert prov["phone"].value == "+14155550100" and prov["phone"].losing == () and not issues


def test_lossy_value_map_agreement_keeps_the_richer_hubspot_value() -> None:
    prov, _ = resolved(hs("1", hs_lead_status="CONNECTED"), sf(lead_id(1), Status="Working - Contacted"))
    assert prov["lead_status"].value == "CONNECTED" and prov["lead_status"].rule == "agreement"


def test_real_conflict_goes_to_the_rule_with_provenance() -> None:
    prov, _ = resolved(hs("1", t=5, firstname="Bob"), sf(lead_id(1), t=9, FirstName="Robert"))
    p = prov["first_name"]
    assert p == Provenance("Robert", "salesforce", lead_id(1), 9, "prefer_salesforce_unless_blank", "record",
                           (("hubspot", "Bob", 5),))


def test_most_recent_prefers_field_times_over_record_times() -> None:
    h = hs("1", t=1_000, field_times={"email": 50}, email="old@x.com")
    s = sf(lead_id(1), t=55, Email="new@x.com")  # record time of HubSpot (1000) is ignored
    p = resolved(h, s)[0]["email"]
    assert (p.value, p.system, p.time_basis) == ("new@x.com", "salesforce", "record")
    h2 = hs("1", t=1_000, field_times={"email": 60}, email="old@x.com")
    assert resolved(h2, s)[0]["email"].value == "old@x.com"


def test_blank_never_wins_over_a_value() -> None:
    prov, _ = resolved(hs("1", t=9, email="", jobtitle="CEO"), sf(lead_id(1), t=1, Email="a@x.com", Title=None))
    assert prov["email"].value == "a@x.com"  # most_recent, HubSpot newer but blank
    assert prov["job_title"].value == "CEO"  # prefer_salesforce_unless_blank, Salesforce blank


def test_allow_blanking_lets_a_blank_win() -> None:
    m = parse_contacts('[fields.title]\nhubspot = "jobtitle"\nsalesforce = { lead = "Title" }\n'
                       'rule = "always_salesforce"\nallow_blanking = true\n')
    prov, _ = resolved(hs("1", jobtitle="CEO"), sf(lead_id(1), Title=None), m)
    assert prov["title"].value is None and prov["title"].losing == (("hubspot", "CEO", 1_000),)
    m2 = parse_contacts('[fields.title]\nhubspot = "jobtitle"\nsalesforce = { lead = "Title" }\n'
                        'rule = "always_salesforce"\n')
    assert resolved(hs("1", jobtitle="CEO"), sf(lead_id(1), Title=None), m2)[0]["title"].value == "CEO"


def test_opt_out_true_anywhere_wins() -> None:
    prov, _ = resolved(hs("1", t=1, hs_email_optout="true"), sf(lead_id(1), t=9, HasOptedOutOfEmail=False))
    assert prov["email_opt_out"].value is True
    prov, _ = resolved(hs("1", t=9, hs_email_optout="false"), sf(lead_id(1), t=1, HasOptedOutOfEmail=True))
    assert prov["email_opt_out"].value is True


def test_unconvertible_value_is_reported_and_left_out() -> None:
    prov, issues = resolved(hs("1", phone="call me"), sf(lead_id(1), Phone="4155550100"))
    assert prov["phone"].value == "+14155550100"
    [issue] = issues
    assert (issue.system, issue.record_id, issue.field, issue.value) == ("hubspot", "1", "phone", "call me")
    assert "not a possible phone number" in issue.message


def test_field_missing_on_the_salesforce_object_uses_hubspot_alone() -> None:
    prov, _ = resolved(hs("1", company="Acme"), sf("003000000000001AAA", "Contact", Email="a@x.com"))
    assert prov["company"].value == "Acme" and prov["company"].system == "hubspot"


def test_owner_resolves_through_email() -> None:
    prov, _ = resolved(hs("1", t=1, hubspot_owner_id="102"), sf(lead_id(1), t=2, OwnerId="005000000000001AAA"))
    assert prov["owner"].value == "ann@corp.example"


def test_one_side_only() -> None:
    prov, _ = resolved(hs("1", email="A@X.com"), None)
    assert prov["email"].value == "a@x.com" and prov["email"].system == "hubspot"
