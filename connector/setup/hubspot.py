"""``connector setup`` in HubSpot: compare the needed properties with the portal's and create what is missing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..systems.http import ApiError
from ..systems.hubspot import HubSpotSource
from .report import SystemReport
from .specs import CONNECTOR_GROUP, CONNECTOR_GROUP_LABEL, PropertySpec


def _hubspot_clash(spec: PropertySpec, prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(message, hint) for each way an existing property cannot serve as ``spec``."""
    out: list[tuple[str, str]] = []
    if prop.get("type") != spec.type:
        out.append((f"exists as type {prop.get('type')!r}; the connector needs {spec.type!r}",
                    ("setup never changes an existing property: change its type in HubSpot (Settings > Properties) "
                     "or use another property name in the mapping")))
        return out
    if spec.has_unique_value and not prop.get("hasUniqueValue"):
        out.append(("exists without unique values, so creates cannot be idempotent upserts by it",
                    ("HubSpot cannot make an existing property unique: archive it and run setup again, "
                     "or name another property in [identity]")))
    if spec.options:
        have = {str(o.get("value")) for o in prop.get("options") or []}
        lacking = [v for v in spec.options if v not in have]
        if lacking:
            out.append((f"lacks the option(s) {', '.join(map(repr, lacking))}",
                        "add them in HubSpot (Settings > Properties) with exactly these internal values"))
    return out


def setup_hubspot(hubspot: HubSpotSource, specs: Sequence[PropertySpec], apply: bool, rep: SystemReport) -> None:
    """Sort ``specs`` into present, missing and clashing in ``rep``; with ``apply``, create the missing ones
    (and the connector's group first when it is missing)."""
    by_type: dict[str, list[PropertySpec]] = {}
    for s in specs:
        by_type.setdefault(s.object_type, []).append(s)
    for object_type, group in by_type.items():
        live = {str(p.get("name")): p for p in hubspot.properties(object_type)}
        missing: list[PropertySpec] = []
        for spec in group:
            prop = live.get(spec.name)
            if prop is None:
                missing.append(spec)
                continue
            clashes = _hubspot_clash(spec, prop)
            for message, hint in clashes:
                rep.problems.append({"object": object_type, "name": spec.name, "message": message, "hint": hint})
            if not clashes:
                rep.present.append({"object": object_type, "name": spec.name})
        if not missing:
            continue
        if not apply:
            if not _hubspot_group_exists(hubspot, object_type, live.values()):
                rep.missing.append({"object": object_type, "name": CONNECTOR_GROUP, "kind": "group",
                                    "label": CONNECTOR_GROUP_LABEL})
            rep.missing += [s.to_json() for s in missing]
            continue
        _ensure_hubspot_group(hubspot, object_type, live.values(), rep)
        for spec in missing:
            try:
                created = hubspot.create_property(object_type, spec.body())
            except ApiError as exc:
                rep.problems.append({"object": object_type, "name": spec.name,
                                     "message": f"HubSpot refused to create it ({exc.status} {exc.code}): "
                                                f"{exc.vendor_message}",
                                     "hint": exc.hint})
                continue
            # not created: made meanwhile (another setup run), so it is there now
            (rep.created if created else rep.present).append({"object": object_type, "name": spec.name})
        hubspot.refresh_properties(object_type)


def _hubspot_group_exists(hubspot: HubSpotSource, object_type: str, props: Iterable[Mapping[str, Any]]) -> bool:
    if any(p.get("groupName") == CONNECTOR_GROUP for p in props):
        return True  # no extra call when a property already lives in it
    return any(g.get("name") == CONNECTOR_GROUP for g in hubspot.property_groups(object_type))


def _ensure_hubspot_group(hubspot: HubSpotSource, object_type: str, props: Iterable[Mapping[str, Any]],
                          rep: SystemReport) -> None:
    if _hubspot_group_exists(hubspot, object_type, props):
        return
    group = {"name": CONNECTOR_GROUP, "label": CONNECTOR_GROUP_LABEL, "displayOrder": -1}
    if hubspot.create_property_group(object_type, group):
        rep.created.append({"object": object_type, "name": CONNECTOR_GROUP, "kind": "group"})
