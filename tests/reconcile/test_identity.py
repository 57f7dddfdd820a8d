"""Identity resolution: each path, conversion, merges, duplicates, determinism."""

from __future__ import annotations

from typing import Any

from connector.reconcile import IdentityResult, PersonGroup, RecordKey, SourceRecord, resolve_identities

from .factories import contact_id, hs, lead_id, sf


def one(result: IdentityResult) -> PersonGroup:
    assert len(result.people) == 1, result.people
    return result.people[0]


def hs_id(p: PersonGroup) -> str | None:
    return p.hubspot.id if p.hubspot is not None else None


def sf_id(p: PersonGroup) -> str | None:
    return p.salesforce.id if p.salesforce is not None else None


def test_stored_links_win() -> None:
    links = {RecordKey("hubspot", "contacts", "1"): "p1", RecordKey("salesforce", "Lead", lead_id(7)): "p1"}
    p = one(resolve_identities([hs("1", email="a@x.com"), sf(lead_id(7), Email="other@x.com")], links))
    assert p.person_id == "p1" and hs_id(p) == "1" and sf_id(p) == lead_id(7)


def test_cross_reference_ids_both_ways_and_15_char_ids() -> None:
    r = resolve_identities([hs("1", salesforce_lead_id=lead_id(7)[:15]), sf(lead_id(7), Email="x@x.com")])
    assert sf_id(one(r)) == lead_id(7)
    r = resolve_identities([hs("2"), sf(contact_id(3), "Contact", HubSpot_Contact_Id__c="2")])
    p = one(r)
    assert hs_id(p) == "2" and p.person_id == "hs-2"


def test_lead_conversion_contact_takes_over_lead_stays_history() -> None:
    lead = sf(lead_id(1), Email="a@x.com", IsConverted=True, ConvertedContactId=contact_id(2),
              Status="Closed - Converted")
    contact = sf(contact_id(2), "Contact", Email="new@x.com")
    p = one(resolve_identities([lead, contact, hs("9", salesforce_lead_id=lead_id(1))]))
    assert sf_id(p) == contact_id(2) and hs_id(p) == "9"
    assert p.history == (RecordKey("salesforce", "Lead", lead_id(1)),)
    assert p.duplicates == ()


def test_hubspot_merge_both_forms() -> None:
    loser = hs("5", email="a@x.com")
    survivor = hs("6", email="b@x.com", hs_merged_object_ids="5;4")
    p = one(resolve_identities([loser, survivor]))
    assert hs_id(p) == "6" and p.history == (RecordKey("hubspot", "contacts", "5"),)
    from dataclasses import replace
    p = one(resolve_identities([replace(hs("5"), merged_into="6"), hs("6")]))
    assert hs_id(p) == "6"


def test_salesforce_merge_via_master_record_id() -> None:
    loser = sf(lead_id(1), Email="a@x.com", MasterRecordId=lead_id(2))
    from dataclasses import replace
    loser = replace(loser, deleted=True)
    p = one(resolve_identities([loser, sf(lead_id(2), Email="b@x.com")]))
    assert sf_id(p) == lead_id(2) and p.history == (loser.key,)


def test_email_match_is_trimmed_and_casefolded() -> None:
    p = one(resolve_identities([hs("1", email=" Ann@X.com "), sf(lead_id(1), Email="ann@x.COM")]))
    assert hs_id(p) == "1" and sf_id(p) == lead_id(1)


def test_email_match_can_be_turned_off() -> None:
    from connector.reconcile.mapping import IdentitySpec
    r = resolve_identities([hs("1", email="a@x.com"), sf(lead_id(1), Email="a@x.com")], None,
                           IdentitySpec(match_on_email=False))
    assert len(r.people) == 2


def test_duplicates_are_reported_not_merged_contact_over_lead() -> None:
    recs = [hs("1", email="a@x.com"), sf(lead_id(1), t=9, Email="a@x.com"),
            sf(contact_id(1), "Contact", t=1, Email="a@x.com"),
            sf(lead_id(2), t=5, Email="A@x.com")]
    r = resolve_identities(recs)
    p = one(r)
    assert sf_id(p) == contact_id(1)
    assert set(p.duplicates) == {RecordKey("salesforce", "Lead", lead_id(1)),
                                 RecordKey("salesforce", "Lead", lead_id(2))}
    [d] = r.duplicates
    assert d.kept == RecordKey("salesforce", "Contact", contact_id(1)) and "Contact over Lead" in d.reason


def test_duplicate_choice_then_most_recent_then_lowest_id() -> None:
    r = resolve_identities([sf(lead_id(1), t=1, Email="a@x.com"), sf(lead_id(2), t=5, Email="a@x.com")])
    assert sf_id(one(r)) == lead_id(2)
    r = resolve_identities([sf(lead_id(3), t=5, Email="a@x.com"), sf(lead_id(2), t=5, Email="a@x.com")])
    assert sf_id(one(r)) == lead_id(2)


def test_the_cross_referenced_record_stays_primary_when_a_duplicate_is_edited() -> None:
    """Two Leads of one person; the older one holds the HubSpot id (unique in Salesforce). Editing the other
    must not make it primary: the plan would write the HubSpot id onto it, which Salesforce refuses as a
    duplicate value, and the primary would flip with every edit."""
    links = {RecordKey("hubspot", "contacts", "1"): "p1", RecordKey("salesforce", "Lead", lead_id(1)): "p1",
             RecordKey("salesforce", "Lead", lead_id(2)): "p1"}
    cases: list[tuple[SourceRecord, dict[str, Any]]] = [
        (sf(lead_id(1), t=1, Email="a@x.com", HubSpot_Contact_Id__c="1"), {}),
        (sf(lead_id(1), t=1, Email="a@x.com"), {"salesforce_lead_id": lead_id(1)})]
    for holder, hs_ref in cases:
        edited = sf(lead_id(2), t=9, Email="a@x.com")
        r = resolve_identities([hs("1", email="a@x.com", **hs_ref), holder, edited], links)
        p = one(r)
        assert sf_id(p) == lead_id(1)
        assert p.duplicates == (RecordKey("salesforce", "Lead", lead_id(2)),)
        assert "cross-referenced" in r.duplicates[0].reason
    # Contact over Lead still comes first
    r = resolve_identities([hs("1", email="a@x.com"), sf(lead_id(1), t=1, Email="a@x.com", HubSpot_Contact_Id__c="1"),
                            sf(contact_id(2), "Contact", t=1, Email="a@x.com")], links)
    assert sf_id(one(r)) == contact_id(2)


def test_email_never_joins_people_kept_apart_by_links() -> None:
    links = {RecordKey("hubspot", "contacts", "1"): "p1", RecordKey("hubspot", "contacts", "2"): "p2"}
    r = resolve_identities([hs("1", email="a@x.com"), hs("2", email="a@x.com")], links)
    assert [p.person_id for p in r.people] == ["p1", "p2"]
    [d] = r.duplicates
    assert "shared by people" in d.reason and d.kept is None


def test_email_never_joins_two_paired_people() -> None:
    recs = [hs("1", email="a@x.com"), sf(lead_id(1), HubSpot_Contact_Id__c="1"),
            hs("2", email="a@x.com"), sf(lead_id(2), HubSpot_Contact_Id__c="2")]
    r = resolve_identities(recs)
    assert len(r.people) == 2 and len(r.duplicates) == 1


def test_stored_people_joined_by_a_strong_signal_keep_the_smallest_id() -> None:
    links = {RecordKey("hubspot", "contacts", "1"): "p2", RecordKey("salesforce", "Lead", lead_id(1)): "p1"}
    r = resolve_identities([hs("1", salesforce_lead_id=lead_id(1)), sf(lead_id(1))], links)
    assert one(r).person_id == "p1" and "are one person now" in r.duplicates[0].reason


def test_deleted_only_people_are_dropped_and_other_objects_ignored() -> None:
    from dataclasses import replace
    from connector.reconcile import SourceRecord
    r = resolve_identities([replace(hs("1"), deleted=True), SourceRecord("hubspot", "deals", "9", 1, {})])
    assert r.people == ()


def test_order_independent() -> None:
    recs = [hs("1", email="a@x.com"), sf(lead_id(1), Email="a@x.com"), sf(lead_id(2), Email="a@x.com"),
            hs("3", email="c@x.com")]
    assert resolve_identities(recs) == resolve_identities(list(reversed(recs)))
