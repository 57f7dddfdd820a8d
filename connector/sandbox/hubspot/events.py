"""Marketing engagement: stored events, the two public read APIs' queries, and contact summaries.

Page views and form submissions are exposed through the Events API (``/events/v3/events``); email
deliveries, opens, clicks, bounces (``BOUNCE``, with its ``category``) and unsubscribes (``STATUSCHANGE``)
through the legacy email events API (``/email/public/v1/events``). The
contact summary properties HubSpot maintains from them (opens, clicks, page views, conversions) are
recomputed here whenever events are added.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ..dataset import MarketingEvent
from .records import RecordStore, WriteSource
from .store import Database
from .values import iso

__all__ = ["EventStore", "EVENT_TYPE_NAMES", "EMAIL_TYPES"]

#: Events API eventType names for the kinds it exposes
EVENT_TYPE_NAMES = {"page_view": "e_visited_page", "form_submission": "e_submitted_form"}
#: legacy email events API type names
EMAIL_TYPES = {"email_open": "OPEN", "email_click": "CLICK", "email_delivered": "DELIVERED", "email_bounce": "BOUNCE",
               "unsubscribe": "STATUSCHANGE"}
_COUNTS = {"email_open": ("hs_email_open", "hs_email_last_open_date"),
           "email_click": ("hs_email_click", "hs_email_last_click_date"),
           "email_delivered": ("hs_email_delivered", "hs_email_last_send_date"),
           "page_view": ("hs_analytics_num_page_views", "hs_analytics_last_visit_timestamp"),
           "form_submission": ("num_conversion_events", "recent_conversion_date")}
SUMMARY_PROPS = tuple({p for pair in _COUNTS.values() for p in pair}) + (
    "first_conversion_date", "first_conversion_event_name", "recent_conversion_event_name")


class EventStore:
    """Marketing events in SQLite, keyed to contacts, with summary upkeep."""

    def __init__(self, db: Database, records: RecordStore) -> None:
        self.db = db
        self.records = records
        self._seq = 0

    def add(self, events: list[MarketingEvent], *, seeding: bool,
            folded: dict[int, dict[str, Any]] | None = None) -> int:
        """Insert events and update contact summaries (seeding: no history, updatedAt moves to the last event).

        `folded` holds the accumulations already merged into contacts inserted in the same seed batch.
        """
        rows = []
        for e in events:
            contact = int(e["contact_id"])
            rows.append((str(e["id"]), e["kind"], contact, (e.get("email") or "").lower() or None,
                         int(e["occurred_at"]), json.dumps(e.get("properties") or {})))
        with self.db.transaction() as conn:
            conn.executemany("INSERT OR IGNORE INTO events (id, kind, contact_id, email, occurred, props) "
                             "VALUES (?, ?, ?, ?, ?, ?)", rows)
        if seeding:
            self._fold_seeded(events, folded or {})
        else:
            self.refresh({r[2] for r in rows})
        return len(rows)

    def _fold_seeded(self, events: list[MarketingEvent], folded: dict[int, dict[str, Any]]) -> None:
        """Fold a seed batch's events into stored contacts' summaries (no event-table reads)."""
        acc = {cid: a for cid, a in accumulate(events).items() if cid not in folded}
        ids = sorted(acc)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            with self.db.transaction() as conn:
                current = conn.execute(
                    f"SELECT id, props, modified FROM records WHERE type='contacts' AND id IN ({marks})",
                    chunk).fetchall()
                updates = []
                for cid, blob, modified in current:
                    props = json.loads(blob)
                    merge_summary(props, acc[cid])
                    updates.append((json.dumps(props), max(modified, acc[cid]["_last"]), cid))
                conn.executemany("UPDATE records SET props=?, modified=? WHERE type='contacts' AND id=?", updates)

    def refresh(self, contact_ids: set[int]) -> None:
        """Recompute summaries from the stored events and write them as live analytics updates."""
        ids = sorted(contact_ids)
        for start in range(0, len(ids), 500):
            summaries, _ = self._summaries(ids[start:start + 500])
            for cid, values in summaries.items():
                row = self.records.get_row("contacts", cid)
                if row is not None:
                    self.records.update(row, values, WriteSource("ANALYTICS"))

    def _summaries(self, ids: list[int]) -> tuple[dict[int, dict[str, str | None]], dict[int, int]]:
        """Summary property values per contact, and each contact's latest event time (ms)."""
        marks = ",".join("?" * len(ids))
        out: dict[int, dict[str, str | None]] = defaultdict(dict)
        last_seen: dict[int, int] = {}
        with self.db.lock:
            grouped = self.db.conn.execute(
                f"SELECT contact_id, kind, count(*), max(occurred) FROM events WHERE contact_id IN ({marks}) "
                "GROUP BY contact_id, kind", ids).fetchall()
            forms = sorted(self.db.conn.execute(
                f"SELECT contact_id, occurred, seq, props FROM events INDEXED BY events_contact "
                f"WHERE kind='form_submission' AND contact_id IN ({marks})", ids).fetchall(),
                           key=lambda r: (r[1], r[2]))
        for cid, kind, count, last in grouped:
            if kind not in _COUNTS:
                continue  # bounces and unsubscribes are not summarised here
            count_prop, last_prop = _COUNTS[kind]
            out[cid][count_prop] = str(count)
            out[cid][last_prop] = iso(last)
            last_seen[cid] = max(last_seen.get(cid, last), last)
        firsts: dict[int, tuple[int, str]] = {}
        lasts: dict[int, tuple[int, str]] = {}
        for cid, occurred, _, props in forms:
            data = json.loads(props)
            title = str(data.get("form_title") or data.get("form_id") or "form")
            firsts.setdefault(cid, (occurred, title))
            lasts[cid] = (occurred, title)
        for cid, (occurred, title) in firsts.items():
            out[cid]["first_conversion_date"] = iso(occurred)
            out[cid]["first_conversion_event_name"] = title
            out[cid]["recent_conversion_event_name"] = lasts[cid][1]
        return out, last_seen

    # ----- the public read APIs --------------------------------------------------------------------
    def web_events(self, *, object_id: int | None, event_type: str | None, after_ms: int | None,
                   before_ms: int | None, offset: int, limit: int,
                   ascending: bool) -> tuple[list[dict[str, Any]], bool]:
        kinds = [k for k, name in EVENT_TYPE_NAMES.items() if event_type in (None, name)]
        if not kinds:
            return [], False
        where = [f"kind IN ({','.join('?' * len(kinds))})"]
        params: list[Any] = list(kinds)
        if object_id is not None:
            where.append("contact_id=?")
            params.append(object_id)
        if after_ms is not None:
            where.append("occurred >= ?")
            params.append(after_ms)
        if before_ms is not None:
            where.append("occurred <= ?")
            params.append(before_ms)
        order = "ASC" if ascending else "DESC"
        index = "INDEXED BY events_contact" if object_id is not None else ""
        with self.db.lock:
            rows = self.db.conn.execute(
                f"SELECT id, kind, contact_id, occurred, props FROM events {index} WHERE {' AND '.join(where)} "
                f"ORDER BY occurred {order}, seq {order} LIMIT ? OFFSET ?", (*params, limit + 1, offset)).fetchall()
        results = [{"objectType": "CONTACT", "objectId": str(cid), "eventType": EVENT_TYPE_NAMES[kind],
                    "occurredAt": iso(occurred), "id": eid, "properties": json.loads(props)}
                   for eid, kind, cid, occurred, props in rows[:limit]]
        return results, len(rows) > limit

    def email_events(self, *, recipient: str | None, event_type: str | None, start_ms: int | None,
                     end_ms: int | None, offset: int, limit: int, portal_id: int) -> tuple[list[dict[str, Any]], bool]:
        kinds = [k for k, name in EMAIL_TYPES.items() if event_type in (None, name)]
        if not kinds:
            return [], False
        where = [f"kind IN ({','.join('?' * len(kinds))})"]
        params: list[Any] = list(kinds)
        if recipient:
            where.append("email=?")
            params.append(recipient.lower())
        if start_ms is not None:
            where.append("occurred >= ?")
            params.append(start_ms)
        if end_ms is not None:
            where.append("occurred <= ?")
            params.append(end_ms)
        index = "INDEXED BY events_email" if recipient else ""
        with self.db.lock:
            rows = self.db.conn.execute(
                f"SELECT id, kind, email, occurred, props FROM events {index} WHERE {' AND '.join(where)} "
                "ORDER BY occurred DESC, seq DESC LIMIT ? OFFSET ?", (*params, limit + 1, offset)).fetchall()
        out = []
        for eid, kind, email, occurred, props in rows[:limit]:
            p = json.loads(props)
            event: dict[str, Any] = {"id": eid, "created": occurred, "type": EMAIL_TYPES[kind], "recipient": email,
                                     "portalId": portal_id, "appId": 0, "appName": "Batch",
                                     "emailCampaignId": int(p["email_campaign_id"])
                                     if str(p.get("email_campaign_id", "")).isdigit() else p.get("email_campaign_id"),
                                     "sentBy": {"id": eid, "created": occurred}}
            if kind == "email_click" and p.get("url"):
                event["url"] = p["url"]
            if kind == "email_bounce":
                event.update({k: p[k] for k in ("category", "status", "response") if p.get(k)})
            elif kind == "unsubscribe":
                event.update(_status_change(p))
            if p.get("subject"):
                event["subject"] = p["subject"]
            out.append(event)
        return out, len(rows) > limit


def _status_change(p: dict[str, Any]) -> dict[str, Any]:
    """A STATUSCHANGE event's own fields: an unsubscribe from one subscription type, or (`portal`) from all."""
    portal = str(p.get("portal", "")).lower() == "true"
    sub = int(p["subscription_id"]) if str(p.get("subscription_id", "")).isdigit() else None
    return {"source": p.get("source") or "SOURCE_RECIPIENT",
            "subscriptions": [] if sub is None else [{"id": sub, "status": "UNSUBSCRIBED"}],
            "portalSubscriptionStatus": "UNSUBSCRIBED" if portal else "SUBSCRIBED"}


def merge_summary(props: dict[str, Any], a: dict[str, Any]) -> None:
    """Add one batch's counts and extremes to a contact's stored summary properties."""
    for count_prop, last_prop in _COUNTS.values():
        if count_prop in a:
            props[count_prop] = str(int(props.get(count_prop) or 0) + a[count_prop])
            new_last = iso(a[last_prop])
            props[last_prop] = max(props.get(last_prop) or new_last, new_last)
    if "_first_form" in a:
        at, title = a["_first_form"]
        first = iso(at)
        if not props.get("first_conversion_date") or first < props["first_conversion_date"]:
            props["first_conversion_date"] = first
            props["first_conversion_event_name"] = title
        at, title = a["_last_form"]
        if iso(at) >= props.get("recent_conversion_date", ""):
            props["recent_conversion_event_name"] = title


def accumulate(events: list[MarketingEvent]) -> dict[int, dict[str, Any]]:
    """Per contact: counts and extremes of one batch's events, ready for `merge_summary`."""
    acc: dict[int, dict[str, Any]] = defaultdict(dict)
    for e in events:
        cid, at, kind = int(e["contact_id"]), int(e["occurred_at"]), e["kind"]
        if kind not in _COUNTS:
            continue  # bounces and unsubscribes leave the contact's summary alone
        a = acc[cid]
        count_prop, last_prop = _COUNTS[kind]
        a[count_prop] = a.get(count_prop, 0) + 1
        a[last_prop] = max(a.get(last_prop, at), at)
        a["_last"] = max(a.get("_last", at), at)
        if kind == "form_submission":
            props = e.get("properties") or {}
            title = str(props.get("form_title") or props.get("form_id") or "form")
            if "_first_form" not in a or at < a["_first_form"][0]:
                a["_first_form"] = (at, title)
            if "_last_form" not in a or at >= a["_last_form"][0]:
                a["_last_form"] = (at, title)
    return acc
