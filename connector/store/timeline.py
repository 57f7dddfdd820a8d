"""People's timelines read from the store: marketing events and sales activities of both systems as `Touch`es.

The scorer reads one timeline per unified person. Marketing events (the `engagement` table) name a HubSpot
contact or an e-mail address; sales activities (`source_record`) name a contact (HubSpot associations), a
Lead or Contact (Salesforce `WhoId`) or a campaign member. Each is resolved to a person through `link`, any
role: a converted Lead's or a merged-away contact's touches belong to the person too.

Everything is read in batches (chunks of ids, one pass over the activity records per call), never one person
at a time: a 100,000-person rescore has to read its timelines in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
import json
from datetime import datetime, UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from ..score.timeline import Touch, dedupe
from .models import Engagement, Link, Person
from .models import SourceRecord as StoredRecord

__all__ = ["touches_for", "people_touched_since", "ACTIVITY_OBJECTS", "CHUNK"]

#: ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits, few enough round trips
CHUNK = 500

#: HubSpot activity object -> (touch kind, the property that titles it)
_HUBSPOT_ACTIVITIES: dict[str, tuple[str, str | None]] = {
    "calls": ("call", "hs_call_title"), "meetings": ("meeting", "hs_meeting_title"),
    "emails": ("email", "hs_email_subject"), "notes": ("note", None), "tasks": ("task", "hs_task_subject")}
_SALESFORCE_ACTIVITIES = ("Task", "Event", "CampaignMember")
#: the source records that are touches, by system
ACTIVITY_OBJECTS: dict[str, tuple[str, ...]] = {"hubspot": tuple(_HUBSPOT_ACTIVITIES),
                                                "salesforce": _SALESFORCE_ACTIVITIES}
#: engagement kinds that are not touches (a delivery is the sender's act, not the person's)
_NOT_TOUCHES = ("email_delivered",)
_EMAIL_KINDS = ("email_open", "email_click", "email_bounce", "unsubscribe")
_NOON_MS = 12 * 3_600_000

RecordKey = tuple[str, str, str]  # (system, object_type, record_id)
#: person id -> (their records, their current e-mail address), for people the store does not hold yet
Known = Mapping[str, tuple[Sequence[RecordKey], str | None]]


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start:start + CHUNK])


def _ms(value: Any) -> int | None:
    """Epoch ms of an ISO date-time (either system's format), a date (noon UTC) or epoch ms; None if neither."""
    if isinstance(value, str):
        if len(value) == 10 and value[4:5] == "-":  # a date: noon UTC, so no time zone moves it to another day
            try:
                return int(datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp() * 1000) + _NOON_MS
            except ValueError:
                return None
        if value.isdigit():
            return int(value)
        try:
            parsed = datetime.fromisoformat(value)  # Python 3.11 reads "Z" and "+0000" itself
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None


def _first_ms(data: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        at = _ms(data.get(key))
        if at is not None:
            return at
    return None


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _owner(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _sf_object(record_id: str) -> str | None:
    """The person object a Salesforce id names, by its key prefix (Lead 00Q, Contact 003)."""
    prefix = record_id[:3]
    return "Lead" if prefix == "00Q" else "Contact" if prefix == "003" else None


# ------------------------------------------------------------------------------------------- reading rows


class _People:
    """The link and e-mail lookups for one set of people, read in chunks."""

    def __init__(self, conn: Connection, person_ids: Sequence[str], known: Known | None = None) -> None:
        self.by_record: dict[RecordKey, str] = {}
        self.addresses: dict[str, set[str]] = defaultdict(set)  # e-mail -> people in the set who had it
        known = {pid: v for pid, v in (known or {}).items() if pid in set(person_ids)}
        ids = sorted(set(person_ids) - set(known))
        current: dict[str, set[str]] = defaultdict(set)
        for person_id, (keys, email) in known.items():  # people a dry run reconciled: not in the store yet
            for key in keys:
                self.by_record[key] = person_id
            if email:
                current[email].add(person_id)
        for chunk in _chunks(ids):
            for person_id, system, object_type, record_id in conn.execute(
                    select(col(Link.person_id), col(Link.system), col(Link.object_type), col(Link.record_id))
                    .where(col(Link.person_id).in_(chunk))).all():
                self.by_record[(system, object_type, record_id)] = person_id
            for person_id, email in conn.execute(select(col(Person.id), col(Person.email_norm)).where(
                    col(Person.id).in_(chunk), col(Person.email_norm).is_not(None))).all():
                current[str(email)].add(person_id)
            # old addresses: whatever any of the person's records (history and duplicates too) was stored with
            for person_id, email in conn.execute(
                    select(col(Link.person_id), col(StoredRecord.email_norm))
                    .join(StoredRecord, (col(StoredRecord.system) == col(Link.system))
                          & (col(StoredRecord.object_type) == col(Link.object_type))
                          & (col(StoredRecord.record_id) == col(Link.record_id)))
                    .where(col(Link.person_id).in_(chunk), col(StoredRecord.email_norm).is_not(None))).all():
                self.addresses[str(email)].add(person_id)
        for email, holders in current.items():
            self.addresses[email] |= holders
        # an address that is someone's current one is theirs alone: an old holder does not get its events
        # (asked of the whole store, so the answer does not depend on which people were asked together)
        old_only = sorted(e for e in self.addresses if e not in current)
        for chunk in _chunks(old_only):
            for (email,) in conn.execute(select(col(Person.email_norm)).where(col(Person.email_norm).in_(chunk))
                                         .distinct()):
                self.addresses.pop(str(email), None)
        for email, holders in current.items():
            self.addresses[email] = holders

    def hubspot_contacts(self) -> dict[str, str]:
        return {rid: pid for (system, obj, rid), pid in self.by_record.items()
                if system == "hubspot" and obj == "contacts"}

    def salesforce_people(self) -> dict[str, str]:
        return {rid: pid for (system, obj, rid), pid in self.by_record.items()
                if system == "salesforce" and obj in ("Lead", "Contact")}


def _engagement_touches(conn: Connection, people: _People) -> Iterator[tuple[str, Touch]]:
    """(person, touch) for the marketing events of the people's contacts and addresses."""
    by_subject: list[tuple[str, dict[str, set[str]]]] = [
        ("hubspot", {cid: {pid} for cid, pid in people.hubspot_contacts().items()}),
        ("email", dict(people.addresses))]
    keys = (*_ENGAGEMENT_DETAIL_KEYS, "hard")
    columns = (col(Engagement.system), col(Engagement.engagement_id), col(Engagement.kind),
               col(Engagement.subject_id), col(Engagement.occurred_at),
               _extracted(conn.dialect.name, col(Engagement.data), [(k,) for k in keys]).label("values"))
    loads = json.loads
    for subject_system, owners in by_subject:
        for chunk in _chunks(sorted(owners)):
            rows = conn.execute(select(*columns).where(
                col(Engagement.subject_system) == subject_system, col(Engagement.subject_id).in_(chunk),
                col(Engagement.kind).not_in(_NOT_TOUCHES))).all()
            for system, eid, kind, subject_id, occurred, found in rows:
                data = dict(zip(keys, loads(found) if isinstance(found, str) else found, strict=True))
                touch = Touch(kind=kind, at=int(occurred), system=system, source_id=eid,
                              detail=_engagement_detail(kind, data),
                              hard=kind == "email_bounce" and _true(data["hard"]))
                for person_id in owners[subject_id]:
                    yield person_id, touch


#: the event properties a detail is taken from (see `_engagement_detail`)
_ENGAGEMENT_DETAIL_KEYS = ("hs_url", "url", "form_id", "hs_form_id", "form_title", "page_url", "emailCampaignId")


def _true(value: Any) -> bool:
    """A JSON true as the database extracted it (SQLite: 1, PostgreSQL: 'true')."""
    return value in (True, 1, "1", "true")


def _engagement_detail(kind: str, data: dict[str, Any]) -> str:
    """What rules match a marketing event on: the page, the form, the clicked link or the campaign."""
    if kind == "page_view":
        return _str(data["hs_url"] or data["url"])
    if kind == "form_submission":  # its title and page (what a rule names), then its id
        parts = (data["form_title"], data["page_url"] or data["hs_url"], data["form_id"] or data["hs_form_id"])
        return " ".join(_str(p) for p in parts if p)
    if kind == "email_click":
        return _str(data["url"] or data["emailCampaignId"])
    return _str(data["emailCampaignId"])


#: per activity object: the fields a touch is made of, extracted by the database
_HUBSPOT_FIELDS = ("hs_timestamp", "hs_createdate", "hubspot_owner_id", "hs_call_title", "hs_meeting_title",
                   "hs_email_subject", "hs_task_subject")
_SALESFORCE_FIELDS: dict[str, tuple[str, ...]] = {
    "Task": ("WhoId", "TaskSubtype", "Type", "CompletedDateTime", "CreatedDate", "ActivityDate", "OwnerId",
             "Subject"),
    "Event": ("WhoId", "StartDateTime", "ActivityDateTime", "CreatedDate", "OwnerId", "Subject"),
    "CampaignMember": ("LeadId", "ContactId", "HasResponded", "FirstRespondedDate", "CreatedDate", "CampaignId"),
}


def _extracted(engine_name: str, doc: Any, paths: Sequence[tuple[str, ...]]) -> Any:
    """The values at `paths` of a JSON column as one JSON array, extracted by the database in one go (SQLite
    parses a document once per call, so one call per row, not one per field)."""
    if engine_name == "postgresql":
        return func.jsonb_build_array(*(doc[p[0]] if len(p) == 1 else doc[p] for p in paths))
    quoted = ['$.' + '.'.join(f'"{k}"' for k in p) for p in paths]
    return func.json_extract(doc, *quoted) if len(quoted) > 1 else func.json_array(func.json_extract(doc, *quoted))


def _activity_rows(conn: Connection, system: str, object_types: Iterable[str], fields: Sequence[str],
                   since_ms: int | None = None) -> Iterator[tuple[str, str, bool, dict[str, Any]]]:
    """(object type, record id, deleted, the `fields` present) of every stored record of `object_types`
    (fetched after `since_ms`, if given); HubSpot's associated contacts under "contacts"."""
    paths = [(f,) for f in fields] + ([("_associations", "contacts")] if system == "hubspot" else [])
    names = [p[-1] for p in paths]
    values = _extracted(conn.dialect.name, col(StoredRecord.data), paths).label("values")
    query = select(col(StoredRecord.object_type), col(StoredRecord.record_id), col(StoredRecord.deleted),
                   values).where(col(StoredRecord.system) == system,
                                 col(StoredRecord.object_type).in_(list(object_types)))
    if since_ms is not None:
        query = query.where(col(StoredRecord.fetched_at) > since_ms)
    loads = json.loads
    for object_type, record_id, deleted, found in conn.execute(query.execution_options(yield_per=5_000)):
        found = loads(found) if isinstance(found, str) else found
        yield object_type, record_id, bool(deleted), dict(zip(names, found, strict=True))


def _hubspot_subjects(data: dict[str, Any]) -> list[str]:
    contacts = data.get("contacts")
    return [str(c) for c in contacts] if isinstance(contacts, list) else []


def _salesforce_subjects(object_type: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The (object type, id) of the Leads and Contacts a Salesforce activity record names."""
    if object_type == "CampaignMember":
        return [(obj, str(data[key])) for obj, key in (("Lead", "LeadId"), ("Contact", "ContactId"))
                if data.get(key)]
    who = _str(data.get("WhoId"))
    obj = _sf_object(who) if who else None
    return [(obj, who)] if obj else []


def _hubspot_touch(object_type: str, record_id: str, data: dict[str, Any]) -> Touch | None:
    kind, title = _HUBSPOT_ACTIVITIES[object_type]
    at = _first_ms(data, "hs_timestamp", "hs_createdate")
    if at is None:
        return None
    return Touch(kind=kind, at=at, system="hubspot", source_id=record_id, owner=_owner(data.get("hubspot_owner_id")),
                 detail=_str(data.get(title)) if title else "")


def _salesforce_touch(object_type: str, record_id: str, data: dict[str, Any]) -> Touch | None:
    if object_type == "CampaignMember":
        if not _true(data.get("HasResponded")):
            return None
        at = _first_ms(data, "FirstRespondedDate", "CreatedDate")
        if at is None:
            return None
        return Touch(kind="campaign_response", at=at, system="salesforce", source_id=record_id,
                     detail=_str(data.get("CampaignId")))
    if object_type == "Event":
        kind = "meeting"
        at = _first_ms(data, "StartDateTime", "ActivityDateTime", "CreatedDate")
    else:
        subtype = data.get("TaskSubtype")
        kind = "call" if subtype == "Call" or data.get("Type") == "Call" else "email" if subtype == "Email" else "task"
        at = _first_ms(data, "CompletedDateTime", "CreatedDate", "ActivityDate")
    if at is None:
        return None
    return Touch(kind=kind, at=at, system="salesforce", source_id=record_id, owner=_owner(data.get("OwnerId")),
                 detail=_str(data.get("Subject")))


def _activity_touches(conn: Connection, people: _People) -> Iterator[tuple[str, Touch]]:
    """(person, touch) for the sales activities and campaign responses naming the people's records.

    Activity records carry the person's record id inside their JSON, which no index covers: one pass over
    them per call, filtered here by a set lookup, costs less than a JSON-path query per chunk of ids."""
    contacts = people.hubspot_contacts()
    if contacts:
        for object_type, record_id, deleted, data in _activity_rows(conn, "hubspot", _HUBSPOT_ACTIVITIES,
                                                                    _HUBSPOT_FIELDS):
            if deleted:
                continue
            owners = {contacts[c] for c in _hubspot_subjects(data) if c in contacts}
            if owners and (touch := _hubspot_touch(object_type, record_id, data)) is not None:
                for person_id in owners:
                    yield person_id, touch
    sf_people = people.salesforce_people()
    if sf_people:
        for object_type, fields in _SALESFORCE_FIELDS.items():
            for _, record_id, deleted, data in _activity_rows(conn, "salesforce", (object_type,), fields):
                if deleted:
                    continue
                owners = {sf_people[rid] for _, rid in _salesforce_subjects(object_type, data) if rid in sf_people}
                if owners and (touch := _salesforce_touch(object_type, record_id, data)) is not None:
                    for person_id in owners:
                        yield person_id, touch


# ------------------------------------------------------------------------------------------- the API


def touches_for(engine: Engine, person_ids: Sequence[str], known: Known | None = None) -> dict[str, list[Touch]]:
    """Every touch of each of `person_ids` from both systems, deduplicated (`dedupe`) and in time order.

    Every asked person is in the answer (an empty list: no touches). Deleted activities and e-mail deliveries
    are not touches. `known` gives some people's records and current address in place of the store's (people
    a dry run reconciled and did not save)."""
    found: dict[str, list[Touch]] = {pid: [] for pid in person_ids}
    if not found:
        return found
    with engine.connect() as conn:
        people = _People(conn, list(found), known)
        for person_id, touch in _engagement_touches(conn, people):
            found[person_id].append(touch)
        for person_id, touch in _activity_touches(conn, people):
            found[person_id].append(touch)
    return {pid: dedupe(touches) if touches else touches for pid, touches in found.items()}


def people_touched_since(engine: Engine, since_ms: int) -> set[str]:
    """The people whose touches reached the store after `since_ms` (fetch time): new or changed marketing
    events and activity records, deletions included (a removed touch changes the timeline too)."""
    contacts: set[str] = set()
    addresses: set[str] = set()
    sf_records: set[tuple[str, str]] = set()
    with engine.connect() as conn:
        for subject_system, subject_id in conn.execute(
                select(col(Engagement.subject_system), col(Engagement.subject_id)).distinct()
                .where(col(Engagement.fetched_at) > since_ms, col(Engagement.kind).not_in(_NOT_TOUCHES))):
            (contacts if subject_system == "hubspot" else addresses).add(subject_id)
        for _, _, _, data in _activity_rows(conn, "hubspot", _HUBSPOT_ACTIVITIES, (), since_ms):
            contacts.update(_hubspot_subjects(data))
        for object_type, fields in _SALESFORCE_FIELDS.items():
            for _, _, _, data in _activity_rows(conn, "salesforce", (object_type,), fields[:2], since_ms):
                sf_records.update(_salesforce_subjects(object_type, data))
        people = _linked(conn, "hubspot", {"contacts": contacts})
        by_type: dict[str, set[str]] = defaultdict(set)
        for obj, rid in sf_records:
            by_type[obj].add(rid)
        people |= _linked(conn, "salesforce", by_type)
        people |= _holders(conn, addresses)
    return people


def _linked(conn: Connection, system: str, ids_by_type: dict[str, set[str]]) -> set[str]:
    """The people the given records are linked to (any role)."""
    out: set[str] = set()
    for object_type, ids in ids_by_type.items():
        for chunk in _chunks(sorted(ids)):
            out.update(conn.execute(select(col(Link.person_id)).where(
                col(Link.system) == system, col(Link.object_type) == object_type,
                col(Link.record_id).in_(chunk))).scalars())
    return out


def _holders(conn: Connection, addresses: set[str]) -> set[str]:
    """The people an e-mail event's address belongs to: whoever has it now, else whoever's records had it."""
    out: set[str] = set()
    left = set(addresses)
    for chunk in _chunks(sorted(addresses)):
        for person_id, email in conn.execute(select(col(Person.id), col(Person.email_norm))
                                             .where(col(Person.email_norm).in_(chunk))):
            out.add(person_id)
            left.discard(email)
    for chunk in _chunks(sorted(left)):
        out.update(conn.execute(
            select(col(Link.person_id)).join(StoredRecord, (col(StoredRecord.system) == col(Link.system))
                                              & (col(StoredRecord.object_type) == col(Link.object_type))
                                              & (col(StoredRecord.record_id) == col(Link.record_id)))
            .where(col(StoredRecord.email_norm).in_(chunk))).scalars())
    return out
