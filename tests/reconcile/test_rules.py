"""Every conflict rule, including ties and blanks."""

from __future__ import annotations

from connector.reconcile.rules import RULES, Candidate, RuleContext

CTX = RuleContext()


def hc(value: object, t: int = 1, basis: str = "record") -> Candidate:
    return Candidate("hubspot", value, "1", t, basis)  # type: ignore[arg-type]


def sc(value: object, t: int = 1, basis: str = "record") -> Candidate:
    return Candidate("salesforce", value, "00Q", t, basis)  # type: ignore[arg-type]


def test_registry_names_every_rule() -> None:
    assert set(RULES) == {
        "prefer_salesforce_unless_blank", "prefer_hubspot_unless_blank", "always_salesforce",
        "always_hubspot", "most_recent", "most_restrictive", "fill_blank_only",
    }


def test_prefer_salesforce_unless_blank() -> None:
    rule = RULES["prefer_salesforce_unless_blank"]
    assert rule(hc("a"), sc("b"), CTX).value == "b"
    assert rule(hc("a"), sc(None), CTX).value == "a"
    assert rule(hc("a"), None, CTX).value == "a"
    assert rule(None, sc("b"), CTX).value == "b"


def test_prefer_hubspot_unless_blank() -> None:
    rule = RULES["prefer_hubspot_unless_blank"]
    assert rule(hc("a"), sc("b"), CTX).value == "a"
    assert rule(hc(None), sc("b"), CTX).value == "b"
    assert rule(None, sc("b"), CTX).winner.system == "salesforce"


def test_always_rules_take_their_system_even_blank_when_both_given() -> None:
    assert RULES["always_salesforce"](hc("a", 9), sc("b", 1), CTX).value == "b"
    assert RULES["always_salesforce"](hc("a"), sc(None), CTX).value is None  # only reached with allow_blanking
    assert RULES["always_salesforce"](hc("a"), None, CTX).value == "a"
    assert RULES["always_hubspot"](hc("a", 1), sc("b", 9), CTX).value == "a"
    assert RULES["always_hubspot"](None, sc("b"), CTX).value == "b"


def test_most_recent_uses_times_and_reports_basis() -> None:
    rule = RULES["most_recent"]
    d = rule(hc("a", 5, "field"), sc("b", 3), CTX)
    assert (d.value, d.time_basis) == ("a", "record")
    d = rule(hc("a", 5, "field"), sc("b", 7, "field"), CTX)
    assert (d.value, d.time_basis) == ("b", "field")
    d = rule(hc("a", 5, "field"), None, CTX)
    assert (d.value, d.time_basis) == ("a", "field")


def test_most_recent_tie_goes_to_the_tie_breaker() -> None:
    rule = RULES["most_recent"]
    assert rule(hc("a", 5), sc("b", 5), CTX).winner.system == "salesforce"
    assert rule(hc("a", 5), sc("b", 5), RuleContext("hubspot")).winner.system == "hubspot"


def test_most_restrictive_true_anywhere_wins() -> None:
    rule = RULES["most_restrictive"]
    assert rule(hc(True, 1), sc(False, 9), CTX).value is True
    assert rule(hc(False, 9), sc(True, 1), CTX).value is True
    assert rule(hc(False), sc(False), CTX).value is False
    assert rule(hc(None), sc(False), CTX).value is False
    assert rule(None, sc(None), CTX).value is None


def test_fill_blank_only_keeps_the_first_value() -> None:
    rule = RULES["fill_blank_only"]
    assert rule(hc("a", 1), sc("b", 2), CTX).value == "a"
    assert rule(hc("a", 3), sc("b", 2), CTX).value == "b"
    assert rule(hc("a", 2), sc("b", 2), CTX).value == "b"  # tie -> tie breaker
    assert rule(hc(None), sc("b"), CTX).value == "b"
    assert rule(hc("a"), None, CTX).value == "a"
    assert rule(hc("a", 9), sc("b", 1), RuleContext(direction="to_hubspot")).value == "a"  # destination keeps its value
    assert rule(hc("a", 1), sc("b", 9), RuleContext(direction="to_salesforce")).value == "b"
