"""Associations between records, stored in both directions with HubSpot's default type ids."""

from __future__ import annotations

from typing import Any

from .errors import HubSpotError
from .schema import ASSOCIATION_TYPE_IDS, SINGULAR
from .store import Database

__all__ = ["AssociationStore", "type_name"]


def type_name(from_type: str, to_type: str) -> str:
    """The v3 association type label (``contact_to_deal``)."""
    return f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"


class AssociationStore:
    """Reads and writes association rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def default_type(self, from_type: str, to_type: str) -> int:
        type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type))
        if type_id is None:
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"{from_type} cannot be associated with {to_type} in this sandbox account")
        return type_id

    def check_type(self, from_type: str, to_type: str, category: str, type_id: int) -> None:
        expected = self.default_type(from_type, to_type)
        if category != "HUBSPOT_DEFINED" or int(type_id) != expected:
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"invalid association type {category}/{type_id} from {from_type} to {to_type}; "
                               f"the unlabeled HUBSPOT_DEFINED type is {expected}")

    def add(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        forward = self.default_type(from_type, to_type)
        backward = self.default_type(to_type, from_type)
        with self.db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO assoc VALUES (?, ?, ?, ?, ?, 'HUBSPOT_DEFINED')",
                         (from_type, from_id, to_type, to_id, forward))
            conn.execute("INSERT OR IGNORE INTO assoc VALUES (?, ?, ?, ?, ?, 'HUBSPOT_DEFINED')",
                         (to_type, to_id, from_type, from_id, backward))

    def remove(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type=? AND to_id=?",
                         (from_type, from_id, to_type, to_id))
            conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type=? AND to_id=?",
                         (to_type, to_id, from_type, from_id))

    def page(self, from_type: str, from_id: int, to_type: str, after: int, limit: int) -> tuple[
            list[tuple[int, list[dict[str, Any]]]], int | None]:
        """Associated ids above `after` (ascending), grouped with their types, and the next cursor."""
        with self.db.lock:
            rows = self.db.conn.execute(
                "SELECT a.to_id, a.category, a.type_id FROM assoc a WHERE a.from_type=? AND a.from_id=? "
                "AND a.to_type=? AND a.to_id>? AND EXISTS (SELECT 1 FROM records r WHERE r.type=a.to_type "
                "AND r.id=a.to_id AND r.archived=0) ORDER BY a.to_id LIMIT ?",
                (from_type, from_id, to_type, after, limit * 4 + 1)).fetchall()
        grouped: dict[int, list[dict[str, Any]]] = {}
        for to_id, category, type_id in rows:
            grouped.setdefault(to_id, []).append({"category": category, "typeId": type_id, "label": None})
        items = list(grouped.items())
        if len(items) > limit:
            return items[:limit], items[limit - 1][0]
        return items, None

    def v3(self, from_type: str, from_id: int, to_types: list[str]) -> dict[str, Any]:
        """The ``associations`` member of a v3 record (types with no associations are left out)."""
        out: dict[str, Any] = {}
        for to_type in to_types:
            items, _ = self.page(from_type, from_id, to_type, 0, 10_000)
            if items:
                name = type_name(from_type, to_type)
                out[to_type] = {"results": [{"id": str(i), "type": name} for i, _ in items]}
        return out
