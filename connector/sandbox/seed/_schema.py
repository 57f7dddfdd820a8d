"""The account's own schema: hundreds of custom HubSpot properties and Salesforce fields, as real ones have.

Real portals and orgs carry years of custom fields (campaign flags, product interests, old integrations'
ids), so property lists, describes and the URLs that name fields are large. Names come from a small
vocabulary, drawn per seed ("schema" stream); a few of them hold values on each person record, so rows
carry realistic extra weight. None collides with the connector's own properties and fields.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ._rng import one_of

__all__ = ["CustomSchema"]

_TOPICS = (
    "webinar", "trial", "product", "event", "partner", "renewal", "onboarding", "support", "billing", "newsletter",
    "region", "territory", "segment", "persona", "intent", "demo", "contract", "survey", "referral", "loyalty",
    "legacy", "import", "enrichment", "gdpr", "consent", "campaign", "channel", "account", "nps", "usage",
)
_ATTRIBUTES = (
    "status", "date", "score", "source", "type", "tier", "owner", "notes", "flag", "count", "stage", "id", "plan",
    "region", "interest", "reason", "level", "group", "code", "language", "budget", "timeline", "priority", "rank",
)
_OPTIONS = (("Yes", "No", "Maybe"), ("Bronze", "Silver", "Gold", "Platinum"), ("EMEA", "AMER", "APAC"),
            ("Low", "Medium", "High"), ("New", "Active", "Churned", "Dormant"), ("A", "B", "C", "D"))
_TEXTS = ("imported 2021", "see notes", "from event list", "n/a", "call back in Q3", "vip", "checked", "pending")
#: (HubSpot type, fieldType, Salesforce field type), weighted by how often accounts use them
_KINDS = (("string", "text", "Text"),) * 4 + (("enumeration", "select", "Picklist"),) * 3 + (
    ("number", "number", "Number"), ("date", "date", "Date"), ("bool", "booleancheckbox", "Checkbox"))
_VALUED = 5  # custom values on each person record
_POOL = 256  # distinct sets of them (people share values, as in real data)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    label: str
    kind: tuple[str, str, str]
    options: tuple[str, ...] = ()


class CustomSchema:
    """One seed's custom properties and fields, and the values a person record carries in a few of them."""

    def __init__(self, rng: random.Random, hubspot_count: int, salesforce_count: int, day: str) -> None:
        self.rng = rng
        self.hubspot = self._fields(hubspot_count, lower=True)
        self.salesforce = self._fields(salesforce_count, lower=False)
        self._hs_pool = self._pool(_choices(self.hubspot, hubspot=True), day)
        self._sf_pool = self._pool(_choices(self.salesforce, hubspot=False), day)

    def _fields(self, count: int, *, lower: bool) -> list[_Field]:
        out: list[_Field]
        rng, out, seen = self.rng, [], Counter[str]()
        while len(out) < count:
            base = f"{one_of(rng, _TOPICS)}_{one_of(rng, _ATTRIBUTES)}"
            seen[base] += 1
            key = base if seen[base] == 1 else f"{base}_{seen[base]}"
            kind = one_of(rng, _KINDS)
            options = one_of(rng, _OPTIONS) if kind[0] == "enumeration" else ()
            label = key.replace("_", " ").title()
            name = key if lower else "".join(w.capitalize() for w in key.split("_")) + "__c"
            out.append(_Field(name, label, kind, options))
        return out

    # ---- definitions, for the first batch --------------------------------------------------------------
    def hubspot_definitions(self) -> dict[str, list[dict[str, Any]]]:
        """Properties API bodies (`POST /crm/v3/properties/contacts`), in a group of their own."""
        defs = []
        for i, f in enumerate(self.hubspot):
            body: dict[str, Any] = {"name": f.name, "label": f.label, "type": f.kind[0], "fieldType": f.kind[1],
                                    "groupName": "contactinformation", "displayOrder": i}
            if f.options:
                body["options"] = [{"label": o, "value": o.lower(), "displayOrder": k, "hidden": False}
                                   for k, o in enumerate(f.options)]
            defs.append(body)
        return {"contacts": defs}

    def salesforce_definitions(self) -> list[dict[str, Any]]:
        """`CustomField` keyword arguments: the full set on Lead and Contact, half on Account and Opportunity."""
        out = []
        for sobject, share in (("Lead", 1), ("Contact", 1), ("Account", 2), ("Opportunity", 2)):
            for f in self.salesforce[:: share]:
                spec: dict[str, Any] = {"sobject": sobject, "api_name": f.name, "type": f.kind[2], "label": f.label}
                if f.kind[2] == "Picklist":
                    spec["picklist_values"] = f.options
                    spec["restricted"] = False
                if f.kind[2] == "Text":
                    spec["length"] = 255
                out.append(spec)
        return out

    # ---- values ------------------------------------------------------------------------------------------
    def hubspot_values(self) -> dict[str, Any]:
        """Custom values for one contact: one of a pool drawn once (one random draw per record)."""
        return self._hs_pool[int(self.rng.random() * _POOL)]

    def salesforce_values(self) -> dict[str, Any]:
        return self._sf_pool[int(self.rng.random() * _POOL)]

    def _pool(self, choices: list[tuple[str, tuple[Any, ...] | None]], day: str) -> list[dict[str, Any]]:
        """`_POOL` sets of `_VALUED` fields spread over the list, each with a value (None choices: a date)."""
        n = len(choices)
        if not n:
            return [{}] * _POOL
        r = self.rng.random
        pool = []
        for _ in range(_POOL):
            start = int(r() * n)
            values: dict[str, Any] = {}
            for k in range(min(_VALUED, n)):
                name, options = choices[(start + 7 * k) % n]
                values[name] = day if options is None else options[int(r() * len(options))]
            pool.append(values)
        return pool


def _choices(fields: list[_Field], *, hubspot: bool) -> list[tuple[str, tuple[Any, ...] | None]]:
    """Each field's possible values, precomputed: one random draw picks a value."""
    out: list[tuple[str, tuple[Any, ...] | None]] = []
    for f in fields:
        kind = f.kind[0]
        values: tuple[Any, ...] | None
        if kind == "enumeration":
            values = tuple(o.lower() for o in f.options) if hubspot else f.options
        elif kind == "number":
            values = tuple(str(n) if hubspot else n for n in range(0, 1000, 7))
        elif kind == "bool":
            values = ("true", "false") if hubspot else (True, False)
        elif kind == "date":
            values = None
        else:
            values = _TEXTS
        out.append((f.name, values))
    return out
