"""The pure decisions of the look-up before a create: create, adopt, link or hold, and the plan left."""

from __future__ import annotations

import random
from typing import Any

from connector.push.matching import (
    Candidate,
    Wanted,
    decide,
    ref_key,
    wanted_creates,
    without_people,
)
from connector.reconcile.writes import RecordWrite, WritePlan
from connector.reconcile.records import NewRecordId, RecordKey

ID_FIELDS = {("salesforce", "Lead"): ("HubSpot_Contact_Id__c",), ("salesforce", "Contact"): ("HubSpot_Contact_Id__c",),
             ("hubspot", "contacts"): ("salesforce_contact_id", "salesforce_lead_id")}
LEAD_A = "00Q000000000001AAA"
LEAD_B = "00Q000000000002AAA"
CONTACT_A = "003000000000001AAA"


def sf_create(person: str, hubspot_id: str, email: str | None = "Ann@Example.com ", obj: str = "Lead") -> RecordWrite:
    values: dict[str, Any] = {"LastName": "Ann", "HubSpot_Contact_Id__c": hubspot_id}
    if email is not None:
        values["Email"] = email
    return RecordWrite("salesforce", obj, None, person, values)


def hs_create(person: str, lead_id: str, email: str = "bob@example.com") -> RecordWrite:
    return RecordWrite("hubspot", "contacts", None, person, {"email": email, "salesforce_lead_id": lead_id})


def wanted(write: RecordWrite) -> Wanted:
    return wanted_creates([write], ID_FIELDS)[0]


def lead(record_id: str, email: str | None = "ann@example.com", hubspot_id: str | None = None) -> Candidate:
    return Candidate(RecordKey("salesforce", "Lead", record_id), email,
                     {"HubSpot_Contact_Id__c": hubspot_id} if hubspot_id else {})


def contact(record_id: str, email: str | None = "ann@example.com") -> Candidate:
    return Candidate(RecordKey("salesforce", "Contact", record_id), email, {})


def test_the_keys_are_the_normalised_email_and_the_cross_reference_the_create_is_upserted_on() -> None:
    w = wanted(sf_create("p1", "101"))
    assert (w.email, w.ref_field, w.ref) == ("ann@example.com", "HubSpot_Contact_Id__c", "101")
    h = wanted(hs_create("p2", LEAD_A))
    assert (h.email, h.ref_field, h.ref) == ("bob@example.com", "salesforce_lead_id", LEAD_A)
    assert wanted_creates([sf_create("p1", "101")], ID_FIELDS, by_email=False)[0].email is None
    assert wanted(sf_create("p1", "101", email="  ")).email is None
    update = RecordWrite("salesforce", "Lead", LEAD_A, "p1", {"Email": "x@y.z"})
    assert wanted_creates([update], ID_FIELDS) == []


def test_nothing_found_means_create() -> None:
    [d] = decide([wanted(sf_create("p1", "101"))], [contact(CONTACT_A, "someone.else@example.com")], {})
    assert d.verdict == "create" and d.found == ()


def test_a_record_with_the_email_that_nobody_claims_is_linked() -> None:
    [d] = decide([wanted(sf_create("p1", "101"))], [lead(LEAD_A)], {})
    assert d.verdict == "link" and d.found == (RecordKey("salesforce", "Lead", LEAD_A),)


def test_the_connectors_own_earlier_create_is_adopted() -> None:
    # found by its cross-reference alone: the e-mail was changed since, or the create carried none
    [d] = decide([wanted(sf_create("p1", "101", email=None))], [lead(LEAD_A, "changed@example.com", "101")], {})
    assert d.verdict == "adopt" and d.found == (RecordKey("salesforce", "Lead", LEAD_A),)
    # a HubSpot contact holding the Lead's id in its 15-character form is the same record
    found = Candidate(RecordKey("hubspot", "contacts", "77"), "bob@example.com", {"salesforce_lead_id": LEAD_A[:15]})
    [h] = decide([wanted(hs_create("p2", LEAD_A))], [found], {})
    assert h.verdict == "adopt" and h.found == (RecordKey("hubspot", "contacts", "77"),)


def test_adoption_needs_one_record_of_the_planned_object() -> None:
    as_contact = Candidate(RecordKey("salesforce", "Contact", CONTACT_A), "ann@example.com",
                           {"HubSpot_Contact_Id__c": "101"})
    [d] = decide([wanted(sf_create("p1", "101"))], [as_contact], {})
    assert d.verdict == "link"
    [two] = decide([wanted(sf_create("p1", "101"))], [lead(LEAD_A, hubspot_id="101"), contact(CONTACT_A)], {})
    assert two.verdict == "link"  # identity picks the primary next cycle (Contact over Lead) and lists the other
    assert set(two.found) == {RecordKey("salesforce", "Lead", LEAD_A), RecordKey("salesforce", "Contact", CONTACT_A)}


def test_a_record_linked_to_another_person_holds_the_create() -> None:
    owners = {ref_key("salesforce", LEAD_A): "p9"}
    [d] = decide([wanted(sf_create("p1", "101"))], [lead(LEAD_A)], owners)
    assert d.verdict == "hold" and "linked to another person" in d.reason and LEAD_A in d.reason
    assert "ann" not in d.reason.lower()  # ids only: no personal data in what is parked and shown
    [same] = decide([wanted(sf_create("p1", "101"))], [lead(LEAD_A)], {ref_key("salesforce", LEAD_A): "p1"})
    assert same.verdict == "link"


def test_a_record_cross_referencing_another_persons_record_holds_the_create() -> None:
    found = lead(LEAD_A, hubspot_id="202")
    [d] = decide([wanted(sf_create("p1", "101"))], [found], {ref_key("hubspot", "202"): "p9"})
    assert d.verdict == "hold" and "cross-references" in d.reason
    # pointing at a record the store does not know, or one of this person's own: linked
    assert decide([wanted(sf_create("p1", "101"))], [found], {})[0].verdict == "link"
    assert decide([wanted(sf_create("p1", "101"))], [found], {ref_key("hubspot", "202"): "p1"})[0].verdict == "link"


def test_a_record_found_for_two_creates_goes_to_the_first_person_and_holds_the_other() -> None:
    a = wanted(sf_create("p1", "101"))
    b = wanted(sf_create("p2", "102"))
    candidates = [lead(LEAD_A), lead(LEAD_B, "other@example.com")]
    expected = decide([a, b], candidates, {})
    assert [(d.wanted.write.person_id, d.verdict) for d in expected] == [("p1", "link"), ("p2", "hold")]
    rnd = random.Random(5)
    for _ in range(10):  # the same whatever the order of the inputs
        ws, cs = [a, b], list(candidates)
        rnd.shuffle(ws)
        rnd.shuffle(cs)
        assert decide(ws, cs, {}) == expected


def test_records_of_the_other_system_never_match() -> None:
    other = Candidate(RecordKey("hubspot", "contacts", "5"), "ann@example.com", {})
    assert decide([wanted(sf_create("p1", "101"))], [other], {})[0].verdict == "create"


def test_the_plan_left_drops_deferred_people_and_adopted_creates_only() -> None:
    create_1 = sf_create("p1", "101")
    backref_1 = RecordWrite("hubspot", "contacts", "101", "p1",
                            {"salesforce_lead_id": NewRecordId("salesforce", "Lead")})
    create_2 = sf_create("p2", "102")
    update_2 = RecordWrite("hubspot", "contacts", "102", "p2", {"jobtitle": "CEO"})
    update_3 = RecordWrite("hubspot", "contacts", "103", "p3", {"jobtitle": "CTO"})
    held = RecordWrite("salesforce", "Lead", LEAD_B, "p1", {"Title": "x"})
    plan = WritePlan((create_1, create_2), (backref_1, update_2, update_3), (held,))
    left = without_people(plan, {"p2"}, {create_1.key})
    assert left.creates == () and left.updates == (backref_1, update_3) and left.held == (held,)
