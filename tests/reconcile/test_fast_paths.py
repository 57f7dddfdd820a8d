"""The resolver's shortcuts decide exactly as the general code they stand for."""

from __future__ import annotations

import itertools

import pytest

from connector.reconcile import RULES, Candidate, FieldChange, OwnerDirectory, RuleContext, TransformError
from connector.reconcile.records import _field_change
from connector.reconcile.resolve import _FAST_RULES
from connector.reconcile.transforms import (
    CallContext,
    Chain,
    EmployeeRange,
    Owner,
    Phone,
    TransformContext,
    Trim,
    Truncate,
    Url,
    UrlText,
    ValueMap,
    _e164,
    _nanp_fast,
)

from .factories import OWNERS

VALUES = [None, True, False, "a", "b", 0, 1]


@pytest.mark.parametrize("name", sorted(RULES))
def test_each_builtin_rule_has_a_shortcut_that_decides_as_it_does(name: str) -> None:
    rule = RULES[name]
    fast = _FAST_RULES[rule]
    for hv, sv, ht, st, hb, sb, tie, direction in itertools.product(
        VALUES, VALUES, (1, 2), (1, 2), ("field", "record"), ("field", "record"),
        ("hubspot", "salesforce"), ("both", "to_hubspot", "to_salesforce", "none"),
    ):
        hc = Candidate("hubspot", hv, "h", ht, hb)  # type: ignore[arg-type]
        sc = Candidate("salesforce", sv, "s", st, sb)  # type: ignore[arg-type]
        d = rule(hc, sc, RuleContext(tie, direction))  # type: ignore[arg-type]
        hs_wins, basis = fast(hv, sv, ht, st, hb, sb, tie, direction)
        assert (d.winner is hc, d.time_basis) == (hs_wins, basis), (name, hv, sv, ht, st, hb, sb, tie, direction)
        assert d.value is (hv if hs_wins else sv)


def test_memos_give_what_the_transforms_give() -> None:
    chain = Chain([Trim(), Phone("US")])
    ctx = TransformContext(OWNERS)
    assert chain.hubspot_cache is chain.salesforce_cache  # decoding ignores the system: one memo
    for raw in ["(415) 555-0100", " +1 415 555 0100 ", "call me", "", 4155550100]:
        for system in ("hubspot", "salesforce"):
            try:
                expected: object = chain.decode(raw, system, ctx)
            except Exception as exc:  # noqa: BLE001 - the same error, memoised or not
                expected = str(exc)
            for _ in range(2):
                try:
                    got: object = chain.decode_fast(raw, system, ctx)
                except Exception as exc:  # noqa: BLE001
                    got = str(exc)
                assert got == expected


def test_context_dependent_memo_lives_for_one_call_context() -> None:
    chain = Chain([Owner()])
    assert not chain.cacheable
    first = CallContext(OWNERS)
    assert chain.decode_fast("005000000000001AAA", "salesforce", first) == "ann@corp.example"
    other = CallContext(OwnerDirectory(salesforce={"005000000000001AAA": "zed@corp.example"}))
    assert chain.decode_fast("005000000000001AAA", "salesforce", other) == "zed@corp.example"
    assert chain.encode_fast("zed@corp.example", "salesforce", other) == "005000000000001AAA"
    plain = TransformContext(OwnerDirectory(salesforce={"005000000000001AAA": "amy@corp.example"}))
    assert chain.decode_fast("005000000000001AAA", "salesforce", plain) == "amy@corp.example"  # never memoised


def test_holds_answers_from_the_encode_memo_failures_included(monkeypatch: pytest.MonkeyPatch) -> None:
    values = ValueMap(to_salesforce={"lead": "Open"}, to_hubspot={"Open": "lead"})
    chain = Chain([values])
    ctx = TransformContext(OWNERS)
    calls: list[object] = []
    encode = values.encode

    def counted(value: object, system: str, ctx: TransformContext) -> object:
        calls.append(value)
        return encode(value, system, ctx)

    monkeypatch.setattr(values, "encode", counted)
    for _ in range(3):  # the first call encodes and memoises; the others read the memo, failure or not
        assert chain.holds("lead", "Open", "salesforce", ctx) is True
        assert chain.holds("lead", "Closed", "salesforce", ctx) is False
        assert chain.holds("customer", "Open", "salesforce", ctx) is False  # no mapping, no default: never held
    assert calls == ["lead", "customer"]
    with pytest.raises(TransformError):  # the memoised failure still raises where an encoding is needed
        chain.encode_fast("customer", "salesforce", ctx)


@pytest.mark.parametrize("raw", [
    "+14155550100", "4155550100", "14155550100", "(415) 555-0100", "415.555.0100", "415/555-0100",
    "1 (415) 555-0100", "+1 415 555 0100", "+1-415-555-0100", "(415)555-0100", "+44 20 7946 0958", "+4420794609",
    "1234567890", "555-0100", "+1 (115) 555-0100", "4155550100x12", "٤١٥٥٥٥٠١٠٠",
])
def test_nanp_shortcut_answers_as_the_library_or_leaves_it_to_the_library(raw: str) -> None:
    fast, library = _nanp_fast(raw, "US"), _e164(raw, "US")
    if fast is not None:
        assert fast == library
    if library is not None:
        assert Phone("US").decode(raw, "hubspot", TransformContext(OWNERS)) == library


def test_field_change_shortcut_builds_the_same_value() -> None:
    made = _field_change("salesforce", "Lead", None, "Status", None, "Open", "create: status", "p1")
    assert made == FieldChange("salesforce", "Lead", None, "Status", None, "Open", "create: status", "p1")
    assert type(made) is FieldChange and made.new == "Open"
    assert made._replace(old="x").old == "x"
    assert FieldChange("hubspot", "contacts", "1", "email", None, "a@b.c", "why").person_id == ""


_CTX = TransformContext(OWNERS)


@pytest.mark.parametrize("chain", [Chain([Trim(), Url()]), Chain([Trim(), Truncate(10)]), Chain([EmployeeRange()])],
                         ids=["url", "truncate", "employee_range"])
def test_memoised_paths_give_what_the_transforms_give(chain: Chain) -> None:
    raws = ["https://www.x.com/", " www.x.com ", "a rather long job title", "5-25", 5, 25, 26, "", "x"]
    for raw in raws:
        for system in ("hubspot", "salesforce"):
            outcomes = []
            for decode in (chain.decode, chain.decode_fast, chain.decode_fast):
                try:
                    outcomes.append(("ok", decode(raw, system, _CTX)))
                except Exception as exc:  # noqa: BLE001 - the same error, memoised or not
                    outcomes.append(("error", str(exc)))
            assert outcomes[0] == outcomes[1] == outcomes[2], (raw, system)
            if outcomes[0][0] == "ok" and outcomes[0][1] is not None:
                value = outcomes[0][1]
                encoded = [chain.encode(value, system, _CTX), chain.encode_fast(value, system, _CTX),
                           chain.encode_fast(value, system, _CTX)]
                assert encoded[0] == encoded[1] == encoded[2] and type(encoded[0]) is type(encoded[1])
                assert chain.holds(value, encoded[0], system, _CTX)
    assert isinstance(Chain([Url()]).decode_fast("x.com", "hubspot", _CTX), UrlText)
