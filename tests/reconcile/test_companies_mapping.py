"""companies.toml: the shipped file loads and means what it says; every broken input fails with its precise problem."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from connector.reconcile import (FieldChange, MappingError, OwnerDirectory, SourceRecord, TransformContext,
                                 load_companies, load_mappings, parse_companies, parse_opportunities, resolve_fields)
from connector.reconcile.check import main as check_main
from connector.reconcile.loader import COMPANIES_FILE
from connector.reconcile.mapping import CompanyMapping, Mappings
from connector.reconcile.plan import plan_updates
from connector.reconcile.records import Issue
from connector.sandbox.hubspot.industries import COMPANY_INDUSTRIES, SALESFORCE_TO_HUBSPOT
from connector.sandbox.salesforce._schema import INDUSTRIES

from .factories import MAPPINGS_DIR

SHIPPED = MAPPINGS_DIR / COMPANIES_FILE
OWNERS = OwnerDirectory(hubspot={"101": "ann@corp.example"}, salesforce={"005000000000001AAA": "ann@corp.example"})


def shipped() -> CompanyMapping:
    return load_companies(SHIPPED)


def problems(text: str) -> list[str]:
    with pytest.raises(MappingError) as info:
        parse_companies(text)
    return [str(p) for p in info.value.problems]


def one(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------------------ the shipped file


def test_the_shipped_file_loads_with_every_field_and_default() -> None:
    m = shipped()
    fields = {f.name: (f.hubspot, dict(f.salesforce), f.rule, f.chain.names) for f in m.fields}
    assert fields == {
        "name": ("name", {"Account": "Name"}, "prefer_salesforce_unless_blank", ("trim",)),
        "domain": ("domain", {"Account": "Website"}, "prefer_hubspot_unless_blank", ("url",)),
        "industry": ("industry", {"Account": "Industry"}, "prefer_salesforce_unless_blank", ("map",)),
        "employees": ("numberofemployees", {"Account": "NumberOfEmployees"}, "prefer_salesforce_unless_blank",
                      ("integer",)),
        "annual_revenue": ("annualrevenue", {"Account": "AnnualRevenue"}, "prefer_salesforce_unless_blank",
                           ("number",)),
        "city": ("city", {"Account": "BillingCity"}, "prefer_salesforce_unless_blank", ("trim",)),
        "state": ("state", {"Account": "BillingState"}, "prefer_salesforce_unless_blank", ("trim",)),
        "country": ("country", {"Account": "BillingCountry"}, "prefer_salesforce_unless_blank", ("country",)),
        "phone": ("phone", {"Account": "Phone"}, "prefer_salesforce_unless_blank", ("phone",)),
        "owner": ("hubspot_owner_id", {"Account": "OwnerId"}, "most_recent", ("owner",)),
    }
    assert all(f.direction == "both" for f in m.fields)
    assert (m.identity.hubspot_account_id_property, m.identity.salesforce_company_id_field) == (
        "salesforce_account_id", "HubSpot_Company_Id__c")
    assert m.identity.match_on_domain and m.identity.suggest_on_name
    assert (m.inclusion.create_in_hubspot, m.inclusion.create_in_salesforce) == ("with_people", "with_people")
    assert m.associations.contacts and m.associations.deals
    assert (m.custom_fields.hubspot, m.custom_fields.account) == ([], [])
    assert m.file == str(SHIPPED)


def test_the_industry_map_is_the_seeds_pairing_and_covers_every_seeded_option() -> None:
    """to_hubspot is SALESFORCE_TO_HUBSPOT written out; to_salesforce its inverse plus a closest Industry for each
    HubSpot option with none of its own, every one a value of the Salesforce picklist."""
    vm = next(t for f in shipped().fields if f.name == "industry" for t in f.chain.transforms)
    assert vm.to_hubspot == dict(SALESFORCE_TO_HUBSPOT)  # type: ignore[attr-defined]
    to_sf: dict[str, str] = vm.to_salesforce  # type: ignore[attr-defined]
    assert {hs: sf for sf, hs in SALESFORCE_TO_HUBSPOT.items()}.items() <= to_sf.items()
    assert set(to_sf) == set(COMPANY_INDUSTRIES) and set(to_sf.values()) <= set(INDUSTRIES)
    # the two Salesforce values with no HubSpot option, and no default: reported, never guessed
    assert set(INDUSTRIES) - set(vm.to_hubspot) == {"Environmental", "Other"}  # type: ignore[attr-defined]
    assert vm.default_to_hubspot is None and vm.default_to_salesforce is None  # type: ignore[attr-defined]


def test_load_mappings_reads_companies_toml_and_the_checker_counts_its_fields(capsys: pytest.CaptureFixture[str]
                                                                              ) -> None:
    m = load_mappings(MAPPINGS_DIR)
    assert m.companies is not None and len(m.companies.fields) == 10
    assert check_main([str(MAPPINGS_DIR)]) == 0
    assert "10 company fields" in capsys.readouterr().out


def test_without_companies_toml_there_are_no_companies(tmp_path: Path) -> None:
    for name in ("contacts.toml", "opportunities.toml"):
        shutil.copy(MAPPINGS_DIR / name, tmp_path / name)
    m = load_mappings(tmp_path)
    assert m.companies is None and m.opportunities is not None
    # the positional constructor of before still builds a deployment without companies
    assert Mappings(m.contacts, m.opportunities, None).companies is None


def test_an_empty_companies_file_takes_every_default() -> None:
    m = parse_companies("")
    assert m.fields == () and m.identity.hubspot_account_id_property == "salesforce_account_id"
    assert m.inclusion.create_in_hubspot == "with_people" and m.associations.deals


# ------------------------------------------------------------------------------- what the shipped fields do


def company(domain: str | None = None, t: int = 1_000, **props: Any) -> SourceRecord:
    return SourceRecord("hubspot", "companies", "9001", t, {"domain": domain, **props})


def account(website: str | None = None, t: int = 1_000, **fields: Any) -> SourceRecord:
    return SourceRecord("salesforce", "Account", "001000000000001AAA", t, {"Website": website, **fields})


def plan(hs: SourceRecord, sf: SourceRecord) -> tuple[dict[str, list[FieldChange]], list[Issue]]:
    m = shipped()
    ctx = TransformContext(owners=OWNERS)
    resolved, issues = resolve_fields(m.fields, hs, sf, ctx, m.settings.tie_breaker)  # type: ignore[arg-type]
    changes = {system: plan_updates(resolved, system, ctx, issues) for system in ("hubspot", "salesforce")}
    return changes, issues


@pytest.mark.parametrize("website", ["https://www.acme.com/", "www.acme.com", "http://www.Acme.com", "acme.com",
                                     "HTTPS://ACME.COM:443/"])
def test_a_domain_and_a_website_that_differ_in_form_only_agree(website: str) -> None:
    changes, issues = plan(company("acme.com"), account(website))
    assert changes == {"hubspot": [], "salesforce": []} and issues == []


def test_a_blank_website_gets_the_domain_and_a_different_site_keeps_hubspots() -> None:
    changes, _ = plan(company("acme.com"), account(None))
    assert [(c.field, c.new) for c in changes["salesforce"]] == [("Website", "acme.com")]
    changes, _ = plan(company("acme.com"), account("https://www.acme.io/"))
    assert [(c.field, c.new) for c in changes["salesforce"]] == [("Website", "acme.com")]
    assert changes["hubspot"] == []


def test_industry_values_agree_through_the_map_and_salesforce_wins_a_disagreement() -> None:
    # a finer HubSpot option that maps to the Account's Industry: agreement, nothing written
    changes, issues = plan(company(industry="COMPUTER_SOFTWARE"), account(Industry="Technology"))
    assert changes == {"hubspot": [], "salesforce": []} and issues == []
    changes, _ = plan(company(industry="BANKING"), account(Industry="Food & Beverage"))
    assert [(c.field, c.new) for c in changes["hubspot"]] == [("industry", "FOOD_BEVERAGES")]
    assert changes["salesforce"] == []


def test_an_industry_with_no_hubspot_option_is_reported_and_hubspot_left_alone() -> None:
    changes, issues = plan(company(industry="BANKING"), account(Industry="Other"))
    assert changes == {"hubspot": [], "salesforce": []}
    assert [(i.field, i.system) for i in issues] == [("Industry", "salesforce")]


def test_numbers_country_phone_and_owner_compare_in_unified_form() -> None:
    same = plan(company(numberofemployees="250", annualrevenue="1500000.00", country="USA",
                        phone="(415) 555-0100", hubspot_owner_id="101"),
                account(NumberOfEmployees=250, AnnualRevenue=1_500_000, BillingCountry="United States",
                        Phone="+1 415-555-0100", OwnerId="005000000000001AAA"))
    assert same == ({"hubspot": [], "salesforce": []}, [])
    changes, _ = plan(company(numberofemployees="250"), account(NumberOfEmployees=300))
    assert [(c.field, c.new) for c in changes["hubspot"]] == [("numberofemployees", "300")]


# ------------------------------------------------------------------------------------------ precise problems


def test_an_unknown_key_anywhere_is_refused_with_the_allowed_ones() -> None:
    found = problems('[identity]\nmatch_on_domian = true\n[inclusion]\ncreate_in_hubspt = "all"\n'
                     '[associations]\ncontact = true\n[fields.name]\nhubspot = "name"\nsalesfroce = "Name"\n')
    assert len(found) == 4
    joined = "\n".join(found)
    assert "companies.toml: identity.match_on_domian: unknown key 'match_on_domian' (did you mean " \
           "'match_on_domain'?" in joined
    assert "inclusion.create_in_hubspt: unknown key 'create_in_hubspt' (did you mean 'create_in_hubspot' or " \
           "'create_in_salesforce'?" in joined
    assert "associations.contact: unknown key 'contact' (did you mean 'contacts'?" in joined
    assert "fields.name.salesfroce: unknown key 'salesfroce' (did you mean 'salesforce'?" in joined


def test_the_contacts_salesforce_table_form_is_refused() -> None:
    """An Account field is one name, not contacts.toml's { lead = ..., contact = ... } table."""
    p = one('[fields.name]\nhubspot = "name"\nsalesforce = { lead = "Name" }\n')
    assert p.startswith("companies.toml: fields.name.salesforce: Input should be a valid string")


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("create_in_hubspot", "with_peple", "inclusion.create_in_hubspot: unknown choice 'with_peple' "
                                           "(did you mean 'with_people'? allowed: 'all', 'none', 'with_people')"),
    ("create_in_salesforce", "always", "inclusion.create_in_salesforce: unknown choice 'always' "
                                       "(allowed: 'all', 'none', 'with_people')"),
])
def test_inclusion_choices_are_checked(key: str, value: str, expected: str) -> None:
    assert one(f'[inclusion]\n{key} = "{value}"\n') == f"companies.toml: {expected}"


def test_associations_and_identity_switches_must_be_booleans() -> None:
    found = problems('[associations]\ndeals = "maybe"\n[identity]\nmatch_on_domain = 2\n')
    assert [p.split(": ")[1] for p in found] == ["identity.match_on_domain", "associations.deals"]
    assert all("Input should be a valid boolean" in p for p in found)


def test_identity_names_must_be_names_and_the_account_field_a_custom_one() -> None:
    found = problems('[identity]\nhubspot_account_id_property = "Salesforce Account ID"\n'
                     'salesforce_company_id_field = "HubSpot_Company_Id"\n')
    assert found == [
        "companies.toml: identity.hubspot_account_id_property: 'Salesforce Account ID' is not a HubSpot company "
        "property internal name (letters, digits and underscores, starting with a letter) (use the internal name, "
        "not the label: `connector fields hubspot` lists each with its label)",
        "companies.toml: identity.salesforce_company_id_field: 'HubSpot_Company_Id' is not a custom field's API name "
        "(they end in __c): the connector needs a field of its own there, an External ID (e.g. "
        "\"HubSpot_Company_Id__c\")",
    ]


def test_the_cross_reference_ids_are_never_mapped_as_fields_even_read_only() -> None:
    found = problems('[fields.account_id]\nhubspot = "salesforce_account_id"\ndirection = "none"\n'
                     '[fields.company_id]\nsalesforce = "hubspot_company_id__C"\ndirection = "none"\n')
    assert found == [
        "companies.toml: fields.account_id.hubspot: HubSpot company property 'salesforce_account_id' is [identity] "
        "hubspot_account_id_property, which the connector manages (remove [fields.account_id] (or its hubspot): "
        "the cross-reference ids are never mapped as fields)",
        "companies.toml: fields.company_id.salesforce: Salesforce Account field 'hubspot_company_id__C' is "
        "[identity] salesforce_company_id_field, which the connector manages (remove [fields.company_id] (or its "
        "salesforce): the cross-reference ids are never mapped as fields)",
    ]


def test_renamed_identity_names_are_the_ones_reserved() -> None:
    text = ('[identity]\nhubspot_account_id_property = "sf_account"\n'
            '[fields.account_id]\nhubspot = "salesforce_account_id"\ndirection = "none"\n'
            '[fields.ref]\nhubspot = "sf_account"\ndirection = "none"\n')
    [p] = problems(text)
    assert "fields.ref.hubspot: HubSpot company property 'sf_account' is [identity]" in p


def test_a_target_is_written_by_one_field_only() -> None:
    p = one('[fields.name]\nhubspot = "name"\nsalesforce = "Name"\n'
            '[fields.legal_name]\nhubspot = "legal_name"\nsalesforce = "Name"\n')
    assert p == ("companies.toml: fields.legal_name.salesforce.account: Salesforce Account field 'Name' is already "
                 "written by fields.name (a target may be written by one field only; set direction on one of them "
                 "or remove it)")
    # reading it from a second field is fine
    m = parse_companies('[fields.name]\nhubspot = "name"\nsalesforce = "Name"\n'
                        '[fields.legal_name]\nhubspot = "legal_name"\nsalesforce = "Name"\ndirection = "to_hubspot"\n')
    assert [f.name for f in m.fields] == ["name", "legal_name"]


def test_a_hubspot_property_is_written_by_one_field_only() -> None:
    p = one('[fields.site]\nhubspot = "domain"\nsalesforce = "Website"\ntransforms = ["url"]\n'
            '[fields.site2]\nhubspot = "domain"\nsalesforce = "Description"\n')
    assert "fields.site2.hubspot: HubSpot property 'domain' is already written by fields.site" in p


def test_read_only_targets_get_the_direction_that_fixes_them() -> None:
    found = problems('[fields.contacts]\nhubspot = "num_associated_contacts"\nsalesforce = "Employees__c"\n'
                     '[fields.created]\nhubspot = "createdate"\nsalesforce = "CreatedDate"\n'
                     'transforms = ["datetime"]\n')
    joined = "\n".join(found)
    assert ("fields.contacts.hubspot: HubSpot property 'num_associated_contacts' is read-only "
            "(set direction = \"to_salesforce\" (or \"none\"), or map another field)") in joined
    assert "fields.created.salesforce.account: Salesforce Account field 'CreatedDate' is read-only in Salesforce " \
           "(set direction = \"none\"" in joined


def test_rule_and_direction_that_cancel_out_are_refused() -> None:
    p = one('[fields.name]\nhubspot = "name"\nsalesforce = "Name"\nrule = "prefer_salesforce_unless_blank"\n'
            'direction = "to_salesforce"\n')
    assert p.startswith("companies.toml: fields.name.rule: rule 'prefer_salesforce_unless_blank' keeps Salesforce's "
                        "own value and direction 'to_salesforce' only writes Salesforce")


def test_field_level_mistakes_are_each_reported() -> None:
    found = problems('[fields.Revenue]\nhubspot = "annualrevenue"\nsalesforce = "Annual Revenue"\n'
                     'rule = "newest"\ndirection = "sideways"\ntransforms = ["numbr"]\ndecimals = 2\n'
                     '[fields.nothing]\nrule = "most_recent"\n'
                     '[fields.stage]\nhubspot = "lifecyclestage"\nsalesforce = "Type"\ntransforms = ["stage"]\n')
    joined = "\n".join(found)
    for expected in (
        "fields.Revenue: field name 'Revenue' must be lower_snake_case",
        "fields.Revenue.rule: unknown rule 'newest'",
        "fields.Revenue.direction: unknown direction 'sideways'",
        "fields.Revenue.transforms[0]: unknown transform 'numbr' (did you mean 'number'?",
        "fields.Revenue.decimals: decimals applies to the 'number' transform only",
        "fields.Revenue.salesforce: 'Annual Revenue' is not a Salesforce Account field API name",
        "fields.nothing: the field maps to nothing",
        "fields.stage.transforms[0]: unknown transform 'stage'",
    ):
        assert expected in joined, (expected, found)
    assert len(found) == 8


def test_a_value_map_must_carry_both_directions_it_is_used_in() -> None:
    found = problems('[fields.industry]\nhubspot = "industry"\nsalesforce = "Industry"\n'
                     '[fields.industry.values.to_hubspot]\nBanking = "BANKING"\n')
    assert found == ["companies.toml: fields.industry.values.to_salesforce: the field writes Salesforce but the value "
                     "map has no to_salesforce entries (add to_salesforce = { ... } or default_to_salesforce, or set "
                     "direction = \"to_hubspot\")"]


def test_custom_fields_take_company_and_account_names_only() -> None:
    found = problems('[custom_fields]\nhubspot = ["tier level"]\naccount = ["Tier__c", "Tier Level"]\n'
                     'lead = ["Tier__c"]\n')
    assert found == [
        "companies.toml: custom_fields.hubspot[0]: 'tier level' is not a HubSpot company property internal name "
        "(letters, digits and underscores, starting with a letter) (use the internal name, not the label: "
        "`connector fields hubspot` lists each with its label)",
        "companies.toml: custom_fields.account[1]: 'Tier Level' is not a Salesforce Account field API name (letters, "
        "digits and underscores, starting with a letter) (use the API name, not the label: `connector fields "
        "salesforce` lists each with its label)",
        "companies.toml: custom_fields.lead: this file maps no Lead fields: lead = [...] belongs in contacts.toml "
        "(move the names to [custom_fields] lead of contacts.toml, or use hubspot / account here)",
    ]
    declared = parse_companies('[custom_fields]\nhubspot = ["tier"]\naccount = ["Tier__c"]\n').custom_fields
    assert (declared.hubspot, declared.account) == (["tier"], ["Tier__c"])


def test_account_fields_belong_in_companies_toml_only() -> None:
    text = (MAPPINGS_DIR / "opportunities.toml").read_text() + '\n[custom_fields]\naccount = ["Tier__c"]\n'
    with pytest.raises(MappingError) as info:
        parse_opportunities(text)
    assert [p.path for p in info.value.problems] == ["custom_fields.account"]
    assert "belongs in companies.toml" in str(info.value.problems[0])


def test_settings_are_checked_as_in_the_other_files() -> None:
    found = problems('[settings]\ndefault_region = "XX"\ncountry_format = "iso"\ntie_breaker = "hs"\n')
    assert [p.split(":")[1].strip() for p in found] == ["settings.default_region", "settings.country_format",
                                                          "settings.tie_breaker"]


def test_every_file_s_problems_are_reported_at_once(tmp_path: Path) -> None:
    shutil.copy(MAPPINGS_DIR / "opportunities.toml", tmp_path / "opportunities.toml")
    (tmp_path / "contacts.toml").write_text('[fields.email]\nhubspot = "email"\nrule = "newest"\n')
    (tmp_path / COMPANIES_FILE).write_text('[inclusion]\ncreate_in_hubspot = "some"\n[fields.name]\nhubspot = "name"\n'
                                           'salesforce = "Name"\ndirection = "up"\n')
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    where = [(Path(p.file).name, p.path) for p in info.value.problems]
    assert where == [("contacts.toml", "fields.email.rule"), (COMPANIES_FILE, "fields.name.direction"),
                     (COMPANIES_FILE, "inclusion.create_in_hubspot")]


def test_a_companies_file_that_is_not_toml_is_one_problem(tmp_path: Path) -> None:
    shutil.copy(MAPPINGS_DIR / "contacts.toml", tmp_path / "contacts.toml")
    (tmp_path / COMPANIES_FILE).write_text("[fields.name\n")
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    [p] = info.value.problems
    assert p.file.endswith(COMPANIES_FILE) and p.message.startswith("not valid TOML")


def test_load_companies_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as info:
        load_companies(tmp_path / COMPANIES_FILE)
    assert info.value.problems[0].message == "file not found"
