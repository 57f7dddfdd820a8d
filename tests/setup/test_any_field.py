"""Any existing property or field can be mapped without a [custom_fields] declaration (issue #19): the static
checks no longer refuse names the shipped lists lack; the live check finds them in the portal and the org, or
says they are missing with the closest live name and what to do; `setup` and `validate --live` say the same
about a name setup does not create; and live picklist values no value map carries are suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hubspot.crm.properties import OptionInput, PropertyCreate

from connector.cli import main
from connector.errors import ConfigProblem
from connector.reconcile import Mappings, load_mappings
from connector.sandbox.runner import Sandbox
from connector.setup import live_check, live_problems, run_setup

from .conftest import MAPPINGS_DIR, MakeSources, copy_mappings, sdk, set_up

DEAL_DESCRIPTION = ('\n[fields.description]\nhubspot = "description"\nsalesforce = "Description"\n'
                    'transforms = ["trim"]\n')
ZIP = '[fields.zip]\nhubspot = "zip"\nsalesforce = { lead = "PostalCode" }\ntransforms = ["trim"]\n'


def by_key(problems: list[ConfigProblem]) -> dict[str, ConfigProblem]:
    out = {p.key: p for p in problems}
    assert len(out) == len(problems), problems
    return out


def with_opportunities(tmp_path: Path, extra: str) -> Mappings:
    """The shipped mappings in tmp_path, `extra` appended to opportunities.toml."""
    copy_mappings(tmp_path)
    text = (MAPPINGS_DIR / "opportunities.toml").read_text(encoding="utf-8")
    (tmp_path / "opportunities.toml").write_text(text + extra, encoding="utf-8")
    return load_mappings(tmp_path)


def _config(sb: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "connector.toml"
    text = sb.connector_config(f"sqlite:///{tmp_path}/state.db").split("[mappings]")[0]
    path.write_text(text + f'\n[mappings]\ndirectory = "{tmp_path}"\n')
    return path


def test_a_standard_field_the_shipped_lists_lack_maps_without_a_declaration(
        shipped: Sandbox, mappings: Mappings, sources_for: MakeSources, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Deals' `description` and the Opportunity's `Description` are in neither shipped list: before, the file
    was refused ("unknown HubSpot deal property 'description'") unless both were declared custom."""
    set_up(shipped, mappings, sources_for)
    mapped = with_opportunities(tmp_path, DEAL_DESCRIPTION)  # the static checks pass
    assert mapped.opportunities is not None
    assert [f.name for f in mapped.opportunities.fields][-1] == "description"
    src = sources_for(shipped)
    assert live_problems(src.hubspot, src.salesforce, mapped) == []
    report = run_setup(src.hubspot, src.salesforce, mapped, apply=False, create_salesforce_fields=True)
    assert report.ok and report.hubspot.missing == [] and report.salesforce.missing == []
    config = _config(shipped, tmp_path)
    assert main(["validate", "--json", "--config", str(config)]) == 0
    assert main(["validate", "--live", "--json", "--config", str(config)]) == 0
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert out["ok"] and out["problems"] == []


def test_a_name_the_system_lacks_fails_live_with_the_closest_live_name(
        shipped: Sandbox, mappings: Mappings, sources_for: MakeSources, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    set_up(shipped, mappings, sources_for)
    typo = with_opportunities(tmp_path, DEAL_DESCRIPTION.replace('"description"', '"descripton"')
                              .replace('"Description"', '"Descripton"'))
    src = sources_for(shipped)
    got = by_key(live_problems(src.hubspot, src.salesforce, typo))
    assert set(got) == {"fields.description.hubspot", "fields.description.salesforce"}
    hs = got["fields.description.hubspot"]
    assert hs.message == "HubSpot deals property 'descripton' does not exist in the portal"
    assert hs.hint == ("did you mean 'description'? fix the name (`connector fields hubspot deals` lists its "
                       "properties); if the connector should create it, declare it under [custom_fields] hubspot "
                       "and run `connector setup --apply`")
    sf = got["fields.description.salesforce"]
    assert sf.message == "Salesforce Opportunity field 'Descripton' does not exist in the org"
    assert sf.hint.startswith("did you mean 'Description'? fix the name (`connector fields salesforce Opportunity` "
                              "lists its fields): a standard field cannot be created")
    config = _config(shipped, tmp_path)
    assert main(["validate", "--json", "--config", str(config)]) == 0  # statically fine
    capsys.readouterr()
    assert main(["validate", "--live", "--json", "--config", str(config)]) == 2
    out = json.loads(capsys.readouterr().out)
    assert {p["key"] for p in out["problems"]} == set(got)


def test_a_standard_field_declared_custom_gets_the_same_answer_from_setup_and_validate_live(
        shipped: Sandbox, mappings: Mappings, sources_for: MakeSources, tmp_path: Path) -> None:
    """Before: with PostalCode (which the sandbox org lacks) declared under [custom_fields] lead, `setup
    --dry-run` skipped it (only __c names are created) and said all was well, while `validate --live` said
    "create it with `connector setup --apply`", which never would."""
    set_up(shipped, mappings, sources_for)
    declared = copy_mappings(tmp_path, ZIP, ('[custom_fields]\nhubspot = []\nlead = []',
                                             '[custom_fields]\nhubspot = ["zip"]\nlead = ["PostalCode"]'))
    src = sources_for(shipped)
    report = run_setup(src.hubspot, src.salesforce, declared, apply=False, create_salesforce_fields=True)
    live = by_key(live_problems(src.hubspot, src.salesforce, declared))
    assert set(live) == {"fields.zip.hubspot", "fields.zip.salesforce.lead"}
    # HubSpot: declared, so setup creates it, and both say so
    assert [m["name"] for m in report.hubspot.missing if m.get("kind") != "group"] == ["zip"]
    assert live["fields.zip.hubspot"].hint == "create it with `connector setup --apply` or fix the name"
    # Salesforce: a standard field setup cannot make; setup reports what validate --live reports
    (problem,) = report.salesforce.problems
    postal = live["fields.zip.salesforce.lead"]
    assert problem == {"object": "Lead", "api_name": "PostalCode", "message": postal.message, "hint": postal.hint,
                       "source": postal.source, "key": "fields.zip.salesforce.lead"}
    assert postal.message == "Salesforce Lead field 'PostalCode' does not exist in the org"
    assert "a standard field cannot be created" in postal.hint and "setup --apply" not in postal.hint
    assert not report.ok and report.salesforce.missing == []
    # --apply creates zip; PostalCode stays the one problem, in both
    applied = run_setup(src.hubspot, src.salesforce, declared, apply=True, create_salesforce_fields=True)
    assert {c["name"] for c in applied.hubspot.created} == {"zip"}
    assert [p["key"] for p in applied.salesforce.problems] == ["fields.zip.salesforce.lead"]
    fresh = sources_for(shipped)
    assert list(by_key(live_problems(fresh.hubspot, fresh.salesforce, declared))) == ["fields.zip.salesforce.lead"]


def test_an_undeclared_property_is_never_created_and_maps_once_the_portal_has_it(
        shipped: Sandbox, mappings: Mappings, sources_for: MakeSources, tmp_path: Path) -> None:
    set_up(shipped, mappings, sources_for)
    undeclared = copy_mappings(tmp_path, '[fields.zip]\nhubspot = "zip"\ntransforms = ["trim"]\n')
    src = sources_for(shipped)
    (p,) = live_problems(src.hubspot, src.salesforce, undeclared)
    assert p.key == "fields.zip.hubspot" and "declare it under [custom_fields] hubspot" in p.hint
    applied = run_setup(src.hubspot, src.salesforce, undeclared, apply=True, create_salesforce_fields=True)
    assert applied.hubspot.created == [] and applied.hubspot.missing == []
    assert [(e["name"], e["message"], e["hint"]) for e in applied.hubspot.problems] == [("zip", p.message, p.hint)]
    # an admin makes it in the portal (as HubSpot's own settings would): the same file now fits, undeclared
    sdk(shipped).crm.properties.core_api.create("contacts", PropertyCreate(
        name="zip", label="Postal Code", type="string", field_type="text", group_name="contactinformation"))
    fresh = sources_for(shipped)
    assert live_problems(fresh.hubspot, fresh.salesforce, undeclared) == []
    assert run_setup(fresh.hubspot, fresh.salesforce, undeclared, apply=False, create_salesforce_fields=True).ok


TIER = '''
[fields.tier]
hubspot = "tier"
salesforce = { lead = "Tier__c" }

[fields.tier.values.to_salesforce]
gold = "Gold"
silver = "Silver"

[fields.tier.values.to_hubspot]
Gold = "gold"
Silver = "silver"
"Bronze Plus" = "silver"
'''


def test_live_picklist_values_no_map_carries_are_suggestions(
        shipped: Sandbox, mappings: Mappings, sources_for: MakeSources, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The org's Tier__c has Bronze and the portal's tier has platinum: neither is mapped and there is no
    default, so those records would be left out of the field; `validate --live` says which, where and how."""
    src = set_up(shipped, mappings, sources_for)
    # the shipped files map every value, but for the two Salesforce industries with no HubSpot company option
    # (companies.toml leaves them out of the field, on purpose)
    shipped_gaps = [s for s in live_check(src.hubspot, src.salesforce, mappings).suggestions if ".values." in s.key]
    assert [(Path(s.source).name, s.key, s.message.split("picklist value ")[1].split(",")[0]) for s in shipped_gaps] \
        == [("companies.toml", "fields.industry.values.to_hubspot", "'Environmental'"),
            ("companies.toml", "fields.industry.values.to_hubspot", "'Other'")]
    sdk(shipped).crm.properties.core_api.create("contacts", PropertyCreate(
        name="tier", label="Tier", type="enumeration", field_type="select", group_name="contactinformation",
        options=[OptionInput(label=v.title(), value=v, display_order=i, hidden=False)
                 for i, v in enumerate(("gold", "silver", "platinum"))]))
    src.salesforce.create_custom_field("Lead", {"sobject": "Lead", "apiName": "Tier__c", "type": "Picklist",
                                                "picklistValues": ["Gold", "Silver", "Bronze", "Bronze Plus"]})
    tiers = copy_mappings(tmp_path, TIER)  # both exist: no [custom_fields] entry
    fresh = sources_for(shipped)
    found = live_check(fresh.hubspot, fresh.salesforce, tiers)
    assert found.problems == []
    warned = {(s.key, s.message): s for s in found.suggestions if ".values." in s.key}
    bronze = warned[("fields.tier.values.to_hubspot",
                     "Salesforce Lead.Tier__c has the picklist value 'Bronze', which fields.tier.values neither maps "
                     "nor defaults: records holding it are left out of the field and reported, not synced")]
    assert bronze.source == str(tmp_path / "contacts.toml")
    assert bronze.hint == ('add Bronze = "<HubSpot value>" under [fields.tier.values.to_hubspot] (values: '
                           "'gold', 'silver', 'platinum'), or set default_to_hubspot = \"<HubSpot value>\" under "
                           "[fields.tier.values]")
    platinum = warned[("fields.tier.values.to_salesforce",
                       "HubSpot contacts property 'tier' has the option 'platinum', which fields.tier.values "
                       "neither maps nor defaults: it is never written to Salesforce")]
    assert platinum.hint.startswith('add platinum = "<Salesforce value>" under [fields.tier.values.to_salesforce]')
    assert len(warned) == 2  # 'Bronze Plus' is mapped (a quoted key), gold and silver both ways
    config = _config(shipped, tmp_path)
    capsys.readouterr()
    assert main(["validate", "--live", "--config", str(config)]) == 0  # a suggestion, not an error
    text = capsys.readouterr().out
    assert "suggestion: " in text and "fields.tier.values.to_hubspot" in text and "'Bronze'" in text
    # defaults carry every other value: nothing to suggest
    (tmp_path / "defaults").mkdir()
    defaulted = copy_mappings(tmp_path / "defaults", TIER.replace(
        "\n[fields.tier.values.to_salesforce]",
        '\n[fields.tier.values]\ndefault_to_salesforce = "Silver"\ndefault_to_hubspot = "silver"\n\n'
        "[fields.tier.values.to_salesforce]"))
    assert not [s for s in live_check(fresh.hubspot, fresh.salesforce, defaulted).suggestions if ".values." in s.key]
