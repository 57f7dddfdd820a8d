"""`[inclusion] only_when` (issue 19): who may be created in the other system, said in scoring.toml's test
language on unified fields; checked when the file loads, applied in both directions with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector.reconcile import MappingError, parse_contacts, reconcile
from connector.reconcile.plan import should_create_in_hubspot, should_create_in_salesforce

from .factories import MAPPINGS_DIR, OWNERS, hs, lead_id, sf

SHIPPED = (Path(MAPPINGS_DIR) / "contacts.toml").read_text()


def _with(only_when: str) -> str:
    return SHIPPED.replace("\nonly_when = []\n", f"\nonly_when = {only_when}\n", 1)


def test_conditions_are_checked_when_the_file_loads() -> None:
    with pytest.raises(MappingError) as info:
        parse_contacts(_with('[{ field = "contry", in = ["US"] }, { field = "country", in = ["US"], blank = true },'
                             ' { field = "employees", regex = "(" }]'))
    text = "\n".join(str(p) for p in info.value.problems)
    assert "inclusion.only_when[0].field: unknown unified field 'contry'" in text and "did you mean 'country'" in text
    assert "inclusion.only_when[1]: a condition needs exactly one test, found 2 (in, blank)" in text
    assert "inclusion.only_when[2].regex: not a valid regular expression" in text


def test_a_person_the_conditions_leave_out_is_not_created_either_way_and_says_why() -> None:
    # the unified value is tested (HubSpot's form here: "United States"), whichever system the person is in
    mapping = parse_contacts(_with('[{ field = "country", in = ["United States", "Canada"] }, '
                                   '{ field = "employees", min = 50 }]'))
    assert [c.text for c in mapping.only_when] == ["country in [canada, united states]", "employees >= 50"]
    ready: dict[str, Any] = {"email": "x@acme.io", "lifecyclestage": "salesqualifiedlead",
             "hs_legal_basis": "Legitimate interest – prospect/lead"}
    contact = hs("1", **ready)
    assert should_create_in_salesforce(contact, mapping, {"country": "United States", "employees": "100-500"}) == (
        True, "included")
    assert should_create_in_salesforce(contact, mapping, {"country": "Germany", "employees": 900}) == (
        False, "inclusion.only_when: not country in [canada, united states]")
    assert should_create_in_hubspot(sf(lead_id(1), Email="y@acme.io"), mapping, {"country": "Canada"}) == (
        False, "inclusion.only_when: not employees >= 50")
    # end to end in the core: the German contact is not planned into Salesforce, the American one is
    result = reconcile([hs("1", **ready, lastname="A", country="Germany", numemployees="100-500"),
                        hs("2", **{**ready, "email": "z@acme.io"}, lastname="B", country="United States",
                           numemployees="100-500")], mapping, owners=OWNERS)
    created_for = {c.person_id for c in result.changes if c.system == "salesforce" and c.record_id is None}
    people = {p.person_id: p for p in result.people}
    assert {str(people[pid].fields["country"].value) for pid in created_for} == {"United States"}
