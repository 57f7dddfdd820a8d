"""Company reconciliation, pure: identity (cross-references, domain, name as a suggestion), values, creates per
the inclusion rule, and the people's and deals' links kept in step without removing any."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from connector.reconcile.companies import (
    CompanyInputs,
    CompanyLink,
    CompanyResult,
    company_values,
    domain_key,
    name_key,
    reconcile_companies,
)
from connector.reconcile.deals import DEAL_REF
from connector.reconcile.loader import parse_companies
from connector.reconcile.mapping import CompanyMapping
from connector.reconcile.records import NewRecordId, RecordKey, SourceRecord

SHIPPED = Path(__file__).resolve().parents[2] / "mappings" / "companies.toml"

BASE = """
version = 1
[settings]
tie_breaker = "salesforce"
[inclusion]
create_in_hubspot = "{hs}"
create_in_salesforce = "{sf}"
[fields.name]
hubspot = "name"
salesforce = "Name"
rule = "prefer_salesforce_unless_blank"
transforms = ["trim"]
[fields.domain]
hubspot = "domain"
salesforce = "Website"
rule = "prefer_hubspot_unless_blank"
transforms = ["url"]
[fields.employees]
hubspot = "numberofemployees"
salesforce = "NumberOfEmployees"
rule = "prefer_salesforce_unless_blank"
transforms = ["integer"]
"""

A1 = "001000000000001AAA"
A2 = "001000000000002AAA"
C1 = "003000000000001AAA"
C2 = "003000000000002AAA"
O1 = "006000000000001AAA"


def mapping(hs: str = "with_people", sf: str = "with_people") -> CompanyMapping:
    return parse_companies(BASE.format(hs=hs, sf=sf))


def company(cid: str, contacts: tuple[str, ...] = (), deals: tuple[str, ...] = (), deleted: bool = False,
            **fields: Any) -> SourceRecord:
    return SourceRecord("hubspot", "companies", cid, 1, fields, deleted=deleted,
                        associations={"contacts": contacts, "deals": deals})


def account(aid: str, deleted: bool = False, **fields: Any) -> SourceRecord:
    return SourceRecord("salesforce", "Account", aid, 1, fields, deleted=deleted)


def sf_contact(cid: str, account_id: str | None) -> SourceRecord:
    return SourceRecord("salesforce", "Contact", cid, 1, {"AccountId": account_id})


def people(*pairs: tuple[str, str, str]) -> dict[RecordKey, str]:
    """(person, HubSpot contact id or "", Salesforce Contact id or "")."""
    out: dict[RecordKey, str] = {}
    for pid, hs, sf in pairs:
        if hs:
            out[RecordKey("hubspot", "contacts", hs)] = pid
        if sf:
            out[RecordKey("salesforce", "Contact", sf)] = pid
    return out


def run(inputs: CompanyInputs, m: CompanyMapping | None = None) -> CompanyResult:
    return reconcile_companies(inputs, m or mapping(), deal_ref=DEAL_REF)


def by_field(result: CompanyResult) -> dict[tuple[str, str | None, str], Any]:
    return {(c.system, c.record_id, c.field): c.new for c in result.changes}


def test_the_shipped_file_loads_and_maps_industry_both_ways() -> None:
    shipped = parse_companies(SHIPPED.read_text(encoding="utf-8"))
    names = {f.name for f in shipped.fields}
    assert {"name", "domain", "industry", "employees"} <= names
    values = company_values(shipped, company("1", industry="FINANCIAL_SERVICES"), account(A1, Industry="Finance"))
    hs_only = company_values(shipped, company("1", industry="FINANCIAL_SERVICES"), None)
    assert values["industry"] == hs_only["industry"]  # one unified value, whichever side holds it


@pytest.mark.parametrize(("text", "key"), [
    ("acme.com", "acme.com"), ("https://www.Acme.com/", "acme.com"), ("http://acme.com/about?x=1", "acme.com"),
    ("www.acme.co.uk", "acme.co.uk"), ("  ", None), (None, None)])
def test_domain_key(text: Any, key: str | None) -> None:
    assert domain_key(text) == key


def test_name_key_ignores_case_punctuation_and_legal_form() -> None:
    assert name_key("ACME, Inc.") == name_key("Acme Inc") == name_key("acme") == "acme"
    assert name_key("Smith & Sons GmbH") == name_key("Smith and Sons") != name_key("Smith")


def test_linked_by_cross_reference_values_follow_the_rules() -> None:
    inputs = CompanyInputs([company("10", name="Acme", domain="acme.com", numberofemployees="120",
                                    salesforce_account_id=A1)],
                           [account(A1, Name="Acme Corp", Website="https://www.acme.com/", NumberOfEmployees=150,
                                    HubSpot_Company_Id__c="10")], [])
    result = run(inputs)
    assert result.linked == 1 and result.matched_by_domain == 0
    # name and size: Salesforce's; the website differs only in form: nobody's value is rewritten
    assert by_field(result) == {("hubspot", "10", "name"): "Acme Corp", ("hubspot", "10", "numberofemployees"): "150"}


def test_linked_by_domain_when_each_side_has_one_and_cross_references_written() -> None:
    inputs = CompanyInputs([company("10", name="Acme", domain="acme.com")],
                           [account(A1, Name="Acme", Website="http://www.ACME.com/")], [])
    result = run(inputs)
    assert (result.linked, result.matched_by_domain) == (1, 1)
    assert by_field(result) == {("hubspot", "10", "salesforce_account_id"): A1,
                                ("salesforce", A1, "HubSpot_Company_Id__c"): "10"}


def test_a_domain_on_two_companies_links_neither_and_creates_nothing() -> None:
    inputs = CompanyInputs([company("10", ("1",), name="Acme", domain="acme.com"),
                            company("11", ("2",), name="Acme EU", domain="www.acme.com")],
                           [account(A1, Name="Acme", Website="acme.com")], [sf_contact(C1, A1)],
                           people=people(("p1", "1", C1), ("p2", "2", "")))
    result = run(inputs, mapping("all", "all"))
    assert result.linked == 0 and not [c for c in result.changes if c.field != "AccountId"]
    assert {i.record_id for i in result.issues if "domain shared by" in i.message} == {"10", "11", A1}


def test_a_shared_name_is_only_a_suggestion_and_holds_the_creates() -> None:
    inputs = CompanyInputs([company("10", ("1",), name="ACME, Inc.", domain="acme.io")],
                           [account(A1, Name="Acme Inc", Website="acme.com")], [sf_contact(C1, A1)],
                           people=people(("p1", "1", C1)))
    result = run(inputs, mapping("all", "all"))
    assert result.linked == 0 and result.suggested_by_name == 1
    assert result.created == {"hubspot": 0, "salesforce": 0} and not result.links
    assert any("same name as Account" in i.message for i in result.issues)


def test_created_per_inclusion_with_people() -> None:
    """An Account is created in HubSpot when one of its Contacts' people has a HubSpot contact; a company in
    Salesforce when one of its people has a Salesforce Contact; the others stay where they are."""
    inputs = CompanyInputs(
        [company("10", ("1",), name="Only HubSpot, people in Salesforce too", domain="a.example"),
         company("11", ("2",), name="Only HubSpot, people only there", domain="b.example")],
        [account(A1, Name="Only Salesforce, people in HubSpot too", Website="c.example"),
         account(A2, Name="Only Salesforce, people only there", Website="d.example")],
        [sf_contact(C1, None), sf_contact(C2, A1)],
        people=people(("p1", "1", C1), ("p2", "2", ""), ("p3", "3", C2)))
    result = run(inputs)
    assert result.created == {"hubspot": 1, "salesforce": 1}
    creates = {(c.system, c.person_id, c.field): c.new for c in result.changes if c.record_id is None}
    assert creates[("hubspot", f"acct-{A1}", "name")] == "Only Salesforce, people in HubSpot too"
    assert creates[("hubspot", f"acct-{A1}", "salesforce_account_id")] == A1
    assert creates[("salesforce", "company-10", "Name")] == "Only HubSpot, people in Salesforce too"
    assert creates[("salesforce", "company-10", "HubSpot_Company_Id__c")] == "10"
    fields = by_field(result)
    assert fields[("salesforce", A1, "HubSpot_Company_Id__c")] == NewRecordId("hubspot", "companies")
    assert fields[("hubspot", "10", "salesforce_account_id")] == NewRecordId("salesforce", "Account")
    # and the people follow: p1's Contact gets the new Account, p3's contact the new company
    assert fields[("salesforce", C1, "AccountId")] == NewRecordId("salesforce", "Account")
    assert [(x.from_type, x.from_id, x.company_id, x.group) for x in result.links] == [
        ("contacts", "3", None, f"acct-{A1}")]
    assert {c.person_id for c in result.changes if c.record_id == C1} == {"company-10"}  # the create's group

    none = run(inputs, mapping("none", "none"))
    assert none.created == {"hubspot": 0, "salesforce": 0} and not none.links
    assert run(inputs, mapping("all", "all")).created == {"hubspot": 2, "salesforce": 2}


def test_people_links_are_added_never_replaced() -> None:
    linked = [company("10", ("1",), name="A", salesforce_account_id=A1),
              company("11", (), name="B", salesforce_account_id=A2)]
    accounts = [account(A1, Name="A", HubSpot_Company_Id__c="10"), account(A2, Name="B", HubSpot_Company_Id__c="11")]
    # p1: HubSpot contact on company 10, Contact without an Account -> AccountId = A1
    # p2: no HubSpot company, Contact on A2 -> associate contact 2 with company 11
    # p3: HubSpot contact on 10, Contact on A2 -> differ: reported, nothing changed
    linked[0] = company("10", ("1", "3"), name="A", salesforce_account_id=A1)
    inputs = CompanyInputs(linked, accounts, [sf_contact(C1, None), sf_contact(C2, A2),
                                              sf_contact("003000000000003AAA", A2)],
                           people=people(("p1", "1", C1), ("p2", "2", C2), ("p3", "3", "003000000000003AAA")))
    result = run(inputs)
    assert by_field(result) == {("salesforce", C1, "AccountId"): A1}
    assert [(x.from_type, x.from_id, x.company_id) for x in result.links] == [("contacts", "2", "11")]
    assert [i.record_id for i in result.issues if "never replaced" in i.message] == ["003000000000003AAA"]
    off = reconcile_companies(inputs, parse_companies(BASE.format(hs="none", sf="none")
                                                      + "[associations]\ncontacts = false\n"), deal_ref=DEAL_REF)
    assert not off.links and ("salesforce", C1, "AccountId") not in by_field(off)


def test_a_deal_and_its_opportunity_share_their_company() -> None:
    deal = SourceRecord("hubspot", "deals", "500", 1, {"salesforce_opportunity_id": O1})
    opp = SourceRecord("salesforce", "Opportunity", O1, 1, {"AccountId": A1, "HubSpot_Deal_Id__c": "500"})
    inputs = CompanyInputs([company("10", name="A", salesforce_account_id=A1)],
                           [account(A1, Name="A", HubSpot_Company_Id__c="10")], [], [deal], [opp])
    assert [(x.from_type, x.from_id, x.company_id) for x in run(inputs).links] == [("deals", "500", "10")]
    blank = SourceRecord("salesforce", "Opportunity", O1, 1, {"AccountId": None, "HubSpot_Deal_Id__c": "500"})
    inputs = CompanyInputs([company("10", deals=("500",), name="A", salesforce_account_id=A1)],
                           [account(A1, Name="A", HubSpot_Company_Id__c="10")], [], [deal], [blank])
    assert by_field(run(inputs)) == {("salesforce", O1, "AccountId"): A1}


def test_a_deleted_partner_is_never_re_created() -> None:
    inputs = CompanyInputs([company("10", ("1",), name="A", salesforce_account_id=A1)],
                           [account(A1, deleted=True, Name="A")], [sf_contact(C1, None)],
                           people=people(("p1", "1", C1)))
    result = run(inputs, mapping("all", "all"))
    assert result.created == {"hubspot": 0, "salesforce": 0}
    assert any("was deleted" in i.message for i in result.issues)


def test_the_same_answer_whatever_the_input_order() -> None:
    companies = [company(str(10 + i), (str(i),), name=f"Co {i}", domain=f"co{i}.example") for i in range(8)]
    accounts = [account(f"0010000000000{i:02d}AAA", Name=f"Co {i}", Website=f"www.co{i}.example")
                for i in range(0, 8, 2)]
    contacts = [sf_contact(f"0030000000000{i:02d}AAA", None) for i in range(8)]
    who = people(*[(f"p{i}", str(i), f"0030000000000{i:02d}AAA") for i in range(8)])
    first = run(CompanyInputs(companies, accounts, contacts, people=who))
    rng = random.Random(4)
    for _ in range(3):
        rng.shuffle(companies)
        rng.shuffle(accounts)
        rng.shuffle(contacts)
        again = run(CompanyInputs(companies, accounts, contacts, people=dict(rng.sample(list(who.items()), len(who)))))
        assert again == first
    assert first.matched_by_domain == 4 and first.created["salesforce"] == 4
    assert all(isinstance(x, CompanyLink) for x in first.links)


def test_a_parent_company_is_added_where_blank_never_replaced() -> None:
    parent_c, child_c = company("20", name="Group", salesforce_account_id=A1), company(
        "21", name="Sub", salesforce_account_id=A2)
    parent_a = account(A1, Name="Group", HubSpot_Company_Id__c="20")
    # Salesforce knows the parent, HubSpot does not: the child company gets its parent association
    result = run(CompanyInputs([parent_c, child_c], [parent_a, account(A2, Name="Sub", ParentId=A1,
                                                                       HubSpot_Company_Id__c="21")], []))
    assert [(x.from_type, x.from_id, x.company_id, x.label, x.batch) for x in result.links] == [
        ("companies", "21", "20", "parent", "hubspot:companies>companies:parent")]
    # HubSpot knows it, Salesforce does not: the Account gets its ParentId
    hs_child = company("21", name="Sub", salesforce_account_id=A2, hs_parent_company_id="20")
    result = run(CompanyInputs([parent_c, hs_child], [parent_a, account(A2, Name="Sub",
                                                                        HubSpot_Company_Id__c="21")], []))
    assert by_field(result) == {("salesforce", A2, "ParentId"): A1} and not result.links
    # both agree: nothing; they differ: reported, neither changed
    other = account("001000000000003AAA", Name="Other", HubSpot_Company_Id__c="22")
    inputs = CompanyInputs([parent_c, hs_child, company("22", name="Other", salesforce_account_id=other.id)],
                           [parent_a, other, account(A2, Name="Sub", ParentId=other.id, HubSpot_Company_Id__c="21")],
                           [])
    result = run(inputs)
    assert not result.links and not result.changes
    assert [i.record_id for i in result.issues if "parent company differs" in i.message] == [A2]
    off = reconcile_companies(inputs, parse_companies(BASE.format(hs="none", sf="none")
                                                      + "[associations]\nparents = false\n"), deal_ref=DEAL_REF)
    assert not [i for i in off.issues if "parent" in i.message]
