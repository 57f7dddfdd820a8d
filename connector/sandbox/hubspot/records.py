"""CRM records: validation, history, uniqueness, archive, merge and GDPR delete.

All writes go through `RecordStore`, which keeps the indexed columns (created, modified, email) in
step with the JSON property values and appends property history the way HubSpot reports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..clock import SandboxClock
from .errors import HubSpotError, PropertyError, not_found, property_errors
from .properties import PropertyRegistry
from .schema import COMPANY_ROLLUPS, DEAL_STAGES, LIFECYCLE_ORDER, OBJECT_TYPES, created_prop, modified_prop
from .store import Database
from .values import iso, normalize_value

__all__ = ["RecordStore", "WriteSource", "Row", "SERVER_MANAGED"]

SERVER_MANAGED = frozenset({"createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate",
                            "hs_object_id"})
_STAGES = {s: (p, closed) for s, _, p, closed in DEAL_STAGES}
_COLS = "id, archived, created, modified, archived_at, props"
#: association types a record holds at most once (primary company; a company's parent), and their inverses
_SINGLE: dict[str, tuple[int, ...]] = {"contacts": (1,), "deals": (5,), "companies": (14,)}
_SINGLE_INVERSE = {1: 2, 5: 6, 14: 13}


@dataclass(frozen=True)
class WriteSource:
    """Who wrote a value, as property history reports it (sourceType/sourceId/updatedByUserId)."""

    source_type: str
    source_id: str | None = None
    user_id: int | None = None

    def entry(self, value: str, ts: int) -> dict[str, Any]:
        out: dict[str, Any] = {"value": value, "timestamp": ts, "sourceType": self.source_type}
        if self.source_id is not None:
            out["sourceId"] = self.source_id
        if self.user_id is not None:
            out["updatedByUserId"] = self.user_id
        return out


@dataclass
class Row:
    """One stored record, decoded."""

    type: str
    id: int
    archived: int
    created: int
    modified: int
    archived_at: int | None
    props: dict[str, str]
    history: dict[str, list[dict[str, Any]]] | None = None

    def value(self, name: str) -> str | None:
        if name == "hs_object_id":
            return str(self.id)
        if name == created_prop(self.type) or name == "createdate":
            return iso(self.created)
        if name == modified_prop(self.type):
            return iso(self.modified)
        return self.props.get(name)


class RecordStore:
    """Reads and writes CRM records in the SQLite store, enforcing HubSpot's write rules."""

    def __init__(self, db: Database, clock: SandboxClock, registry: PropertyRegistry) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.owner_ids: set[str] = set()
        self._next: dict[str, int] = {}
        self.refresh_counters()

    # ----- ids and lookups -------------------------------------------------------------------------
    def refresh_counters(self) -> None:
        with self.db.lock:
            for t in OBJECT_TYPES:
                top = self.db.conn.execute("SELECT max(id) FROM records WHERE type=?", (t,)).fetchone()[0]
                merged = self.db.conn.execute("SELECT max(old_id) FROM merged WHERE type=?", (t,)).fetchone()[0]
                self._next[t] = max(top or 0, merged or 0, 100) + 1
            self.owner_ids = {str(r[0]) for r in self.db.conn.execute("SELECT id FROM owners")}

    def next_id(self, object_type: str) -> int:
        with self.db.lock:
            value = self._next[object_type]
            self._next[object_type] = value + 1
            return value

    def get_row(self, object_type: str, object_id: int, *, history: bool = False) -> Row | None:
        cols = _COLS + (", history" if history else "")
        with self.db.lock:
            r = self.db.conn.execute(f"SELECT {cols} FROM records WHERE type=? AND id=?",
                                     (object_type, object_id)).fetchone()
        return self._row(object_type, r, history) if r else None

    def rows(self, object_type: str, ids: list[int], *, history: bool = False) -> dict[int, Row]:
        if not ids:
            return {}
        cols = _COLS + (", history" if history else "")
        marks = ",".join("?" * len(ids))
        with self.db.lock:
            found = self.db.conn.execute(f"SELECT {cols} FROM records WHERE type=? AND id IN ({marks})",
                                         (object_type, *ids)).fetchall()
        return {r[0]: self._row(object_type, r, history) for r in found}

    def _row(self, object_type: str, r: tuple[Any, ...], history: bool) -> Row:
        return Row(object_type, r[0], r[1], r[2], r[3], r[4], json.loads(r[5]),
                   json.loads(r[6] or "{}") if history else None)

    def survivor(self, object_type: str, object_id: int) -> int | None:
        """The id a merged-away record now lives under, if it was merged."""
        with self.db.lock:
            r = self.db.conn.execute("SELECT survivor_id FROM merged WHERE type=? AND old_id=?",
                                     (object_type, object_id)).fetchone()
        return int(r[0]) if r else None

    def resolve(self, object_type: str, raw_id: str, id_property: str | None = None, *,
                archived: bool = False) -> Row | None:
        """Find a record by id (following merges) or by email / a unique property."""
        if id_property and id_property != "hs_object_id":
            found = self.find_by_property(object_type, id_property, raw_id, archived=archived)
            return self.get_row(object_type, found) if found is not None else None
        try:
            object_id = int(str(raw_id))
        except ValueError:
            return None
        row = self.get_row(object_type, object_id)
        if row is None:
            survivor = self.survivor(object_type, object_id)
            row = self.get_row(object_type, survivor) if survivor is not None else None
        if row is None or bool(row.archived) != archived:
            return None
        return row

    def find_by_property(self, object_type: str, name: str, value: str, *, archived: bool = False) -> int | None:
        flag = 1 if archived else 0
        with self.db.lock:
            if object_type == "contacts" and name == "email":
                email = value.strip().lower()
                if not archived:
                    r = self.db.conn.execute(
                        "SELECT id FROM records WHERE type='contacts' AND archived=0 AND email=?", (email,)).fetchone()
                    if r is None:
                        r = self.db.conn.execute("SELECT id FROM aliases WHERE email=?", (email,)).fetchone()
                else:
                    r = self.db.conn.execute("SELECT id FROM records WHERE type='contacts' AND archived=1 AND email=?",
                                             (email,)).fetchone()
                return int(r[0]) if r else None
            prop = self.registry.get(object_type, name)
            if prop is None or not prop.unique:
                raise HubSpotError(400, "VALIDATION_ERROR",
                                   f"{name} is not a unique identifier property of {object_type}; use "
                                   f"hs_object_id{', email' if object_type == 'contacts' else ''} or a property "
                                   "created with hasUniqueValue=true")
            r = self.db.conn.execute(
                f"SELECT id FROM records WHERE type=? AND json_extract(props, '$.{name}')=? AND archived=?",
                (object_type, value, flag)).fetchone()
            return int(r[0]) if r else None

    # ----- validation ------------------------------------------------------------------------------
    def validate(self, object_type: str, props: dict[str, Any], *, creating: bool, system: bool = False,
                 current: Row | None = None) -> dict[str, str | None]:
        """Normalised values; raises HubSpotError (VALIDATION_ERROR) listing every bad property."""
        if not isinstance(props, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: `properties` must be an object")
        clean: dict[str, str | None] = {}
        errors: list[PropertyError] = []
        for name, value in props.items():
            prop = self.registry.get(object_type, name)
            if prop is None:
                errors.append(PropertyError(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if (prop.read_only and not system) or name in SERVER_MANAGED:
                errors.append(PropertyError(name, "READ_ONLY_VALUE",
                                            f'"{name}" is a read only property; its value cannot be set.'))
                continue
            if isinstance(value, (dict, list)):
                errors.append(PropertyError(name, "INVALID_PROPERTY_VALUE",
                                            f'Property "{name}" must be a string, number or boolean'))
                continue
            try:
                normal = normalize_value(prop, value)
            except PropertyError as exc:
                errors.append(exc)
                continue
            if name == "hubspot_owner_id" and normal is not None and normal not in self.owner_ids:
                errors.append(PropertyError(name, "INVALID_OPTION",
                                            f"{normal} was not one of the allowed options (an existing owner id)"))
                continue
            if name == "email" and normal is not None and ("@" not in normal or normal.startswith("@")):
                errors.append(PropertyError(name, "INVALID_EMAIL", f"Email address {normal} is invalid"))
                continue
            clean[name] = normal
        if creating:
            errors += self._missing_required(object_type, clean)
        if errors:
            raise property_errors(errors)
        return clean

    def _missing_required(self, object_type: str, clean: dict[str, str | None]) -> list[PropertyError]:
        required: list[str] = []
        if object_type == "deals":
            required = ["dealname", "dealstage"]
        elif object_type == "emails":
            required = ["hs_timestamp", "hs_email_direction"]
        elif object_type not in ("contacts", "companies"):
            # companies: HubSpot's guide says a create "should include at least one of" name or domain;
            # a recommendation, not a rule the API is documented to enforce, so nothing is required (inferred)
            required = ["hs_timestamp"]
        return [PropertyError(n, "REQUIRED_PROPERTY", f'Property "{n}" is required to create a {object_type[:-1]}')
                for n in required if not clean.get(n)]

    def check_unique(self, object_type: str, values: dict[str, str | None], self_id: int | None,
                     pending: dict[tuple[str, str], int] | None = None) -> None:
        """Raise 409 CONFLICT when an email or unique value belongs to another live record."""
        if object_type == "contacts" and values.get("email"):
            email = str(values["email"]).lower()
            existing = self.find_by_property("contacts", "email", email)
            if existing is None and pending is not None:
                existing = pending.get(("email", email))
            if existing is not None and existing != self_id:
                raise HubSpotError(409, "CONFLICT", f"Contact already exists. Existing ID: {existing}",
                                   context={"existingId": [str(existing)]})
        for name in self.registry.unique_props(object_type):
            value = values.get(name)
            if not value:
                continue
            existing = self.find_by_property(object_type, name, value)
            if existing is None and pending is not None:
                existing = pending.get((name, value))
            if existing is not None and existing != self_id:
                raise HubSpotError(409, "CONFLICT",
                                   f"A {object_type[:-1]} with {name}={value} already exists. Existing ID: {existing}",
                                   context={"existingId": [str(existing)], "propertyName": [name]})

    # ----- writes ----------------------------------------------------------------------------------
    def insert(self, object_type: str, values: dict[str, str | None], source: WriteSource,
               object_id: int | None = None) -> Row:
        """Store a validated new record (caller checked uniqueness)."""
        now = self.clock.now_ms()
        props = {k: v for k, v in values.items() if v is not None}
        derive_calculated(object_type, props)
        history = {k: [source.entry(v, now)] for k, v in props.items()}
        oid = object_id if object_id is not None else self.next_id(object_type)
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO records (type, id, archived, created, modified, email, props, history) "
                         "VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
                         (object_type, oid, now, now, _email(object_type, props), json.dumps(props),
                          json.dumps(history)))
        return Row(object_type, oid, 0, now, now, None, props, history)

    def update(self, row: Row, values: dict[str, str | None], source: WriteSource, *,
               allow_backwards: bool = False) -> Row:
        """Apply validated values to `row`; unchanged values and backward lifecycle moves are no-ops."""
        full = self.get_row(row.type, row.id, history=True)
        if full is None:
            raise not_found(row.type, str(row.id))
        props = dict(full.props)
        history = full.history or {}
        now = self.clock.now_ms()
        changed = False
        for name, new in values.items():
            old = props.get(name)
            if new == old:
                continue
            if (name == "lifecyclestage" and not allow_backwards and old and new
                    and LIFECYCLE_ORDER.index(new) < LIFECYCLE_ORDER.index(old)):
                continue
            entries = history.setdefault(name, [])
            if not entries and old is not None:
                entries.append(self._derived_source(row.type, name).entry(old, full.modified))
            entries.insert(0, source.entry(new if new is not None else "", now))
            if new is None:
                props.pop(name, None)
            else:
                props[name] = new
            changed = True
        if not changed:
            return full
        derive_calculated(row.type, props)
        with self.db.transaction() as conn:
            conn.execute("UPDATE records SET props=?, history=?, modified=?, email=? WHERE type=? AND id=?",
                         (json.dumps(props), json.dumps(history), now, _email(row.type, props), row.type, row.id))
        return Row(row.type, row.id, full.archived, full.created, now, full.archived_at, props, history)

    def set_archived(self, row: Row, archived: bool) -> Row:
        now = self.clock.now_ms()
        if not archived and row.type == "contacts" and row.props.get("email"):
            self.check_unique("contacts", {"email": row.props["email"]}, row.id)
        with self.db.transaction() as conn:
            conn.execute("UPDATE records SET archived=?, archived_at=?, modified=? WHERE type=? AND id=?",
                         (1 if archived else 0, now if archived else None, now, row.type, row.id))
            self.refresh_rollups(self.companies_of(row.type, row.id))
        return self.get_row(row.type, row.id) or row

    # ----- company roll-ups ------------------------------------------------------------------------
    def companies_of(self, object_type: str, object_id: int) -> list[int]:
        """The companies associated with a record, whose roll-ups count it."""
        if object_type not in ("contacts", "deals", "companies"):
            return []
        with self.db.lock:
            return [r[0] for r in self.db.conn.execute(
                "SELECT DISTINCT to_id FROM assoc WHERE from_type=? AND from_id=? AND to_type='companies'",
                (object_type, object_id))]

    def company_rollups(self, company_ids: list[int]) -> dict[int, dict[str, str | None]]:
        """``num_associated_contacts``, ``num_associated_deals``, ``hs_num_child_companies`` and
        ``hs_parent_company_id`` of each company, counting live associated records only."""
        out: dict[int, dict[str, str | None]] = {
            c: {name: None if name == "hs_parent_company_id" else "0" for name in COMPANY_ROLLUPS} for c in company_ids}
        for start in range(0, len(company_ids), 500):
            chunk = company_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for name, (other, type_id) in COMPANY_ROLLUPS.items():
                agg = "min(a.to_id)" if name == "hs_parent_company_id" else "count(DISTINCT a.to_id)"
                with self.db.lock:
                    found = self.db.conn.execute(
                        f"SELECT a.from_id, {agg} FROM assoc a WHERE a.from_type='companies' "
                        f"AND a.from_id IN ({marks}) AND a.to_type=? AND a.type_id=? "
                        "AND EXISTS (SELECT 1 FROM records r WHERE r.type=a.to_type "
                        "AND r.id=a.to_id AND r.archived=0) GROUP BY a.from_id", (*chunk, other, type_id)).fetchall()
                for company, value in found:
                    out[company][name] = str(value)
        return out

    def refresh_rollups(self, company_ids: list[int], *, seeding: bool = False) -> None:
        """Recompute the roll-ups of live companies; a change is a CALCULATED write that moves
        ``hs_lastmodifieddate`` (as HubSpot's calculated properties do), except while seeding."""
        if not company_ids:
            return
        ids = sorted(set(company_ids))
        rows = self.rows("companies", ids)
        with self.db.transaction() as conn:
            for company, values in self.company_rollups(ids).items():
                row = rows.get(company)
                if row is None or row.archived:
                    continue
                changed = {k: v for k, v in values.items() if row.props.get(k) != v}
                if not changed:
                    continue
                if seeding:
                    props = {**row.props, **{k: v for k, v in changed.items() if v is not None}}
                    for k in [k for k, v in changed.items() if v is None]:
                        props.pop(k, None)
                    conn.execute("UPDATE records SET props=? WHERE type='companies' AND id=?",
                                 (json.dumps(props), company))
                else:
                    self.update(row, changed, WriteSource("CALCULATED"))

    def set_modified(self, object_type: str, object_id: int, at_ms: int) -> None:
        with self.db.transaction() as conn:
            cur = conn.execute("UPDATE records SET modified=? WHERE type=? AND id=?", (at_ms, object_type, object_id))
            if cur.rowcount == 0:
                raise not_found(object_type, str(object_id))

    def delete_permanently(self, object_type: str, object_id: int) -> None:
        companies = self.companies_of(object_type, object_id)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM records WHERE type=? AND id=?", (object_type, object_id))
            conn.execute("DELETE FROM assoc WHERE (from_type=? AND from_id=?) OR (to_type=? AND to_id=?)",
                         (object_type, object_id, object_type, object_id))
            # two statements, so each is an index search (an OR of the two columns searched the whole type)
            conn.execute("DELETE FROM merged WHERE type=? AND old_id=?", (object_type, object_id))
            conn.execute("DELETE FROM merged WHERE type=? AND survivor_id=?", (object_type, object_id))
            if object_type == "contacts":
                conn.execute("DELETE FROM aliases WHERE id=?", (object_id,))
                conn.execute("DELETE FROM events WHERE contact_id=?", (object_id,))
            self.refresh_rollups([c for c in companies if c != object_id])

    def merge(self, object_type: str, primary: Row, secondary: Row, source: WriteSource, *,
              preserve_primary_id: bool = False) -> Row:
        """Merge `secondary` into `primary` and return the survivor.

        Without Primary ID preservation (HubSpot's default) the survivor is a new record with a new id,
        and both old ids point at it; with it (the account setting), the primary keeps its id. Either
        way the primary's values win, the secondary's fill the properties the primary lacks, and the
        survivor's ``hs_merged_object_ids`` lists every id it absorbed.
        """
        if primary.id == secondary.id:
            raise HubSpotError(400, "VALIDATION_ERROR", "Cannot merge an object with itself")
        full_p = self.get_row(object_type, primary.id, history=True)
        full_s = self.get_row(object_type, secondary.id, history=True)
        if full_p is None or full_s is None:
            raise not_found(object_type, str(secondary.id))
        merged_ids = _ids(full_p.props.get("hs_merged_object_ids")) + _ids(full_s.props.get("hs_merged_object_ids"))
        if not preserve_primary_id:
            merged_ids.append(str(full_p.id))
        merged_ids.append(str(full_s.id))
        merged_ids = list(dict.fromkeys(merged_ids))
        if len(merged_ids) >= 250:
            raise HubSpotError(414, "VALIDATION_ERROR", "Cannot have more than 250 identities on a profile")
        values: dict[str, str | None] = {}
        for name, value in full_s.props.items():
            if name not in full_p.props and name not in ("email", "hs_merged_object_ids", "hs_additional_emails"):
                values[name] = value
        values["hs_merged_object_ids"] = ";".join(merged_ids)
        extra: list[str] = []
        if object_type == "contacts":
            extra = _ids(full_p.props.get("hs_additional_emails")) + _ids(full_s.props.get("hs_additional_emails"))
            if full_s.props.get("email"):
                extra.append(full_s.props["email"])
            if extra:
                values["hs_additional_emails"] = ";".join(dict.fromkeys(extra))
        with self.db.transaction() as conn:
            survivor = full_p
            if not preserve_primary_id:
                survivor = self._fresh_survivor(conn, full_p, full_s)
            gone = [full_s.id] if preserve_primary_id else [full_p.id, full_s.id]
            kept = {tid: self._held_by(conn, object_type, full_p.id, tid) for tid in _SINGLE.get(object_type, ())}
            for old in gone:
                self._repoint(conn, object_type, old, survivor.id)
            self._keep_single(conn, object_type, survivor.id, kept)
            if object_type == "contacts":
                for email in extra:
                    conn.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (email.lower(), survivor.id))
            result = self.update(survivor, values, source)
            self.refresh_rollups(self.companies_of(object_type, survivor.id)
                                 + ([survivor.id] if object_type == "companies" else []))
            return result

    @staticmethod
    def _held_by(conn: Any, object_type: str, object_id: int, type_id: int) -> int | None:
        r = conn.execute("SELECT min(to_id) FROM assoc WHERE from_type=? AND from_id=? AND to_type='companies' "
                         "AND type_id=?", (object_type, object_id, type_id)).fetchone()
        return r[0] if r else None

    @staticmethod
    def _keep_single(conn: Any, object_type: str, survivor: int, kept: dict[int, int | None]) -> None:
        """After a merge the survivor keeps the primary record's primary company (or parent company), and a
        company loses any association with itself; the other companies stay associated unlabeled (inferred)."""
        if object_type == "companies":
            conn.execute("DELETE FROM assoc WHERE from_type='companies' AND from_id=? AND to_type='companies' "
                         "AND to_id=?", (survivor, survivor))
        for type_id, keep in kept.items():
            held = sorted(r[0] for r in conn.execute(
                "SELECT to_id FROM assoc WHERE from_type=? AND from_id=? AND to_type='companies' AND type_id=?",
                (object_type, survivor, type_id)))
            drop = [c for c in held if c != keep] if keep in held else held[1:]
            for company in drop:
                conn.execute("DELETE FROM assoc WHERE from_type=? AND from_id=? AND to_type='companies' AND to_id=? "
                             "AND type_id=?", (object_type, survivor, company, type_id))
                conn.execute("DELETE FROM assoc WHERE from_type='companies' AND from_id=? AND to_type=? AND to_id=? "
                             "AND type_id=?", (company, object_type, survivor, _SINGLE_INVERSE[type_id]))

    def _fresh_survivor(self, conn: Any, primary: Row, secondary: Row) -> Row:
        """A new record for the merge result: the primary's values and history, the older create time."""
        new_id = self.next_id(primary.type)
        history = dict(secondary.history or {})
        history.update(primary.history or {})
        created = min(primary.created, secondary.created)
        conn.execute("DELETE FROM records WHERE type=? AND id IN (?, ?)", (primary.type, primary.id, secondary.id))
        conn.execute("INSERT INTO records (type, id, archived, created, modified, email, props, history) "
                     "VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
                     (primary.type, new_id, created, primary.modified, _email(primary.type, primary.props),
                      json.dumps(primary.props), json.dumps(history)))
        return Row(primary.type, new_id, 0, created, primary.modified, None, dict(primary.props), history)

    def _repoint(self, conn: Any, object_type: str, old: int, survivor: int) -> None:
        """Everything that named `old` (its row, merge aliases, associations, emails, events) now names `survivor`."""
        conn.execute("DELETE FROM records WHERE type=? AND id=?", (object_type, old))
        conn.execute("UPDATE merged SET survivor_id=? WHERE type=? AND survivor_id=?", (survivor, object_type, old))
        conn.execute("INSERT OR REPLACE INTO merged VALUES (?, ?, ?)", (object_type, old, survivor))
        for from_type, to_type, to_id, type_id, cat in conn.execute(
                "SELECT from_type, to_type, to_id, type_id, category FROM assoc WHERE from_type=? AND from_id=?",
                (object_type, old)).fetchall():
            conn.execute("INSERT OR IGNORE INTO assoc VALUES (?, ?, ?, ?, ?, ?)",
                         (from_type, survivor, to_type, to_id, type_id, cat))
        for from_type, from_id, type_id, cat in conn.execute(
                "SELECT from_type, from_id, type_id, category FROM assoc WHERE to_type=? AND to_id=?",
                (object_type, old)).fetchall():
            conn.execute("INSERT OR IGNORE INTO assoc VALUES (?, ?, ?, ?, ?, ?)",
                         (from_type, from_id, object_type, survivor, type_id, cat))
        conn.execute("DELETE FROM assoc WHERE (from_type=? AND from_id=?) OR (to_type=? AND to_id=?)",
                     (object_type, old, object_type, old))
        if object_type == "contacts":
            conn.execute("UPDATE aliases SET id=? WHERE id=?", (survivor, old))
            conn.execute("UPDATE events SET contact_id=? WHERE contact_id=?", (survivor, old))

    # ----- rendering -------------------------------------------------------------------------------
    def render(self, row: Row, properties: list[str], *, with_history: list[str] | None = None,
               always: bool = True) -> dict[str, Any]:
        """The SimplePublicObject shape; defined-but-empty requested properties come back as null."""
        names = list(properties)
        if always:
            for n in (created_prop(row.type), modified_prop(row.type), "hs_object_id"):
                if n not in names:
                    names.append(n)
            if row.type == "contacts" and "createdate" not in names:
                names.append("createdate")
        out_props: dict[str, str | None] = {}
        for name in names:
            if name in SERVER_MANAGED or self.registry.get(row.type, name) is not None:
                out_props[name] = row.value(name)
        out: dict[str, Any] = {"id": str(row.id), "properties": out_props, "createdAt": iso(row.created),
                               "updatedAt": iso(row.modified), "archived": bool(row.archived)}
        if row.archived and row.archived_at:
            out["archivedAt"] = iso(row.archived_at)
        if with_history:
            out["propertiesWithHistory"] = self.history_of(row, with_history)
        return out

    def _derived_source(self, object_type: str, name: str) -> WriteSource:
        """Source reported for a value that has no recorded history (seeded data)."""
        prop = self.registry.get(object_type, name)
        return WriteSource("CALCULATED" if prop is None or prop.read_only else "CRM_UI")

    def history_of(self, row: Row, names: list[str]) -> dict[str, list[dict[str, Any]]]:
        history = row.history
        if history is None:
            full = self.get_row(row.type, row.id, history=True)
            history = (full.history if full else None) or {}
        out: dict[str, list[dict[str, Any]]] = {}
        for name in names:
            if self.registry.get(row.type, name) is None and name not in SERVER_MANAGED:
                continue
            entries = history.get(name)
            if not entries:
                value = row.value(name)
                source = self._derived_source(row.type, name)
                # a seeded value is as old as its record; it must not move when another property changes
                # (only calculated values, such as lastmodifieddate, follow the record's update time)
                ts = row.modified if source.source_type == "CALCULATED" and name not in (
                    created_prop(row.type), "hs_object_id") else row.created
                entries = [] if value is None else [source.entry(value, ts)]
            out[name] = [{**e, "timestamp": iso(int(e["timestamp"]))} for e in entries]
        return out


def _ids(value: str | None) -> list[str]:
    """The items of a ``;``-joined property value (hs_merged_object_ids, hs_additional_emails)."""
    return [x for x in (value or "").split(";") if x]


def _email(object_type: str, props: dict[str, str]) -> str | None:
    if object_type != "contacts" or not props.get("email"):
        return None
    return props["email"].strip().lower()


def derive_calculated(object_type: str, props: dict[str, str]) -> None:
    """Calculated deal properties HubSpot keeps in step with the stage."""
    if object_type == "deals" and props.get("dealstage") in _STAGES:
        probability, closed = _STAGES[props["dealstage"]]
        props["hs_deal_stage_probability"] = probability
        props["hs_is_closed"] = "true" if closed else "false"
        props["hs_is_closed_won"] = "true" if props["dealstage"] == "closedwon" else "false"
        props.setdefault("pipeline", "default")
