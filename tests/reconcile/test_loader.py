"""Mapping files: the shipped defaults load, and broken files fail with precise, complete messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.reconcile import MappingError, load_mappings, parse_contacts, parse_opportunities
from connector.reconcile.check import main as check_main
from connector.reconcile.loader import custom_declarations

from .factories import MAPPINGS_DIR, shipped


def problems(text: str) -> list[str]:
    with pytest.raises(MappingError) as info:
        parse_contacts(text)
    return [str(p) for p in info.value.problems]


def test_shipped_mappings_load() -> None:
    m = shipped()
    names = {f.name for f in m.contacts.fields}
    assert {"email", "phone", "owner", "email_opt_out", "lead_status", "lead_source"} <= names
    assert m.opportunities is not None and m.opportunities.pipelines == ("default",)
    company = next(f for f in m.contacts.fields if f.name == "company")
    assert dict(company.salesforce) == {"Lead": "Company"}


def test_check_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert check_main([str(MAPPINGS_DIR)]) == 0
    (tmp_path / "contacts.toml").write_text('[fields.email]\nhubspot = "email"\nrule = "newest"\n')
    assert check_main([str(tmp_path)]) == 1
    assert "fields.email.rule" in capsys.readouterr().err


def test_bad_rule_name_suggests_the_right_one() -> None:
    [p] = problems('[fields.status]\nhubspot = "hs_lead_status"\nrule = "most_recnt"\n')
    assert p.startswith("contacts.toml: fields.status.rule: unknown rule 'most_recnt'")
    assert "did you mean 'most_recent'" in p and "'fill_blank_only'" in p


def test_unknown_key_is_an_error_with_suggestion() -> None:
    [p] = problems('[fields.email]\nhubspot = "email"\nrul = "most_recent"\n')
    assert "fields.email.rul: unknown key 'rul'" in p and "did you mean 'rule'" in p


def test_names_missing_from_the_shipped_lists_load_and_are_left_to_the_live_check() -> None:
    """Before: any name outside the shipped lists was refused ("unknown HubSpot contact property 'zip'"), so a
    standard field like PostalCode had to be declared custom. Whether a name exists is for `validate --live`."""
    m = parse_contacts('[fields.zip]\nhubspot = "zip"\n'
                       'salesforce = { lead = "PostalCode", contact = "MailingPostalCode" }\n'
                       '[fields.email]\nhubspot = "emial"\nsalesforce = { lead = "email" }\n')
    zip_code = m.fields[0]
    assert (zip_code.hubspot, dict(zip_code.salesforce)) == ("zip", {"Lead": "PostalCode",
                                                                     "Contact": "MailingPostalCode"})
    assert m.fields[1].hubspot == "emial"  # a typo too: the live check names the close live one


def test_a_label_where_a_name_belongs_is_refused_statically() -> None:
    ps = problems('[fields.zip]\nhubspot = "Postal Code"\nsalesforce = { lead = "Postal-Code" }\n'
                  '[custom_fields]\nhubspot = ["zip code"]\n')
    joined = "\n".join(ps)
    assert "fields.zip.hubspot: 'Postal Code' is not a HubSpot contact property internal name" in joined
    assert "fields.zip.salesforce.lead: 'Postal-Code' is not a Salesforce Lead field API name" in joined
    assert "custom_fields.hubspot[0]: 'zip code' is not" in joined
    assert "`connector fields hubspot` lists each with its label" in joined and len(ps) == 3


def test_custom_fields_are_declarations_for_setup_not_permissions() -> None:
    text = '[fields.tier]\nhubspot = "tier"\nsalesforce = { lead = "Tier__c" }\n'
    assert custom_declarations(parse_contacts(text)).hubspot == []  # loads undeclared
    ok = parse_contacts('[custom_fields]\nhubspot = ["tier"]\nlead = ["Tier__c"]\n' + text)
    assert ok.fields[0].salesforce == {"Lead": "Tier__c"}
    declared = custom_declarations(ok)
    assert (declared.hubspot, declared.lead) == (["tier"], ["Tier__c"])


def test_bad_value_map() -> None:
    ps = problems(
        '[fields.status]\nhubspot = "hs_lead_status"\nsalesforce = { lead = "Status" }\n'
        '[fields.status.values]\nto_salesforce = { NEW = "Working", OPN = "Closed - Converted" }\n'
    )
    joined = "\n".join(ps)
    assert ("fields.status.values.to_salesforce.NEW: 'Working' is not a Lead picklist value "
            "(did you mean 'Working - Contacted'?") in joined
    assert "fields.status.values.to_salesforce.OPN: 'OPN' is not a HubSpot value" in joined
    assert "'Closed - Converted' is a converted status" in joined
    assert "fields.status.values.to_hubspot" in joined  # Salesforce values cannot be read back


def test_target_mapped_twice() -> None:
    [p] = problems('[fields.a]\nhubspot = "email"\n[fields.b]\nhubspot = "email"\n')
    assert "fields.b.hubspot: HubSpot property 'email' is already written by fields.a" in p


def test_target_mapped_twice_is_fine_when_only_one_writes() -> None:
    m = parse_contacts('[fields.a]\nhubspot = "email"\n'
                       '[fields.b]\nhubspot = "email"\nsalesforce = { lead = "Email" }\ndirection = "to_salesforce"\n')
    assert len(m.fields) == 2


def test_connector_managed_and_read_only_targets() -> None:
    ps = problems('[fields.x]\nhubspot = "salesforce_lead_id"\n[fields.y]\nsalesforce = { lead = "IsConverted" }\n')
    assert any("managed by [identity]" in p for p in ps)
    assert any("'IsConverted' is read-only" in p for p in ps)


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "contacts.toml").write_text(
        '[settings]\ndefault_region = "XX"\n[fields.email]\nhubspot = "email"\nrule = "newest"\ndirection = "up"\n'
        '[fields.phone]\nhubspot = "phone"\ntransforms = ["phon"]\n'
        '[privacy]\nallowed_bases = ["Legitimate interest - prospect/lead"]\n'
    )
    (tmp_path / "opportunities.toml").write_text(
        '[fields.stage]\nhubspot = "dealstage"\nsalesforce = "Stage Name"\ntransforms = ["stage"]\n'
        '[stages.default.to_salesforce]\nclosedwon = "Won"\n'
    )
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    paths = {(Path(p.file).name, p.path) for p in info.value.problems}
    assert {
        ("contacts.toml", "settings.default_region"), ("contacts.toml", "fields.email.rule"),
        ("contacts.toml", "fields.email.direction"), ("contacts.toml", "fields.phone.transforms[0]"),
        ("contacts.toml", "privacy.allowed_bases[0]"), ("opportunities.toml", "fields.stage.salesforce"),
        ("opportunities.toml", "stages.default.to_salesforce.closedwon"),
    } <= paths
    basis = next(p for p in info.value.problems if p.path == "privacy.allowed_bases[0]")
    assert "Legitimate interest – prospect/lead" in basis.hint and "en dash" in basis.hint
    assert "problem(s) in mapping files" in str(info.value)


def test_toml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    [p] = problems('[fields.email]\nhubspot = "email"\nhubspot = "x"\n')
    assert "not valid TOML" in p
    with pytest.raises(MappingError, match="file not found|cannot read"):
        load_mappings(tmp_path)


def test_type_errors_name_the_key() -> None:
    [p] = problems('[fields.amount]\nhubspot = "annualrevenue"\ntransforms = ["number"]\ndecimals = "two"\n')
    assert p.startswith("contacts.toml: fields.amount.decimals:") and "'two'" in p


def test_semantic_checks_of_a_field() -> None:
    ps = "\n".join(problems(
        '[fields.Bad-Name]\nhubspot = "email"\n'
        '[fields.nothing]\nrule = "most_recent"\n'
        '[fields.opt]\nhubspot = "hs_email_optout"\nrule = "most_restrictive"\n'
        '[fields.one_way]\nhubspot = "phone"\ndirection = "to_salesforce"\n'
        '[fields.m]\nhubspot = "company"\ntransforms = ["map"]\n'
    ))
    assert "lower_snake_case" in ps and "maps to nothing" in ps and 'add "boolean" to transforms' in ps
    assert "direction 'to_salesforce' but no Salesforce field" in ps and "needs a value map" in ps


def test_inclusion_and_privacy_values_are_checked() -> None:
    ps = "\n".join(problems(
        '[inclusion]\nmin_lifecyclestage = "mql"\ncreate_as = "Account"\ncreate_as_contact_when = ["has_deals"]\n'
        '[privacy]\nallow_when = [{ property = "Country/Region", values = ["US"] }]\n'
    ))
    assert "inclusion.min_lifecyclestage" in ps and "inclusion.create_as: unknown object 'Account'" in ps
    # a label where the internal name belongs; a misspelt name is the live check's (did you mean 'country'?)
    assert "did you mean 'has_deal'" in ps and "privacy.allow_when[0].property: 'Country/Region' is not" in ps


def test_opportunity_stage_maps_are_validated() -> None:
    with pytest.raises(MappingError) as info:
        parse_opportunities(
            '[fields.stage]\nhubspot = "dealstage"\nsalesforce = "StageName"\ntransforms = ["stage"]\n'
            '[stages.default]\nto_salesforce = { closedwin = "Closed Won" }\n'
            'to_hubspot = { "Closed Wun" = "closedwon" }\n'
            '[contact_roles]\ndefault_role = "Buyer"\n'
        )
    text = str(info.value)
    assert "stages.default.to_salesforce.closedwin" in text and "did you mean 'closedwon'" in text
    assert "stages.default.to_hubspot.Closed Wun" in text and "contact_roles.default_role" in text


def test_opportunities_mapping_needs_stage_table_for_stage_transform() -> None:
    with pytest.raises(MappingError, match=r"fields.stage.transforms.*needs a \[stages"):
        parse_opportunities('[fields.stage]\nhubspot = "dealstage"\nsalesforce = "StageName"\ntransforms = ["stage"]\n')


def test_single_file_loaders(tmp_path: Path) -> None:
    from connector.reconcile import load_contacts, load_opportunities

    assert len(load_contacts(MAPPINGS_DIR / "contacts.toml").fields) == len(shipped().contacts.fields)
    assert load_opportunities(MAPPINGS_DIR / "opportunities.toml").pipelines == ("default",)
    with pytest.raises(MappingError, match="file not found"):
        load_contacts(tmp_path / "nope.toml")


def test_opportunities_file_is_optional(tmp_path: Path) -> None:
    (tmp_path / "contacts.toml").write_text((MAPPINGS_DIR / "contacts.toml").read_text())
    assert load_mappings(tmp_path).opportunities is None


def test_the_scorer_outputs_are_known_fields_with_their_values() -> None:
    """All six outputs are part of the built-in schema (no [custom_fields] entry needed), and the grade's and
    status's values are checked like any enumeration and picklist."""
    text = "".join(f'[fields.{n}]\nhubspot = "connector_{n}"\nsalesforce = {{ lead = "Connector_{s}__c", '
                   f'contact = "Connector_{s}__c" }}\n'
                   for n, s in (("grade", "Grade"), ("mql_date", "MQL_Date"), ("status_reason", "Status_Reason"),
                                ("score_reason", "Score_Reason")))
    m = parse_contacts(text)
    assert [f.hubspot for f in m.fields] == ["connector_grade", "connector_mql_date", "connector_status_reason",
                                             "connector_score_reason"]
    bad = problems('[fields.grade]\nhubspot = "connector_grade"\nsalesforce = { lead = "Connector_Grade__c" }\n'
                   '[fields.grade.values.to_salesforce]\nE = "A"\n'
                   '[fields.status]\nhubspot = "connector_status"\nsalesforce = { lead = "Connector_Status__c" }\n'
                   '[fields.status.values.to_salesforce]\nLead = "Lead"\nMQL = "Nurture"\n')
    values = [p for p in bad if "is not a" in p]
    assert len(values) == 2  # "Lead" is a status in both systems; E is no grade, Nurture no status
    assert "fields.grade.values.to_salesforce.E: 'E' is not a HubSpot value of this property" in values[0]
    assert "fields.status.values.to_salesforce.MQL: 'Nurture' is not a Lead picklist value" in values[1]
