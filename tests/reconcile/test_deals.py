"""Deal <-> Opportunity reconciliation: identity by cross-reference, fields, creates, contact roles."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from connector.reconcile import (
    FieldChange,
    NewRecordId,
    OpportunityMapping,
    RecordKey,
    SourceRecord,
)
from connector.reconcile.deals import (
    DEAL_ID_PROPERTY,
    OPPORTUNITY_DEAL_ID_FIELD,
    AssociationChange,
    DealResult,
    reconcile_deals,
)
from connector.reconcile.records import System

from .factories import OWNERS, contact_id, lead_id, shipped

ANN_SF, BO_SF = "005000000000001AAA", "005000000000002AAA"


def opp_id(n: int) -> str:
    return f"006{n:012d}AAA"


def mapping() -> OpportunityMapping:
    found = shipped().opportunities
    assert found is not None
    return found


def deal(id: str, t: int = 1_000, contacts: Sequence[str] = (), **props: Any) -> SourceRecord:
    """A HubSpot deal: string properties, contact associations."""
    return SourceRecord("hubspot", "deals", id, t, {"pipeline": "default", **props},
                        associations={"contacts": tuple(contacts)})


def opp(id: str, t: int = 1_000, **fields: Any) -> SourceRecord:
    return SourceRecord("salesforce", "Opportunity", id, t, dict(fields))


def role(n: int, opportunity: str, contact: str, primary: bool = False) -> SourceRecord:
    return SourceRecord("salesforce", "OpportunityContactRole", f"00K{n:012d}AAA", 1_000,
                        {"OpportunityId": opportunity, "ContactId": contact, "Role": "Decision Maker",
                         "IsPrimary": primary})


# people: p1 has a HubSpot contact and a Salesforce Contact; p2 likewise; p3 is only a Lead in Salesforce
PEOPLE: dict[RecordKey, str] = {
    RecordKey("hubspot", "contacts", "51"): "p1", RecordKey("salesforce", "Contact", contact_id(1)): "p1",
    RecordKey("hubspot", "contacts", "52"): "p2", RecordKey("salesforce", "Contact", contact_id(2)): "p2",
    RecordKey("hubspot", "contacts", "53"): "p3", RecordKey("salesforce", "Lead", lead_id(3)): "p3",
}

OPP_FIELDS: dict[str, Any] = {"Name": "Big deal", "Amount": 1000.5, "CloseDate": "2019-10-31",
                              "StageName": "Negotiation/Review", "OwnerId": ANN_SF}
DEAL_FIELDS: dict[str, Any] = {"dealname": "Big deal", "amount": "1000.50", "closedate": "1572480000000",
                               "dealstage": "contractsent", "hubspot_owner_id": "101"}


def run(deals: Iterable[SourceRecord] = (), opps: Iterable[SourceRecord] = (), roles: Iterable[SourceRecord] = (),
        people: dict[RecordKey, str] | None = None, m: OpportunityMapping | None = None, **kw: Any) -> DealResult:
    return reconcile_deals(list(deals), list(opps), list(roles), PEOPLE if people is None else people,
                           m or mapping(), OWNERS, **kw)


def by_field(result: DealResult) -> dict[tuple[str, str], FieldChange]:
    return {(c.system, c.field): c for c in result.changes}


# --- identity ---------------------------------------------------------------------------------------

def test_linked_by_the_deals_cross_reference_alone() -> None:
    r = run([deal("9001", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1))], [opp(opp_id(1), **OPP_FIELDS)])
    assert r.linked == 1 and r.created == {"hubspot": 0, "salesforce": 0} and not r.issues
    [c] = r.changes  # only the missing back-reference
    assert (c.system, c.record_id, c.field, c.new, c.person_id) == ("salesforce", opp_id(1), OPPORTUNITY_DEAL_ID_FIELD,
                                                                      "9001", f"opp-{opp_id(1)}")


def test_linked_by_the_opportunitys_cross_reference_alone() -> None:
    r = run([deal("9001", **DEAL_FIELDS)], [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001")])
    assert r.linked == 1 and not r.issues
    [c] = r.changes
    assert (c.system, c.record_id, c.field, c.old, c.new) == ("hubspot", "9001", DEAL_ID_PROPERTY, None, opp_id(1))


def test_salesforce_ids_compare_on_15_characters() -> None:
    r = run([deal("9001", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1)[:15])],
            [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001")])
    assert r.linked == 1 and r.changes == () and r.associations == () and r.issues == ()


def test_same_name_never_matches() -> None:
    r = run([deal("9001", **DEAL_FIELDS)], [opp(opp_id(1), **OPP_FIELDS)])
    assert r.linked == 0 and r.created == {"hubspot": 1, "salesforce": 0}
    assert any(i.record_id == "9001" and "only in HubSpot" in i.message for i in r.issues)


def test_wrong_cross_references_are_repaired() -> None:
    # the deal points at an Opportunity that is not there; the Opportunity's reference is right
    r = run([deal("9001", **DEAL_FIELDS, salesforce_opportunity_id="006999999999999")],
            [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c=" 9001 ")])
    assert r.linked == 1
    [c] = r.changes
    assert (c.system, c.field, c.old, c.new) == ("hubspot", DEAL_ID_PROPERTY, "006999999999999", opp_id(1))
    # the other way round
    r = run([deal("9001", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1))],
            [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="123")])
    [c] = r.changes
    assert ((c.system, c.record_id, c.field, c.old, c.new)
            == ("salesforce", opp_id(1), OPPORTUNITY_DEAL_ID_FIELD, "123", "9001"))


def test_a_cloned_opportunity_gets_its_own_deal() -> None:
    """A Salesforce clone keeps HubSpot_Deal_Id__c: the pair confirmed by both sides wins, the clone is reported
    and gets a new deal whose back-reference replaces the copied id."""
    r = run([deal("9001", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1))],
            [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001"),
             opp(opp_id(2), **OPP_FIELDS, HubSpot_Deal_Id__c="9001")])
    assert r.linked == 1 and r.created["hubspot"] == 1
    assert any(i.record_id == opp_id(2) and "conflicting cross-reference" in i.message for i in r.issues)
    backref = by_field(r)[("salesforce", OPPORTUNITY_DEAL_ID_FIELD)]
    assert (backref.record_id, backref.new) == (opp_id(2), NewRecordId("hubspot", "deals"))


def test_deleted_records_never_match_and_are_never_recreated() -> None:
    deleted_opp = replace(opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001"), deleted=True)
    r = run([deal("9001", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1))], [deleted_opp],
            create_in_salesforce=True)
    assert r.linked == 0 and r.changes == () and r.created == {"hubspot": 0, "salesforce": 0}
    assert any(i.record_id == "9001" and "was deleted" in i.message for i in r.issues)
    # the other way round, and a deleted deal that only the deal side remembers
    deleted_deal = replace(deal("9001", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1)), deleted=True)
    for o in (opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001"), opp(opp_id(1), **OPP_FIELDS)):
        r = run([deleted_deal], [o])
        assert r.linked == 0 and r.changes == () and r.created == {"hubspot": 0, "salesforce": 0}
        assert any(i.record_id == opp_id(1) and "deleted" in i.message for i in r.issues)


def test_an_unknown_cross_reference_blocks_creation() -> None:
    r = run([], [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="123")])
    assert r.changes == () and r.created["hubspot"] == 0
    assert "not in the input" in r.issues[0].message


def test_merged_away_records_are_skipped_and_references_follow_the_survivor() -> None:
    merged = replace(deal("9001", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1)), merged_into="9002")
    survivor = deal("9002", **DEAL_FIELDS)
    r = run([merged, survivor], [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001")])
    assert r.linked == 1 and r.created == {"hubspot": 0, "salesforce": 0}
    chs = by_field(r)
    assert (chs[("salesforce", OPPORTUNITY_DEAL_ID_FIELD)].new,
            chs[("hubspot", DEAL_ID_PROPERTY)].record_id) == ("9002", "9002")
    assert all(c.record_id != "9001" for c in r.changes)


# --- fields -----------------------------------------------------------------------------------------

def test_linked_fields_update_both_sides_in_native_forms() -> None:
    d = SourceRecord(
        "hubspot", "deals", "9001", 1_000,
        {"pipeline": "default", "salesforce_opportunity_id": opp_id(1), "dealname": "Big deal", "amount": "100",
         "dealstage": "appointmentscheduled", "hubspot_owner_id": "102", "closedate": None},
        field_modified_at={"hubspot_owner_id": 5_000})
    o = opp(opp_id(1), t=2_000, Name="Big deal", Amount=2500.5, CloseDate="2024-03-01", StageName="Closed Won",
            OwnerId=ANN_SF, HubSpot_Deal_Id__c="9001")
    r = run([d], [o])
    chs = {k: c.new for k, c in by_field(r).items()}
    assert chs == {
        ("hubspot", "amount"): "2500.50",  # decimals = 2
        ("hubspot", "dealstage"): "closedwon",  # through the default pipeline's stage map
        ("hubspot", "closedate"): "1709251200000",  # midnight UTC in epoch ms
        ("salesforce", "OwnerId"): BO_SF,  # most_recent: the HubSpot owner changed later
    }
    assert all(c.person_id == f"opp-{opp_id(1)}" and c.record_id is not None for c in r.changes)


def test_stage_written_to_salesforce_uses_its_picklist_value() -> None:
    m = mapping()
    hubspot_wins = replace(m, fields=tuple(replace(f, rule="prefer_hubspot_unless_blank") if f.name == "stage" else f
                                           for f in m.fields))
    r = run([deal("9001", **{**DEAL_FIELDS, "dealstage": "qualifiedtobuy"}, salesforce_opportunity_id=opp_id(1))],
            [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001")], m=hubspot_wins)
    assert {k: c.new for k, c in by_field(r).items()} == {("salesforce", "StageName"): "Qualification"}


def test_the_deals_pipeline_selects_the_stage_map() -> None:
    r = run([deal("9001", **{**DEAL_FIELDS, "pipeline": "partners"}, salesforce_opportunity_id=opp_id(1))],
            [opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001")])
    assert {(i.system, i.field) for i in r.issues} == {("hubspot", "dealstage"), ("salesforce", "StageName")}
    assert all("partners" in i.message for i in r.issues)


# --- creates ----------------------------------------------------------------------------------------

def test_an_opportunity_only_in_salesforce_becomes_a_hubspot_deal() -> None:
    o = opp(opp_id(1), **OPP_FIELDS)
    r = run([], [o], [role(1, opp_id(1), contact_id(1), primary=True), role(2, opp_id(1), contact_id(2))])
    group = f"opp-{opp_id(1)}"
    creates = {c.field: c.new for c in r.changes if c.record_id is None}
    assert creates == {"dealname": "Big deal", "amount": "1000.50", "closedate": "1572480000000",
                       "dealstage": "contractsent", "hubspot_owner_id": "101", "pipeline": "default",
                       DEAL_ID_PROPERTY: opp_id(1)}
    assert all((c.system, c.object_type, c.person_id) == ("hubspot", "deals",
                                                          group) for c in r.changes if c.record_id is None)
    [backref] = [c for c in r.changes if c.record_id is not None]
    assert (backref.system, backref.record_id, backref.field, backref.new, backref.person_id) == (
        "salesforce", opp_id(1), OPPORTUNITY_DEAL_ID_FIELD, NewRecordId("hubspot", "deals"), group)
    assert {(a.system, a.deal_id, a.deal_group, a.contact_id) for a in r.associations} == {
        ("hubspot", None, group, "51"), ("hubspot", None, group, "52")}
    assert r.created == {"hubspot": 1, "salesforce": 0} and r.issues == ()


def test_create_in_hubspot_can_be_turned_off() -> None:
    r = run([], [opp(opp_id(1), **OPP_FIELDS)], create_in_hubspot=False)
    assert r.changes == () and "not created in HubSpot" in r.issues[0].message


def test_a_create_missing_a_required_value_is_reported_not_planned() -> None:
    r = run([], [opp(opp_id(1), **{**OPP_FIELDS, "Name": None})])
    assert r.changes == () and r.created["hubspot"] == 0
    assert "dealname" in r.issues[0].message


def test_a_deal_only_in_hubspot_is_reported_by_default() -> None:
    r = run([deal("9001", contacts=["51"], **DEAL_FIELDS)], [])
    assert r.changes == () and r.associations == () and r.created == {"hubspot": 0, "salesforce": 0}
    [issue] = r.issues
    assert (issue.system, issue.record_id) == ("hubspot", "9001")
    assert issue.message == "deal only in HubSpot; not created in Salesforce"


def test_a_deal_only_in_hubspot_is_created_in_salesforce_on_request() -> None:
    contacts = [SourceRecord("salesforce", "Contact", contact_id(2), 1, {"AccountId": "001000000000002AAA"}),
                SourceRecord("salesforce", "Contact", contact_id(1), 1, {"AccountId": None})]
    r = run([deal("9001", contacts=["52", "51"], **DEAL_FIELDS)], [], create_in_salesforce=True,
            salesforce_contacts=contacts)
    group = "deal-9001"
    creates = {c.field: c.new for c in r.changes if c.record_id is None}
    assert creates == {"Name": "Big deal", "Amount": 1000.5, "CloseDate": "2019-10-31",
                       "StageName": "Proposal/Price Quote",
                       "OwnerId": ANN_SF, OPPORTUNITY_DEAL_ID_FIELD: "9001", "AccountId": "001000000000002AAA"}
    [backref] = [c for c in r.changes if c.record_id is not None]
    assert (backref.system, backref.record_id, backref.field, backref.new) == (
        "hubspot", "9001", DEAL_ID_PROPERTY, NewRecordId("salesforce", "Opportunity"))
    assert [(a.system, a.deal_id, a.deal_group, a.contact_id, a.role, a.primary) for a in r.associations] == [
        ("salesforce", None, group, contact_id(1), "Business User", True),
        ("salesforce", None, group, contact_id(2), "Business User", False)]
    assert r.created == {"hubspot": 0, "salesforce": 1} and r.issues == ()


# --- contact roles <-> associations -------------------------------------------------------------------

def linked_pair(contacts: Sequence[str] = ()) -> tuple[SourceRecord, SourceRecord]:
    return (deal("9001", contacts=contacts, **DEAL_FIELDS, salesforce_opportunity_id=opp_id(1)),
            opp(opp_id(1), **OPP_FIELDS, HubSpot_Deal_Id__c="9001"))


def test_a_hubspot_association_adds_a_contact_role_and_a_lead_is_reported() -> None:
    d, o = linked_pair(contacts=["51", "53"])
    r = run([d], [o])
    assert r.changes == ()
    assert r.associations == (AssociationChange("salesforce", opp_id(1), f"opp-{opp_id(1)}", contact_id(1),
                                                "Business User",
                                                True, "HubSpot contact 51 is associated to deal 9001"),)
    [issue] = r.issues
    assert (issue.system, issue.record_id, issue.value) == ("hubspot", "9001", "53") and "Lead" in issue.message


def test_no_primary_when_the_opportunity_has_one() -> None:
    d, o = linked_pair(contacts=["51", "52"])
    r = run([d], [o], [role(1, opp_id(1), "0030000000000099", primary=True)],
            people={**PEOPLE, RecordKey("salesforce", "Contact", "003000000000009AAA"): "p9"})
    assert [(a.contact_id, a.primary) for a in r.associations if a.system == "salesforce"] == [
        (contact_id(1), False), (contact_id(2), False)]


def test_a_contact_role_adds_a_hubspot_association() -> None:
    d, o = linked_pair()
    r = run([d], [o], [role(1, opp_id(1)[:15], contact_id(2)[:15])])
    assert ([(a.system, a.deal_id, a.contact_id, a.role, a.primary) for a in r.associations]
            == [("hubspot", "9001", "52", None, False)])


def test_links_are_only_added_never_removed() -> None:
    # HubSpot has p1 only, Salesforce has a role for p2 only: each side gains the other's, neither loses its own
    d, o = linked_pair(contacts=["51"])
    r = run([d], [o], [role(1, opp_id(1), contact_id(2), primary=True)])
    assert ({(a.system, a.contact_id, a.primary) for a in r.associations}
            == {("hubspot", "52", False), ("salesforce", contact_id(1), False)})
    # a role on an already associated person (through its 15-char id) adds nothing
    d, o = linked_pair(contacts=["51"])
    assert run([d], [o], [role(1, opp_id(1), contact_id(1)[:15])]).associations == ()


def test_contact_roles_can_be_disabled() -> None:
    m = mapping()
    off = replace(m, contact_roles=m.contact_roles.model_copy(update={"enabled": False}))
    d, o = linked_pair(contacts=["51"])
    assert run([d], [o], [role(1, opp_id(1), contact_id(2))], m=off).associations == ()


def test_unknown_contacts_are_reported() -> None:
    d, o = linked_pair(contacts=["77"])
    r = run([d], [o], [role(1, opp_id(1), contact_id(8))])
    assert r.associations == ()
    assert {(i.system, i.value) for i in r.issues} == {("hubspot", "77"), ("salesforce", contact_id(8))}


# --- determinism and convergence ----------------------------------------------------------------------

def scenario() -> tuple[list[SourceRecord], list[SourceRecord], list[SourceRecord]]:
    deals = [
        SourceRecord("hubspot", "deals", "9001", 1_000,
                     {**DEAL_FIELDS, "pipeline": "default", "dealstage": "qualifiedtobuy", "amount": "5",
                      "hubspot_owner_id": "102"}, {"hubspot_owner_id": 9_000}, associations={"contacts": ("51", "53")}),
        deal("9002", **DEAL_FIELDS, salesforce_opportunity_id=opp_id(2)),
        deal("9003", contacts=["52"], **DEAL_FIELDS),  # HubSpot only
        replace(deal("9004", **DEAL_FIELDS), deleted=True),
        replace(deal("9005", **DEAL_FIELDS), merged_into="9002"),
    ]
    opps = [
        opp(opp_id(1), t=2_000, **OPP_FIELDS, HubSpot_Deal_Id__c="9001"),
        opp(opp_id(2), **{**OPP_FIELDS, "Name": "Renamed"}),
        opp(opp_id(3), **OPP_FIELDS),  # Salesforce only
        opp(opp_id(4), **OPP_FIELDS, HubSpot_Deal_Id__c="9004"),  # its deal was deleted
        opp(opp_id(5), **OPP_FIELDS, HubSpot_Deal_Id__c="9001"),  # a clone
    ]
    roles = [role(1, opp_id(1), contact_id(2), primary=True), role(2, opp_id(3), contact_id(1)),
             role(3, opp_id(3), contact_id(2))]
    return deals, opps, roles


def test_results_do_not_depend_on_input_order() -> None:
    deals, opps, roles = scenario()
    expected = run(deals, opps, roles, create_in_salesforce=True)
    assert expected.linked == 2 and expected.created == {"hubspot": 2, "salesforce": 1}
    rng = random.Random(7)
    for _ in range(20):
        for xs in (deals, opps, roles):
            rng.shuffle(xs)
        people = dict(rng.sample(list(PEOPLE.items()), len(PEOPLE)))
        assert run(deals, opps, roles, people=people, create_in_salesforce=True) == expected


def apply(result: DealResult, deals: list[SourceRecord], opps: list[SourceRecord], roles: list[SourceRecord],
          ) -> tuple[list[SourceRecord], list[SourceRecord], list[SourceRecord]]:
    """What the push stage would leave behind: creates get ids, placeholders become them, links are added."""
    records = {(r.system, r.id): r for r in deals + opps}
    new_ids: dict[tuple[str, str, str], str] = {}
    creates: dict[tuple[System, str, str], dict[str, Any]] = {}
    for c in result.changes:
        if c.record_id is None:
            creates.setdefault((c.system, c.object_type, c.person_id), {})[c.field] = c.new
    for n, ((system, obj, group), fields) in enumerate(sorted(creates.items())):
        rid = f"8{n:03d}" if system == "hubspot" else opp_id(900 + n)
        new_ids[(system, obj, group)] = rid
        records[(system, rid)] = SourceRecord(system, obj, rid, 3_000, fields,
                                              associations={"contacts": ()} if system == "hubspot" else {})
    for c in result.changes:
        if c.record_id is not None:
            value = new_ids[(c.new.system, c.new.object_type, c.person_id)] if isinstance(c.new, NewRecordId) else c.new
            rec = records[(c.system, c.record_id)]
            records[(c.system, c.record_id)] = replace(rec, fields={**rec.fields, c.field: value}, modified_at=3_000)
    roles = list(roles)
    for a in result.associations:
        if a.system == "hubspot":
            did = a.deal_id or new_ids[("hubspot", "deals", a.deal_group)]
            rec = records[("hubspot", did)]
            assocs = {**rec.associations, "contacts": (*rec.associations.get("contacts", ()), a.contact_id)}
            records[("hubspot", did)] = replace(rec, associations=assocs)
        else:
            oid = a.deal_id or new_ids[("salesforce", "Opportunity", a.deal_group)]
            roles.append(SourceRecord("salesforce", "OpportunityContactRole", f"00K{len(roles):012d}ZZZ", 3_000,
                                      {"OpportunityId": oid, "ContactId": a.contact_id, "Role": a.role,
                                       "IsPrimary": a.primary}))
    out = list(records.values())
    return [r for r in out if r.system == "hubspot"], [r for r in out if r.system == "salesforce"], roles


def test_applying_the_plan_converges() -> None:
    deals, opps, roles = scenario()
    first = run(deals, opps, roles, create_in_salesforce=True)
    assert first.changes and first.associations
    deals2, opps2, roles2 = apply(first, deals, opps, roles)
    second = run(deals2, opps2, roles2, create_in_salesforce=True)
    assert second.changes == () and second.associations == ()
    assert second.linked == first.linked + sum(first.created.values())
    assert second.created == {"hubspot": 0, "salesforce": 0}
    # what remains are the reports an operator must act on: the Lead-only person and the deleted deal
    assert {(i.record_id, i.field) for i in second.issues} == {("9001", "associations.contacts"),
                                                               (opp_id(4), OPPORTUNITY_DEAL_ID_FIELD)}
