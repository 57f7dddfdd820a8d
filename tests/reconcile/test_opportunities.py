"""Deal <-> Opportunity fields resolve through the same core, with a stage map per pipeline."""

from __future__ import annotations

from decimal import Decimal

from connector.reconcile import SourceRecord, TransformContext, resolve_fields
from connector.reconcile.plan import plan_updates

from .factories import OWNERS, shipped


def deal(**props: str) -> SourceRecord:
    return SourceRecord("hubspot", "deals", "9001", 5, props)


def opp(**fields: object) -> SourceRecord:
    return SourceRecord("salesforce", "Opportunity", "006000000000001AAA", 9, fields)


def test_deal_and_opportunity_agree_across_forms() -> None:
    mapping = shipped().opportunities
    assert mapping is not None
    ctx = TransformContext(OWNERS, pipeline="default")
    resolved, issues = resolve_fields(
        mapping.fields,
        deal(dealname="Big deal", amount="1000.50", closedate="1572480000000", dealstage="contractsent",
             hubspot_owner_id="101"),
        opp(Name="Big deal", Amount=1000.5, CloseDate="2019-10-31", StageName="Negotiation/Review",
            OwnerId="005000000000001AAA"),
        ctx,
    )
    values = {r.mapping.name: r.provenance.value for r in resolved}
    assert values == {"name": "Big deal", "amount": Decimal("1000.50"), "close_date": "2019-10-31",
                      "stage": "contractsent", "owner": "ann@corp.example"}
    assert not issues
    assert plan_updates(resolved, "hubspot", ctx, []) == [] and plan_updates(resolved, "salesforce", ctx, []) == []


def test_stage_conflict_prefers_salesforce_and_writes_hubspot_stage_id() -> None:
    mapping = shipped().opportunities
    assert mapping is not None
    ctx = TransformContext(OWNERS)
    resolved, _ = resolve_fields(mapping.fields, deal(dealstage="appointmentscheduled"),
                                 opp(StageName="Closed Won"), ctx)
    [change] = plan_updates(resolved, "hubspot", ctx, [])
    assert (change.field, change.new) == ("dealstage", "closedwon")


def test_unknown_pipeline_is_an_issue() -> None:
    mapping = shipped().opportunities
    assert mapping is not None
    _, issues = resolve_fields(mapping.fields, deal(dealstage="x1"), opp(StageName="Prospecting"),
                               TransformContext(OWNERS, pipeline="partners"))
    assert {i.field for i in issues} == {"dealstage", "StageName"}
