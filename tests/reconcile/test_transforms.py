"""Each transform both ways, plus the blank and error behaviour of chains."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.reconcile.errors import TransformError
from connector.reconcile.transforms import (
    Boolean, Case, Chain, Country, DateTimeValue, DateValue, EmployeeRange, Integer, Number, Owner,
    Phone, StageMap, TransformContext, Trim, ValueMap, blank_for, is_blank,
)

from .factories import OWNERS

CTX = TransformContext(OWNERS)


def test_blank_values_become_none_and_encode_to_each_systems_blank() -> None:
    chain = Chain([Trim()])
    for blank in (None, "", "   "):
        assert chain.decode(blank, "hubspot", CTX) is None
    assert chain.encode(None, "hubspot", CTX) == "" and chain.encode(None, "salesforce", CTX) is None
    assert is_blank(" ") and not is_blank(0) and not is_blank(False)
    assert blank_for("hubspot") == "" and blank_for("salesforce") is None


def test_trim_and_case() -> None:
    assert Chain([Trim(), Case("lower")]).decode("  Bob@X.COM ", "hubspot", CTX) == "bob@x.com"
    assert Case("upper").decode("ab", "hubspot", CTX) == "AB"
    assert Case("title").decode("new york", "hubspot", CTX) == "New York"
    assert Chain([Trim()]).decode(" \t ", "hubspot", CTX) is None


@pytest.mark.parametrize("raw", ["+1 (415) 555-0100", "14155550100", "(415) 555-0100", "415.555.0100", "+14155550100"])
def test_phone_formats_meet_in_e164(raw: str) -> None:
    assert Phone("US").decode(raw, "salesforce", CTX) == "+14155550100"


def test_phone_default_region_and_unparseable_are_reported() -> None:
    assert Phone("DE").decode("030 1234567", "hubspot", CTX) == "+49301234567"
    with pytest.raises(TransformError, match="not a possible phone number"):
        Phone("US").decode("n/a", "hubspot", CTX)
    with pytest.raises(TransformError):
        Phone("US").decode("12", "hubspot", CTX)


@pytest.mark.parametrize(("raw", "name", "alpha2"), [
    ("USA", "United States", "US"), ("United States", "United States", "US"), ("us", "United States", "US"),
    ("Deutschland", "Germany", "DE"), ("DEU", "Germany", "DE"), ("uk", "United Kingdom", "GB"),
])
def test_country_names_and_codes(raw: str, name: str, alpha2: str) -> None:
    assert Country("name").decode(raw, "hubspot", CTX) == name
    assert Country("alpha2").decode(raw, "salesforce", CTX) == alpha2
    assert Country("alpha3").decode(raw, "salesforce", CTX) == Country("alpha3").decode(alpha2, "hubspot", CTX)


def test_unknown_country_is_an_error() -> None:
    with pytest.raises(TransformError, match="not a known country"):
        Country().decode("Atlantis", "hubspot", CTX)


def test_dates_from_ms_iso_and_plain_dates() -> None:
    d = DateValue()
    assert d.decode("1572480000000", "hubspot", CTX) == "2019-10-31"
    assert d.decode("2019-10-31T00:00:00.000Z", "hubspot", CTX) == "2019-10-31"
    assert d.decode("2019-10-31", "salesforce", CTX) == "2019-10-31"
    assert d.encode("2019-10-31", "hubspot", CTX) == "1572480000000"
    assert d.encode("2019-10-31", "salesforce", CTX) == "2019-10-31"
    with pytest.raises(TransformError):
        d.decode("31/10/2019", "hubspot", CTX)


def test_datetimes_round_trip_both_ways() -> None:
    dt = DateTimeValue()
    ms = dt.decode("2024-01-17T19:55:04.281Z", "hubspot", CTX)
    assert ms == 1705521304281
    assert dt.decode("2024-01-17T19:55:04.281+0000", "salesforce", CTX) == ms
    assert dt.encode(ms, "salesforce", CTX) == "2024-01-17T19:55:04.281+0000"
    assert dt.encode(ms, "hubspot", CTX) == "1705521304281"


def test_numbers_and_currency() -> None:
    n = Number(2)
    assert n.decode("1,234.5", "hubspot", CTX) == Decimal("1234.50")
    assert n.decode(1234.5, "salesforce", CTX) == n.decode("1234.50", "hubspot", CTX)
    assert Number().decode(100.0, "salesforce", CTX) == Number().decode("100", "hubspot", CTX)
    assert Number().encode(Decimal("100"), "hubspot", CTX) == "100"
    assert Number().encode(Decimal("100"), "salesforce", CTX) == 100
    assert Number().encode(Decimal("12.5"), "salesforce", CTX) == 12.5
    assert Number().encode(Decimal("12.5"), "hubspot", CTX) == "12.5"
    with pytest.raises(TransformError):
        Number().decode("12 apples", "hubspot", CTX)
    with pytest.raises(TransformError):
        Number().decode(True, "salesforce", CTX)


def test_integer() -> None:
    assert Integer().decode("12", "hubspot", CTX) == 12 == Integer().decode(12.0, "salesforce", CTX)
    assert Integer().encode(12, "hubspot", CTX) == "12"
    with pytest.raises(TransformError, match="whole number"):
        Integer().decode("1.5", "hubspot", CTX)


def test_boolean() -> None:
    b = Boolean()
    assert b.decode("true", "hubspot", CTX) is True and b.decode(False, "salesforce", CTX) is False
    assert b.encode(True, "hubspot", CTX) == "true" and b.encode(False, "salesforce", CTX) is False
    with pytest.raises(TransformError):
        b.decode("maybe", "hubspot", CTX)


def test_owner_maps_through_email() -> None:
    o = Owner()
    assert o.decode("101", "hubspot", CTX) == "ann@corp.example"
    assert o.decode("005000000000001AAA", "salesforce", CTX) == "ann@corp.example"
    assert o.encode("ann@corp.example", "salesforce", CTX) == "005000000000001AAA"
    assert o.encode("ann@corp.example", "hubspot", CTX) == "101"
    with pytest.raises(TransformError, match="no hubspot owner"):
        o.decode("999", "hubspot", CTX)
    with pytest.raises(TransformError, match="no salesforce owner has this email"):
        o.encode("ghost@corp.example", "salesforce", CTX)


def test_value_map_per_direction_with_defaults() -> None:
    vm = ValueMap({"NEW": "Open - Not Contacted"}, {"Open - Not Contacted": "NEW"}, "Working - Contacted", None)
    assert vm.decode("NEW", "hubspot", CTX) == "NEW"
    assert vm.decode("Open - Not Contacted", "salesforce", CTX) == "NEW"
    assert vm.encode("NEW", "salesforce", CTX) == "Open - Not Contacted"
    assert vm.encode("CONNECTED", "salesforce", CTX) == "Working - Contacted"  # default
    with pytest.raises(TransformError, match="no default_to_hubspot"):
        vm.decode("Closed - Converted", "salesforce", CTX)


def test_employee_range() -> None:
    e = EmployeeRange()
    assert e.decode(37, "salesforce", CTX) == "25-50"
    assert e.decode(5000, "salesforce", CTX) == "1000+"
    assert e.decode("25-50", "hubspot", CTX) == "25-50"
    assert e.encode("25-50", "salesforce", CTX) == 25 and e.encode("1000+", "salesforce", CTX) == 1000
    with pytest.raises(TransformError):
        e.decode("lots", "hubspot", CTX)


def test_stage_map_uses_the_pipeline_from_context() -> None:
    sm = StageMap({"default": ValueMap({"closedwon": "Closed Won"}, {"Closed Won": "closedwon"})})
    assert sm.encode("closedwon", "salesforce", CTX) == "Closed Won"
    assert sm.decode("Closed Won", "salesforce", CTX) == "closedwon"
    with pytest.raises(TransformError, match="no stage map for pipeline"):
        sm.decode("Closed Won", "salesforce", TransformContext(OWNERS, pipeline="partners"))


def test_chain_encodes_in_reverse_order() -> None:
    chain = Chain([Trim(), ValueMap({"A": "Alpha"}, {"Alpha": "A"})])
    assert chain.decode(" Alpha ", "salesforce", CTX) == "A"
    assert chain.encode("A", "salesforce", CTX) == "Alpha"
