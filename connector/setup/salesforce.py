"""``connector setup`` in Salesforce: compare the needed custom fields with the org's; create them in the sandbox.

Real orgs need the Metadata API (which the connector does not use) to add fields, so there the report lists
what an admin must add.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..systems.http import ApiError
from ..systems.salesforce import SalesforceSource
from .report import SystemReport
from .specs import FieldSpec


def _salesforce_clash(spec: FieldSpec, f: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(message, hint) for each way an existing field cannot serve as ``spec``."""
    out: list[tuple[str, str]] = []
    if f.get("type") not in spec.describe_types:
        out.append((f"exists as type {f.get('type')!r}; the connector needs {spec.type}",
                    ("setup never changes an existing field: change it in Setup > Object Manager, "
                     "or use another field in the mapping")))
        return out
    if spec.external_id and not f.get("externalId"):
        out.append(("is not an External ID, so upserts by it are not possible",
                    f"tick External ID (and Unique) on {spec.sobject}.{spec.api_name} in Setup > Object Manager"))
    if spec.picklist_values:
        have = {str(v.get("value")) for v in f.get("picklistValues") or [] if v.get("active", True)}
        lacking = [v for v in spec.picklist_values if v not in have]
        if lacking:
            out.append((f"lacks the picklist value(s) {', '.join(map(repr, lacking))}",
                        f"add them to {spec.sobject}.{spec.api_name} in Setup > Object Manager"))
    return out


def setup_salesforce(salesforce: SalesforceSource, specs: Sequence[FieldSpec], create: bool,
                      rep: SystemReport) -> None:
    """Sort ``specs`` into present, missing and clashing in ``rep``; with ``create`` (the sandbox only), create
    the missing ones through the sandbox's custom-field route."""
    by_object: dict[str, list[FieldSpec]] = {}
    for s in specs:
        by_object.setdefault(s.sobject, []).append(s)
    for sobject, group in by_object.items():
        live = {str(f.get("name")).lower(): f for f in salesforce.describe(sobject)["fields"]}
        created_any = False
        for spec in group:
            existing = live.get(spec.api_name.lower())
            if existing is not None:
                clashes = _salesforce_clash(spec, existing)
                for message, hint in clashes:
                    rep.problems.append({"object": sobject, "api_name": spec.api_name, "message": message,
                                         "hint": hint})
                if not clashes:
                    rep.present.append({"object": sobject, "api_name": spec.api_name})
                continue
            if not create:
                rep.missing.append(spec.to_json())
                continue
            try:
                salesforce.create_custom_field(sobject, spec.sandbox_body())
            except ApiError as exc:
                rep.missing.append(spec.to_json())
                rep.problems.append({"object": sobject, "api_name": spec.api_name,
                                     "message": f"could not create it ({exc.status} {exc.code}): {exc.vendor_message}",
                                     "hint": exc.hint})
                continue
            created_any = True
            rep.created.append({"object": sobject, "api_name": spec.api_name})
        if created_any:
            salesforce.refresh_describe(sobject)
