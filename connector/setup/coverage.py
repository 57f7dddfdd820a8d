"""Live picklist values that no value map carries: suggestions of `validate --live` (and of every sync's check).

Why: a Salesforce picklist value missing from ``to_hubspot`` with no ``default_to_hubspot`` cannot be read
into the unified form, so the records holding it are left out of the field and counted as values needing
attention; a HubSpot option missing from ``to_salesforce`` with no default is never written to Salesforce. The
static checks know only the shipped picklists; the portal and the org may hold more values (an admin adds one
in a minute). This is a suggestion, not a problem: the sync still runs and carries every other value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..reconcile.loader import listing
from ..reconcile.mapping import FieldMapping
from ..reconcile.transforms import ValueMap
from .metadata import LiveMetadata, hs_options, sf_picklist
from .specs import HUBSPOT_OBJECT, AnyMapping

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(value: str) -> str:
    """``value`` as a TOML key is written in a mapping file: bare when it can be, else quoted."""
    return value if _BARE_KEY.match(value) else json.dumps(value, ensure_ascii=False)


def check_value_coverage(live: LiveMetadata, kind: str, m: AnyMapping) -> None:
    """Suggest an entry (or a default) for each live picklist / enumeration value of a value-mapped field that
    its ``[fields.<name>.values]`` neither maps nor defaults; findings go to ``live.suggestions``."""
    object_type = HUBSPOT_OBJECT[kind]
    for f in m.fields:
        vm = next((t for t in f.chain.transforms if isinstance(t, ValueMap)), None)
        if vm is None:
            continue
        prop = live.hs(object_type).get(f.hubspot) if f.hubspot and live.hubspot is not None else None
        hs_values = hs_options(prop) if prop is not None and prop.get("type") == "enumeration" else []
        picklists = {sobject: found for sobject, name in f.salesforce.items()
                     if (found := live.sf(sobject).get(name.lower())) is not None and found.get("type") == "picklist"}
        if vm.default_to_hubspot is None:
            _salesforce_values(live, m.file, f, vm, picklists, hs_values)
        if f.writes_salesforce and vm.default_to_salesforce is None and hs_values:
            sf_values = sf_picklist(next(iter(picklists.values()))) if picklists else []
            base = f"fields.{f.name}.values"
            for v in hs_values:
                if v in vm.to_salesforce:
                    continue
                live.suggest(m.file, f"{base}.to_salesforce",
                             f"HubSpot {object_type} property {f.hubspot!r} has the option {v!r}, which {base} neither "
                             "maps nor defaults: it is never written to Salesforce",
                             f"add {toml_key(v)} = \"<Salesforce value>\" under [{base}.to_salesforce]"
                             + (f" (values: {listing(sf_values, v)})" if sf_values else "")
                             + f", or set default_to_salesforce = \"<Salesforce value>\" under [{base}]")


def _salesforce_values(live: LiveMetadata, file: str, f: FieldMapping, vm: ValueMap,
                       picklists: Mapping[str, Mapping[str, Any]], hs_values: list[str]) -> None:
    base = f"fields.{f.name}.values"
    seen: set[str] = set()
    for sobject, sf_field in picklists.items():
        for v in sf_picklist(sf_field):
            if v in vm.to_hubspot or v in seen:
                continue
            seen.add(v)
            live.suggest(file, f"{base}.to_hubspot",
                         f"Salesforce {sobject}.{sf_field.get('name')} has the picklist value {v!r}, which {base} "
                         "neither maps nor defaults: records holding it are left out of the field and reported, "
                         "not synced",
                         f"add {toml_key(v)} = \"<HubSpot value>\" under [{base}.to_hubspot]"
                         + (f" (values: {listing(hs_values, v)})" if hs_values else "")
                         + f", or set default_to_hubspot = \"<HubSpot value>\" under [{base}]")
