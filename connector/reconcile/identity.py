"""Identity resolution: which records of both systems are one person (pure, deterministic).

Signals, strongest first: stored links; cross-reference ids each system holds of the other;
Salesforce lead conversion (the Contact takes over, the Lead stays as history); merges on either
side (HubSpot ``merged_into``/``hs_merged_object_ids``, Salesforce ``MasterRecordId``); and last
normalised email (trim + casefold). Email never joins two people that stored links keep apart, nor
two already-paired people; such cases are reported instead.

A merge is followed as the system did it: the merged-away record becomes the survivor's history and
the survivor's person keeps the links. One exception: a merge on one side of two people who each have
a live record on the other side (HubSpot merged two contacts linked to different Salesforce records,
or Salesforce merged two records linked to different HubSpot contacts) is not carried over to the
other side. Both people are then ``held``: nothing is written for them until someone merges the other
side too (followed like any merge) or gives the merged-away person a record of their own in the
merged system. A survivor's cross-reference ids are weighed the same way, since a merge may have
copied them from the merged-away record; so is any cross-reference between the records of two different
stored people.

Each person gets at most one primary record per system, chosen by: Contact over Lead, then a record
a cross-reference ties to the person's record in the other system (cross-reference ids are unique,
so the primary stays put when a duplicate is edited), then a record that carries a stored link, then
the most recently modified, then the lowest id. Every other active
record of that system is listed in the duplicates report, never merged silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from operator import attrgetter

from .mapping import IdentitySpec
from .records import RecordKey, SourceRecord

__all__ = ["PersonGroup", "Duplicate", "HeldMerge", "IdentityResult", "resolve_identities", "describe_held",
           "PERSON_OBJECTS"]

PERSON_OBJECTS: frozenset[tuple[str, str]] = frozenset({("hubspot", "contacts"), ("salesforce", "Lead"),
                                                        ("salesforce", "Contact")})


@dataclass(frozen=True)
class PersonGroup:
    """The records of one person: a primary per system, plus history (converted, merged, deleted)."""

    person_id: str
    hubspot: SourceRecord | None
    salesforce: SourceRecord | None
    history: tuple[RecordKey, ...] = ()
    duplicates: tuple[RecordKey, ...] = ()
    #: why nothing may be written for this person until someone decides ("" when nothing is held)
    held: str = ""

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
class HeldMerge:
    """A merge on one side of two people who each have a live record on the other side: not carried over.

    ``survivor`` absorbed ``merged`` (or, ``by_reference``, names it in a cross-reference id), both in
    ``system``; ``kept`` and ``others`` are the clashing live records of the other system, of the
    survivor's person and of the other person. ``people`` are (survivor's person, other person).
    """

    system: str
    survivor: RecordKey
    merged: RecordKey
    by_reference: bool
    kept: tuple[RecordKey, ...]
    others: tuple[RecordKey, ...]
    people: tuple[str, str]


@dataclass(frozen=True)
class IdentityResult:
    """People (sorted by person_id), the duplicates report and the merges held for review."""

    people: tuple[PersonGroup, ...]
    duplicates: tuple[Duplicate, ...]
    held: tuple[HeldMerge, ...] = ()


class _UnionFind:
    """Disjoint sets of record indices. The root is always the smallest index, i.e. a person's first
    record; the sets never depend on the order of the unions, so neither do the results."""

    def __init__(self, size: int) -> None:
        self.parent: list[int] = list(range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def union(self, a: int, b: int) -> int:
        parent = self.parent
        ra, rb = parent[a], parent[b]
        if parent[ra] != ra:  # deeper than one step: the full find
            ra = self.find(ra)
        if parent[rb] != rb:
            rb = self.find(rb)
        if ra != rb:
            ra, rb = (ra, rb) if ra < rb else (rb, ra)
            parent[rb] = ra
        return ra


_person_id = attrgetter("person_id")


def _id_order(record_id: str) -> tuple[int, str]:
    return (len(record_id), record_id)


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
    # The latest record of each key, by index (in order of each key's first appearance): the
    # union-find and the per-record state below are lists and int sets, cheaper than key dicts.
    index: dict[RecordKey, int] = {}
    keys: list[RecordKey] = []
    recs: list[SourceRecord] = []
    hs_by_id: dict[str, int] = {}
    sf_by_id: dict[str, int] = {}  # by 15-char id (a clash keeps the later record's key)
    for r in records:
        if (r.system, r.object_type) in PERSON_OBJECTS:
            k, n = r.key, len(keys)
            i = index.setdefault(k, n)
            if i == n:
                keys.append(k)
                recs.append(r)
                if r.system == "hubspot":
                    hs_by_id[k.id] = i
                else:
                    sf_by_id[k.id[:15]] = i
            elif recs[i].modified_at < r.modified_at:
                recs[i] = r
    uf = _UnionFind(len(keys))
    parent, union = uf.parent, uf.union
    history: set[int] = set()

    # 1. stored links: each record joins the first seen record of its stored person
    person_of: dict[int, str] = {}  # the stored person of each linked record
    first_of_person: dict[str, int] = {}
    for k, person in stored.items():
        linked = index.get(k)
        if linked is not None:
            person_of[linked] = person
            first = first_of_person.setdefault(person, linked)
            if first != linked:
                union(first, linked)
    # 2. cross-reference ids, 3. conversion. ``parent[a] != parent[b]`` only skips unions that are
    # no-ops (a shared parent means one set already). 4. merges are collected as (kind, survivor,
    # other) edges and followed below, once every record's history is known; so are the
    # cross-references of a HubSpot merge survivor (the merge may have copied them from the loser) and
    # any cross-reference between records of two different stored people (e.g. a Salesforce master
    # given the loser's HubSpot id).
    hs_props = (spec.hubspot_lead_id_property, spec.hubspot_contact_id_property)
    sf_prop = spec.salesforce_hubspot_id_field
    blank_hs_id = "" in hs_by_id  # only then can an absent hs_merged_object_ids (read as "") match a record
    edges: list[tuple[int, int, int]] = []
    for i, r in enumerate(recs):
        f = r.fields
        if r.system == "hubspot":
            survivor = False
            merged_ids = f.get("hs_merged_object_ids")
            if merged_ids or blank_hs_id:
                for merged in str(merged_ids or "").split(";"):
                    merged = merged.strip()
                    if merged in hs_by_id and merged != r.id:
                        edges.append((_MERGE, i, hs_by_id[merged]))
                        history.add(hs_by_id[merged])
                        survivor = True
            for prop in hs_props:
                ref = f.get(prop)
                if ref is not None:
                    ref = str(ref).strip()
                    other = sf_by_id.get(ref[:15]) if ref else None
                    if other is not None and parent[i] != parent[other]:
                        if survivor or (person_of and i in person_of
                                        and person_of.get(other, person_of[i]) != person_of[i]):
                            edges.append((_REFERENCE, i, other))
                        else:
                            union(i, other)
            if r.merged_into is not None:
                history.add(i)
                if r.merged_into in hs_by_id:
                    edges.append((_MERGE, hs_by_id[r.merged_into], i))
        else:
            ref = f.get(sf_prop)
            if ref is not None:
                ref = str(ref).strip()
                other = hs_by_id.get(ref) if ref else None
                if other is not None and parent[i] != parent[other]:
                    if person_of and i in person_of and person_of.get(other, person_of[i]) != person_of[i]:
                        edges.append((_REFERENCE, i, other))
                    else:
                        union(i, other)
            if r.object_type == "Lead" and f.get("IsConverted") is True:
                history.add(i)
                contact = _text(f.get("ConvertedContactId"))
                if contact and contact[:15] in sf_by_id:
                    union(i, sf_by_id[contact[:15]])
            master = r.merged_into or _text(f.get("MasterRecordId"))
            if master is not None:
                history.add(i)
                if master[:15] in sf_by_id:
                    edges.append((_MERGE, sf_by_id[master[:15]], i))
        if r.deleted:
            history.add(i)

    # The people as the strong signals group them, keyed by root (so in order of their first
    # record); and the emails of active records in two or more of them (only those can join).
    groups: dict[int, list[int]] = {}
    first_with_email: dict[str, int] = {}
    shared: dict[str, list[int]] = {}  # emails of two or more active records: all of them
    candidates: set[str] = set()
    match_on_email = spec.match_on_email
    find = uf.find
    for i, r in enumerate(recs):
        root = parent[i]
        if root == i:
            groups[i] = [i]
        else:
            if parent[root] != root:  # deeper than one step
                root = find(i)
            groups[root].append(i)
        if match_on_email and not (history and i in history):
            raw = r.fields.get("email" if r.system == "hubspot" else "Email")
            email = raw.strip().casefold() if isinstance(raw, str) else None  # normalised; "" when blank
            if email:
                first = first_with_email.setdefault(email, i)
                if first != i:
                    if email in shared:
                        shared[email].append(i)
                    else:
                        shared[email] = [first, i]
                    if parent[first] != root:  # the first one's root, found earlier in this loop
                        candidates.add(email)

    followed: set[int] = set()  # survivors of the merges followed
    clashes: list[tuple[int, int, int]] = []  # (kind, survivor, other) of the merges held
    if edges:
        _follow_merges(edges, uf, groups, keys, history, followed, clashes)

    duplicates: list[Duplicate] = []
    # 5. normalised email, joining only what stronger signals do not keep apart
    held_roots = {find(m) for _, s, o in clashes for m in (s, o)}
    if candidates:
        _join_by_email(candidates, shared, uf, groups, keys, person_of, history, duplicates, held_roots)
        if held_roots:
            held_roots = {find(m) for _, s, o in clashes for m in (s, o)}

    people: list[PersonGroup] = []
    history_keys: set[RecordKey] | None = None
    followed_keys = {keys[i] for i in followed}
    held_groups: dict[int, PersonGroup] = {}
    for root, members in groups.items():
        if len(members) <= 2 and (not held_roots or root not in held_roots) and (
                not history or history.isdisjoint(members)):
            group = _simple_group(members, keys, recs, person_of)
            if group is not None:
                people.append(group)
                continue
        held = root in held_roots if held_roots else False
        if history_keys is None:
            history_keys = {keys[i] for i in history}
        group = _build_group(sorted(keys[i] for i in members), {keys[i]: recs[i] for i in members},
                             stored, history_keys, duplicates, followed_keys, _HELD if held else "",
                             (hs_props, sf_prop))
        if group is not None:
            people.append(group)
            if held:
                held_groups[root] = group
    held_merges = _held_merges(clashes, find, keys, held_groups, duplicates) if clashes else ()
    people.sort(key=_person_id)
    duplicates.sort(key=lambda d: (d.person_id, d.reason, d.others))
    return IdentityResult(tuple(people), tuple(duplicates), held_merges)


_REFERENCE, _MERGE = 0, 1  # kinds of merge edges, in the order they are followed
_HELD = "held: merged on one side only"  # (a link's reason keeps 32 characters)
_HUBSPOT, _SALESFORCE = 1, 2  # bits of the systems a person has a live record in


def _follow_merges(
    edges: list[tuple[int, int, int]], uf: _UnionFind, groups: dict[int, list[int]], keys: list[RecordKey],
    history: set[int], followed: set[int], clashes: list[tuple[int, int, int]],
) -> None:
    """Joins the people of each merge edge (a merge, or a cross-reference weighed like one), in key order,
    unless both have a live record in the same system (``groups`` is kept up to date).

    Then, if the other person still has a live record in the survivor's system, they stay apart (they
    were given a record of their own, or the reference names someone else's); otherwise the merge is
    held. Cross-references are weighed first: a survivor's name the records it keeps.
    """
    find, union = uf.find, uf.union
    live: dict[int, int] = {}  # root -> bits of the systems with a live record

    def systems(root: int) -> int:
        bits = live.get(root)
        if bits is None:
            bits = 0
            for j in groups[root]:
                if j not in history:
                    bits |= _HUBSPOT if keys[j].system == "hubspot" else _SALESFORCE
            live[root] = bits
        return bits

    for kind, s, o in sorted(set(edges), key=lambda e: (e[0], keys[e[1]], keys[e[2]])):
        rs, ro = find(s), find(o)
        if rs == ro:
            continue
        bs, bo = systems(rs), systems(ro)
        if bs & bo:
            if not bo & (_HUBSPOT if keys[s].system == "hubspot" else _SALESFORCE):
                clashes.append((kind, s, o))
            continue
        root = union(rs, ro)
        gone = ro if root == rs else rs
        groups[root] += groups.pop(gone)
        live[root] = bs | bo
        live.pop(gone, None)
        if kind == _MERGE:
            followed.add(s)


def _held_merges(
    clashes: list[tuple[int, int, int]], find: Callable[[int], int], keys: list[RecordKey],
    held: Mapping[int, PersonGroup], duplicates: list[Duplicate],
) -> tuple[HeldMerge, ...]:
    """What each held merge is about (one per pair of people, the first in key order), with the other
    person's clashing records listed as duplicates of the survivor person's, for review."""
    out: dict[tuple[int, int], HeldMerge] = {}
    for kind, s, o in clashes:
        pair = (find(s), find(o))
        mine, theirs = held.get(pair[0]), held.get(pair[1])
        if mine is None or theirs is None or pair in out:
            continue  # (no live record left on a side: nothing to hold there)
        kept: list[RecordKey] = []
        others: list[RecordKey] = []
        for system in ("hubspot", "salesforce"):
            a, b = getattr(mine, system), getattr(theirs, system)
            if a is not None and b is not None and mine is not theirs:
                kept.append(a.key)
                others += [b.key, *(k for k in theirs.duplicates if k.system == system)]
        out[pair] = HeldMerge(keys[s].system, keys[s], keys[o], kind == _REFERENCE, tuple(kept), tuple(others),
                              (mine.person_id, theirs.person_id))
        duplicates.append(Duplicate(theirs.person_id, kept[0] if kept else None,
                                    tuple(sorted(others or (keys[s], keys[o]))), _HELD))
    return tuple(sorted(out.values(), key=lambda h: (h.survivor, h.merged)))


def _join_by_email(
    candidates: set[str], shared: Mapping[str, list[int]], uf: _UnionFind, groups: dict[int, list[int]],
    keys: list[RecordKey], person_of: Mapping[int, str], history: set[int], duplicates: list[Duplicate],
    held: set[int],
) -> None:
    """Joins the people (``groups``, by root) that share a candidate email, in email order; never two
    people a held merge keeps apart (``held`` roots).

    A joined person stays under its smallest root, i.e. in the place of its first record.
    """
    find, union = uf.find, uf.union
    for email in sorted(candidates):
        indices = shared[email]
        roots = sorted({find(i) for i in indices})
        if len(roots) < 2:
            continue
        members = [groups[root] for root in roots]
        persons = {person_of[m] for group in members for m in group if m in person_of} if person_of else set()
        paired = [group for group in members
                  if len(group) > 1 and len({keys[m].system for m in group if m not in history}) == 2]
        if len(persons) > 1 or len(paired) > 1 or (held and len(held.intersection(roots)) > 1):
            duplicates.append(Duplicate(
                min(persons) if persons else "", None, tuple(sorted(keys[i] for i in indices)),
                f"email {email!r} is shared by people that links or cross-references keep apart",
            ))
            continue
        joined = groups[roots[0]]
        for root in roots[1:]:
            union(roots[0], root)
            joined += groups.pop(root)


def _primary_order(stored: Mapping[RecordKey, str], paired: set[RecordKey]):  # type: ignore[no-untyped-def]
    def order(r: SourceRecord) -> tuple[int, int, int, int, tuple[int, str]]:
        return (0 if r.object_type == "Contact" else 1, 0 if r.key in paired else 1, 0 if r.key in stored else 1,
                -r.modified_at, _id_order(r.id))
    return order


def _paired(active: list[SourceRecord], xref: tuple[tuple[str, ...], str]) -> set[RecordKey]:
    """The records of a group that a cross-reference ties to a record of the other system in it.

    Such a record stays the primary while its twins are duplicates: a cross-reference id is unique in
    both systems, so making another record primary would plan writing that id a second time (refused
    as a duplicate value) and would flip the primary with every edit of a duplicate.
    """
    hs_props, sf_prop = xref
    hs_ids = {r.id for r in active if r.system == "hubspot"}
    sf_ids = {r.id[:15] for r in active if r.system != "hubspot"}
    out: set[RecordKey] = set()
    for r in active:
        if r.system == "hubspot":
            refs = {str(r.fields.get(p) or "").strip()[:15] for p in hs_props} - {""}
            if refs & sf_ids:
                out.add(r.key)
                out.update(o.key for o in active if o.system != "hubspot" and o.id[:15] in refs)
        else:
            ref = str(r.fields.get(sf_prop) or "").strip()
            if ref and ref in hs_ids:
                out.add(r.key)
                out.update(o.key for o in active if o.system == "hubspot" and o.id == ref)
    return out


def _build_group(
    members: list[RecordKey], recs: Mapping[RecordKey, SourceRecord], stored: Mapping[RecordKey, str],
    history: set[RecordKey], duplicates: list[Duplicate], followed: set[RecordKey], held: str,
    xref: tuple[tuple[str, ...], str],
) -> PersonGroup | None:
    """The person of these records (sorted keys): primaries, history, duplicates, and their person id.

    Stored people joined by a followed merge keep the person of the merge survivor (else of a live
    record); other joins of stored people keep the smallest id and are reported.
    """
    persons = sorted({stored[k] for k in members if k in stored})
    primaries: dict[str, SourceRecord | None] = {"hubspot": None, "salesforce": None}
    dupes: list[RecordKey] = []
    pending: list[tuple[RecordKey, tuple[RecordKey, ...], str]] = []
    live = [recs[k] for k in members if k not in history]
    order = _primary_order(stored, _paired(live, xref))
    for system in ("hubspot", "salesforce"):
        active = sorted((r for r in live if r.system == system), key=order)
        if active:
            primaries[system] = active[0]
            if len(active) > 1:
                others = tuple(sorted(r.key for r in active[1:]))
                dupes += others
                pending.append((active[0].key, others, f"{len(active)} active {system} records for one person; "
                                "kept by: Contact over Lead, cross-referenced by the other system, stored link, "
                                "most recently modified, lowest id"))
    hs, sf = primaries["hubspot"], primaries["salesforce"]
    if hs is None and sf is None:
        return None
    merged = bool(followed) and len(persons) > 1 and not followed.isdisjoint(members)
    if merged:  # the survivor's person keeps the links
        person_id = min([stored[k] for k in members if k in followed and k in stored]
                        or [stored[k] for k in members if k in stored and k not in history] or persons)
    elif persons:
        person_id = persons[0]
        if len(persons) > 1:
            pending.append((min(members), tuple(members),
                            f"stored people {', '.join(persons)} are one person now; kept {person_id}"))
    else:
        person_id = f"hs-{hs.id}" if hs is not None else f"sf-{sf.id}"  # type: ignore[union-attr]
    for kept, others, reason in pending:
        duplicates.append(Duplicate(person_id, kept, others, reason))
    hist = tuple(sorted(k for k in members if k in history))
    return PersonGroup(person_id, hs, sf, hist, tuple(sorted(dupes)), held)


def _simple_group(
    members: list[int], keys: list[RecordKey], recs: list[SourceRecord], person_of: Mapping[int, str],
) -> PersonGroup | None:
    """The common case, fast: one or two records (of different systems), none of them history.

    None when the general path must decide: two records of one system, or two stored people.
    """
    a = members[0]
    if len(members) == 1:
        r = recs[a]
        hubspot = keys[a].system == "hubspot"
        if a in person_of:
            person_id = person_of[a]
        else:
            person_id = f"hs-{r.id}" if hubspot else f"sf-{r.id}"
        return _person(person_id, r, None) if hubspot else _person(person_id, None, r)
    b = members[1]
    if keys[a].system == keys[b].system:
        return None
    if keys[a].system != "hubspot":
        a, b = b, a
    if a in person_of:
        person_id = person_of[a]
        if b in person_of and person_of[b] != person_id:
            return None
    elif b in person_of:
        person_id = person_of[b]
    else:
        person_id = f"hs-{recs[a].id}"
    return _person(person_id, recs[a], recs[b])


def _person(person_id: str, hubspot: SourceRecord | None, salesforce: SourceRecord | None) -> PersonGroup:
    """``PersonGroup(person_id, hubspot, salesforce)`` without the frozen ``__init__``'s per-field
    ``object.__setattr__`` calls (about half the cost of the common one-person-one-pair case)."""
    group = object.__new__(PersonGroup)
    group.__dict__.update(person_id=person_id, hubspot=hubspot, salesforce=salesforce, history=(), duplicates=(),
                          held="")
    return group


# _person must set every field: fail at import (even under -O) if PersonGroup gains one
if [f.name for f in fields(PersonGroup)] != ["person_id", "hubspot", "salesforce", "history", "duplicates",
                                            "held"]:  # pragma: no cover
    raise RuntimeError("PersonGroup changed: update identity._person to match")


def describe_held(held: HeldMerge, spec: IdentitySpec | None = None) -> tuple[str, str]:
    """(message, hint) for a held merge: record ids and field names only, never personal data.

    The hint names the two ways to decide, both done in the systems themselves: one person (merge or
    convert on the other side too, which the next sync follows), or two people (give the merged-away
    person a record of their own on the merged side, named in a cross-reference id).
    """
    spec = spec or IdentitySpec()
    s, m = held.survivor, held.merged
    kept = held.kept[0] if held.kept else None
    other = held.others[0] if held.others else None
    if held.system == "hubspot":
        what = (f"HubSpot merged contact {m.id} into {s.id}" if not held.by_reference else
                f"HubSpot contact {s.id} absorbed merged contacts and names Salesforce {m.object_type} {m.id}")
        msg = (f"{what}, but the two were linked to different Salesforce records "
               f"({_label(held.kept)} and {_label(held.others)})")
        if kept is None or other is None:
            hint = "merge or convert the Salesforce records of both people in Salesforce; the next sync follows it"
        else:
            prop = spec.hubspot_contact_id_property if other.object_type == "Contact" else spec.hubspot_lead_id_property
            hint = (f"if they are one person, {_one_in_salesforce(kept, other)} in Salesforce and the next sync "
                    f"follows that; if they are two people, give Salesforce {other.object_type} {other.id} a HubSpot "
                    f"contact of its own (with {prop} = {other.id}) and the next sync keeps them apart (first take "
                    f"off contact {s.id} the values the merge gave it from the other person)")
    else:
        what = (f"Salesforce merged {m.object_type} {m.id} into {s.id}" if not held.by_reference else
                f"Salesforce {s.object_type} {s.id} absorbed merged records and names HubSpot contact {m.id}")
        msg = (f"{what}, but the two were linked to different HubSpot contacts "
               f"({_label(held.kept)} and {_label(held.others)})")
        if kept is None or other is None:
            hint = "merge the HubSpot contacts of both people in HubSpot; the next sync follows it"
        else:
            hint = (f"if they are one person, merge HubSpot contacts {other.id} and {kept.id} in HubSpot and the next "
                    f"sync follows that; if they are two people, give HubSpot contact {other.id} a Salesforce Lead or "
                    f"Contact of its own (put its id in {spec.hubspot_contact_id_property} or "
                    f"{spec.hubspot_lead_id_property} of contact {other.id}) and the next sync keeps them apart (first "
                    f"take off {s.object_type} {s.id} the values the merge gave it from the other person)")
    return msg + "; the connector writes nothing to any of these records until someone decides", hint


def _label(keys: tuple[RecordKey, ...]) -> str:
    return ", ".join(f"{k.object_type} {k.id}" if k.system == "salesforce" else f"contact {k.id}"
                     for k in keys) or "none"


def _one_in_salesforce(kept: RecordKey, other: RecordKey) -> str:
    if kept.object_type == other.object_type:
        return f"merge {kept.object_type}s {other.id} and {kept.id}"
    lead, contact = (kept, other) if kept.object_type == "Lead" else (other, kept)
    return f"convert Lead {lead.id} into Contact {contact.id}"
