"""Operations shared by the API routes and the control routes (create with associations, merge, GDPR)."""

from __future__ import annotations

from typing import Any

from .associations import AssociationStore
from .errors import HubSpotError, not_found
from .records import Row, WriteSource
from .schema import ASSOCIATION_DEFS
from .state import HubSpotState

__all__ = ["Services"]


class Services:
    """The account's stores plus the multi-step operations built on them."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state
        self.db = state.db
        self.records = state.records
        self.registry = state.registry
        self.assoc = AssociationStore(state.db, state.records)

    def prepare_create(self, object_type: str, body: Any
                       ) -> tuple[dict[str, str | None], list[tuple[str, int, int]]]:
        """Validated values and association targets of one create input; raises HubSpotError."""
        if not isinstance(body, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: each input must be an object")
        values = self.records.validate(object_type, body.get("properties") or {}, creating=True)
        targets: list[tuple[str, int, int]] = []
        for spec in body.get("associations") or []:
            to_id = int(str((spec.get("to") or {}).get("id")))
            for t in spec.get("types") or []:
                type_id = int(t.get("associationTypeId", -1))
                to_type = self._target_type(object_type, type_id)
                if self.records.get_row(to_type, to_id) is None:
                    raise HubSpotError(400, "VALIDATION_ERROR",
                                       f"Association target {to_type} {to_id} does not exist",
                                       context={"id": [str(to_id)]})
                targets.append((to_type, to_id, type_id))
        return values, targets

    def _target_type(self, object_type: str, type_id: int) -> str:
        spec = ASSOCIATION_DEFS.get(type_id)
        if spec is not None and spec.from_type == object_type:
            return spec.to_type
        raise HubSpotError(400, "VALIDATION_ERROR",
                           f"associationTypeId {type_id} is not a HUBSPOT_DEFINED type from {object_type}")

    def finish_create(self, object_type: str, values: dict[str, str | None], targets: list[tuple[str, int, int]],
                      source: WriteSource) -> Row:
        row = self.records.insert(object_type, values, source)
        for to_type, to_id, type_id in targets:
            self.assoc.add(object_type, row.id, to_type, to_id, type_id)
        if object_type == "companies":
            self.records.refresh_rollups([row.id])
        return self.records.get_row(object_type, row.id) or row

    def create_one(self, object_type: str, body: Any, source: WriteSource) -> Row:
        with self.db.transaction():
            values, targets = self.prepare_create(object_type, body)
            self.records.check_unique(object_type, values, None)
            return self.finish_create(object_type, values, targets, source)

    def merge(self, object_type: str, body: Any, source: WriteSource) -> Row:
        if object_type not in ("contacts", "companies", "deals"):
            raise HubSpotError(400, "VALIDATION_ERROR", f"Merging {object_type} is not supported")
        primary_id = str(body.get("primaryObjectId", ""))
        other_id = str(body.get("objectIdToMerge", ""))
        with self.db.transaction():
            primary = self.records.resolve(object_type, primary_id)
            other = self.records.resolve(object_type, other_id)
            if primary is None:
                raise not_found(object_type, primary_id)
            if other is None:
                raise not_found(object_type, other_id)
            return self.records.merge(object_type, primary, other, source,
                                      preserve_primary_id=self.state.account.primary_id_preservation)

    def gdpr_delete(self, object_id: str, id_property: str | None) -> None:
        """Permanently delete a contact; an unknown email is blocklisted (as HubSpot does)."""
        with self.db.transaction() as conn:
            row = self.records.resolve("contacts", object_id, id_property)
            if row is None:
                row = self.records.resolve("contacts", object_id, id_property, archived=True)
            if row is None:
                if id_property == "email":
                    conn.execute("INSERT OR IGNORE INTO blocklist VALUES (?)", (object_id.lower(),))
                    return
                raise not_found("contacts", object_id)
            if row.props.get("email"):
                conn.execute("INSERT OR IGNORE INTO blocklist VALUES (?)", (row.props["email"].lower(),))
            self.records.delete_permanently("contacts", row.id)
