"""Conflict rules: given the two systems' candidate values for one field, pick the winner.

Each rule is a small pure function with the same signature, found by name in ``RULES``. The
resolver has already dropped blank candidates when the other side has a value (unless the field
sets ``allow_blanking = true``), so a rule never blanks a value by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .records import System, TimeBasis

__all__ = ["Candidate", "Decision", "Rule", "RULES", "RULE_NAMES", "RuleContext"]


@dataclass(frozen=True)
class Candidate:
    """One system's value for a field, in unified form, with when it last changed."""

    system: System
    value: Any
    record_id: str
    time: int
    time_basis: TimeBasis

    @property
    def blank(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class RuleContext:
    """What a rule may consult beyond the candidates."""

    tie_breaker: System = "salesforce"
    direction: str = "both"


@dataclass(frozen=True)
class Decision:
    """The winning candidate, or a synthesised value (most_restrictive) with its deciding candidate."""

    winner: Candidate
    value: Any
    time_basis: TimeBasis


Rule = Callable[[Candidate | None, Candidate | None, RuleContext], Decision]


def _only(hs: Candidate | None, sf: Candidate | None) -> Candidate:
    found = hs if sf is None else sf
    if found is None:  # the resolver never calls a rule with no candidate
        raise ValueError("a rule needs at least one candidate")
    return found


def _take(c: Candidate) -> Decision:
    return Decision(c, c.value, "record")


def _prefer(first: Candidate | None, second: Candidate | None) -> Decision:
    if first is not None and (not first.blank or second is None or second.blank):
        return _take(first)
    return _take(_only(None, second))


def prefer_salesforce_unless_blank(hs: Candidate | None, sf: Candidate | None, ctx: RuleContext) -> Decision:
    """Salesforce's value wins when it has one; otherwise HubSpot's (never blanks, even when allowed)."""
    return _prefer(sf, hs)


def prefer_hubspot_unless_blank(hs: Candidate | None, sf: Candidate | None, ctx: RuleContext) -> Decision:
    """HubSpot's value wins when it has one; otherwise Salesforce's (never blanks, even when allowed)."""
    return _prefer(hs, sf)


def always_salesforce(hs: Candidate | None, sf: Candidate | None, ctx: RuleContext) -> Decision:
    """Salesforce is the system of record; its blank wins only where the field allows blanking."""
    return _take(sf) if sf is not None else _take(_only(hs, None))


def always_hubspot(hs: Candidate | None, sf: Candidate | None, ctx: RuleContext) -> Decision:
    """HubSpot is the system of record; its blank wins only where the field allows blanking."""
    return _take(hs) if hs is not None else _take(_only(None, sf))


def _basis(*cands: Candidate) -> TimeBasis:
    return "field" if all(c.time_basis == "field" for c in cands) else "record"


def most_recent(hs: Candidate | None, sf: Candidate | None, ctx: RuleContext) -> Decision:
    """The most recently changed value wins (field times where known, record times otherwise).

    Ties go to ``settings.tie_breaker`` (Salesforce by default). ``time_basis`` is "field" only
    when every compared time was a field-level change time.
    """
    if hs is None or sf is None:
        only = _only(hs, sf)
        return Decision(only, only.value, only.time_basis)
    if hs.time != sf.time:
        win = hs if hs.time > sf.time else sf
    else:
        win = sf if ctx.tie_breaker == "salesforce" else hs
    return Decision(win, win.value, _basis(hs, sf))


def most_restrictive(hs: Candidate | None, sf: Candidate | None, ctx: RuleContext) -> Decision:
    """For opt-outs: true anywhere wins and is never turned back to false by the other side."""
    present = [c for c in (sf, hs) if c is not None]
    for c in present:
        if c.value is True:
            return _take(c)
    for c in present:
        if not c.blank:
            return _take(c)
    return _take(present[0])


def fill_blank_only(hs: Candidate | None, sf: Candidate | None, ctx: RuleContext) -> Decision:
    """The first value set is kept; the planner only fills blank targets and never overwrites.

    For one-way fields the destination's own value is kept when it has one; for two-way fields the
    earliest-set value wins (ties to the tie breaker).
    """
    if hs is None or sf is None or hs.blank or sf.blank:
        return _prefer(sf, hs) if (sf is not None and not sf.blank) else _prefer(hs, sf)
    if ctx.direction == "to_hubspot":
        return _take(hs)
    if ctx.direction == "to_salesforce":
        return _take(sf)
    if hs.time != sf.time:
        return _take(hs if hs.time < sf.time else sf)
    return _take(sf if ctx.tie_breaker == "salesforce" else hs)


RULES: Mapping[str, Rule] = {
    "prefer_salesforce_unless_blank": prefer_salesforce_unless_blank,
    "prefer_hubspot_unless_blank": prefer_hubspot_unless_blank,
    "always_salesforce": always_salesforce,
    "always_hubspot": always_hubspot,
    "most_recent": most_recent,
    "most_restrictive": most_restrictive,
    "fill_blank_only": fill_blank_only,
}
RULE_NAMES: tuple[str, ...] = tuple(RULES)
