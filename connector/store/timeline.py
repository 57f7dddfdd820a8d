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
from collections.abc import Collection, Iterator, Mapping, Sequence
import json
from typing import Any, NamedTuple

from sqlalchemy import String, case, func, literal, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from ..score.signals import to_ms
from ..score.timeline import Touch, dedupe
from .db import IN_CHUNK, in_chunks
from .models import Engagement, Link, Person
from .models import SourceRecord as StoredRecord

__all__ = ["touches_for", "people_touched_since", "ACTIVITY_OBJECTS", "CHUNK"]

#: ids per IN (...) list (the store's one size, `db.IN_CHUNK`)
CHUNK = IN_CHUNK

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

RecordKey = tuple[str, str, str]  # (system, object_type, record_id)
#: person id -> (their records, their current e-mail address), for people the store does not hold yet
Known = Mapping[str, tuple[Sequence[RecordKey], str | None]]


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
        for chunk in in_chunks(ids):
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
        for chunk in in_chunks(old_only):
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
    columns = (col(Engagement.system), col(Engagement.engagement_id), col(Engagement.kind),
               col(Engagement.subject_id), col(Engagement.occurred_at), *_engagement_detail(),
               case((col(Engagement.kind) == "email_bounce", col(Engagement.data)["hard"].as_string()), else_=None))
    for subject_system, owners in by_subject:
        for chunk in in_chunks(sorted(owners)):
            rows = conn.execute(select(*columns).where(
                col(Engagement.subject_system) == subject_system, col(Engagement.subject_id).in_(chunk),
                col(Engagement.kind).not_in(_NOT_TOUCHES))).all()
            for system, eid, kind, subject_id, occurred, detail, page, form_id, hard in rows:
                if page or form_id:  # a form: its title and page (what a rule names), then its id
                    detail = " ".join(str(p) for p in (detail, page, form_id) if p)
                touch = Touch(kind=kind, at=occurred, system=system, source_id=eid, detail=detail or "",
                              hard=hard is not None and _true(hard))
                for person_id in owners[subject_id]:
                    yield person_id, touch


def _engagement_detail() -> tuple[Any, Any, Any]:
    """What rules match a marketing event on, picked by the database (no document reaches Python): the page,
    the clicked link, else the e-mail campaign; for a form its title, page and id (three columns, joined
    in Python: SQLite before 3.44 has no concat_ws)."""
    data = col(Engagement.data)

    def first(*keys: str) -> Any:
        return func.coalesce(*(data[k].as_string() for k in keys))

    kind = col(Engagement.kind)
    form = kind == "form_submission"
    main = case((kind == "page_view", first("hs_url", "url")), (form, data["form_title"].as_string()),
                (kind == "email_click", first("url", "emailCampaignId")), else_=data["emailCampaignId"].as_string())
    return (main, case((form, first("page_url", "hs_url")), else_=None),
            case((form, first("form_id", "hs_form_id")), else_=None))


def _true(value: Any) -> bool:
    """A JSON true as the database extracted it (SQLite: 1, PostgreSQL: 'true')."""
    return value in (True, 1, "1", "true")


class _Activity(NamedTuple):
    """One activity record as the database extracted it: who it names, when, by whom, about what."""

    object_type: str
    record_id: str
    deleted: bool
    subject: str | None  # HubSpot: the associated contact ids (a JSON array); Salesforce: WhoId or LeadId
    subject2: str | None  # CampaignMember: ContactId
    at: str | None  # the first time field present, as text
    owner: str | None
    detail: str | None
    kind: str | None  # the touch kind ("" for a campaign member that has not responded)


def _activity_query(system: str, object_type: str) -> Any:
    """The SELECT of `_Activity` rows for one object: every field picked in SQL, so no document is decoded in
    Python (the JSON parse per row cost more than the rest of the timeline)."""
    data = col(StoredRecord.data)

    def text(key: str) -> Any:
        return func.nullif(data[key].as_string(), "")

    def first(*keys: str) -> Any:
        return func.coalesce(*(text(k) for k in keys))

    none = literal(None, String)
    fields: tuple[Any, ...]
    if system == "hubspot":
        kind, title = _HUBSPOT_ACTIVITIES[object_type]
        fields = (data[("_associations", "contacts")].as_string(), none, first("hs_timestamp", "hs_createdate"),
                  text("hubspot_owner_id"), text(title) if title else none, literal(kind, String))
    elif object_type == "Task":
        subtype, task_type = text("TaskSubtype"), text("Type")
        kind_sql = case((or_(subtype == "Call", task_type == "Call"), "call"), (subtype == "Email", "email"),
                        else_="task")
        fields = (text("WhoId"), none, first("CompletedDateTime", "CreatedDate", "ActivityDate"), text("OwnerId"),
                  text("Subject"), kind_sql)
    elif object_type == "Event":
        fields = (text("WhoId"), none, first("StartDateTime", "ActivityDateTime", "CreatedDate"), text("OwnerId"),
                  text("Subject"), literal("meeting", String))
    else:  # CampaignMember: a touch once it has responded
        responded = text("HasResponded")
        fields = (text("LeadId"), text("ContactId"), first("FirstRespondedDate", "CreatedDate"), none,
                  text("CampaignId"), case((responded.in_(("1", "true")), "campaign_response"), else_=""))
    return select(col(StoredRecord.object_type), col(StoredRecord.record_id), col(StoredRecord.deleted),
                  *fields).where(col(StoredRecord.system) == system, col(StoredRecord.object_type) == object_type)


def _activity_rows(conn: Connection, system: str, since_ms: int | None = None) -> Iterator[_Activity]:
    """Every stored activity record of `system` (fetched after `since_ms`, if given)."""
    for object_type in ACTIVITY_OBJECTS[system]:
        query = _activity_query(system, object_type)
        if since_ms is not None:
            query = query.where(col(StoredRecord.fetched_at) > since_ms)
        for row in conn.execute(query.execution_options(yield_per=5_000)):
            yield _Activity(*row)


def _hubspot_subjects(row: _Activity) -> list[str]:
    """The associated contact ids, from the JSON array's text (one contact, the usual case, without a parse)."""
    text = row.subject
    if not text:
        return []
    if text.startswith('["') and text.endswith('"]') and '"' not in text[2:-2]:
        return [text[2:-2]]
    contacts = json.loads(text)
    return [str(c) for c in contacts] if isinstance(contacts, list) else []


def _salesforce_subjects(row: _Activity) -> list[tuple[str, str]]:
    """The (object type, id) of the Leads and Contacts a Salesforce activity record names."""
    if row.object_type == "CampaignMember":
        return [(obj, str(rid)) for obj, rid in (("Lead", row.subject), ("Contact", row.subject2)) if rid]
    who = row.subject
    obj = _sf_object(who) if who else None
    return [(obj, who)] if obj and who else []


def _touch(system: str, row: _Activity) -> Touch | None:
    if not row.kind or row.deleted:
        return None
    at = to_ms(row.at)
    if at is None:
        return None
    return Touch(kind=row.kind, at=at, system=system, source_id=row.record_id, owner=row.owner,
                 detail=row.detail or "")


def _activity_touches(conn: Connection, people: _People) -> Iterator[tuple[str, Touch]]:
    """(person, touch) for the sales activities and campaign responses naming the people's records.

    Activity records carry the person's record id inside their JSON, which no index covers: one pass over
    them per call, filtered here by a set lookup, costs less than a JSON-path query per chunk of ids."""
    contacts = people.hubspot_contacts()
    if contacts:
        for row in _activity_rows(conn, "hubspot"):
            owners = {contacts[c] for c in _hubspot_subjects(row) if c in contacts}
            if owners and (touch := _touch("hubspot", row)) is not None:
                for person_id in owners:
                    yield person_id, touch
    sf_people = people.salesforce_people()
    if sf_people:
        for row in _activity_rows(conn, "salesforce"):
            if row.subject2 is None:
                person = sf_people.get(row.subject) if row.subject else None
                owners = set() if person is None else {person}
            else:
                owners = {sf_people[rid] for _, rid in _salesforce_subjects(row) if rid in sf_people}
            if owners and (touch := _touch("salesforce", row)) is not None:
                for person_id in owners:
                    yield person_id, touch


# ------------------------------------------------------------------------------------------- the API


def touches_for(engine: Engine, person_ids: Sequence[str], known: Known | None = None,
                kinds: Collection[str] | None = None) -> dict[str, list[Touch]]:
    """Every touch of each of `person_ids` from both systems, deduplicated (`dedupe`) and in time order;
    with `kinds`, those kinds only.

    Every asked person is in the answer (an empty list: no touches). Deleted activities and e-mail deliveries
    are not touches. `known` gives some people's records and current address in place of the store's (people
    a dry run reconciled and did not save). When no marketing event is of the `kinds` asked for (the SLA's
    sales touches are activity records), the events are not read at all: at 100,000 people they are ten
    times the activities. `dedupe` pairs twins of one kind only, so leaving kinds out changes no other."""
    found: dict[str, list[Touch]] = {pid: [] for pid in person_ids}
    if not found:
        return found
    wanted = None if kinds is None else frozenset(kinds)
    with engine.connect() as conn:
        people = _People(conn, list(found), known)
        if wanted is None or _events_of_kinds(conn, wanted):
            for person_id, touch in _engagement_touches(conn, people):
                if wanted is None or touch.kind in wanted:
                    found[person_id].append(touch)
        for person_id, touch in _activity_touches(conn, people):
            if wanted is None or touch.kind in wanted:
                found[person_id].append(touch)
    return {pid: dedupe(touches) if touches else touches for pid, touches in found.items()}


def _events_of_kinds(conn: Connection, kinds: Collection[str]) -> bool:
    """Whether any marketing event (the `engagement` table) is of one of `kinds`."""
    return conn.execute(select(literal(1)).where(col(Engagement.kind).in_(sorted(kinds))).limit(1)).first() is not None


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
        for row in _activity_rows(conn, "hubspot", since_ms):
            contacts.update(_hubspot_subjects(row))
        for row in _activity_rows(conn, "salesforce", since_ms):
            sf_records.update(_salesforce_subjects(row))
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
        for chunk in in_chunks(sorted(ids)):
            out.update(conn.execute(select(col(Link.person_id)).where(
                col(Link.system) == system, col(Link.object_type) == object_type,
                col(Link.record_id).in_(chunk))).scalars())
    return out


def _holders(conn: Connection, addresses: set[str]) -> set[str]:
    """The people an e-mail event's address belongs to: whoever has it now, else whoever's records had it."""
    out: set[str] = set()
    left = set(addresses)
    for chunk in in_chunks(sorted(addresses)):
        for person_id, email in conn.execute(select(col(Person.id), col(Person.email_norm))
                                             .where(col(Person.email_norm).in_(chunk))):
            out.add(person_id)
            left.discard(email)
    for chunk in in_chunks(sorted(left)):
        out.update(conn.execute(
            select(col(Link.person_id)).join(StoredRecord, (col(StoredRecord.system) == col(Link.system))
                                              & (col(StoredRecord.object_type) == col(Link.object_type))
                                              & (col(StoredRecord.record_id) == col(Link.record_id)))
            .where(col(StoredRecord.email_norm).in_(chunk))).scalars())
    return out
