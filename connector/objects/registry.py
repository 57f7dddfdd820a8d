"""Every synced object, in the order a cycle runs them: people first, since companies' and deals' links need
the people's new records (scoring is a step of people: `objects/scores.py`); companies before deals, since a
deal created from an Opportunity is associated with its Account's company, which may be new. Adding an
object is one spec module and one line here."""

from __future__ import annotations

from . import companies, deals, people
from .spec import ObjectSpec

__all__ = ["registered"]


def registered() -> tuple[ObjectSpec, ...]:
    """The specs, in run order. A function, not a constant: people's spec imports stages of the sync
    package, whose `__init__` imports the cycle, which imports this module; read at run time, the specs
    can be imported in any order."""
    return (people.PEOPLE, companies.COMPANIES, deals.DEALS)
