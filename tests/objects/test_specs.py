"""The specs of people and deals, and the registry's order: the pure parts, without a store or a system."""

from __future__ import annotations

from itertools import combinations

import pytest

from connector.objects.deals import DEALS
from connector.objects.people import PEOPLE
from connector.objects.registry import registered
from connector.objects.spec import Outcome, Reconciled, object_summary
from connector.objects.streams import (ALL_STREAMS, OPPORTUNITY_STREAMS, PEOPLE_STREAMS, with_company_fields,
                                       with_mapped_fields)
from connector.push.engine import PushResult
from connector.push.lookup import Looked, people_id_fields
from connector.reconcile.deals import AssociationChange
from connector.reconcile.loader import load_mappings
from connector.reconcile.mapping import Mappings
from connector.reconcile.records import FieldChange, Issue
from connector.reconcile.writes import plan_writes
from connector.sync.cycle import ALL_OBJECTS, pulled_streams

from tests.push.conftest import MAPPINGS

MAPPED = load_mappings(MAPPINGS)


def test_people_run_first_then_companies_then_deals_whose_links_need_their_new_records() -> None:
    assert [(spec.name, spec.primary) for spec in registered()] == [("people", True), ("companies", False),
                                                                    ("deals", False)]


def test_each_object_is_described_once_streams_mapping_and_cross_reference_fields() -> None:
    assert (PEOPLE.streams, PEOPLE.mapping, DEALS.streams, DEALS.mapping) == (
        PEOPLE_STREAMS, "contacts", OPPORTUNITY_STREAMS, "opportunities")
    assert PEOPLE.id_fields(MAPPED) == people_id_fields(MAPPED.contacts)
    assert DEALS.id_fields(MAPPED) == {("hubspot", "deals"): ("salesforce_opportunity_id",),
                                       ("salesforce", "Opportunity"): ("HubSpot_Deal_Id__c",)}


@pytest.mark.parametrize("groups", [list(c) for n in range(len(ALL_OBJECTS) + 1) for c in combinations(ALL_OBJECTS, n)])
def test_the_registered_objects_streams_are_pulled_in_the_order_the_pull_always_read(groups: list[str]) -> None:
    """The order decides how Salesforce queries share Composite calls: the same order, the same calls. The
    reference is the pull's order before the object specs: people, opportunities, engagement."""
    before = [with_company_fields(with_mapped_fields(s, MAPPED.contacts), MAPPED.companies)
              for s in ALL_STREAMS if s.group in groups]
    assert pulled_streams(registered(), groups, MAPPED.contacts, None, MAPPED.companies) == before
    # without companies.toml, no company is pulled
    assert [s.group for s in pulled_streams(registered(), groups, MAPPED.contacts)].count("companies") == 0


@pytest.mark.parametrize("groups", [None, ["people", "engagement", "opportunities"], ["opportunities"], ["people"]])
def test_people_always_run_and_deals_when_configured_with_their_mapping(groups: list[str] | None) -> None:
    assert PEOPLE.runs(MAPPED, groups) and PEOPLE.runs(Mappings(MAPPED.contacts), groups)
    assert DEALS.runs(MAPPED, groups) is (groups is None or "opportunities" in groups)
    assert not DEALS.runs(Mappings(MAPPED.contacts), groups)


def _outcome(pushed: PushResult | None) -> Outcome:
    changes = (FieldChange("hubspot", "deals", None, "dealname", None, "Renewal", "create", "opp-1"),
               FieldChange("salesforce", "Opportunity", "006A", "Amount", 1, 2, "most_recent", "opp-2"))
    links = (AssociationChange("hubspot", None, "opp-1", "101", None, False, "contact role"),
             AssociationChange("hubspot", "9", "opp-2", "102", None, False, "contact role"))
    issues = (Issue("hubspot", "7", "dealname", None, "deal only in HubSpot: not created"),
              Issue("hubspot", "8", "dealname", None, "deal only in HubSpot: not created"))
    plan = plan_writes(changes)
    return Outcome(Reconciled(changes, links=links, issues=issues, counts={"linked": 1, "planned_creates": {}}),
                   plan, Looked(plan), pushed=pushed, after={"hubspot": 2} if pushed else None)


def test_an_objects_summary_has_the_deals_shape_of_the_readme() -> None:
    planned = object_summary(_outcome(None))
    assert planned == {"linked": 1, "planned_creates": {},
                       "planned": {"hubspot:deals": {"create": 1, "update": 0, "fields": 1},
                                   "salesforce:Opportunity": {"create": 0, "update": 1, "fields": 1}},
                       "links_to_add": {"hubspot": 2}, "link_batches": {"hubspot:deals>contacts": 2}, "issues": 2,
                       "issue_kinds": {"deal only in HubSpot": 2}}
    pushed = object_summary(_outcome(PushResult()))
    assert list(pushed) == [*planned, "push", "links_added"]
    assert pushed["push"] == PushResult().to_json() and pushed["links_added"] == {"hubspot": 2}
