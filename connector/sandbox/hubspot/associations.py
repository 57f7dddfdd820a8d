"""Associations between records, stored in both directions with HubSpot's HUBSPOT_DEFINED type ids.

Every pair of associated records has the unlabeled type of its object pair; a labelled type (a contact's or
a deal's primary company, parent/child companies) is stored beside it, as HubSpot reports a labelled
association with its unlabeled type too (v4 reads list both). Removing the unlabeled type removes the labels
with it (the SDK's ``batch/labels/archive`` docstring: "Deleting an unlabeled association will also delete
all labeled associations between those two objects").

One primary company per contact or deal, and one parent per company: setting another replaces the old one,
which stays associated unlabeled (v3 ``contact_to_company`` "always marks the newly associated company as
the user's new primary company", HubSpot/hubspot-api-nodejs#176; the parent rule is inferred). The
company roll-ups (``num_associated_contacts`` ...) follow every change (``RecordStore.refresh_rollups``).
"""

from __future__ import annotations

from typing import Any

from .errors import HubSpotError
from .records import RecordStore
from .schema import (ASSOCIATION_DEFS, ASSOCIATION_TYPE_IDS, CHILD_TO_PARENT, PARENT_TO_CHILD, PRIMARY_COMPANY_TYPES,
                     SINGULAR, AssociationDef, association_def)
from .store import Database

__all__ = ["AssociationStore", "type_name", "labels_for"]


def type_name(from_type: str, to_type: str) -> str:
    """The v3 association type label of the unlabeled type (``contact_to_deal``)."""
    tid = ASSOCIATION_TYPE_IDS.get((from_type, to_type))
    if tid is not None:
        return ASSOCIATION_DEFS[tid].v3_name
    return f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"


def labels_for(from_type: str, to_type: str) -> list[AssociationDef]:
    """Every type from `from_type` to `to_type` (what ``GET /crm/v4/associations/{from}/{to}/labels`` lists)."""
    return sorted((d for d in ASSOCIATION_DEFS.values() if (d.from_type, d.to_type) == (from_type, to_type)),
                  key=lambda d: d.type_id)


def _single(from_type: str, to_type: str, type_id: int) -> tuple[str, int] | None:
    """For a type a record may hold once (primary company, parent company): (holder side, the holder's type id).

    The holder is the contact/deal for a primary company and the child for a parent; "from" means the
    association's from-record holds it, "to" the to-record.
    """
    for obj, tid in PRIMARY_COMPANY_TYPES.items():
        if (from_type, to_type, type_id) == (obj, "companies", tid):
            return "from", tid
        if (from_type, to_type, type_id) == ("companies", obj, tid + 1):
            return "to", tid
    if (from_type, to_type) == ("companies", "companies"):
        if type_id == CHILD_TO_PARENT:
            return "from", CHILD_TO_PARENT
        if type_id == PARENT_TO_CHILD:
            return "to", CHILD_TO_PARENT
    return None


class AssociationStore:
    """Reads and writes association rows; keeps company roll-ups in step when given the record store."""

    def __init__(self, db: Database, records: RecordStore | None = None) -> None:
        self.db = db
        self.records = records

    def default_type(self, from_type: str, to_type: str) -> int:
        type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type))
        if type_id is None:
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"{from_type} cannot be associated with {to_type} in this sandbox account")
        return type_id

    def check_type(self, from_type: str, to_type: str, category: str, type_id: int) -> AssociationDef:
        """The definition of a requested type; 400 when it is not one of the pair's HUBSPOT_DEFINED types."""
        self.default_type(from_type, to_type)
        found = association_def(from_type, to_type, type_id) if category == "HUBSPOT_DEFINED" else None
        if found is None:
            known = ", ".join(str(d.type_id) for d in labels_for(from_type, to_type))
            raise HubSpotError(400, "VALIDATION_ERROR",
                               f"invalid association type {category}/{type_id} from {from_type} to {to_type}; "
                               f"the HUBSPOT_DEFINED types are {known}")
        return found

    def add(self, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int | None = None) -> list[int]:
        """Associate two records (unlabeled, plus the labelled `type_id` if given); the labels now between them."""
        if from_type == to_type and from_id == to_id:
            raise HubSpotError(400, "VALIDATION_ERROR", f"A {SINGULAR[from_type]} cannot be associated with itself")
        forward = self.default_type(from_type, to_type)
        rows = [(from_type, from_id, to_type, to_id, forward), (to_type, to_id, from_type, from_id,
                                                                  self.default_type(to_type, from_type))]
        touched = {(from_type, from_id), (to_type, to_id)}
        with self.db.transaction() as conn:
            if type_id is not None and type_id != forward:
                spec = ASSOCIATION_DEFS[type_id]
                single = _single(from_type, to_type, type_id)
                if single is not None:
                    holder_type, holder_id = (from_type, from_id) if single[0] == "from" else (to_type, to_id)
                    touched |= self._drop_single(conn, holder_type, holder_id, single[1])
                rows += [(from_type, from_id, to_type, to_id, type_id),
                         (to_type, to_id, from_type, from_id, spec.inverse)]
            conn.executemany("INSERT OR IGNORE INTO assoc VALUES (?, ?, ?, ?, ?, 'HUBSPOT_DEFINED')", rows)
        self._refresh(touched)
        return self.labels_between(from_type, from_id, to_type, to_id)

    def _drop_single(self, conn: Any, holder_type: str, holder_id: int, holder_tid: int) -> set[tuple[str, int]]:
        """Remove the holder's current primary company (or parent), keeping the unlabeled association."""
        inverse = ASSOCIATION_DEFS[holder_tid].inverse
        old = [r[0] for r in conn.execute(
            "SELECT to_id FROM assoc WHERE from_type=? AND from_id=? AND to_type='companies' AND type_id=?",
            (holder_type, holder_id, holder_tid)).fetchall()]
        for company in old:
            conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type='companies' AND to_id=? "
                         "AND type_id=?", (holder_type, holder_id, company, holder_tid))
            conn.execute("DELETE FROM assoc WHERE from_type='companies' AND from_id=? AND to_type=? AND to_id=? "
                         "AND type_id=?", (company, holder_type, holder_id, inverse))
        return {("companies", c) for c in old}

    def remove(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """Remove every type between two records, both directions."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type=? AND to_id=?",
                         (from_type, from_id, to_type, to_id))
            conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type=? AND to_id=?",
                         (to_type, to_id, from_type, from_id))
        self._refresh({(from_type, from_id), (to_type, to_id)})

    def remove_label(self, from_type: str, from_id: int, to_type: str, to_id: int, type_id: int) -> None:
        """Remove one type; the unlabeled type takes the whole association with it."""
        if type_id == ASSOCIATION_TYPE_IDS.get((from_type, to_type)):
            self.remove(from_type, from_id, to_type, to_id)
            return
        spec = ASSOCIATION_DEFS[type_id]
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type=? AND to_id=? AND type_id=?",
                         (from_type, from_id, to_type, to_id, type_id))
            conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type=? AND to_id=? AND type_id=?",
                         (to_type, to_id, from_type, from_id, spec.inverse))
        self._refresh({(from_type, from_id), (to_type, to_id)})

    def labels_between(self, from_type: str, from_id: int, to_type: str, to_id: int) -> list[int]:
        with self.db.lock:
            return [r[0] for r in self.db.conn.execute(
                "SELECT type_id FROM assoc WHERE from_type=? AND from_id=? AND to_type=? AND to_id=? ORDER BY type_id",
                (from_type, from_id, to_type, to_id))]

    def _refresh(self, touched: set[tuple[str, int]]) -> None:
        if self.records is not None:
            self.records.refresh_rollups(sorted(i for t, i in touched if t == "companies"))

    def page(self, from_type: str, from_id: int, to_type: str, after: int, limit: int) -> tuple[
            list[tuple[int, list[dict[str, Any]]]], int | None]:
        """Associated ids above `after` (ascending), grouped with their types, and the next cursor."""
        with self.db.lock:
            rows = self.db.conn.execute(
                "SELECT a.to_id, a.category, a.type_id FROM assoc a WHERE a.from_type=? AND a.from_id=? "
                "AND a.to_type=? AND a.to_id>? AND EXISTS (SELECT 1 FROM records r WHERE r.type=a.to_type "
                "AND r.id=a.to_id AND r.archived=0) ORDER BY a.to_id, a.type_id LIMIT ?",
                (from_type, from_id, to_type, after, limit * 4 + 1)).fetchall()
        grouped: dict[int, list[dict[str, Any]]] = {}
        for to_id, category, type_id in rows:
            spec = ASSOCIATION_DEFS.get(type_id)
            grouped.setdefault(to_id, []).append(
                {"category": category, "typeId": type_id, "label": spec.label if spec else None})
        items = list(grouped.items())
        if len(items) > limit:
            return items[:limit], items[limit - 1][0]
        return items, None

    def v3(self, from_type: str, from_id: int, to_types: list[str]) -> dict[str, Any]:
        """The ``associations`` member of a v3 record (types with no associations are left out).

        One entry per associated record and type, named as v3 names them (``contact_to_company`` for the
        primary, ``contact_to_company_unlabeled`` beside it); the names follow the SDKs' association type
        enums, inferred for the unlabeled company types.
        """
        out: dict[str, Any] = {}
        for to_type in to_types:
            if (from_type, to_type) not in ASSOCIATION_TYPE_IDS:
                continue
            items, _ = self.page(from_type, from_id, to_type, 0, 10_000)
            if items:
                out[to_type] = {"results": [
                    {"id": str(i), "type": ASSOCIATION_DEFS[t["typeId"]].v3_name if t["typeId"] in ASSOCIATION_DEFS
                     else type_name(from_type, to_type)} for i, types in items for t in types]}
        return out
