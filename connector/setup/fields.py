"""`connector fields`: the live properties and fields of both systems, and what the mapping files do with each.

Why: a RevOps person mapping a field needs its internal name, type, length and values as the portal and the
org have them, not as the shipped files know them; and whether a name is already mapped, or one
`connector setup` creates. The rows are built from the adapters' metadata reads (the ones `validate --live`
uses) and kept in the store (``connector.store.metadata_cache``); this module is pure.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..reconcile.mapping import Mappings
from ..reconcile.schema import SCORE_OUTPUTS
from .live import creatable
from .metadata import hs_options, hubspot_read_only, sf_picklist
from .specs import mapped_names

__all__ = ["OBJECTS", "UnknownTarget", "annotate", "hubspot_rows", "matches", "salesforce_rows", "select"]

#: the objects `connector fields` lists, per system: those the mapping files can name
OBJECTS: Mapping[str, tuple[str, ...]] = {"hubspot": ("contacts", "deals", "companies"),
                                          "salesforce": ("Lead", "Contact", "Opportunity", "Account")}


class UnknownTarget(ValueError):
    """A system or object `connector fields` does not list (a usage error: exit 2)."""


def _valid() -> str:
    return "; ".join(f"{system} {', '.join(objs)}" for system, objs in OBJECTS.items())


def _close(word: str, options: Iterable[str]) -> str:
    lowered = {o.lower(): o for o in options}
    near = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean {lowered[near[0]]!r}? " if near else ""


def select(system: str | None, obj: str | None) -> list[tuple[str, str]]:
    """(system, object) pairs to list: all of them, one system's, or one object (case does not matter; an object
    name alone picks its system). Raises UnknownTarget naming the valid ones."""
    if system is None:
        return [(s, o) for s, objs in OBJECTS.items() for o in objs]
    chosen = system.lower()
    if chosen not in OBJECTS:
        owners = [(s, o) for s, objs in OBJECTS.items() for o in objs if o.lower() == chosen]
        if len(owners) == 1 and obj is None:
            return owners
        everything = list(OBJECTS) + [o for objs in OBJECTS.values() for o in objs]
        raise UnknownTarget(f"unknown system {system!r}: {_close(system, everything)}"
                            f"use hubspot or salesforce, then optionally an object ({_valid()})")
    if obj is None:
        return [(chosen, o) for o in OBJECTS[chosen]]
    found = next((o for o in OBJECTS[chosen] if o.lower() == obj.lower()), None)
    if found is None:
        wanted = {obj.lower(), obj.lower().removesuffix("s")}
        elsewhere = [(s, o) for s, objs in OBJECTS.items() if s != chosen for o in objs if o.lower() in wanted]
        note = "".join(f" ({name} is a {other} object: `connector fields {other} {name}`)"
                       for other, name in elsewhere[:1])
        close = "" if elsewhere else _close(obj, OBJECTS[chosen])
        raise UnknownTarget(f"unknown {chosen} object {obj!r}: {close}use one of {', '.join(OBJECTS[chosen])}{note}")
    return [(chosen, found)]


def hubspot_rows(props: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per HubSpot property (from the properties API), by name."""
    rows = [{"name": str(p.get("name")), "label": str(p.get("label") or ""), "type": str(p.get("type")),
             "field_type": str(p.get("fieldType") or ""), "length": None, "read_only": hubspot_read_only(p),
             "unique": bool(p.get("hasUniqueValue")), "custom": not p.get("hubspotDefined", False),
             "group": str(p.get("groupName") or ""), "values": hs_options(p)} for p in props]
    return sorted(rows, key=lambda r: r["name"])


def salesforce_rows(fields: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per Salesforce field (from the describe), by name."""
    rows: list[dict[str, Any]] = []
    for f in fields:
        ftype = str(f.get("type"))
        length = f.get("length") if ftype in ("string", "textarea", "email", "phone", "url", "encryptedstring") \
            else None
        row: dict[str, Any] = {
            "name": str(f.get("name")), "label": str(f.get("label") or ""), "type": ftype,
            "length": length if isinstance(length, int) and length > 0 else None,
            "read_only": not f.get("createable") and not f.get("updateable"), "unique": bool(f.get("unique")),
            "custom": bool(f.get("custom")), "external_id": bool(f.get("externalId")),
            "values": sf_picklist(f) if ftype in ("picklist", "multipicklist", "combobox") else []}
        if ftype in ("double", "currency", "percent", "int", "long"):
            row["precision"], row["scale"] = f.get("precision"), f.get("scale")
        if ftype in ("picklist", "multipicklist"):
            row["restricted"] = bool(f.get("restrictedPicklist"))
        rows.append(row)
    return sorted(rows, key=lambda r: r["name"].lower())


def _key(system: str, name: str) -> str:
    return name.lower() if system == "salesforce" else name  # Salesforce matches names ignoring case


def _uses(mappings: Mappings) -> dict[tuple[str, str, str], tuple[str, list[str]]]:
    """(system, object, matched name) -> (the name as written, the mapping keys that use it: "fields.email",
    "identity.hubspot_lead_id_property", the scorer's "outputs.score")."""
    named = [(system, obj, name, ".".join(key.split(".")[:2]) if key.startswith("fields.") else key)
             for system, obj, name, _file, key in mapped_names(mappings)]
    if mappings.scoring is not None:
        for output, (hs_name, sf_name) in SCORE_OUTPUTS.items():
            named.append(("hubspot", "contacts", hs_name, f"outputs.{output}"))
            named += [("salesforce", obj, sf_name, f"outputs.{output}") for obj in ("Lead", "Contact")]
    uses: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
    for system, obj, name, use in named:
        _, found = uses.setdefault((system, obj, _key(system, name)), (name, []))
        if use not in found:
            found.append(use)
    return uses


def annotate(system: str, obj: str, rows: Sequence[Mapping[str, Any]], mappings: Mappings | None
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows with what the mappings do with each (``mapped_as``: the keys that use it; ``setup_creates``:
    a property or field `connector setup` makes), and the names the mappings use that the object lacks."""
    uses = _uses(mappings) if mappings is not None else {}
    creates = creatable(mappings) if mappings is not None else frozenset()
    out: list[dict[str, Any]] = []
    for r in rows:
        k = (system, obj, _key(system, str(r["name"])))
        out.append({**r, "mapped_as": list(uses.get(k, ("", []))[1]), "setup_creates": k in creates})
    present = {_key(system, str(r["name"])) for r in rows}
    missing = [{"name": name, "mapped_as": used, "setup_creates": (s, o, k) in creates}
               for (s, o, k), (name, used) in uses.items() if s == system and o == obj and k not in present]
    return out, missing


def matches(row: Mapping[str, Any], word: str | None) -> bool:
    """Whether ``word`` is in the row's name or label (ignoring case); every row matches no word."""
    if not word:
        return True
    needle = word.casefold()
    return needle in str(row["name"]).casefold() or needle in str(row["label"]).casefold()
