"""The live metadata the checks read (once per object) and the problems and suggestions they found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigProblem
from ..reconcile.loader import suggest
from ..systems.hubspot import HubSpotSource
from ..systems.salesforce import SalesforceSource

_SETUP_HINT = "create it with `connector setup --apply` or fix the name"


class LiveMetadata:
    """Live metadata, read once per object, and the problems found so far.

    ``hubspot`` is None when only Salesforce metadata is consulted (the truncate suggestions).
    """

    def __init__(self, hubspot: HubSpotSource | None, salesforce: SalesforceSource) -> None:
        self.hubspot, self.salesforce = hubspot, salesforce
        self._hs: dict[str, dict[str, dict[str, Any]]] = {}
        self._sf: dict[str, dict[str, dict[str, Any]]] = {}
        self.problems: list[ConfigProblem] = []
        #: not wrong, but worth a change (e.g. a truncate for a field of limited length)
        self.suggestions: list[ConfigProblem] = []

    def hs(self, object_type: str) -> dict[str, dict[str, Any]]:
        if object_type not in self._hs:
            if self.hubspot is None:
                raise TypeError("these live checks were given no HubSpot source")
            self._hs[object_type] = {str(p.get("name")): p for p in self.hubspot.properties(object_type)}
        return self._hs[object_type]

    def sf(self, sobject: str) -> dict[str, dict[str, Any]]:
        if sobject not in self._sf:
            self._sf[sobject] = {str(f.get("name")).lower(): f for f in self.salesforce.describe(sobject)["fields"]}
        return self._sf[sobject]

    def add(self, file: str, key: str, message: str, hint: str = "") -> None:
        self.problems.append(ConfigProblem(file, key, message, hint))

    def suggest(self, file: str, key: str, message: str, hint: str = "") -> None:
        self.suggestions.append(ConfigProblem(file, key, message, hint))

    def hubspot_property(self, file: str, key: str, object_type: str, name: str) -> dict[str, Any] | None:
        """The live property, or None after reporting it unknown."""
        props = self.hs(object_type)
        prop = props.get(name)
        if prop is None:
            self.add(file, key, f"HubSpot {object_type} property {name!r} does not exist in the portal",
                     f"{close_hint(name, props)}{_SETUP_HINT}")
        return prop

    def salesforce_field(self, file: str, key: str, sobject: str, name: str) -> dict[str, Any] | None:
        """The live field (matched like Salesforce: ignoring case), or None after reporting it unknown."""
        fields = self.sf(sobject)
        f = fields.get(name.lower())
        if f is None:
            custom = " (custom field API names end in __c)" if not name.endswith("__c") else ""
            self.add(file, key, f"Salesforce {sobject} field {name!r} does not exist in the org",
                     f"{close_hint(name, [str(v.get('name')) for v in fields.values()])}{_SETUP_HINT}{custom}")
            return None
        if f.get("name") != name:
            self.add(file, key, f"Salesforce {sobject} field {name!r} is spelled {f.get('name')!r}",
                     f"use {f.get('name')!r}: records come back with that spelling")
        return f


def close_hint(name: str, known: Iterable[str]) -> str:
    """"did you mean 'x'? " when a known name is close to ``name``, else ""."""
    hint = suggest(name, known, "")
    return hint.split("? ")[0] + "? " if hint.startswith("did you mean") else ""


def hs_options(prop: Mapping[str, Any]) -> list[str]:
    """The option values of a HubSpot enumeration property."""
    return [str(o.get("value")) for o in prop.get("options") or []]


def sf_picklist(f: Mapping[str, Any]) -> list[str]:
    """The active values of a Salesforce picklist field."""
    return [str(v.get("value")) for v in f.get("picklistValues") or [] if v.get("active", True)]


def hubspot_read_only(prop: Mapping[str, Any]) -> bool:
    """Whether HubSpot refuses writes to the property (read-only value or calculated)."""
    meta = prop.get("modificationMetadata") or {}
    return bool(meta.get("readOnlyValue")) or bool(prop.get("calculated"))
