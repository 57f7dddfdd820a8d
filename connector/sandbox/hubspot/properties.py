"""The account's property schema: HubSpot-defined properties plus those created through the API.

Created properties are usable at once (the connector's ``setup`` creates its own), and survive in the
SQLite file with the records.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from ..clock import SandboxClock
from .errors import HubSpotError
from .schema import DEFAULT_GROUPS, OBJECT_TYPES, PropertyDef, default_properties
from .store import Database
from .values import NAME_RE

__all__ = ["PropertyRegistry"]

_TYPES = {"string": {"text", "textarea", "html", "phonenumber", "file", "select", "radio"},
          "number": {"number", "calculation_equation"}, "date": {"date"}, "datetime": {"date"},
          "enumeration": {"select", "radio", "checkbox", "booleancheckbox"}, "bool": {"booleancheckbox"}}


class PropertyRegistry:
    """Property definitions by object type; thread-safe; custom ones persisted in SQLite."""

    def __init__(self, db: Database, clock: SandboxClock) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._props: dict[str, dict[str, PropertyDef]] = {}
        self._groups: dict[str, dict[str, dict[str, Any]]] = {}
        self.reload()

    def reload(self) -> None:
        with self._lock:
            self._props = {t: {p.name: p for p in default_properties(t)} for t in OBJECT_TYPES}
            self._groups = {t: {name: {"name": name, "label": label, "displayOrder": i, "archived": False}
                                for i, (name, label) in enumerate(DEFAULT_GROUPS[t])} for t in OBJECT_TYPES}
            with self._db.lock:
                rows = self._db.conn.execute("SELECT type, json FROM custom_props").fetchall()
                group_rows = self._db.conn.execute("SELECT type, json FROM custom_groups").fetchall()
            for object_type, blob in rows:
                data = json.loads(blob)
                self._props[object_type][data["name"]] = PropertyDef(**data)
                if data.get("unique"):  # a data dir made before the index took its current shape
                    self._db.ensure_unique_index(object_type, data["name"])
            for object_type, blob in group_rows:
                group = json.loads(blob)
                self._groups[object_type][group["name"]] = group

    def get(self, object_type: str, name: str) -> PropertyDef | None:
        return self._props[object_type].get(name)

    def all(self, object_type: str) -> list[PropertyDef]:
        return list(self._props[object_type].values())

    def unique_props(self, object_type: str) -> list[str]:
        return [p.name for p in self._props[object_type].values() if p.unique]

    def groups(self, object_type: str) -> list[dict[str, Any]]:
        return list(self._groups[object_type].values())

    def create(self, object_type: str, body: dict[str, Any]) -> PropertyDef:
        """Create a custom property; raises HubSpotError 400 (invalid) or 409 (exists)."""
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        if missing:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid input JSON: missing required fields {missing}")
        name = str(body["name"])
        if not NAME_RE.match(name):
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"Property name {name!r} must start with a lowercase letter and contain only "
                               "lowercase letters, digits and underscores")
        type_, field_type = str(body["type"]), str(body["fieldType"])
        if type_ not in _TYPES or field_type not in _TYPES[type_]:
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"Invalid type/fieldType combination {type_}/{field_type}; "
                               f"for type {type_} use one of {sorted(_TYPES.get(type_, set()))}")
        if type_ == "enumeration" and not body.get("options"):
            raise HubSpotError(400, "VALIDATION_ERROR", "Enumeration properties need at least one option")
        with self._lock:
            if str(body["groupName"]) not in self._groups[object_type]:
                raise HubSpotError(400, "VALIDATION_ERROR",
                                   f"Property group {body['groupName']!r} does not exist for {object_type}")
            if name in self._props[object_type]:
                raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists.",
                                   context={"name": [name]})
            prop = PropertyDef.from_api(body, self._clock.now_ms())
            if type_ == "bool" and not prop.options:
                prop.options = [{"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False,
                                 "description": ""},
                                {"label": "No", "value": "false", "displayOrder": 1, "hidden": False,
                                 "description": ""}]
            self._save(object_type, prop)
            self._props[object_type][name] = prop
        if prop.unique:
            self._db.ensure_unique_index(object_type, name)
        return prop

    def create_group(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("name") or "")
        if not NAME_RE.match(name) or not body.get("label"):
            raise HubSpotError(400, "VALIDATION_ERROR", "A property group needs a lowercase `name` and a `label`")
        with self._lock:
            if name in self._groups[object_type]:
                raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"Property group named '{name}' already exists.")
            group = {"name": name, "label": str(body["label"]), "displayOrder": int(body.get("displayOrder", -1)),
                     "archived": False}
            with self._db.transaction() as conn:
                conn.execute("INSERT INTO custom_groups VALUES (?, ?, ?)", (object_type, name, json.dumps(group)))
            self._groups[object_type][name] = group
        return group

    def _save(self, object_type: str, prop: PropertyDef) -> None:
        data = {k: getattr(prop, k) for k in prop.__dataclass_fields__}
        with self._db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO custom_props VALUES (?, ?, ?)",
                         (object_type, prop.name, json.dumps(data)))
