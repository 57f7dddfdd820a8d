"""companies.toml in `connector setup` and the live mapping checks: the two cross-reference fields, and the company
fields checked on HubSpot companies and Salesforce Account (existence, type, writability) with one metadata call
per object.

HubSpot and Salesforce are respx stand-ins here (vendor-shaped metadata: the properties API's and the describe's
keys), because the sandbox has no companies yet; ``test_companies_sandbox.py`` runs the same on the sandbox
once it has them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import respx

from connector.errors import ConfigProblem
from connector.reconcile import Mappings, load_mappings
from connector.reconcile.mapping import CompanyMapping
from connector.sandbox.hubspot.industries import COMPANY_INDUSTRIES, SALESFORCE_TO_HUBSPOT
from connector.sandbox.salesforce._schema import INDUSTRIES
from connector.setup import CONNECTOR_GROUP, SystemReport, required_hubspot_properties, required_salesforce_fields
from connector.setup.checks import check_mapping
from connector.setup.coverage import check_value_coverage
from connector.setup.hubspot import setup_hubspot
from connector.setup.live import creatable
from connector.setup.metadata import LiveMetadata
from connector.setup.salesforce import setup_salesforce
from connector.setup.specs import COMPANY_ID_LENGTH, mapped_names
from connector.systems.salesforce.metadata import SANDBOX_CUSTOM_FIELDS_PATH
from tests.systems.respx_vendors import HS, SF, SF_API, hubspot, json_of, router_fixture, salesforce, sf_granted

from .conftest import MAPPINGS_DIR

__all__ = ["router_fixture"]  # the strict respx router, as the `router` fixture

# ------------------------------------------------------------------------------------------- vendor-shaped metadata


def prop(name: str, ptype: str = "string", field_type: str = "text", options: tuple[str, ...] = (),
         read_only: bool = False, unique: bool = False, group: str = "companyinformation") -> dict[str, Any]:
    """A property as the properties API lists it (HS-SPEC: name, type, fieldType, options, modificationMetadata)."""
    return {"name": name, "label": name, "type": ptype, "fieldType": field_type, "groupName": group,
            "hasUniqueValue": unique, "hubspotDefined": not name.startswith("salesforce_"),
            "options": [{"label": o, "value": o, "displayOrder": i, "hidden": False} for i, o in enumerate(options)],
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": True, "readOnlyValue": read_only}}


def company_properties(*, drop: tuple[str, ...] = (), **replaced: dict[str, Any]) -> list[dict[str, Any]]:
    """HubSpot's default company properties the shipped file maps, the connector's cross-reference among them."""
    props = {p["name"]: p for p in [
        prop("name"), prop("domain"), prop("industry", "enumeration", "select", COMPANY_INDUSTRIES),
        prop("numberofemployees", "number", "number"), prop("annualrevenue", "number", "number"), prop("city"),
        prop("state"), prop("country"), prop("phone", field_type="phonenumber"),
        prop("hubspot_owner_id", "enumeration", "select"),
        prop("num_associated_contacts", "number", "number", read_only=True),
        prop("salesforce_account_id", unique=True, group=CONNECTOR_GROUP),
    ]}
    props.update(replaced)
    return [p for name, p in props.items() if name not in drop]


def sf_field(name: str, ftype: str = "string", length: int = 0, writable: bool = True, external_id: bool = False,
             picklist: tuple[str, ...] = (), custom: bool = False) -> dict[str, Any]:
    """A field of an sObject describe (SF describe: name, type, length, createable, updateable, externalId, ...)."""
    return {"name": name, "label": name, "type": ftype, "length": length, "createable": writable,
            "updateable": writable, "externalId": external_id, "unique": external_id, "custom": custom,
            "nillable": True, "restrictedPicklist": False,
            "picklistValues": [{"value": v, "label": v, "active": True, "defaultValue": False} for v in picklist]}


def account_fields(*, drop: tuple[str, ...] = (), **replaced: dict[str, Any]) -> list[dict[str, Any]]:
    """The Account fields the shipped file maps (types as in Salesforce's object reference), and the
    connector's cross-reference."""
    fields = {f["name"]: f for f in [
        sf_field("Id", "id", 18, writable=False), sf_field("Name", length=255), sf_field("Website", "url", 255),
        sf_field("Industry", "picklist", 255, picklist=INDUSTRIES), sf_field("NumberOfEmployees", "int"),
        sf_field("AnnualRevenue", "currency"), sf_field("BillingCity", length=40), sf_field("BillingState", length=80),
        sf_field("BillingCountry", length=80), sf_field("Phone", "phone", 40), sf_field("OwnerId", "reference", 18),
        sf_field("CreatedDate", "datetime", writable=False),
        sf_field("HubSpot_Company_Id__c", length=COMPANY_ID_LENGTH, external_id=True, custom=True),
    ]}
    fields.update(replaced)
    return [f for name, f in fields.items() if name not in drop]


def companies_only(tmp_path: Path, text: str | None = None) -> CompanyMapping:
    """The shipped companies.toml (or ``text``) loaded beside the shipped contacts.toml."""
    shutil.copy(MAPPINGS_DIR / "contacts.toml", tmp_path / "contacts.toml")
    (tmp_path / "companies.toml").write_text(text if text is not None else
                                             (MAPPINGS_DIR / "companies.toml").read_text(encoding="utf-8"))
    found = load_mappings(tmp_path).companies
    assert found is not None
    return found


def live_on(router: respx.Router, props: list[dict[str, Any]], fields: list[dict[str, Any]]
            ) -> tuple[LiveMetadata, respx.Route, respx.Route]:
    hs_route = router.get(f"{HS}/crm/v3/properties/companies").mock(
        return_value=httpx.Response(200, json={"results": props}))
    sf_granted(router)
    sf_route = router.get(f"{SF_API}/sobjects/Account/describe").mock(
        return_value=httpx.Response(200, json={"name": "Account", "fields": fields}))
    hs_source, _ = hubspot(router, [])
    sf_source, _ = salesforce(router, [])
    return LiveMetadata(hs_source, sf_source), hs_route, sf_route


def check(live: LiveMetadata, m: CompanyMapping) -> None:
    check_mapping(live, "companies", m)
    check_value_coverage(live, "companies", m)


def keyed(found: list[ConfigProblem]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in found:
        assert p.key not in out, (p.key, found)
        out[p.key] = f"{p.message} ({p.hint})"
    return out


# -------------------------------------------------------------------------------------------------------- specs


def test_setup_needs_both_cross_references_only_with_companies_toml(tmp_path: Path, mappings: Mappings) -> None:
    hs = {(s.object_type, s.name): s for s in required_hubspot_properties(mappings)}
    ref = hs[("companies", "salesforce_account_id")]
    assert (ref.type, ref.field_type, ref.has_unique_value, ref.group) == ("string", "text", True, CONNECTOR_GROUP)
    assert ref.label == "Salesforce Account ID"
    sf = {(s.sobject, s.api_name): s for s in required_salesforce_fields(mappings)}
    field = sf[("Account", "HubSpot_Company_Id__c")]
    assert (field.type, field.length, field.external_id, field.unique) == ("Text", 30, True, True)
    assert field.to_json() == {"object": "Account", "api_name": "HubSpot_Company_Id__c", "label": "HubSpot Company Id",
                               "type": "Text", "length": 30, "external_id": True, "unique": True}
    assert ("hubspot", "companies", "salesforce_account_id") in creatable(mappings)
    assert ("salesforce", "Account", "hubspot_company_id__c") in creatable(mappings)

    shutil.copy(MAPPINGS_DIR / "contacts.toml", tmp_path / "contacts.toml")
    without = load_mappings(tmp_path)
    assert not [s for s in required_hubspot_properties(without) if s.object_type == "companies"]
    assert not [s for s in required_salesforce_fields(without) if s.sobject == "Account"]


def test_renamed_cross_references_and_declared_company_fields_are_what_setup_makes(tmp_path: Path) -> None:
    text = ('[identity]\nhubspot_account_id_property = "sf_account"\nsalesforce_company_id_field = "HS_Company__c"\n'
            '[custom_fields]\nhubspot = ["seats", "tier"]\naccount = ["Seats__c", "Tier__c"]\n'
            '[fields.seats]\nhubspot = "seats"\nsalesforce = "Seats__c"\ntransforms = ["integer"]\n'
            '[fields.tier]\nhubspot = "tier"\nsalesforce = "Tier__c"\n'
            '[fields.tier.values]\nto_hubspot = { Gold = "gold" }\n'
            'to_salesforce = { gold = "Gold", silver = "Silver" }\n'
            '[fields.region]\nhubspot = "region"\nsalesforce = "Region__c"\n')  # not declared: never created
    shutil.copy(MAPPINGS_DIR / "contacts.toml", tmp_path / "contacts.toml")
    (tmp_path / "companies.toml").write_text(text)
    m = load_mappings(tmp_path)
    hs = {s.name: s for s in required_hubspot_properties(m) if s.object_type == "companies"}
    assert set(hs) == {"sf_account", "seats", "tier"} and hs["sf_account"].has_unique_value
    assert (hs["seats"].type, hs["tier"].type, hs["tier"].options) == ("number", "enumeration", ("gold", "silver"))
    sf = {s.api_name: s for s in required_salesforce_fields(m) if s.sobject == "Account"}
    assert set(sf) == {"HS_Company__c", "Seats__c", "Tier__c"} and sf["HS_Company__c"].external_id
    assert (sf["Seats__c"].type, sf["Seats__c"].scale) == ("Number", 0)
    assert (sf["Tier__c"].type, sf["Tier__c"].picklist_values) == ("Picklist", ("Gold", "Silver"))
    names = [(system, obj, name, key) for system, obj, name, _file, key in mapped_names(m) if obj in ("companies",
                                                                                                         "Account")]
    assert names[-2:] == [("hubspot", "companies", "sf_account", "identity.hubspot_account_id_property"),
                          ("salesforce", "Account", "HS_Company__c", "identity.salesforce_company_id_field")]
    assert ("salesforce", "Account", "Region__c", "fields.region.salesforce") in names


# ------------------------------------------------------------------------------------------------- live checks


def test_the_shipped_file_fits_a_portal_and_org_with_one_metadata_call_each(router: respx.Router,
                                                                          tmp_path: Path) -> None:
    live, hs_route, sf_route = live_on(router, company_properties(), account_fields())
    check(live, companies_only(tmp_path))
    assert live.problems == []
    assert hs_route.call_count == 1 and sf_route.call_count == 1  # check and coverage share the reads
    # the two Salesforce industries with no HubSpot option, each named with what to add
    industry = [p.message for p in live.suggestions if p.key == "fields.industry.values.to_hubspot"]
    assert [m.split("picklist value ")[1].split(",")[0] for m in industry] == ["'Environmental'", "'Other'"]
    # text written to Account fields of limited length: the truncate suggestion, as for contacts
    lengths = {p.key: p.message for p in live.suggestions if "truncate" in p.hint}
    assert set(lengths) == {"fields.name.salesforce", "fields.domain.salesforce", "fields.city.salesforce",
                            "fields.state.salesforce", "fields.country.salesforce"}
    assert "holds at most 40 characters" in lengths["fields.city.salesforce"]
    assert len(live.suggestions) == 7


def test_missing_names_say_whether_setup_creates_them(router: respx.Router, tmp_path: Path) -> None:
    live, _, _ = live_on(router, company_properties(drop=("salesforce_account_id", "annualrevenue")),
                         account_fields(drop=("HubSpot_Company_Id__c", "Phone")))
    live.creates = creatable(load_mappings(MAPPINGS_DIR))
    check(live, companies_only(tmp_path))
    found = keyed(live.problems)
    assert set(found) == {"fields.annual_revenue.hubspot", "fields.phone.salesforce",
                          "identity.hubspot_account_id_property", "identity.salesforce_company_id_field"}
    assert found["identity.hubspot_account_id_property"].startswith(
        "HubSpot companies property 'salesforce_account_id' does not exist in the portal (create it with "
        "`connector setup --apply`")
    assert found["identity.salesforce_company_id_field"].startswith(
        "Salesforce Account field 'HubSpot_Company_Id__c' does not exist in the org (an admin adds it in Setup")
    assert "`connector fields hubspot companies` lists its properties" in found["fields.annual_revenue.hubspot"]
    assert "a standard field cannot be created" in found["fields.phone.salesforce"]


def test_types_that_cannot_hold_the_values_and_read_only_targets_are_problems(router: respx.Router,
                                                                             tmp_path: Path) -> None:
    live, _, _ = live_on(
        router,
        company_properties(numberofemployees=prop("numberofemployees"),  # text where a number is carried
                           industry=prop("industry", "enumeration", "select", ("BANKING",))),
        account_fields(Name=sf_field("Name", length=255, writable=False),
                       HubSpot_Company_Id__c=sf_field("HubSpot_Company_Id__c", length=30, custom=True)))
    check(live, companies_only(tmp_path))
    found = keyed(live.problems)
    assert found["fields.employees.hubspot"].startswith(
        "HubSpot property 'numberofemployees' is of type 'string' but the field carries a number")
    assert found["fields.name.salesforce"].startswith(
        "Salesforce Account field 'Name' is read-only (neither createable nor updateable), but the field writes "
        "Salesforce (set direction = \"to_hubspot\"")
    assert found["identity.salesforce_company_id_field"] == (
        "Salesforce Account field 'HubSpot_Company_Id__c' is not an External ID (tick External ID and Unique on it "
        "in Setup > Object Manager)")
    # each value the map writes that the portal's industry lacks is named by its key
    industry = {p.key for p in live.problems if p.key.startswith("fields.industry.values.to_hubspot.")}
    assert industry == {f"fields.industry.values.to_hubspot.{sf}" for sf, hs in SALESFORCE_TO_HUBSPOT.items()
                        if hs != "BANKING"}
    assert len(industry) == 29
    assert set(found) == industry | {"fields.employees.hubspot", "fields.name.salesforce",
                                     "identity.salesforce_company_id_field"}


def test_a_property_the_portal_marks_read_only_is_read_but_never_written(router: respx.Router,
                                                                         tmp_path: Path) -> None:
    """The static list knows HubSpot's calculated company properties; the live flag decides for any other."""
    text = ('[fields.contact_count]\nhubspot = "num_associated_contacts"\nsalesforce = "Contact_Count__c"\n'
            'direction = "to_salesforce"\ntransforms = ["integer"]\n'
            '[fields.score]\nhubspot = "company_score"\nsalesforce = "Score__c"\ntransforms = ["integer"]\n')
    props = company_properties(company_score=prop("company_score", "number", "number", read_only=True))
    fields = account_fields(Contact_Count__c=sf_field("Contact_Count__c", "double", custom=True),
                            Score__c=sf_field("Score__c", "double", custom=True))
    live, _, _ = live_on(router, props, fields)
    check(live, companies_only(tmp_path, text))
    assert keyed(live.problems) == {
        "fields.score.hubspot": "HubSpot property 'company_score' is read-only (calculated or set by HubSpot itself), "
                                "but the field writes HubSpot (set direction = \"to_salesforce\" (or \"none\"), or "
                                "map another field)"}


# ------------------------------------------------------------------------------------------------------ setup


def test_setup_creates_the_company_property_in_the_connectors_group(router: respx.Router, mappings: Mappings) -> None:
    specs = [s for s in required_hubspot_properties(mappings) if s.object_type == "companies"]
    router.get(f"{HS}/crm/v3/properties/companies").mock(
        return_value=httpx.Response(200, json={"results": company_properties(drop=("salesforce_account_id",))}))
    router.get(f"{HS}/crm/v3/properties/companies/groups").mock(
        return_value=httpx.Response(200, json={"results": [{"name": "companyinformation"}]}))
    group = router.post(f"{HS}/crm/v3/properties/companies/groups").mock(return_value=httpx.Response(201, json={}))
    create = router.post(f"{HS}/crm/v3/properties/companies").mock(return_value=httpx.Response(201, json={}))
    source, ledger = hubspot(router, [])
    rep = SystemReport()
    setup_hubspot(source, specs, True, rep)
    assert rep.to_json() == {"created": [{"object": "companies", "name": CONNECTOR_GROUP, "kind": "group"},
                                         {"object": "companies", "name": "salesforce_account_id"}],
                             "present": [], "missing": [], "problems": []}
    assert json_of(group.calls[0])["name"] == CONNECTOR_GROUP
    body = json_of(create.calls[0])
    assert (body["name"], body["type"], body["fieldType"], body["hasUniqueValue"], body["groupName"]) == (
        "salesforce_account_id", "string", "text", True, CONNECTOR_GROUP)
    assert ledger.total() == 4  # properties, groups, group, property


def test_setup_reports_a_company_property_that_is_not_unique(router: respx.Router, mappings: Mappings) -> None:
    specs = [s for s in required_hubspot_properties(mappings) if s.object_type == "companies"]
    router.get(f"{HS}/crm/v3/properties/companies").mock(return_value=httpx.Response(200, json={
        "results": company_properties(salesforce_account_id=prop("salesforce_account_id"))}))
    source, ledger = hubspot(router, [])
    rep = SystemReport()
    setup_hubspot(source, specs, True, rep)
    [problem] = rep.problems
    assert problem["name"] == "salesforce_account_id" and "without unique values" in problem["message"]
    assert ledger.total() == 1


def test_setup_creates_the_account_field_in_the_sandbox_and_lists_it_for_an_admin(router: respx.Router,
                                                                                 mappings: Mappings) -> None:
    specs = [s for s in required_salesforce_fields(mappings) if s.sobject == "Account"]
    sf_granted(router)
    router.get(f"{SF_API}/sobjects/Account/describe").mock(return_value=httpx.Response(200, json={
        "fields": account_fields(drop=("HubSpot_Company_Id__c",))}))
    route = router.post(f"{SF}{SANDBOX_CUSTOM_FIELDS_PATH}").mock(return_value=httpx.Response(201, json={}))
    source, _ = salesforce(router, [])
    listed = SystemReport()
    setup_salesforce(source, specs, False, listed)
    assert listed.missing == [specs[0].to_json()] and route.call_count == 0
    made = SystemReport()
    setup_salesforce(source, specs, True, made)
    assert made.created == [{"object": "Account", "api_name": "HubSpot_Company_Id__c"}]
    assert json_of(route.calls[0]) == {"sobject": "Account", "apiName": "HubSpot_Company_Id__c", "type": "Text",
                                       "label": "HubSpot Company Id", "externalId": True, "unique": True,
                                       "length": 30}
