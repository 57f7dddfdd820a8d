"""Builders for SourceRecords and the shipped mapping, shared by the reconcile tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from connector.reconcile import ContactMapping, OwnerDirectory, SourceRecord, load_mappings
from connector.reconcile.mapping import Mappings

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
OWNERS = OwnerDirectory(
    hubspot={"101": "ann@corp.example", "102": "bo@corp.example"},
    salesforce={"005000000000001AAA": "Ann@Corp.example", "005000000000002AAA": "bo@corp.example"},
)


@lru_cache(maxsize=1)
def shipped() -> Mappings:
    return load_mappings(MAPPINGS_DIR)


def contacts_mapping() -> ContactMapping:
    return shipped().contacts


def hs(id: str, t: int = 1_000, field_times: dict[str, int] | None = None, **fields: Any) -> SourceRecord:
    """A HubSpot contact: property values are strings (or None) as HubSpot returns them."""
    return SourceRecord("hubspot", "contacts", id, t, {k: v for k, v in fields.items()}, field_times or {})


def sf(id: str, obj: str = "Lead", t: int = 1_000, **fields: Any) -> SourceRecord:
    """A Salesforce Lead/Contact with JSON-typed field values."""
    return SourceRecord("salesforce", obj, id, t, dict(fields))


def lead_id(n: int) -> str:
    return f"00Q{n:012d}AAA"


def contact_id(n: int) -> str:
    return f"003{n:012d}AAA"
