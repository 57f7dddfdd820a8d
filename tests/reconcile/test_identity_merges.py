"""Merges in identity resolution: followed as the system did them, unless two people with live records
on the other side were merged on one side only (then held for review, and nothing is planned for them)."""

from __future__ import annotations

import random
import re
from dataclasses import replace

from connector.reconcile import IdentityResult, RecordKey, SourceRecord, reconcile, resolve_identities
from connector.reconcile.identity import describe_held

from .factories import OWNERS, contact_id, contacts_mapping, hs, lead_id, sf

HS = "hubspot"


def rid(record: SourceRecord | RecordKey | None) -> str | None:
    """The record's id (None when there is no record)."""
    return record.id if record is not None else None


def key(record: SourceRecord) -> RecordKey:
    return record.key


def linked_pairs() -> tuple[list[SourceRecord], dict[RecordKey, str]]:
    """Two people, each a HubSpot contact linked (and cross-referenced) to a Salesforce Contact."""
    heather = [hs("1348", t=5, email="heather@x.com", firstname="Heather", jobtitle="CFO", city="Oslo",
                  salesforce_contact_id=contact_id(1)),
               sf(contact_id(1), "Contact", t=5, Email="heather@x.com", FirstName="Heather", Title="CFO",
                  MailingCity="Oslo", HubSpot_Contact_Id__c="1348")]
    matthew = [hs("2", t=6, email="matthew@x.com", firstname="Matthew", jobtitle="CTO", city="Lyon",
                  salesforce_contact_id=contact_id(2)),
               sf(contact_id(2), "Contact", t=9, Email="matthew@x.com", FirstName="Matthew", Title="CTO",
                  MailingCity="Lyon", HubSpot_Contact_Id__c="2")]
    links = {key(r): "hs-1348" for r in heather} | {key(r): "hs-2" for r in matthew}
    return heather + matthew, links


def hubspot_merge(records: list[SourceRecord], loser: str, survivor: str, *, new_id: str | None = None,
                  **copied: str) -> list[SourceRecord]:
    """The records as the pull stages them after HubSpot merged `loser` into `survivor` (or, with `new_id`,
    both into a new record that lists both old ids); `copied` are values the merge gave the survivor."""
    out = []
    for r in records:
        if r.system == HS and r.id == loser:
            out.append(SourceRecord(HS, "contacts", loser, 100, {}, deleted=True, merged_into=new_id or survivor))
        elif r.system == HS and r.id == survivor:
            merged = ";".join([survivor, loser] if new_id else [loser])
            fields = {**r.fields, "hs_merged_object_ids": merged, **copied}
            if new_id:
                out.append(SourceRecord(HS, "contacts", survivor, 100, {}, deleted=True, merged_into=new_id))
                out.append(SourceRecord(HS, "contacts", new_id, 100, fields))
            else:
                out.append(replace(r, modified_at=100, fields=fields))
        else:
            out.append(r)
    return out


def salesforce_merge(records: list[SourceRecord], loser: str, master: str) -> list[SourceRecord]:
    return [replace(r, deleted=True, merged_into=master, fields={**r.fields, "MasterRecordId": master}, modified_at=100)
            if r.system == "salesforce" and r.id == loser else r for r in records]


def people_by_record(result: IdentityResult) -> dict[str, str]:
    return {k.id: p.person_id for p in result.people for k in p.links}


# -------------------------------------------------------------------- (a) HubSpot merge, both linked


def test_a_hubspot_merge_of_two_people_linked_to_different_salesforce_records_is_held() -> None:
    records, links = linked_pairs()
    merged = hubspot_merge(records, "2", "1348")
    r = resolve_identities(merged, links)
    people = {p.person_id: p for p in r.people}
    heather, matthew = people["hs-1348"], people["hs-2"]
    assert rid(heather.hubspot) == "1348" and rid(heather.salesforce) == contact_id(1) and heather.held
    assert matthew.hubspot is None and rid(matthew.salesforce) == contact_id(2) and matthew.held
    assert RecordKey(HS, "contacts", "2") in matthew.history  # the merged-away id stays with its person
    [held] = r.held
    assert held.survivor.id == "1348" and held.merged.id == "2" and held.people == ("hs-1348", "hs-2")
    assert [k.id for k in held.kept] == [contact_id(1)] and [k.id for k in held.others] == [contact_id(2)]
    [dup] = [d for d in r.duplicates if d.reason.startswith("held")]
    assert rid(dup.kept) == contact_id(1) and [k.id for k in dup.others] == [contact_id(2)]
    # nothing is planned for either of them: not their names, not the cross-references, no create
    result = reconcile(merged, contacts_mapping(), links, OWNERS)
    assert result.changes == ()
    assert {p.person_id for p in result.people} == {"hs-1348", "hs-2"}


def test_a_values_the_merge_copied_onto_the_survivor_do_not_join_the_people() -> None:
    records, links = linked_pairs()
    records = [replace(r, fields={k: v for k, v in r.fields.items() if k != "salesforce_contact_id"})
               if r.id == "1348" else r for r in records]
    # HubSpot filled the survivor's blank cross-reference from the merged-away contact
    merged = hubspot_merge(records, "2", "1348", salesforce_contact_id=contact_id(2))
    r = resolve_identities(merged, links)
    assert {p.person_id: p.held != "" for p in r.people} == {"hs-1348": True, "hs-2": True}
    assert people_by_record(r)[contact_id(2)] == "hs-2" and people_by_record(r)[contact_id(1)] == "hs-1348"
    assert reconcile(merged, contacts_mapping(), links, OWNERS).changes == ()


def test_a_is_released_when_salesforce_merges_too_and_followed_both_ways() -> None:
    records, links = linked_pairs()
    both = salesforce_merge(hubspot_merge(records, "2", "1348"), contact_id(2), contact_id(1))
    r = resolve_identities(both, links)
    [p] = r.people
    assert p.person_id == "hs-1348" and not p.held and r.held == ()
    assert rid(p.hubspot) == "1348" and rid(p.salesforce) == contact_id(1)
    assert {k.id for k in p.history} == {"2", contact_id(2)}
    assert not r.duplicates  # a followed merge is no duplicate
    # merged the other way round in Salesforce: the survivor pairs with Salesforce's survivor
    other = salesforce_merge(hubspot_merge(records, "2", "1348"), contact_id(1), contact_id(2))
    [p] = resolve_identities(other, links).people
    assert rid(p.hubspot) == "1348" and rid(p.salesforce) == contact_id(2) and not p.held
    changes = reconcile(other, contacts_mapping(), links, OWNERS).changes
    xrefs = {(c.system, c.field): c.new for c in changes if "cross-reference" in c.reason}
    assert xrefs == {(HS, "salesforce_contact_id"): contact_id(2), ("salesforce", "HubSpot_Contact_Id__c"): "1348"}


def test_a_is_released_when_the_other_person_gets_a_hubspot_contact_of_their_own() -> None:
    records, links = linked_pairs()
    merged = hubspot_merge(records, "2", "1348") + [hs("77", t=120, firstname="Matthew",
                                                        salesforce_contact_id=contact_id(2))]
    r = resolve_identities(merged, links)
    people = {p.person_id: p for p in r.people}
    assert not any(p.held for p in r.people) and r.held == ()
    assert rid(people["hs-2"].hubspot) == "77" and rid(people["hs-2"].salesforce) == contact_id(2)
    assert rid(people["hs-1348"].salesforce) == contact_id(1)


# -------------------------------------------------------------------- (b) HubSpot merge, one linked


def test_b_a_hubspot_merge_where_only_one_was_linked_is_followed() -> None:
    records, links = linked_pairs()
    heather = [r for r in records if r.id in ("1348", contact_id(1))]
    stray = hs("9", t=7, email="h.work@x.com", jobtitle="Finance")
    links9 = {key(r): links[key(r)] for r in heather} | {key(stray): "hs-9"}
    merged = hubspot_merge(heather + [stray], "9", "1348")
    r = resolve_identities(merged, links9)
    [p] = r.people
    assert p.person_id == "hs-1348" and not p.held and p.history == (RecordKey(HS, "contacts", "9"),)
    assert not r.duplicates
    # and the survivor's person keeps the links when the survivor was the unlinked one
    merged = hubspot_merge(heather + [stray], "1348", "9")
    [p] = resolve_identities(merged, links9).people
    assert p.person_id == "hs-9" and rid(p.hubspot) == "9" and rid(p.salesforce) == contact_id(1) and not p.held
    changes = reconcile(merged, contacts_mapping(), links9, OWNERS).changes
    assert {(c.field, c.new) for c in changes if "cross-reference" in c.reason} == {
        ("salesforce_contact_id", contact_id(1)), ("HubSpot_Contact_Id__c", "9")}


# -------------------------------------------------------------------- (c) HubSpot survivor with a new id


def test_c_a_survivor_with_a_new_id_takes_over_the_links() -> None:
    records, links = linked_pairs()
    heather = [r for r in records if r.id in ("1348", contact_id(1))]
    stray = hs("9", t=7, email="h.work@x.com")
    links9 = {key(r): links[key(r)] for r in heather} | {key(stray): "hs-9"}
    merged = hubspot_merge(heather + [stray], "9", "1348", new_id="5001")
    r = resolve_identities(merged, links9)
    [p] = r.people
    assert rid(p.hubspot) == "5001" and rid(p.salesforce) == contact_id(1) and not p.held
    assert {k.id for k in p.history} == {"1348", "9"} and p.person_id == "hs-1348"
    changes = reconcile(merged, contacts_mapping(), links9, OWNERS).changes
    assert ("salesforce", "HubSpot_Contact_Id__c", "5001") in {(c.system, c.field, c.new) for c in changes}


def test_c_a_new_id_survivor_of_two_linked_people_is_held_and_keeps_its_own_reference() -> None:
    records, links = linked_pairs()
    merged = hubspot_merge(records, "2", "1348", new_id="5001")  # carries 1348's salesforce_contact_id
    r = resolve_identities(merged, links)
    people = {p.person_id: p for p in r.people}
    assert rid(people["hs-1348"].hubspot) == "5001" and rid(people["hs-1348"].salesforce) == contact_id(1)
    assert rid(people["hs-2"].salesforce) == contact_id(2) and people["hs-2"].hubspot is None
    assert all(p.held for p in r.people)
    [held] = r.held
    assert held.survivor.id == "5001" and held.merged.id == "2"
    assert reconcile(merged, contacts_mapping(), links, OWNERS).changes == ()
    # without any cross-reference on the new record: still held, whichever old id is read first
    bare = [replace(x, fields={k: v for k, v in x.fields.items() if k != "salesforce_contact_id"})
            if x.id == "5001" else x for x in merged]
    assert all(p.held for p in resolve_identities(bare, links).people)


# -------------------------------------------------------------------- (d) Salesforce merges


def test_d_a_salesforce_merge_relinks_the_loser_twin_to_the_survivor() -> None:
    records, _ = linked_pairs()
    matthew = [r for r in records if r.id in ("2", contact_id(2))]
    lone = sf(contact_id(3), "Contact", t=4, FirstName="Matt", Title="CTO")  # Salesforce only
    links3 = {key(r): "hs-2" for r in matthew} | {key(lone): f"sf-{contact_id(3)}"}
    merged = salesforce_merge(matthew + [lone], contact_id(2), contact_id(3))
    r = resolve_identities(merged, links3)
    [p] = r.people
    assert rid(p.hubspot) == "2" and rid(p.salesforce) == contact_id(3) and not p.held and not r.duplicates
    assert p.person_id == f"sf-{contact_id(3)}"  # the survivor's person keeps the links
    changes = reconcile(merged, contacts_mapping(), links3, OWNERS).changes
    assert {(c.system, c.field, c.new) for c in changes if "cross-reference" in c.reason} == {
        (HS, "salesforce_contact_id", contact_id(3)), ("salesforce", "HubSpot_Contact_Id__c", "2")}


def test_d_a_salesforce_merge_of_two_people_linked_to_different_hubspot_contacts_is_held() -> None:
    records, links = linked_pairs()
    merged = salesforce_merge(records, contact_id(2), contact_id(1))
    r = resolve_identities(merged, links)
    people = {p.person_id: p for p in r.people}
    assert rid(people["hs-1348"].hubspot) == "1348" and rid(people["hs-1348"].salesforce) == contact_id(1)
    assert rid(people["hs-2"].hubspot) == "2" and people["hs-2"].salesforce is None
    assert all(p.held for p in r.people)
    [held] = r.held
    assert held.system == "salesforce" and held.survivor.id == contact_id(1) and held.merged.id == contact_id(2)
    assert [k.id for k in held.kept] == ["1348"] and [k.id for k in held.others] == ["2"]
    assert reconcile(merged, contacts_mapping(), links, OWNERS).changes == ()
    # a Lead merge works alike
    leads = [replace(x, object_type="Lead", id=lead_id(int(x.id[-4]))) if x.system == "salesforce" else
             replace(x, fields={**{k: v for k, v in x.fields.items() if k != "salesforce_contact_id"},
                                "salesforce_lead_id": lead_id(1 if x.id == "1348" else 2)}) for x in records]
    lead_links = {RecordKey(k.system, "Lead" if k.system == "salesforce" else k.object_type,
                            lead_id(int(k.id[-4])) if k.system == "salesforce" else k.id): v for k, v in links.items()}
    r = resolve_identities(salesforce_merge(leads, lead_id(2), lead_id(1)), lead_links)
    assert all(p.held for p in r.people) and len(r.held) == 1


def test_d_the_survivor_carrying_the_losers_reference_does_not_join_them() -> None:
    records, links = linked_pairs()
    merged = salesforce_merge(records, contact_id(2), contact_id(1))
    merged = [replace(x, fields={**x.fields, "HubSpot_Contact_Id__c": "2"}) if x.id == contact_id(1) else x
              for x in merged]
    r = resolve_identities(merged, links)
    assert people_by_record(r)["1348"] == "hs-1348" and people_by_record(r)["2"] == "hs-2"
    assert all(p.held for p in r.people)


# -------------------------------------------------------------------- hints, order, determinism


def test_the_hint_names_both_ways_out_and_no_personal_data() -> None:
    records, links = linked_pairs()
    for merged in (hubspot_merge(records, "2", "1348"), salesforce_merge(records, contact_id(2), contact_id(1))):
        [held] = resolve_identities(merged, links).held
        message, hint = describe_held(held, contacts_mapping().identity)
        assert "one person" in hint and "two people" in hint and "merge" in hint
        for r in records:
            for value in r.fields.values():
                if isinstance(value, str) and not value.isdigit() and not value.startswith("003"):
                    assert not re.search(rf"\b{re.escape(value)}\b", f"{message} {hint}", re.IGNORECASE), value
    [held] = resolve_identities(hubspot_merge(records, "2", "1348"), links).held
    message, hint = describe_held(held, contacts_mapping().identity)
    assert f"salesforce_contact_id = {contact_id(2)}" in hint
    assert f"merge Contacts {contact_id(2)} and {contact_id(1)}" in hint


def test_held_and_followed_merges_do_not_depend_on_input_order() -> None:
    records, links = linked_pairs()
    extra = [hs("9", t=7, email="h.work@x.com"), sf(contact_id(3), "Contact", t=4, FirstName="Matt")]
    cases = [hubspot_merge(records, "2", "1348"), hubspot_merge(records, "2", "1348", new_id="5001"),
             salesforce_merge(records, contact_id(2), contact_id(1)),
             salesforce_merge(hubspot_merge(records + extra, "9", "1348"), contact_id(2), contact_id(3))]
    rnd = random.Random(5)
    for merged in cases:
        expected = resolve_identities(merged, links)
        for _ in range(5):
            shuffled = merged[:]
            rnd.shuffle(shuffled)
            assert resolve_identities(shuffled, links) == expected


def test_people_held_apart_are_not_joined_by_email() -> None:
    records, links = linked_pairs()
    merged = hubspot_merge(records, "2", "1348")
    # the other person's Salesforce record now shares the survivor's address
    merged = [replace(x, fields={**x.fields, "Email": "heather@x.com"}) if x.id == contact_id(2) else x for x in merged]
    r = resolve_identities(merged, links)
    assert len(r.people) == 2 and all(p.held for p in r.people)
