"""The seeded companies: HubSpot companies and Salesforce Accounts, their associations, hierarchy and differences."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from connector.reconcile.transforms import url_key
from connector.sandbox.dataset import Association, LabeledAssociation, SeedBatch
from connector.sandbox.hubspot.industries import COMPANY_INDUSTRIES
from connector.sandbox.salesforce.ids import prefix_object
from connector.sandbox.seed import HUBSPOT_TYPES, SeedProfile, generate
from connector.sandbox.seed._ids import HUBSPOT_ID_BASES, HUBSPOT_ID_RANGE

NOW = 1_795_000_000_000  # 2026-11-18T09:46:40Z
PEOPLE = 4_000
COMPANY_PROPS = {
    "name", "domain", "website", "industry", "numberofemployees", "annualrevenue", "city", "state", "country",
    "hubspot_owner_id", "createdate", "hs_lastmodifieddate",
}
PERSONAL = {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "gmx.de", "proton.me"}
LABELS = {("contacts", "companies"): (1, 2), ("deals", "companies"): (5, 6), ("companies", "companies"): (14, 13)}


@dataclass
class Companies:
    """One generation flattened, indexed for the company questions."""

    batches: int = 0
    hs: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    sf: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    labeled: list[LabeledAssociation] = field(default_factory=list)
    plain: list[Association] = field(default_factory=list)
    late: list[str] = field(default_factory=list)  # references to records that arrive in a later batch

    def by_id(self, kind: str) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.hs[kind]}

    def accounts(self) -> dict[str, dict[str, Any]]:
        return {a["Id"]: a for a in self.sf["Account"]}

    def company_of_contact(self) -> dict[str, str]:
        return {cid: co for kind, cid, _, co, _, _ in self.labeled if kind == "contacts"}

    def parent_of(self) -> dict[str, str]:
        return {child: parent for kind, child, other, parent, _, _ in self.labeled if kind == other == "companies"}

    def hs_emails(self) -> set[str]:
        return {c["properties"]["email"] for c in self.hs["contacts"]}

    def sf_emails(self) -> set[str]:
        return {(r.get("Email") or "").strip().lower() for s in ("Lead", "Contact") for r in self.sf[s]}


def collect(batches: Iterable[SeedBatch]) -> Companies:
    world, seen = Companies(), set[str]()
    for batch in batches:
        world.batches += 1
        for kind, records in batch.hubspot.items():
            world.hs[kind].extend(records)
            seen.update(f"{kind}:{r['id']}" for r in records)
        for sobject, records in batch.salesforce.items():
            world.sf[sobject].extend(records)
            seen.update(r["Id"] for r in records)
        world.labeled.extend(batch.hubspot_labeled_associations)
        world.plain.extend(batch.hubspot_associations)
        for a_type, a_id, b_type, b_id, _, _ in batch.hubspot_labeled_associations:
            world.late.extend(ref for ref in (f"{a_type}:{a_id}", f"{b_type}:{b_id}") if ref not in seen)
        for account in batch.salesforce.get("Account", []):
            if "ParentId" in account and account["ParentId"] not in seen:
                world.late.append(account["ParentId"])
    return world


def digest(batches: Iterable[SeedBatch]) -> str:
    h = hashlib.sha256()
    for b in batches:
        h.update(json.dumps([b.hubspot, b.hubspot_labeled_associations, b.salesforce], sort_keys=True).encode())
    return h.hexdigest()


def measure(world: Companies) -> dict[str, float]:
    """The shares the knobs steer, measured from the records alone (what the connector will see)."""
    companies, accounts = world.hs["companies"], world.sf["Account"]
    hs_emails, sf_emails = world.hs_emails(), world.sf_emails()
    by_domain: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in companies:
        by_domain[c["properties"]["domain"]].append(c)
    account_people: dict[str, list[str]] = defaultdict(list)
    for contact in world.sf["Contact"]:
        account_people[contact["AccountId"]].append((contact.get("Email") or "").strip().lower())
    company_people: dict[str, list[str]] = defaultdict(list)
    emails = {c["id"]: c["properties"]["email"] for c in world.hs["contacts"]}
    for cid, co in world.company_of_contact().items():
        company_people[co].append(emails[cid])
    originals = [c for c in companies if "hubspot_owner_id" in c["properties"]]  # duplicates lack an owner
    matched = [(a, by_domain[url_key(a["Website"])][0]) for a in accounts if url_key(a["Website"]) in by_domain]
    return {
        "hubspot_companies": len(companies),
        "accounts": len(accounts),
        "matched_by_domain": len(matched),
        "website_not_www": sum(not a["Website"].startswith("www.") for a in accounts) / len(accounts),
        "website_differs_from_domain": sum(a["Website"] != b["properties"]["domain"] for a, b in matched)
        / len(matched),
        "rebranded": sum(c["properties"]["domain"].endswith(".ai") for c in originals) / len(originals),
        "name_differs": sum(a["Name"] != b["properties"]["name"] for a, b in matched) / len(matched),
        "unassociated_contacts": 1 - len(world.company_of_contact()) / len(world.hs["contacts"]),
        "duplicate_domains": sum(len(v) > 1 for v in by_domain.values()) / len(by_domain),
        "accounts_with_parent": sum("ParentId" in a for a in accounts) / len(accounts),
        "companies_with_parent": len(world.parent_of()) / len(companies),
        "accounts_salesforce_only": sum(not any(e in hs_emails for e in account_people[a["Id"]]) for a in accounts)
        / len(accounts),
        "companies_hubspot_only": sum(not any(e in sf_emails for e in company_people[c["id"]]) for c in originals)
        / len(originals),
    }


@pytest.fixture(scope="module")
def world() -> Companies:
    return collect(generate(PEOPLE, 42, now_ms=NOW, batch_people=600))


@pytest.fixture(scope="module")
def shares(world: Companies) -> dict[str, float]:
    return measure(world)


# ---------------------------------------------------------------------------- determinism


def test_same_seed_gives_the_same_companies_and_another_seed_others() -> None:
    first = digest(generate(1_200, 7, now_ms=NOW))
    assert first == digest(generate(1_200, 7, now_ms=NOW))
    assert first != digest(generate(1_200, 8, now_ms=NOW))


def test_companies_do_not_depend_on_batch_size() -> None:
    small, large = collect(generate(1_500, 3, now_ms=NOW, batch_people=89)), collect(generate(1_500, 3, now_ms=NOW))
    assert small.batches == 17 and large.batches == 2
    assert small.hs["companies"] == large.hs["companies"] and small.labeled == large.labeled
    assert small.sf["Account"] == large.sf["Account"]


def test_a_company_knob_leaves_the_people_unchanged() -> None:
    def people(profile: SeedProfile) -> list[str]:
        return [c["properties"]["email"] for b in generate(800, 4, now_ms=NOW, profile=profile)
                for c in b.hubspot["contacts"]]

    plain = SeedProfile(subsidiary_share=0.0, company_name_variant_share=0.0, website_variant_share=0.0)
    messy = SeedProfile(subsidiary_share=0.5, company_name_variant_share=0.9, website_variant_share=1.0)
    assert people(plain) == people(messy)


# ---------------------------------------------------------------------------- integrity


def test_every_labeled_association_points_at_existing_records_in_the_same_or_an_earlier_batch(
    world: Companies,
) -> None:
    assert world.late == []
    ids = {kind: set(world.by_id(kind)) for kind in ("contacts", "deals", "companies")}
    for from_type, from_id, to_type, to_id, type_id, inverse in world.labeled:
        assert from_id in ids[from_type] and to_id in ids[to_type], (from_type, from_id, to_type, to_id)
        assert (type_id, inverse) == LABELS[(from_type, to_type)]
    assert len(set(world.labeled)) == len(world.labeled)
    assert {(a, b) for a, _, b, _, _, _ in world.labeled} == set(LABELS)


def test_each_contact_and_deal_has_at_most_one_primary_company_and_deals_follow_their_contact(
    world: Companies,
) -> None:
    primary = Counter((kind, rid) for kind, rid, to, _, _, _ in world.labeled if to == "companies" and kind != to)
    assert max(primary.values()) == 1
    company_of = world.company_of_contact()
    deal_company = {did: co for kind, did, _, co, _, _ in world.labeled if kind == "deals"}
    contact_deals = [(contact_id, deal_id) for _, contact_id, kind, deal_id in world.plain if kind == "deals"]
    assert len(contact_deals) == len(world.hs["deals"])
    for contact_id, deal_id in contact_deals:
        assert deal_company.get(deal_id) == company_of.get(contact_id)


def test_company_ids_have_their_own_range_and_records_their_vocabulary(world: Companies) -> None:
    base = HUBSPOT_ID_BASES["companies"]
    assert "companies" in HUBSPOT_TYPES
    owners = {o["id"] for o in world.hs["owners"]}
    for c in world.hs["companies"]:
        props = c["properties"]
        assert base < int(c["id"]) < base + HUBSPOT_ID_RANGE
        assert set(props) <= COMPANY_PROPS and {"name", "domain"} <= set(props)
        domain = props["domain"]
        assert "/" not in domain and not domain.startswith("www.") and domain == domain.lower()
        assert props.get("industry", "INTERNET") in COMPANY_INDUSTRIES
        assert props.get("hubspot_owner_id", next(iter(owners))) in owners
        assert 0 < c["createdAt"] <= c["updatedAt"] <= NOW
        assert props["createdate"] == str(c["createdAt"]) and props["hs_lastmodifieddate"] == str(c["updatedAt"])
        assert "salesforce_account_id" not in props  # nothing is linked before the connector runs
    assert all("HubSpot_Company_Id__c" not in a for a in world.sf["Account"])


def test_parents_exist_are_earlier_and_form_no_cycles(world: Companies) -> None:
    parent_of = world.parent_of()
    companies = world.by_id("companies")
    assert parent_of
    for child, parent in parent_of.items():
        assert parent in companies and int(parent) < int(child)
    accounts = world.accounts()
    account_parent = {a["Id"]: a["ParentId"] for a in accounts.values() if "ParentId" in a}
    assert account_parent
    order = {a["Id"]: n for n, a in enumerate(world.sf["Account"])}
    for child, parent in account_parent.items():
        assert prefix_object(parent) == "Account" and parent in accounts and order[parent] < order[child]
    for links in (parent_of, account_parent):
        for start in links:
            seen, node = {start}, start
            while node in links:
                node = links[node]
                assert node not in seen, f"cycle through {start}"
                seen.add(node)


def test_contacts_and_opportunities_point_at_existing_accounts(world: Companies) -> None:
    accounts = world.accounts()
    for sobject in ("Contact", "Opportunity"):
        assert all(r["AccountId"] in accounts for r in world.sf[sobject]), sobject
    assert all(lead.get("ConvertedAccountId", next(iter(accounts))) in accounts for lead in world.sf["Lead"])
    used = {c["AccountId"] for c in world.sf["Contact"]}
    assert used == set(accounts)  # an Account comes with its first Contact: none is empty


def test_a_company_in_both_systems_has_people_in_both(world: Companies) -> None:
    """Matched by domain, a HubSpot company's contacts and the Account's Contacts work at the same domain."""
    companies = world.hs["companies"]
    by_domain = defaultdict(list)
    for c in companies:
        by_domain[c["properties"]["domain"]].append(c["id"])
    contact_email = {c["id"]: c["properties"]["email"] for c in world.hs["contacts"]}
    company_people: dict[str, set[str]] = defaultdict(set)
    for cid, co in world.company_of_contact().items():
        company_people[co].add(contact_email[cid])
    account_people: dict[str, set[str]] = defaultdict(set)
    for contact in world.sf["Contact"]:
        account_people[contact["AccountId"]].add((contact.get("Email") or "").strip().lower())
    pairs = 0
    for account in world.sf["Account"]:
        key = url_key(account["Website"])
        if key not in by_domain:
            continue
        pairs += 1
        hs_people = set().union(*(company_people[i] for i in by_domain[key]))
        sf_people = account_people[account["Id"]]
        assert hs_people and sf_people
        for email in hs_people | sf_people:
            domain = email.rpartition("@")[2]
            assert domain in PERSONAL or domain == key, (domain, key)
    assert pairs > 0.5 * len(world.sf["Account"])


# ---------------------------------------------------------------------------- proportions


def test_shares_follow_the_knobs(shares: dict[str, float]) -> None:
    p = SeedProfile()
    assert 0.3 * p.website_variant_share < shares["website_not_www"] < 1.5 * p.website_variant_share
    assert shares["website_differs_from_domain"] > 0.6  # only a bare "x.com" Website equals the domain
    assert 0.2 * p.rebranded_domain_share < shares["rebranded"] < 3 * p.rebranded_domain_share
    assert 0.4 * p.company_name_variant_share < shares["name_differs"] < 1.6 * p.company_name_variant_share
    assert 0.5 * p.unassociated_contact_share < shares["unassociated_contacts"] < 1.6 * p.unassociated_contact_share
    assert 0 < shares["duplicate_domains"] < 4 * p.hubspot_duplicate_company_share
    assert 0.3 * p.subsidiary_share < shares["accounts_with_parent"] < 1.5 * p.subsidiary_share
    assert 0.3 * p.subsidiary_share < shares["companies_with_parent"] < 1.5 * p.subsidiary_share
    # one-system companies by chance (small companies whose few people are all on one side); none forced
    assert p.salesforce_only_company_share == p.hubspot_only_company_share == 0
    assert 0.03 < shares["accounts_salesforce_only"] < 0.25
    assert 0.05 < shares["companies_hubspot_only"] < 0.25


ONE_SYSTEM = SeedProfile(salesforce_only_company_share=0.05, hubspot_only_company_share=0.15)


def test_one_system_companies_follow_their_knobs() -> None:
    shares = measure(collect(generate(PEOPLE, 11, now_ms=NOW, profile=ONE_SYSTEM)))
    chance = measure(collect(generate(PEOPLE, 11, now_ms=NOW)))
    assert shares["accounts_salesforce_only"] > chance["accounts_salesforce_only"] + 0.02
    assert shares["companies_hubspot_only"] > chance["companies_hubspot_only"] + 0.04  # fewer by chance: compensated


def test_presence_shares_hold_with_one_system_companies() -> None:
    world = collect(generate(PEOPLE, 11, now_ms=NOW, profile=ONE_SYSTEM))
    hs, sf = world.hs_emails(), world.sf_emails()
    people = len(hs | sf)
    assert abs(len(hs & sf) / people - ONE_SYSTEM.both_share) < 0.04
    assert abs(len(hs - sf) / people - ONE_SYSTEM.hubspot_only_share) < 0.04


def test_company_knobs_at_zero_give_a_tidy_world() -> None:
    tidy = SeedProfile(
        salesforce_only_company_share=0.0, hubspot_only_company_share=0.0, subsidiary_share=0.0,
        website_variant_share=0.0, rebranded_domain_share=0.0, company_name_variant_share=0.0,
        unassociated_contact_share=0.0, hubspot_duplicate_company_share=0.0,
    )
    world = collect(generate(1_500, 5, now_ms=NOW, profile=tidy))
    shares = measure(world)
    assert shares["website_not_www"] == shares["rebranded"] == shares["name_differs"] == 0
    assert shares["unassociated_contacts"] == shares["duplicate_domains"] == 0
    assert shares["accounts_with_parent"] == shares["companies_with_parent"] == 0
    assert {(a, b) for a, _, b, _, _, _ in world.labeled} == {("contacts", "companies"), ("deals", "companies")}


def test_the_seed_counts(world: Companies, shares: dict[str, float]) -> None:
    """About one company per four people; each in HubSpot when one of its HubSpot contacts is associated."""
    companies, accounts = shares["hubspot_companies"], shares["accounts"]
    assert 0.15 * PEOPLE < companies < 0.30 * PEOPLE
    assert 0.08 * PEOPLE < accounts < 0.20 * PEOPLE
    assert 0.5 * accounts < shares["matched_by_domain"] <= accounts
    contact_links = sum(1 for a in world.labeled if a[0] == "contacts")
    deal_links = sum(1 for a in world.labeled if a[0] == "deals")
    assert contact_links == round((1 - shares["unassociated_contacts"]) * len(world.hs["contacts"]))
    assert 0.8 * len(world.hs["deals"]) < deal_links <= len(world.hs["deals"])
