"""Companies and Accounts, end to end on the seeded sandbox with the shipped mappings and the defaults a user
runs: linked (by domain, then by the cross-references written), created per the inclusion rule, values in
agreement, the people's and deals' companies matching on both sides, nothing removed, and a second sync
that writes nothing. Everything is read back through the official SDKs."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hubspot.crm.associations.v4 import (AssociationSpec, BatchInputPublicFetchAssociationsBatchRequest,
                                         PublicFetchAssociationsBatchRequest)
from hubspot.crm.companies import SimplePublicObjectInput

from connector.cli import main
from connector.reconcile.errors import MappingError
from connector.objects.scores import score_people
from connector.reconcile.companies import company_values, domain_key, name_key
from connector.score.model import parse_scoring
from connector.store.companies import person_companies
from connector.store.scores import all_person_ids
from connector.sandbox.hubspot.industries import SALESFORCE_TO_HUBSPOT

from .conftest import MAPPINGS, World, hubspot_records, make_world, sf_type

COMPANY_PROPS = ["name", "domain", "industry", "numberofemployees", "salesforce_account_id", "hs_parent_company_id"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from make_world(tmp_path_factory.mktemp("companies"), people=400, seed=21)


@pytest.fixture(scope="module")
def before(world: World) -> dict[str, Any]:
    """Both systems as seeded, before the connector wrote anything."""
    return {"companies": companies(world), "accounts": accounts(world), "contacts": sf_contacts(world),
            "contact_companies": associations(world, "contacts"), "deal_companies": associations(world, "deals")}


@pytest.fixture(scope="module")
def first(world: World, before: dict[str, Any]) -> dict[str, Any]:
    return world.sync()


def companies(world: World) -> dict[str, dict[str, Any]]:
    return hubspot_records(world.sandbox, "companies", COMPANY_PROPS)


def accounts(world: World) -> dict[str, dict[str, Any]]:
    rows = world.salesforce_sdk().query_all("SELECT Id, Name, Website, Industry, NumberOfEmployees, ParentId, "
                                            "HubSpot_Company_Id__c FROM Account")["records"]
    return {r["Id"]: r for r in rows}


def sf_contacts(world: World) -> dict[str, dict[str, Any]]:
    rows = world.salesforce_sdk().query_all("SELECT Id, AccountId, HubSpot_Contact_Id__c FROM Contact")["records"]
    return {r["Id"]: r for r in rows}


def opportunities(world: World) -> dict[str, dict[str, Any]]:
    rows = world.salesforce_sdk().query_all("SELECT Id, AccountId, HubSpot_Deal_Id__c FROM Opportunity")["records"]
    return {r["Id"]: r for r in rows}


def associations(world: World, from_type: str) -> dict[str, set[str]]:
    """Every contact's (or deal's) companies, through the v4 associations API."""
    client = world.hubspot_sdk()
    ids = list(hubspot_records(world.sandbox, from_type, []))
    out: dict[str, set[str]] = {}
    for start in range(0, len(ids), 1000):
        request = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=i) for i in ids[start:start + 1000]])
        read = client.crm.associations.v4.batch_api.get_page(from_type, "companies", request)
        for result in read.results:
            out[str(result._from.id)] = {str(t.to_object_id) for t in result.to}
    return out


def linked_pairs(world: World) -> list[tuple[str, str]]:
    """(company id, Account id) of every pair whose cross-references name each other."""
    hs, sf = companies(world), accounts(world)
    return [(c, a) for a, acc in sf.items() if (c := acc.get("HubSpot_Company_Id__c")) in hs
            and (hs[c].get("salesforce_account_id") or "")[:15] == a[:15]]


def test_companies_and_accounts_are_linked_by_domain_and_cross_references(world: World, before: dict[str, Any],
                                                                          first: dict[str, Any]) -> None:
    part = first["companies"]
    assert first["ok"] and part["linked"] >= 30 and part["linked_by_domain"] == part["linked"]  # nothing linked yet
    pairs = linked_pairs(world)
    assert len(pairs) >= part["linked"]
    hs, sf = companies(world), accounts(world)
    # every company that holds an Account id is named back by that Account, and the other way round
    for c, props in hs.items():
        if props.get("salesforce_account_id"):
            assert any(a[:15] == props["salesforce_account_id"][:15] and sf[a]["HubSpot_Company_Id__c"] == c
                       for a in sf), c
    # pairs found by domain share a domain in different forms ("www.x.com" and "x.com")
    seeded = before["companies"]
    by_domain = [(c, a) for c, a in pairs if c in seeded]
    assert by_domain and all(domain_key(seeded[c]["domain"]) == domain_key(before["accounts"][a]["Website"])
                             for c, a in by_domain)
    assert any(seeded[c]["domain"] != before["accounts"][a]["Website"] for c, a in by_domain)


def test_accounts_with_hubspot_people_are_created_there_and_no_others(world: World, before: dict[str, Any],
                                                                      first: dict[str, Any]) -> None:
    """The shipped inclusion: a company is created for an Account one of whose people is a HubSpot contact (and
    an Account for a company one of whose people is a Salesforce Contact)."""
    created = first["companies"]["planned_creates"]
    assert created["hubspot"] > 0
    hs = companies(world)
    new = {c for c in hs if c not in before["companies"]}
    assert len(new) == created["hubspot"] == first["companies"]["push"]["written"]["hubspot"]["companies"]["created"]
    contacts = sf_contacts(world)
    for c in new:
        account = hs[c]["salesforce_account_id"]
        people = [x for x in contacts.values() if (x.get("AccountId") or "")[:15] == account[:15]]
        assert any(x.get("HubSpot_Contact_Id__c") for x in people), c
    # an Account still only in Salesforce has no Contact in HubSpot, or identity held it back: it shares its
    # name with a HubSpot company (a suggestion, never a link) or its domain with several
    seeded = before["companies"].values()
    names = {name_key(c.get("name")) for c in seeded}
    domains = Counter(domain_key(c.get("domain")) for c in seeded)
    held = 0
    for a, acc in accounts(world).items():
        if acc.get("HubSpot_Company_Id__c"):
            continue
        if name_key(acc["Name"]) in names or domains[domain_key(acc.get("Website"))] > 1:
            held += 1
            continue
        assert not any((x.get("AccountId") or "")[:15] == a[:15] and x.get("HubSpot_Contact_Id__c")
                       for x in contacts.values()), a
    assert held and first["companies"]["name_suggestions"] > 0


def test_linked_values_agree_by_the_rules(world: World, first: dict[str, Any]) -> None:
    hs, sf = companies(world), accounts(world)
    checked = 0
    for c, a in linked_pairs(world):
        h, s = hs[c], sf[a]
        assert (h.get("name") or "").strip() == (s.get("Name") or "").strip(), (c, a)  # Salesforce's name wins
        assert domain_key(h.get("domain")) == domain_key(s.get("Website")), (c, a)
        if s.get("Industry") in SALESFORCE_TO_HUBSPOT:
            assert h.get("industry") == SALESFORCE_TO_HUBSPOT[s["Industry"]], (c, a)
        if s.get("NumberOfEmployees") is not None:
            assert int(h["numberofemployees"]) == s["NumberOfEmployees"], (c, a)
        checked += 1
    assert checked >= 30


def test_people_and_deals_have_the_same_company_on_both_sides(world: World, before: dict[str, Any],
                                                              first: dict[str, Any]) -> None:
    company_of = {a[:15]: c for c, a in linked_pairs(world)}
    contact_companies = associations(world, "contacts")
    agreed = 0
    for contact in sf_contacts(world).values():
        hs_id, account = contact.get("HubSpot_Contact_Id__c"), (contact.get("AccountId") or "")[:15]
        if not hs_id or account not in company_of:
            continue
        held = contact_companies.get(hs_id, set())
        assert held, (hs_id, account)  # a contact without a company got its Account's
        agreed += company_of[account] in held
    assert agreed >= 30
    assert first["companies"]["links_added"].get("hubspot_contacts", 0) > 0
    # nothing was removed: every company a contact or deal had before, it still has
    for kind in ("contact_companies", "deal_companies"):
        now = associations(world, "contacts" if kind == "contact_companies" else "deals")
        assert all(held <= now.get(i, set()) for i, held in before[kind].items()), kind
    # deals: an Opportunity's Account's company is among its deal's companies (created deals included)
    deal_companies = associations(world, "deals")
    opps = [o for o in opportunities(world).values() if o.get("HubSpot_Deal_Id__c")
            and (o.get("AccountId") or "")[:15] in company_of]
    assert opps and all(company_of[o["AccountId"][:15]] in deal_companies.get(o["HubSpot_Deal_Id__c"], set())
                        for o in opps)


def test_parent_companies_agree_between_linked_companies(world: World, first: dict[str, Any]) -> None:
    """The seeded subsidiaries: where a company and its parent are both linked, HubSpot's parent company and
    the Account's Parent Account name the same company (added where one side had none, never replaced)."""
    company_of = {a[:15]: c for c, a in linked_pairs(world)}
    hs = companies(world)
    checked = 0
    for a, acc in accounts(world).items():
        parent = (acc.get("ParentId") or "")[:15]
        child = company_of.get(a[:15])
        if child and parent in company_of:
            assert hs[child].get("hs_parent_company_id") == company_of[parent], (child, a)
            checked += 1
    assert checked > 0
    # a Parent Account set in Salesforce reaches HubSpot as the company's parent company (a labelled association)
    sf = accounts(world)
    (c1, a1), (c2, a2) = [(c, a) for c, a in linked_pairs(world)
                          if not sf[a].get("ParentId") and not hs[c].get("hs_parent_company_id")][:2]
    sf_type(world.salesforce_sdk(), "Account").update(a2, {"ParentId": a1})
    world.sandbox.clock.advance(120_000)  # Accounts are probed: read at the first poll two minutes on
    result = world.sync()
    assert result["companies"]["links_added"] == {"hubspot_parents": 1}
    assert companies(world)[c2].get("hs_parent_company_id") == c1
    assert world.sync()["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
    # and a parent company set in HubSpot becomes the Account's Parent Account
    hs, sf = companies(world), accounts(world)
    (c3, a3), (c4, a4) = [(c, a) for c, a in linked_pairs(world)
                          if not sf[a].get("ParentId") and not hs[c].get("hs_parent_company_id")][:2]
    world.hubspot_sdk().crm.associations.v4.basic_api.create(
        "companies", c4, "companies", c3, [AssociationSpec(association_category="HUBSPOT_DEFINED",
                                                           association_type_id=14)])
    result = world.sync()
    assert accounts(world)[a4]["ParentId"][:15] == a3[:15]
    assert world.sync()["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}


def test_a_second_sync_writes_nothing(world: World, first: dict[str, Any]) -> None:
    again = world.sync()
    assert again["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
    assert again["companies"]["planned"] == {} and again["companies"]["links_to_add"] == {}


def test_an_edit_on_either_side_follows_the_rule_and_settles(world: World, first: dict[str, Any]) -> None:
    c, a = linked_pairs(world)[0]
    world.hubspot_sdk().crm.companies.basic_api.update(c, SimplePublicObjectInput(properties={
        "numberofemployees": "4321"}))
    sf_type(world.salesforce_sdk(), "Account").update(a, {"Name": "Renamed in Salesforce Ltd"})
    # Accounts are probed (the Composite's five queries go to what changes most): a change is read at the first
    # poll two whole minutes after the last read
    world.sandbox.clock.advance(120_000)
    result = world.sync()
    assert result["companies"]["push"]["written"]["hubspot"]["companies"]["updated"] == 1
    hs, sf = companies(world)[c], accounts(world)[a]
    assert hs["name"] == "Renamed in Salesforce Ltd"
    # employees: prefer_salesforce_unless_blank, so the Account's figure stays and HubSpot's edit is undone
    assert int(hs["numberofemployees"]) == sf["NumberOfEmployees"] != 4321
    assert world.sync()["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}



def test_fit_rules_read_the_persons_company(world: World, first: dict[str, Any]) -> None:
    """A fit rule on `company.employees` gives its points to exactly the people whose company (their Contact's
    Account and their contact's company, resolved by companies.toml) is that large."""
    shipped = (MAPPINGS / "scoring.toml").read_text(encoding="utf-8")
    text = shipped.replace("# Grade A-D", '[[fit]]\nname = "Company of 100+"\nfield = "company.employees"\n'
                                          'min = 100\npoints = 7\n\n# Grade A-D', 1)
    mappings = world.mappings
    assert mappings.companies is not None
    names = [f.name for f in mappings.contacts.fields] + [f"company.{f.name}" for f in mappings.companies.fields]
    model = parse_scoring(text, fields=names)
    now = world.sandbox.clock.now_ms()
    scored = score_people(world.engine, model, now, save=False, everyone=True, companies=mappings.companies)
    got = sum(any(p.rule == "Company of 100+" for p in d.result.breakdown) for d in scored.decisions)
    people = all_person_ids(world.engine)
    held = person_companies(world.engine, people)
    large = sum(1 for co, account in held.values()
                if (company_values(mappings.companies, co, account).get("employees") or 0) >= 100)
    assert len(scored.decisions) == len(people) and got == large > 0
    # and a rule on a company field companies.toml does not map is refused with the ones it does
    with pytest.raises(MappingError) as refused:
        parse_scoring(text.replace("company.employees", "company.headcount"), fields=names)
    assert "the fields of companies.toml, as company.<field>" in str(refused.value)
    assert "company.industry" in str(refused.value)


def test_explain_shows_the_company_and_where_each_value_came_from(world: World, first: dict[str, Any],
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    c, a = linked_pairs(world)[0]
    contact = next(x for x in sf_contacts(world).values() if (x.get("AccountId") or "")[:15] == a[:15]
                   and x.get("HubSpot_Contact_Id__c"))
    assert main(["explain", contact["Id"], "--json", "--config", str(world.config_path)]) == 0
    company = json.loads(capsys.readouterr().out)["company"]
    assert (company["hubspot_company_id"], company["account_id"][:15]) == (c, a[:15])
    assert company["fields"]["name"]["value"] == accounts(world)[a]["Name"]
    assert company["fields"]["name"]["rule"] in ("agreement", "prefer_salesforce_unless_blank")
    assert {f["system"] for f in company["fields"].values()} <= {"hubspot", "salesforce", None}


def test_a_company_whose_person_is_a_salesforce_contact_gets_an_account_and_the_contact_its_id(
        world: World, first: dict[str, Any]) -> None:
    """A new HubSpot company, associated with a person who is a Salesforce Contact without an Account: the
    sync creates the Account (inclusion `with_people`), names each in the other's cross-reference field and
    sets the Contact's AccountId to the new Account in the same run; the next sync writes nothing."""
    client = world.hubspot_sdk()
    contacts = sf_contacts(world)
    of_contact = associations(world, "contacts")
    contact = next(c for c in contacts.values() if c.get("HubSpot_Contact_Id__c") and c.get("AccountId"))
    hs_id = contact["HubSpot_Contact_Id__c"]
    v4 = client.crm.associations.v4.basic_api
    for company in of_contact.get(hs_id, set()):  # the person leaves their company in both systems
        v4.archive("contacts", hs_id, "companies", company)
    sf_type(world.salesforce_sdk(), "Contact").update(contact["Id"], {"AccountId": None})
    made = client.crm.companies.basic_api.create(SimplePublicObjectInput(properties={
        "name": "Brand New Widgets", "domain": "brandnewwidgets.example", "numberofemployees": "42"}))
    v4.create_default("contacts", hs_id, "companies", made.id)
    result = world.sync()
    assert result["companies"]["planned_creates"]["salesforce"] == 1
    account = next(a for a in accounts(world).values() if a.get("HubSpot_Company_Id__c") == made.id)
    assert (account["Name"], account["NumberOfEmployees"]) == ("Brand New Widgets", 42)
    assert companies(world)[made.id]["salesforce_account_id"][:15] == account["Id"][:15]
    assert sf_contacts(world)[contact["Id"]]["AccountId"][:15] == account["Id"][:15]
    assert world.sync()["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
