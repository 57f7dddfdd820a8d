"""The live metadata the checks read (once per object) and the problems and suggestions they found."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..errors import ConfigProblem
from ..reconcile.loader import suggest
from ..systems.hubspot import HubSpotSource
from ..systems.salesforce import SalesforceSource

_SETUP_HINT = "create it with `connector setup --apply` or fix the name"

#: a target `connector setup` creates when it is missing: ("hubspot", object type, name) or
#: ("salesforce", sObject, lower-cased API name)
Creatable = tuple[str, str, str]


def missing_hint(system: str, obj: str, name: str, creates: bool) -> str:
    """What to do about a mapped name the portal or org lacks: the same words in `validate --live`, in every
    sync's check and in `setup`, so they never disagree. Setup creates only what it needs and what the file
    declares under ``[custom_fields]``; anything else must be the name of something that exists."""
    fields = f"`connector fields {system} {obj}` lists {'its properties' if system == 'hubspot' else 'its fields'}"
    if system == "hubspot":
        if creates:
            return _SETUP_HINT
        return (f"fix the name ({fields}); if the connector should create it, declare it under [custom_fields] "
                "hubspot and run `connector setup --apply`")
    key = obj.lower()
    if creates:
        return ("an admin adds it in Setup > Object Manager (`connector setup` lists what to type in; on the sandbox "
                "`connector setup --apply` creates it), or fix the name")
    if name.endswith("__c"):
        return (f"fix the name ({fields}), or have an admin add it in Setup > Object Manager (declare it under "
                f"[custom_fields] {key} and `connector setup` lists what to type in)")
    return (f"fix the name ({fields}): a standard field cannot be created, and [custom_fields] declares only "
            "custom fields (API names ending in __c); if the org has it, give the connector's integration user "
            "access to it (field-level security)")


class LiveMetadata:
    """Live metadata, read once per object, and the problems found so far.

    ``hubspot`` is None when only Salesforce metadata is consulted (the truncate suggestions); ``creates`` are
    the targets `connector setup` makes (``Creatable``), which decides the fix a missing name gets.
    """

    def __init__(self, hubspot: HubSpotSource | None, salesforce: SalesforceSource,
                 creates: Collection[Creatable] = ()) -> None:
        self.hubspot, self.salesforce = hubspot, salesforce
        self.creates = frozenset(creates)
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
            creates = ("hubspot", object_type, name) in self.creates
            self.add(file, key, f"HubSpot {object_type} property {name!r} does not exist in the portal",
                     f"{close_hint(name, props)}{missing_hint('hubspot', object_type, name, creates)}")
        return prop

    def salesforce_field(self, file: str, key: str, sobject: str, name: str) -> dict[str, Any] | None:
        """The live field (matched like Salesforce: ignoring case), or None after reporting it unknown."""
        fields = self.sf(sobject)
        f = fields.get(name.lower())
        if f is None:
            creates = ("salesforce", sobject, name.lower()) in self.creates
            self.add(file, key, f"Salesforce {sobject} field {name!r} does not exist in the org",
                     f"{close_hint(name, [str(v.get('name')) for v in fields.values()])}"
                     f"{missing_hint('salesforce', sobject, name, creates)}")
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
