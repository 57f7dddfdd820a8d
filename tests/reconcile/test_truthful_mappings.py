"""Mapping settings say what they do (issue #13): hints that lead somewhere, settings that cannot silently
do nothing, and values a person would call the same never counted as a conflict."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
import pytest

from connector.reconcile import MappingError, SourceRecord, parse_contacts, reconcile
from connector.reconcile.transforms import (
    EmployeeRange,
    TransformContext,
    Truncate,
    Url,
    url_key,
)

from .factories import MAPPINGS_DIR, OWNERS, contacts_mapping, hs, lead_id, sf

CTX = TransformContext(OWNERS)
BASIS = "Legitimate interest – prospect/lead"
SHIPPED = (MAPPINGS_DIR / "contacts.toml").read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(MappingError) as info:
        parse_contacts(text)
    return [str(p) for p in info.value.problems]


def paired(**fields: Any) -> SourceRecord:
    return hs("1", salesforce_lead_id=lead_id(1), **fields)


def lead(**fields: Any) -> SourceRecord:
    return sf(lead_id(1), HubSpot_Contact_Id__c="1", **fields)


def conflicts(result: object) -> dict[str, str]:
    """field -> rule of every settled disagreement (as the reconcile summary counts them)."""
    return {name: prov.rule for p in result.people for name, prov in p.fields.items()  # type: ignore[attr-defined]
            if prov.losing and prov.rule != "agreement"}


# ---------------------------------------------------------------- hints that lead somewhere


def test_truncate_exists_and_needs_its_length() -> None:
    field = '[fields.title]\nhubspot = "jobtitle"\nsalesforce = { lead = "Title" }\n'
    m = parse_contacts(field + 'transforms = ["trim", "truncate"]\nmax_length = 128\n')
    assert m.fields[0].chain.names == ("trim", "truncate")
    [p] = problems(field + 'transforms = ["truncate"]\n')
    assert "fields.title.max_length: transform 'truncate' needs max_length" in p and "max_length = 128" in p
    [p] = problems(field + "max_length = 128\n")
    assert "max_length applies to the 'truncate' transform only" in p


def test_an_unknown_key_does_not_hide_the_fields_other_problems() -> None:
    """Before, a field with an unknown key was dropped whole, so its other mistakes showed one edit later."""
    ps = problems('[fields.title]\nhubspot = "Job Title"\nsalesforce = { lead = "Title" }\nrule = "newest"\n'
                  'transforms = ["truncate"]\nmax_lenght = 128\n')
    joined = "\n".join(ps)
    assert "fields.title.max_lenght: unknown key 'max_lenght'" in joined and "did you mean 'max_length'" in joined
    assert "fields.title.rule: unknown rule 'newest'" in joined
    # (whether a name exists is the live check's; a label where the internal name belongs is refused here)
    assert "fields.title.hubspot: 'Job Title' is not a HubSpot contact property internal name" in joined
    assert "fields.title.max_length: transform 'truncate' needs max_length" in joined
    assert len(ps) == 4


def test_an_unknown_key_in_a_settings_table_keeps_the_tables_other_checks() -> None:
    ps = "\n".join(problems('[inclusion]\ncreate_ass = "Lead"\nmin_lifecyclestage = "mql"\n'))
    assert "inclusion.create_ass: unknown key" in ps
    assert "inclusion.min_lifecyclestage: unknown lifecycle stage 'mql'" in ps


def test_long_lists_are_named_not_counted() -> None:
    """'known names: 27 values' told nobody anything: short lists are given whole, long ones by the entries
    spelled closest to the mistake."""
    known = len(phonenumbers.SUPPORTED_REGIONS)  # (property names are no longer checked statically)
    assert known > 20
    [p] = problems('[settings]\ndefault_region = "USA"\n[fields.title]\nhubspot = "jobtitle"\n')
    assert f"{known} values" not in p and "'US'" in p and f"the 8 closest of {known}" in p
    [p] = problems('[fields.title]\nhubspot = "jobtitle"\ntransforms = ["truncat"]\n')
    assert "did you mean 'truncate'" in p and "'employee_range'" in p and "'url'" in p and "values" not in p


# ---------------------------------------------------------------- settings that do nothing or contradict


@pytest.mark.parametrize(("direction", "rule", "dest", "other_rule"), [
    ("to_salesforce", "prefer_salesforce_unless_blank", "Salesforce", "prefer_hubspot_unless_blank"),
    ("to_salesforce", "always_salesforce", "Salesforce", "prefer_hubspot_unless_blank"),
    ("to_hubspot", "prefer_hubspot_unless_blank", "HubSpot", "prefer_salesforce_unless_blank"),
    ("to_hubspot", "always_hubspot", "HubSpot", "prefer_salesforce_unless_blank"),
])
def test_a_rule_and_a_direction_that_cancel_out_are_an_error_with_the_fix(
        direction: str, rule: str, dest: str, other_rule: str) -> None:
    field = '[fields.title]\nhubspot = "jobtitle"\nsalesforce = { lead = "Title" }\n' f'direction = "{direction}"\n'
    [p] = problems(field + f'rule = "{rule}"\n')
    assert f"fields.title.rule: rule '{rule}' keeps {dest}'s own value" in p and "never written" in p
    assert 'rule = "fill_blank_only"' in p and f'rule = "{other_rule}"' in p
    for fix in ("fill_blank_only", other_rule):  # both fixes load
        assert parse_contacts(field + f'rule = "{fix}"\n').fields[0].rule == fix


def test_the_shipped_lead_source_fills_blanks_and_says_so() -> None:
    f = next(f for f in contacts_mapping().fields if f.name == "lead_source")
    assert (f.direction, f.rule) == ("to_salesforce", "fill_blank_only")
    old = SHIPPED.replace('direction = "to_salesforce"\nrule = "fill_blank_only"',
                          'direction = "to_salesforce"\nrule = "prefer_salesforce_unless_blank"')
    assert old != SHIPPED
    assert any("fields.lead_source.rule" in p for p in problems(old))


def test_a_field_read_only_on_both_sides_is_told_to_use_none() -> None:
    """Before: "set direction = to_salesforce" for one side and "to_hubspot" for the other, each one wrong."""
    ps = problems('[fields.created]\nhubspot = "createdate"\nsalesforce = { lead = "CreatedDate" }\n')
    assert len(ps) == 2 and all('set direction = "none"' in p and "read-only too" in p for p in ps)
    [p] = problems('[fields.created]\nhubspot = "email"\nsalesforce = { lead = "CreatedDate" }\n'
                   'rule = "prefer_salesforce_unless_blank"\n')
    assert 'set direction = "to_hubspot" (or "none")' in p
    [p] = problems('[fields.created]\nsalesforce = { lead = "CreatedDate" }\n')
    assert 'set direction = "none"' in p
    assert parse_contacts('[fields.created]\nhubspot = "createdate"\nsalesforce = { lead = "CreatedDate" }\n'
                          'direction = "none"\n').fields[0].direction == "none"


def test_writing_hubspots_original_source_is_refused_statically() -> None:
    """hs_analytics_source is HubSpot's own: a mapping that writes it passed plain `validate` before."""
    both = SHIPPED.replace('direction = "to_salesforce"\nrule = "fill_blank_only"',
                           'direction = "both"\nrule = "prefer_salesforce_unless_blank"')
    [p] = problems(both)
    assert "fields.lead_source.hubspot: HubSpot property 'hs_analytics_source' is read-only" in p
    assert 'set direction = "to_salesforce"' in p


def test_a_created_lead_gets_the_value_maps_default_for_a_blank_source() -> None:
    new = reconcile([hs("7", email="n@x.com", lastname="Neu", lifecyclestage="marketingqualifiedlead",
                        hs_legal_basis=BASIS)], contacts_mapping(), owners=OWNERS)
    created = {c.field: c for c in new.changes if c.system == "salesforce" and c.record_id is None}
    assert created["LeadSource"].new == "Other" and "default_to_salesforce" in created["LeadSource"].reason
    assert created["Status"].reason == "create: inclusion.new_lead_status"  # the explicit setting comes first
    mapped = reconcile([hs("7", email="n@x.com", lastname="Neu", lifecyclestage="marketingqualifiedlead",
                           hs_legal_basis=BASIS, hs_analytics_source="REFERRALS")], contacts_mapping(), owners=OWNERS)
    assert {c.field: c.new for c in mapped.changes if c.record_id is None}["LeadSource"] == "Partner Referral"


def test_a_created_hubspot_contact_gets_no_invented_defaults() -> None:
    new = reconcile([sf(lead_id(3), Email="s@x.com", LastName="Sf", Status="Working - Contacted")],
                    contacts_mapping(), owners=OWNERS)
    created = {c.field for c in new.changes if c.system == "hubspot" and c.record_id is None}
    assert "hs_analytics_source" not in created


# ---------------------------------------------------------------- data a person would call the same


@pytest.mark.parametrize(("a", "b"), [
    ("https://www.x.com", "www.x.com"), ("http://x.com/", "https://www.X.com"), ("X.com/About/", "https://x.com/About"),
    ("https://www.x.com:443", "x.com"),
])
def test_url_formatting_is_never_a_difference(a: str, b: str) -> None:
    ua, ub = Url().decode(a, "hubspot", CTX), Url().decode(b, "salesforce", CTX)
    assert ua == ub and (ua != ub) is False and hash(ua) == hash(ub)
    assert str.__str__(ua) == a.strip() and type(Url().encode(ua, "salesforce", CTX)) is str


def test_different_sites_and_paths_stay_different() -> None:
    assert url_key("x.com") != url_key("y.com") and url_key("x.com/a") != url_key("x.com/A")
    assert Url().decode("https://x.com", "hubspot", CTX) != Url().decode("https://x.org", "salesforce", CTX)
    assert json.dumps(Url().decode("https://www.x.com", "hubspot", CTX)) == '"https://www.x.com"'


def test_website_formats_agree_and_nobody_is_overwritten() -> None:
    """Before: 'conflict on website' for ~900 demo people, and HubSpot's full URL overwritten by 'www.x.com'."""
    result = reconcile([paired(website="https://www.acme.io"), lead(Website="www.acme.io")], contacts_mapping(),
                       owners=OWNERS)
    assert result.changes == () and "website" not in conflicts(result)
    assert result.people[0].fields["website"].rule == "agreement"


def test_a_website_is_written_as_its_system_holds_it() -> None:
    fill = reconcile([paired(website="https://www.acme.io/"), lead()], contacts_mapping(), owners=OWNERS)
    assert [(c.field, c.new) for c in fill.changes if c.field == "Website"] == [("Website", "https://www.acme.io/")]
    differ = reconcile([paired(website="https://www.acme.io"), lead(Website="www.other.io")], contacts_mapping(),
                       owners=OWNERS)
    [c] = [c for c in differ.changes if c.field == "website"]
    assert c.new == "www.other.io" and type(c.new) is str and conflicts(differ)["website"]


def test_truncate_cuts_what_is_written_as_salesforce_counts() -> None:
    t = Truncate(5)
    assert t.encode("abc def", "salesforce", CTX) == "abc d" and t.encode("ab c  d", "salesforce", CTX) == "ab c"
    assert t.encode("ab😀cdef", "salesforce", CTX) == "ab😀c"  # the emoji is two UTF-16 units
    assert Truncate(4).encode("a😀😀", "salesforce", CTX) == "a😀" and t.encode("a😀😀", "salesforce", CTX) == "a😀😀"
    assert t.encode("short", "hubspot", CTX) == "short"
    assert t.encode(123456, "salesforce", CTX) == 123456 and t.decode("abcdefgh", "hubspot", CTX) == "abcdefgh"


def test_a_long_hubspot_title_is_cut_for_salesforce_and_kept_in_hubspot() -> None:
    long_title = "Head of Revenue Operations, " * 6 + "EMEA"
    new = reconcile([hs("7", email="n@x.com", lastname="Neu", lifecyclestage="marketingqualifiedlead",
                        hs_legal_basis=BASIS, jobtitle=long_title)], contacts_mapping(), owners=OWNERS)
    [title] = [c for c in new.changes if c.field == "Title"]
    assert title.new == long_title[:128].rstrip() and len(title.new) <= 128
    again = reconcile([hs("7", email="n@x.com", lastname="Neu", jobtitle=long_title, salesforce_lead_id=lead_id(7)),
                       sf(lead_id(7), Email="n@x.com", LastName="Neu", Title=title.new, HubSpot_Contact_Id__c="7")],
                      contacts_mapping(), owners=OWNERS)
    assert not [c for c in again.changes if c.field in ("Title", "jobtitle")]
    assert again.people[0].fields["job_title"].value == long_title and "job_title" not in conflicts(again)


@pytest.mark.parametrize(("count", "hubspot_range"), [(5, "1-5"), (5, "5-25"), (25, "5-25"), (25, "25-50"),
                                                      (1000, "500-1000"), (1000, "1000+")])
def test_an_employee_count_on_a_range_boundary_agrees_with_both_ranges(count: int, hubspot_range: str) -> None:
    """HubSpot's ranges share their ends: 5 employees is '1-5' and '5-25' (114 demo 'conflicts' before)."""
    result = reconcile([paired(numemployees=hubspot_range), lead(NumberOfEmployees=count)], contacts_mapping(),
                       owners=OWNERS)
    assert result.changes == () and "employees" not in conflicts(result)


def test_an_employee_count_inside_another_range_still_differs() -> None:
    result = reconcile([paired(numemployees="1-5"), lead(NumberOfEmployees=6)], contacts_mapping(), owners=OWNERS)
    assert [(c.field, c.new) for c in result.changes] == [("numemployees", "5-25")]
    assert EmployeeRange().decode(5, "salesforce", CTX) == "1-5"
    assert EmployeeRange().decode(6, "salesforce", CTX) == "5-25"
