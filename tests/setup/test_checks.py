"""The live checks (`connector validate --live`): each class of problem a mapping file can have against
the sandbox's live metadata."""

from __future__ import annotations

from pathlib import Path

from hubspot.crm.properties import OptionInput, PropertyCreate

from connector.errors import ConfigError, ConfigProblem
from connector.reconcile import Mappings
from connector.sandbox.runner import Sandbox
from connector.setup import live_problems

from .conftest import MakeSources, copy_mappings, sdk, set_up


def by_key(problems: list[ConfigProblem]) -> dict[str, list[ConfigProblem]]:
    out: dict[str, list[ConfigProblem]] = {}
    for p in problems:
        out.setdefault(p.key, []).append(p)
    return out


def test_before_setup_the_connector_properties_are_unknown(shipped: Sandbox, mappings: Mappings,
                                                           sources_for: MakeSources) -> None:
    src = sources_for(shipped)
    problems = by_key(live_problems(src.hubspot, src.salesforce, mappings))
    for key in ("identity.hubspot_lead_id_property", "identity.hubspot_contact_id_property"):
        (p,) = problems[key]
        assert p.source.endswith("mappings/contacts.toml")
        assert "does not exist" in p.message and "connector setup" in p.hint
    for output in ("score", "grade", "status", "mql_date", "status_reason", "reason"):
        (p,) = problems[f"outputs.{output}.hubspot"]
        assert p.source.endswith("mappings/scoring.toml")
        assert "does not exist" in p.message and "connector setup" in p.hint


def test_shipped_mappings_fit_after_setup(shipped: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = set_up(shipped, mappings, sources_for)
    assert live_problems(src.hubspot, src.salesforce, mappings) == []


def test_writing_a_read_only_hubspot_property_is_reported(shipped: Sandbox, mappings: Mappings,
                                                          sources_for: MakeSources, tmp_path: Path) -> None:
    """A property the portal marks read-only (which the static schema cannot know) is reported with the
    direction that fixes it (while hs_email_optout, read-only too, is written through the subscription API
    and is no problem). hs_analytics_source, the shipped example, is now refused by the static checks."""
    src = set_up(shipped, mappings, sources_for)
    writes_it = copy_mappings(
        tmp_path, '[fields.first_conversion]\nhubspot = "first_conversion_event_name"\n'
                  'salesforce = { lead = "Description" }\n',
        ('[custom_fields]\nhubspot = []', '[custom_fields]\nhubspot = ["first_conversion_event_name"]'))
    (p,) = live_problems(src.hubspot, src.salesforce, writes_it)
    assert p.key == "fields.first_conversion.hubspot" and "read-only" in p.message
    assert 'set direction = "to_salesforce" (or "none")' in p.hint
    assert writes_it.contacts.fields[[f.name for f in writes_it.contacts.fields].index("email_opt_out")].writes_hubspot


def test_a_field_read_only_on_both_sides_is_told_to_use_none(shipped: Sandbox, mappings: Mappings,
                                                             sources_for: MakeSources, tmp_path: Path) -> None:
    """Before: "set direction = to_hubspot" for one side and "to_salesforce" for the other, each one wrong."""
    src = set_up(shipped, mappings, sources_for)
    both = copy_mappings(
        tmp_path,
        '[fields.first_conversion]\nhubspot = "first_conversion_event_name"\nsalesforce = { lead = "Name" }\n',
        ('[custom_fields]\nhubspot = []\nlead = []',
         '[custom_fields]\nhubspot = ["first_conversion_event_name"]\nlead = ["Name"]'))
    found = by_key(live_problems(src.hubspot, src.salesforce, both))
    (hs_side,), (sf_side,) = found["fields.first_conversion.hubspot"], found["fields.first_conversion.salesforce.lead"]
    for p in (hs_side, sf_side):
        assert "read-only" in p.message and 'set direction = "none" (the other side is read-only too' in p.hint


def test_same_mappings_on_a_bare_org_after_setup(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = set_up(bare, mappings, sources_for)
    assert live_problems(src.hubspot, src.salesforce, mappings) == []


BROKEN = '''
# unknown in both systems (declared custom, never created)
[fields.favourite_colour]
hubspot = "favourite_colour"
salesforce = { lead = "Favourite_Colour__c" }

# value maps naming values the live enumeration / picklist does not have
[fields.tier]
hubspot = "tier"
salesforce = { lead = "Tier__c" }

[fields.tier.values.to_salesforce]
gold = "Gold"
silver = "Platinum"

[fields.tier.values.to_hubspot]
Gold = "gold"
Silver = "bronze"

# read-only targets of fields that write there
[fields.hs_score]
hubspot = "hubspotscore"
transforms = ["number"]

[fields.full_name]
salesforce = { lead = "Name" }

# type mismatches
[fields.description_flag]
salesforce = { lead = "Description" }
transforms = ["boolean"]

[fields.rating_number]
salesforce = { lead = "Rating" }
transforms = ["number"]

# the Lead's Phone again, spelled differently (Salesforce names ignore case)
[fields.direct_phone]
salesforce = { lead = "phone" }
'''
BROKEN_CUSTOM = ('[custom_fields]\nhubspot = []\nlead = []',
                 ('[custom_fields]\nhubspot = ["favourite_colour", "tier", "hubspotscore"]\n'
                  'lead = ["Favourite_Colour__c", "Tier__c", "Name", "phone"]'))


def test_broken_mapping_reports_each_class(shipped: Sandbox, mappings: Mappings, sources_for: MakeSources,
                                           tmp_path: Path) -> None:
    src = set_up(shipped, mappings, sources_for)
    client = sdk(shipped)
    client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="tier", label="Tier", type="enumeration", field_type="select", group_name="contactinformation",
        options=[OptionInput(label=v.title(), value=v, display_order=i, hidden=False)
                 for i, v in enumerate(("gold", "silver"))]))
    src.salesforce.create_custom_field("Lead", {
        "sobject": "Lead", "apiName": "Tier__c", "type": "Picklist", "picklistValues": ["Gold", "Silver"]})
    broken = copy_mappings(tmp_path, BROKEN, BROKEN_CUSTOM)
    fresh = sources_for(shipped)
    problems = live_problems(fresh.hubspot, fresh.salesforce, broken)
    assert all(p.source == str(tmp_path / "contacts.toml") for p in problems)
    got = by_key(problems)

    # unknown names
    (hs_unknown,) = got["fields.favourite_colour.hubspot"]
    assert "'favourite_colour' does not exist" in hs_unknown.message and "connector setup" in hs_unknown.hint
    (sf_unknown,) = got["fields.favourite_colour.salesforce.lead"]
    assert "Lead field 'Favourite_Colour__c' does not exist" in sf_unknown.message
    # values not allowed, naming the value and the allowed ones
    (to_sf,) = got["fields.tier.values.to_salesforce.silver"]
    assert "'Platinum'" in to_sf.message and "'Gold', 'Silver'" in to_sf.hint
    (to_hs,) = got["fields.tier.values.to_hubspot.Silver"]
    assert "'bronze'" in to_hs.message and "'gold', 'silver'" in to_hs.hint
    # read-only targets
    # (a field that maps one side only can only be read: "to_salesforce" would name a side it does not map)
    (hs_ro,) = got["fields.hs_score.hubspot"]
    assert "'hubspotscore' is read-only" in hs_ro.message and 'set direction = "none"' in hs_ro.hint
    (sf_ro,) = got["fields.full_name.salesforce.lead"]
    assert "'Name' is read-only" in sf_ro.message and 'set direction = "none"' in sf_ro.hint
    # type mismatches
    (flag,) = got["fields.description_flag.salesforce.lead"]
    assert "type 'textarea'" in flag.message and "boolean" in flag.message
    (rating,) = got["fields.rating_number.salesforce.lead"]
    assert "type 'picklist'" in rating.message and "a number" in rating.message
    # mapped twice (and misspelt)
    twice = {p.message for p in got["fields.direct_phone.salesforce.lead"]}
    assert "Salesforce Lead field 'Phone' is also written by fields.phone" in twice
    assert "Salesforce Lead field 'phone' is spelled 'Phone'" in twice
    # nothing else: the rest of the shipped mapping still fits
    expected = {"fields.favourite_colour.hubspot", "fields.favourite_colour.salesforce.lead",
                "fields.tier.values.to_salesforce.silver", "fields.tier.values.to_hubspot.Silver",
                "fields.hs_score.hubspot", "fields.full_name.salesforce.lead",
                "fields.description_flag.salesforce.lead", "fields.rating_number.salesforce.lead",
                "fields.direct_phone.salesforce.lead"}
    assert set(got) == expected
    # the CLI turns them into a ConfigError (exit code 2) whose text names file, key and fix
    text = str(ConfigError(problems))
    assert "contacts.toml: fields.tier.values.to_salesforce.silver" in text and "(fix: " in text
    # one metadata read per object: contacts + deals properties, Lead/Contact/Opportunity describes
    assert fresh.ledger.total() == 5


def test_passthrough_values_must_exist_on_both_sides(shipped: Sandbox, mappings: Mappings, sources_for: MakeSources,
                                                     tmp_path: Path) -> None:
    """The scorer writes every status: a status the Lead picklist lacks is a problem, named with the values."""
    set_up(shipped, mappings, sources_for)
    src = sources_for(shipped)
    src.salesforce.create_custom_field("Lead", {
        "sobject": "Lead", "apiName": "Connector_Status__c", "type": "Picklist", "picklistValues": ["MQL", "SQL"]})
    problems = by_key(live_problems(src.hubspot, src.salesforce, mappings))
    (p,) = problems["outputs.status.salesforce.lead"]
    assert "'SAL'" in p.message and "'Recycled'" in p.message and "picklist lacks" in p.message
    assert "outputs.status.hubspot" not in problems and "outputs.status.salesforce.contact" not in problems
