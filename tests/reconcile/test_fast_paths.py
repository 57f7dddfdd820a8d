"""The resolver's shortcuts decide exactly as the general code they stand for."""

from __future__ import annotations

import itertools

import pytest

from connector.reconcile import RULES, Candidate, OwnerDirectory, RuleContext
from connector.reconcile.resolve import _FAST_RULES
from connector.reconcile.transforms import CallContext, Chain, Owner, Phone, TransformContext, Trim

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
