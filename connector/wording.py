"""Small pieces of the connector's English: counted nouns and readable times, said one way everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["at", "count"]

_PLURALS = {"person": "people", "entry": "entries", "is": "are", "was": "were", "property": "properties"}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """"1 record", "2 records", "1,234 people": the noun agrees with the number."""
    word = noun if n == 1 else (plural or _PLURALS.get(noun) or noun + "s")
    return f"{n:,} {word}"


def at(ms: int | None) -> str:
    """An epoch-milliseconds time as people read it ("2026-12-06 14:03:07 UTC"); "?" when unknown."""
    if ms is None:
        return "?"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
