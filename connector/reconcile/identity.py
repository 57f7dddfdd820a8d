"""Identity resolution: which records of both systems are one person (pure, deterministic).

Signals, strongest first: stored links; cross-reference ids each system holds of the other;
Salesforce lead conversion (the Contact takes over, the Lead stays as history); merges on either
side (HubSpot ``merged_into``/``hs_merged_object_ids``, Salesforce ``MasterRecordId``); and last
normalised email (trim + casefold). Email never joins two people that stored links keep apart, nor
two already-paired people; such cases are reported instead.

Each person gets at most one primary record per system, chosen by: Contact over Lead, then a record
that carries a stored link, then the most recently modified, then the lowest id. Every other active
record of that system is listed in the duplicates report, never merged silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from .mapping import IdentitySpec
from .records import RecordKey, SourceRecord

__all__ = ["PersonGroup", "Duplicate", "IdentityResult", "resolve_identities", "PERSON_OBJECTS"]

PERSON_OBJECTS: frozenset[tuple[str, str]] = frozenset({("hubspot", "contacts"), ("salesforce", "Lead"), ("salesforce", "Contact")})


@dataclass(frozen=True)
class PersonGroup:
    """The records of one person: a primary per system, plus history (converted, merged, deleted)."""

    person_id: str
    hubspot: SourceRecord | None
    salesforce: SourceRecord | None
    history: tuple[RecordKey, ...] = ()
    duplicates: tuple[RecordKey, ...] = ()

    @property
    def links(self) -> tuple[RecordKey, ...]:
        """Every record key that belongs to this person (to store as links)."""
        hs, sf = self.hubspot, self.salesforce
        if not self.history and not self.duplicates and hs is not None and sf is not None:
            a, b = hs.key, sf.key  # the common case: one record per system
            return (a, b) if a < b else (b, a) if b < a else (a,)
        keys = [r.key for r in (hs, sf) if r is not None]
        return tuple(sorted({*keys, *self.history, *self.duplicates}))


@dataclass(frozen=True)
class Duplicate:
    """Records that look like one person but were not merged; someone should review them."""

    person_id: str
    kept: RecordKey | None
    others: tuple[RecordKey, ...]
    reason: str


@dataclass(frozen=True)
class IdentityResult:
    """People (sorted by person_id) and the duplicates report."""

    people: tuple[PersonGroup, ...]
    duplicates: tuple[Duplicate, ...]


class _UnionFind:
    """Disjoint sets of record keys; the root is always the smallest key, so results are order-free."""

    def __init__(self) -> None:
        self.parent: dict[RecordKey, RecordKey] = {}

    def find(self, k: RecordKey) -> RecordKey:
        parent = self.parent
        root = k
        while parent[root] != root:
            root = parent[root]
        while parent[k] != root:
            parent[k], k = root, parent[k]
        return root

    def union(self, a: RecordKey, b: RecordKey) -> RecordKey:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        lo, hi = (ra, rb) if ra < rb else (rb, ra)
        self.parent[hi] = lo
        return lo


_person_id = attrgetter("person_id")


def _sf15(record_id: str) -> str:
    return record_id[:15]


def _id_order(record_id: str) -> tuple[int, str]:
    return (len(record_id), record_id)


def _email(rec: SourceRecord) -> str | None:
    raw = rec.fields.get("email" if rec.system == "hubspot" else "Email")
    if not isinstance(raw, str) or not raw.strip():
        return None
    return raw.strip().casefold()


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def resolve_identities(
    records: Iterable[SourceRecord],
    links: Mapping[RecordKey, str] | None = None,
    identity: IdentitySpec | None = None,
) -> IdentityResult:
    """Groups person records (HubSpot contacts, Salesforce Leads and Contacts) into people.

    ``links`` maps record keys to the person ids stored by earlier runs. Records of other object
    types are ignored. Deterministic and independent of input order.
    """
    spec = identity or IdentitySpec()
    stored = dict(links or {})
    recs: dict[RecordKey, SourceRecord] = {}
    for r in records:
        if (r.system, r.object_type) in PERSON_OBJECTS:
            k = r.key
            prev = recs.get(k)
            if prev is None or prev.modified_at < r.modified_at:
                recs[k] = r
    uf = _UnionFind()
    uf.parent = {k: k for k in recs}
    hs_by_id = {k.id: k for k in recs if k.system == "hubspot"}
    sf_by_id = {_sf15(k.id): k for k in recs if k.system == "salesforce"}
    history: set[RecordKey] = set()

    order = sorted(recs)
    # 1. stored links
    by_person: dict[str, list[RecordKey]] = defaultdict(list)
    if stored:
        for k in order:
            if k in stored:
                by_person[stored[k]].append(k)
    for keys in by_person.values():
        for k in keys[1:]:
            uf.union(keys[0], k)
    # 2. cross-reference ids, 3. conversion, 4. merges
    hs_props = (spec.hubspot_lead_id_property, spec.hubspot_contact_id_property)
    sf_prop = spec.salesforce_hubspot_id_field
    blank_hs_id = "" in hs_by_id  # only then can an absent hs_merged_object_ids (read as "") match a record
    for k in order:
        r = recs[k]
        f = r.fields
        if r.system == "hubspot":
            for prop in hs_props:
                ref = f.get(prop)
                if ref is not None:
                    ref = _text(ref)
                    if ref and _sf15(ref) in sf_by_id:
                        uf.union(k, sf_by_id[_sf15(ref)])
            merged_ids = f.get("hs_merged_object_ids")
            if merged_ids or blank_hs_id:
                for merged in str(merged_ids or "").split(";"):
                    if merged.strip() in hs_by_id and merged.strip() != r.id:
                        uf.union(k, hs_by_id[merged.strip()])
                        history.add(hs_by_id[merged.strip()])
            if r.merged_into is not None:
                history.add(k)
                if r.merged_into in hs_by_id:
                    uf.union(k, hs_by_id[r.merged_into])
        else:
            ref = f.get(sf_prop)
            if ref is not None:
                ref = _text(ref)
                if ref and ref in hs_by_id:
                    uf.union(k, hs_by_id[ref])
            if r.object_type == "Lead" and f.get("IsConverted") is True:
                history.add(k)
                contact = _text(f.get("ConvertedContactId"))
                if contact and _sf15(contact) in sf_by_id:
                    uf.union(k, sf_by_id[_sf15(contact)])
            master = r.merged_into or _text(f.get("MasterRecordId"))
            if master is not None:
                history.add(k)
                if _sf15(master) in sf_by_id:
                    uf.union(k, sf_by_id[_sf15(master)])
        if r.deleted:
            history.add(k)

    duplicates: list[Duplicate] = []
    # 5. normalised email, joining only what stronger signals do not keep apart
    if spec.match_on_email:
        _join_by_email(recs, uf, stored, history, duplicates)

    groups: dict[RecordKey, list[RecordKey]] = defaultdict(list)
    parent, find = uf.parent, uf.find
    for k in recs:
        root = parent[k]
        if parent[root] is not root:  # deeper than one step: the full find (identity check is the fast path)
            root = find(k)
        groups[root].append(k)
    people: list[PersonGroup] = []
    for members in groups.values():
        group = _build_group(sorted(members), recs, stored, history, duplicates)
        if group is not None:
            people.append(group)
    people.sort(key=_person_id)
    duplicates.sort(key=lambda d: (d.person_id, d.reason, d.others))
    return IdentityResult(tuple(people), tuple(duplicates))


def _join_by_email(
    recs: Mapping[RecordKey, SourceRecord], uf: _UnionFind, stored: Mapping[RecordKey, str],
    history: set[RecordKey], duplicates: list[Duplicate],
) -> None:
    by_email: dict[str, set[RecordKey]] = defaultdict(set)
    for k, r in recs.items():
        if k not in history:
            email = _email(r)
            if email is not None:
                by_email[email].add(k)
    # only emails whose records are in two or more people now can join anything (unions only ever
    # merge people, so an email within one person stays so): the rest are skipped before sorting
    find = uf.find
    candidates = [email for email, keys in by_email.items() if len(keys) > 1 and len({find(k) for k in keys}) > 1]
    if not candidates:
        return
    members: dict[RecordKey, list[RecordKey]] = defaultdict(list)
    for k in recs:
        members[find(k)].append(k)
    for email in sorted(candidates):
        keys = by_email[email]
        roots = sorted({uf.find(k) for k in keys})
        if len(roots) < 2:
            continue
        persons = {stored[m] for root in roots for m in members[root] if m in stored}
        paired = [root for root in roots if len({m.system for m in members[root] if m not in history}) == 2]
        if len(persons) > 1 or len(paired) > 1:
            duplicates.append(Duplicate(
                min(persons) if persons else "", None, tuple(sorted(keys)),
                f"email {email!r} is shared by people that links or cross-references keep apart",
            ))
            continue
        new_root = roots[0]
        for root in roots[1:]:
            new_root = uf.union(new_root, root)
        merged = [m for root in roots for m in members.pop(root, [])]
        members[new_root] = merged


def _primary_order(stored: Mapping[RecordKey, str]):  # type: ignore[no-untyped-def]
    def order(r: SourceRecord) -> tuple[int, int, int, tuple[int, str]]:
        return (0 if r.object_type == "Contact" else 1, 0 if r.key in stored else 1, -r.modified_at, _id_order(r.id))
    return order


def _build_group(
    members: list[RecordKey], recs: Mapping[RecordKey, SourceRecord], stored: Mapping[RecordKey, str],
    history: set[RecordKey], duplicates: list[Duplicate],
) -> PersonGroup | None:
    if len(members) <= 2 and (not history or not history.intersection(members)) and (len(members) == 1 or members[0].system != members[1].system):
        group = _simple_group(members, recs, stored)
        if group is not None:
            return group
    persons = sorted({stored[k] for k in members if k in stored})
    primaries: dict[str, SourceRecord | None] = {"hubspot": None, "salesforce": None}
    dupes: list[RecordKey] = []
    pending: list[tuple[RecordKey, tuple[RecordKey, ...], str]] = []
    for system in ("hubspot", "salesforce"):
        active = sorted((recs[k] for k in members if k.system == system and k not in history), key=_primary_order(stored))
        if active:
            primaries[system] = active[0]
            if len(active) > 1:
                others = tuple(sorted(r.key for r in active[1:]))
                dupes += others
                pending.append((active[0].key, others, f"{len(active)} active {system} records for one person; "
                                "kept by: Contact over Lead, stored link, most recently modified, lowest id"))
    hs, sf = primaries["hubspot"], primaries["salesforce"]
    if hs is None and sf is None:
        return None
    if persons:
        person_id = persons[0]
        if len(persons) > 1:
            pending.append((min(members), tuple(members), f"stored people {', '.join(persons)} are one person now; kept {person_id}"))
    else:
        person_id = f"hs-{hs.id}" if hs is not None else f"sf-{sf.id}"  # type: ignore[union-attr]
    for kept, others, reason in pending:
        duplicates.append(Duplicate(person_id, kept, others, reason))
    hist = tuple(sorted(k for k in members if k in history))
    return PersonGroup(person_id, hs, sf, hist, tuple(sorted(dupes)))


def _simple_group(
    members: list[RecordKey], recs: Mapping[RecordKey, SourceRecord], stored: Mapping[RecordKey, str],
) -> PersonGroup | None:
    """The common case, fast: at most one active record per system and no history."""
    hs = sf = None
    for k in members:
        if k.system == "hubspot":
            hs = recs[k]
        else:
            sf = recs[k]
    persons = [stored[k] for k in members if k in stored]
    if persons and (len(persons) == 1 or persons[0] == persons[1]):
        person_id = persons[0]
    elif persons:  # two stored people joined by a strong signal: the general path reports it
        return None
    else:
        person_id = f"hs-{hs.id}" if hs is not None else f"sf-{sf.id}"  # type: ignore[union-attr]
    return PersonGroup(person_id, hs, sf)
