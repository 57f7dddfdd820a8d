"""The HubSpot sandbox account: its SQLite store, schema, tokens, limits and seed loading."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from pathlib import Path
from typing import Any

from ..clock import SandboxClock
from ..dataset import SeedBatch
from .account import AccountSettings
from .events import EventStore, accumulate, merge_summary
from .limits import HubSpotLimits, RateLimiter
from .properties import PropertyRegistry
from .records import RecordStore, WriteSource, derive_calculated
from .schema import (ASSOCIATION_DEFS, ASSOCIATION_TYPE_IDS, CHILD_TO_PARENT, OBJECT_TYPES, PRIMARY_COMPANY_TYPES,
                     PropertyDef)
from .store import Database
from .values import normalize_value

__all__ = ["HubSpotState", "TokenInfo"]

PRIVATE_APP_ID = "2461723"
OAUTH_APP_ID = "3198044"
PORTAL_ID = 24_580_113
ACCESS_TOKEN_TTL_S = 1800
_SERVER_MANAGED = frozenset({"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_createdate"})


class TokenInfo:
    """Who a bearer token is: which app, OAuth or private, and when it expires (ms, or None)."""

    def __init__(self, app_id: str, oauth: bool, expires_ms: int | None) -> None:
        self.app_id = app_id
        self.oauth = oauth
        self.expires_ms = expires_ms


class HubSpotState:
    """Everything one emulated HubSpot account holds; safe to share between server threads."""

    def __init__(self, data_dir: Path, clock: SandboxClock, *, rate_limits: bool = True,
                 limits: HubSpotLimits | None = None, account: AccountSettings | None = None) -> None:
        self.clock = clock
        #: behaviour switches (merge ids, search lag, tier, the undocumented batch cases); a reset
        #: restores the ones the account was made with
        self.account = account or AccountSettings()
        self._account_defaults = self.account.to_json()
        self.rate_limits = rate_limits
        self.limits = limits or HubSpotLimits()
        self.limiter = RateLimiter(self.limits, clock)
        self.portal_id = PORTAL_ID
        self.private_app_id = PRIVATE_APP_ID
        self.oauth_app_id = OAUTH_APP_ID
        self.db = Database(Path(data_dir) / "hubspot.sqlite3")
        self.registry = PropertyRegistry(self.db, clock)
        self.records = RecordStore(self.db, clock, self.registry)
        self.events = EventStore(self.db, self.records)
        self.access_token = "pat-na1-" + str(uuid.uuid4())
        self.oauth_client_id = str(uuid.uuid4())
        self.oauth_client_secret = str(uuid.uuid4())
        self.oauth_refresh_token = "na1-" + secrets.token_hex(16)
        self._tokens_lock = threading.Lock()
        self._tokens: dict[str, TokenInfo] = {self.access_token: TokenInfo(PRIVATE_APP_ID, False, None)}

    # ----- auth ------------------------------------------------------------------------------------
    def api_source(self, token: TokenInfo | None) -> WriteSource:
        """History source of a write made through the API by this token's app."""
        return WriteSource("INTEGRATION", token.app_id if token else PRIVATE_APP_ID)

    def token(self, value: str) -> TokenInfo | None:
        with self._tokens_lock:
            return self._tokens.get(value)

    def issue_access_token(self) -> tuple[str, int]:
        """A new OAuth access token (about 30 minutes, by the sandbox clock)."""
        token = "CJ" + secrets.token_urlsafe(96)
        with self._tokens_lock:
            self._tokens[token] = TokenInfo(OAUTH_APP_ID, True, self.clock.now_ms() + ACCESS_TOKEN_TTL_S * 1000)
        return token, ACCESS_TOKEN_TTL_S

    def expire_oauth_tokens(self) -> int:
        now = self.clock.now_ms()
        with self._tokens_lock:
            expired = [t for t in self._tokens.values() if t.oauth]
            for info in expired:
                info.expires_ms = now - 1
        return len(expired)

    def close(self) -> None:
        """Close the SQLite file (the state is unusable afterwards)."""
        self.db.close()

    # ----- seeding ---------------------------------------------------------------------------------
    def reset(self) -> None:
        """Empty the account (records, events, custom properties, owners), restore its settings; tokens stay valid."""
        self.db.clear()
        self.account = AccountSettings(**self._account_defaults)
        self.registry.reload()
        self.records.refresh_counters()
        self.limiter.reset()

    def load(self, batch: SeedBatch) -> None:
        """Insert a seed batch fast (one transaction per table); ids continue above the highest seeded."""
        owners = batch.hubspot.get("owners") or []
        for object_type, definitions in batch.hubspot_properties.items():
            for body in definitions:
                if self.registry.get(object_type, str(body.get("name"))) is None:
                    self.registry.create(object_type, body)
        folded = accumulate(list(batch.marketing_events)) if batch.marketing_events else {}
        with self.db.transaction() as conn:
            if owners:
                conn.executemany("INSERT OR REPLACE INTO owners (id, email, json) VALUES (?, ?, ?)",
                                 [(int(o["id"]), str(o.get("email", "")).lower(), json.dumps(o)) for o in owners])
            for object_type in OBJECT_TYPES:
                defs = {p.name: p for p in self.registry.all(object_type)}
                rows = [self._seed_row(object_type, r, defs, folded) for r in batch.hubspot.get(object_type) or []]
                if rows:
                    conn.executemany("INSERT OR REPLACE INTO records (type, id, archived, created, modified, "
                                     "archived_at, email, props, history) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                    if object_type == "contacts":
                        conn.executemany("INSERT OR REPLACE INTO aliases VALUES (?, ?)", [
                            (alias.strip().lower(), int(r["id"])) for r in batch.hubspot.get("contacts") or []
                            for alias in ((r.get("properties") or {}).get("hs_additional_emails") or "").split(";")
                            if alias.strip()])
            if batch.hubspot_merged:
                conn.executemany("INSERT OR REPLACE INTO merged VALUES (?, ?, ?)",
                                 [(t, int(old), int(new)) for t, old, new in batch.hubspot_merged])
            # labelled seed associations (primary company, parent company) carry their type id: the 5-tuple form
            labelled = [a[:5] for a in batch.hubspot_labeled_associations]
            assoc_rows, companies = self._seed_associations(conn, [*batch.hubspot_associations, *labelled])
            if assoc_rows:
                conn.executemany("INSERT OR IGNORE INTO assoc VALUES (?, ?, ?, ?, ?, 'HUBSPOT_DEFINED')", assoc_rows)
            companies |= {int(r["id"]) for r in batch.hubspot.get("companies") or []}
            self.records.refresh_rollups(sorted(companies), seeding=True)
        if batch.marketing_events:
            in_batch = {int(r["id"]) for r in batch.hubspot.get("contacts") or []}
            self.events.add(list(batch.marketing_events), seeding=True,
                            folded={cid: a for cid, a in folded.items() if cid in in_batch})
        self.records.refresh_counters()

    @staticmethod
    def _seed_associations(conn: Any, associations: list[Any]) -> tuple[list[tuple[Any, ...]], set[int]]:
        """Association rows (both directions) for seed tuples, and the companies they touch.

        A 4-tuple gets its pair's unlabeled type; a contact's or deal's first company in the seed is also its
        primary (what HubSpot's automatic contact-company association makes, and what a single company is in
        the UI); a ``("companies", child, "companies", parent)`` tuple reads as child -> parent, like
        Salesforce's ``Account.ParentId``. A 5-tuple's fifth member is an explicit HUBSPOT_DEFINED type id
        (1, 2, 5, 6, 13, 14 or an unlabeled one), stored with its unlabeled type.
        """
        rows: list[tuple[Any, ...]] = []
        companies: set[int] = set()
        has_primary: set[tuple[str, int]] = set()
        for item in associations:
            from_type, from_id, to_type, to_id = item[0], int(item[1]), item[2], int(item[3])
            type_id = int(item[4]) if len(item) > 4 else None
            forward = ASSOCIATION_TYPE_IDS.get((from_type, to_type), 0)
            rows += [(from_type, from_id, to_type, to_id, forward),
                     (to_type, to_id, from_type, from_id, ASSOCIATION_TYPE_IDS.get((to_type, from_type), 0))]
            if "companies" in (from_type, to_type):
                companies |= {i for t, i in ((from_type, from_id), (to_type, to_id)) if t == "companies"}
            holder: tuple[str, int] | None = None
            if to_type == "companies" and from_type in PRIMARY_COMPANY_TYPES:
                holder = (from_type, from_id)
            elif from_type == "companies" and to_type in PRIMARY_COMPANY_TYPES:
                holder = (to_type, to_id)
            if type_id is None and from_type == to_type == "companies":
                type_id = CHILD_TO_PARENT
            elif type_id is None and holder is not None:
                primary = PRIMARY_COMPANY_TYPES[holder[0]]
                taken = holder in has_primary or conn.execute(
                    "SELECT 1 FROM assoc WHERE from_type=? AND from_id=? AND to_type='companies' AND type_id=? LIMIT 1",
                    (holder[0], holder[1], primary)).fetchone() is not None
                type_id = None if taken else primary if holder[0] == from_type else primary + 1
            if holder is not None and type_id in (1, 2, 5, 6):
                has_primary.add(holder)
            spec = ASSOCIATION_DEFS.get(type_id) if type_id is not None else None
            if spec is not None and type_id != forward:
                rows += [(from_type, from_id, to_type, to_id, spec.type_id),
                         (to_type, to_id, from_type, from_id, spec.inverse)]
        return rows, companies

    def _seed_row(self, object_type: str, record: dict[str, Any], defs: dict[str, PropertyDef],
                  folded: dict[int, dict[str, Any]]) -> tuple[Any, ...]:
        props: dict[str, str] = {}
        for name, value in (record.get("properties") or {}).items():
            if value is None or value == "" or name in _SERVER_MANAGED:
                continue
            prop = defs.get(name)
            if prop is None or prop.read_only or (prop.type == "string" and isinstance(value, str)):
                props[name] = value if isinstance(value, str) else str(value)
            else:
                props[name] = normalize_value(prop, value) or ""
        derive_calculated(object_type, props)
        created = int(record.get("createdAt") or self.clock.now_ms())
        modified = int(record.get("updatedAt") or created)
        summary = folded.get(int(record["id"])) if object_type == "contacts" else None
        if summary:
            merge_summary(props, summary)
            modified = max(modified, summary["_last"])
        history = record.get("history")
        email = (props.get("email", "").strip().lower() or None) if object_type == "contacts" else None
        archived = bool(record.get("archived"))
        archived_at = int(record.get("archivedAt") or modified) if archived else None
        return (object_type, int(record["id"]), 1 if archived else 0, created, modified, archived_at, email,
                json.dumps(props), json.dumps(history) if history else None)
