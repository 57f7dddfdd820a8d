"""Merges in either system, end to end on the sandbox, synced with the defaults a user runs (60 s safety
lag, a sync started right after the merge, then one after the lag).

A merge is followed as the system did it: links move to the survivor. Two people linked to different
records and merged on one side only are not merged on the other side: the case is held for review and
no value of one person reaches the other's records, field by field. `explain` finds everyone by any of
their e-mails and ids, merged-away ids included."""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from connector.cli import main
from connector.reconcile.mapping import ContactMapping
from connector.store.models import Link, ParkedRecord
from connector.sync import run_cycle

from .conftest import World, make_world, sf_type

LAG_MS = 60_000  # the shipped default safety lag


@dataclass
class Person:
    """One person before the merge: their records and every value they held, by unified field."""

    hubspot: str | None
    salesforce: tuple[str, str] | None  # (object type, id)
    values: dict[str, set[str]] = field(default_factory=dict)
    emails: set[str] = field(default_factory=set)


@dataclass
class Cases:
    world: World
    people: dict[str, Person]  # case name -> person
    before: dict[tuple[str, str], dict[str, Any]]  # records right after the merges, before any sync
    planned: list[dict[str, Any]]  # every value the first plan after the merges wanted to write
    syncs: list[dict[str, Any]]
    survivor: dict[str, str]  # case -> the id of the HubSpot record its merge left
    preserved: bool  # the account keeps the primary's id on HubSpot merges (else the survivor is new)

    def hubspot(self, case: str) -> str:
        """The live HubSpot contact of a case's person after the merges."""
        return self.survivor.get(case) or self.people[case].hubspot or ""

    def salesforce(self, case: str) -> str:
        return (self.people[case].salesforce or ("", ""))[1]


def sync(world: World, **kwargs: Any) -> dict[str, Any]:
    """One cycle as `connector sync --once` runs it (default lag and lookback), on the sandbox's clock."""
    systems = world.systems()
    try:
        return run_cycle(world.engine, systems, world.mappings.contacts, clock=world.sandbox.clock.now_ms,
                         deal_mapping=world.mappings.opportunities, **kwargs)
    finally:
        systems.close()


def norm(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip().casefold()
    digits = re.sub(r"\D", "", text)
    return digits[-10:] if len(digits) >= 7 and re.fullmatch(r"[\d\s()+.x-]+", text) else text


def mapped(mapping: ContactMapping, system: str, object_type: str) -> dict[str, str]:
    """native field name -> unified field name, for one object."""
    return {n: f.name for f in mapping.fields if (n := f.native_name(system, object_type)) is not None}


def hubspot_control(world: World) -> httpx.Client:
    info = world.sandbox.info()
    return httpx.Client(base_url=info.hubspot_base_url, verify=ssl.create_default_context(cafile=info.ca_file),
                        headers={"Authorization": f"Bearer {info.hubspot_access_token}"}, trust_env=False, timeout=30)


def salesforce_control(world: World) -> httpx.Client:
    info = world.sandbox.info()
    return httpx.Client(base_url=info.salesforce_instance_url, verify=ssl.create_default_context(cafile=info.ca_file),
                        trust_env=False, timeout=30)


def read_hubspot(world: World, ids: list[str]) -> dict[str, dict[str, Any]]:
    names = sorted(mapped(world.mappings.contacts, "hubspot", "contacts")) + [
        "salesforce_contact_id", "salesforce_lead_id", "hs_additional_emails", "hs_merged_object_ids", "hs_lead_status"]
    with hubspot_control(world) as http:
        body = http.post("/crm/v3/objects/contacts/batch/read",
                         json={"properties": names, "inputs": [{"id": i} for i in ids]}).json()
    return {r["id"]: r["properties"] for r in body["results"]}


def read_salesforce(world: World, obj: str, record_id: str) -> dict[str, Any]:
    return dict(getattr(world.salesforce_sdk(), obj).get(record_id))


def person_links(world: World) -> dict[str, list[Link]]:
    with Session(world.engine) as session:
        links = session.exec(select(Link)).all()
    out: dict[str, list[Link]] = {}
    for link in links:
        out.setdefault(link.person_id, []).append(link)
    return out


def snapshot(world: World, people: dict[str, Person]) -> None:
    """Every value each person holds in both systems, by unified field (and their ids and e-mails)."""
    mapping = world.mappings.contacts
    hs_ids = [p.hubspot for p in people.values() if p.hubspot]
    hubspot = read_hubspot(world, hs_ids)
    for p in people.values():
        records: list[tuple[dict[str, str], dict[str, Any]]] = []
        if p.hubspot:
            records.append((mapped(mapping, "hubspot", "contacts"), hubspot[p.hubspot]))
        if p.salesforce:
            obj, rid = p.salesforce
            records.append((mapped(mapping, "salesforce", obj), read_salesforce(world, obj, rid)))
        for names, data in records:
            for native, unified in names.items():
                v = norm(data.get(native))
                if v is not None:
                    p.values.setdefault(unified, set()).add(v)
        p.emails = set(p.values.get("email", set()))


def moved_values(cases: Cases, after: dict[tuple[str, str], dict[str, Any]],
                 pairs: list[tuple[str, str, list[tuple[str, str]]]]) -> list[str]:
    """Fields of a person's records that now hold a value only the other person held (and did not hold it
    right after the merge): (case, other case, records of the case)."""
    mapping = cases.world.mappings.contacts
    out = []
    for me, other, records in pairs:
        mine, theirs = cases.people[me], cases.people[other]
        for system, rid in records:
            obj = "contacts" if system == "hubspot" else rid[:3] == "00Q" and "Lead" or "Contact"
            now, then = after[(system, rid)], cases.before[(system, rid)]
            for native, unified in mapped(mapping, system, obj).items():
                v = norm(now.get(native))
                if v is None or v == norm(then.get(native)):
                    continue
                if v in theirs.values.get(unified, set()) and v not in mine.values.get(unified, set()):
                    out.append(f"{me}: {system} {rid} {native} took {other}'s value")
            # identity: cross-reference ids naming the other person's records
            if system == "hubspot":
                for prop in ("salesforce_contact_id", "salesforce_lead_id"):
                    v = now.get(prop)
                    if v and v != then.get(prop) and theirs.salesforce and v[:15] == theirs.salesforce[1][:15]:
                        out.append(f"{me}: hubspot {rid} {prop} took {other}'s Salesforce id")
            else:
                v = now.get("HubSpot_Contact_Id__c")
                if v and v != then.get("HubSpot_Contact_Id__c") and v == theirs.hubspot:
                    out.append(f"{me}: salesforce {rid} HubSpot_Contact_Id__c took {other}'s HubSpot id")
    return out


def planned_moves(cases: Cases, pairs: list[tuple[str, str, list[tuple[str, str]]]]) -> list[str]:
    """Planned writes onto a person's records of a value only the other person held."""
    mapping = cases.world.mappings.contacts
    out = []
    for me, other, records in pairs:
        mine, theirs = cases.people[me], cases.people[other]
        wanted = {(s, r) for s, r in records}
        for d in cases.planned:
            if (d["system"], d["record"]) not in wanted:
                continue
            unified = mapped(mapping, d["system"], d["object_type"]).get(d["field"])
            v = norm(d["new"])
            if unified and v in theirs.values.get(unified, set()) and v not in mine.values.get(unified, set()):
                out.append(f"{me}: planned {d['system']} {d['record']} {d['field']} <- {other}'s value")
            if d["field"] in ("salesforce_contact_id", "salesforce_lead_id", "HubSpot_Contact_Id__c") and v and (
                    (theirs.salesforce and v[:15] == theirs.salesforce[1][:15].casefold()) or v == theirs.hubspot):
                out.append(f"{me}: planned {d['system']} {d['record']} {d['field']} <- {other}'s id")
    return out


def pick(world: World) -> dict[str, Person]:
    """People for each case, from the store's links after the first syncs (the seed fixes who they are)."""
    paired: list[Person] = []
    hubspot_only: list[Person] = []
    salesforce_only: list[Person] = []
    for links in person_links(world).values():
        live = [link for link in links if link.role == "primary"]
        if len(live) != len(links):
            continue
        hs = [link.record_id for link in live if link.system == "hubspot"]
        sf = [(link.object_type, link.record_id) for link in live if link.system == "salesforce"]
        if len(hs) == 1 and len(sf) == 1 and sf[0][0] == "Contact":
            paired.append(Person(hs[0], sf[0]))
        elif len(hs) == 1 and not sf:
            hubspot_only.append(Person(hs[0], None))
        elif not hs and len(sf) == 1 and sf[0][0] == "Contact":
            salesforce_only.append(Person(None, sf[0]))
    paired.sort(key=lambda p: int(p.hubspot or 0))
    hubspot_only.sort(key=lambda p: int(p.hubspot or 0))
    salesforce_only.sort(key=lambda p: p.salesforce or ("", ""))
    assert len(paired) >= 6 and hubspot_only and salesforce_only, (len(paired), len(hubspot_only), len(salesforce_only))
    return {"a1": paired[0], "a2": paired[1],  # HubSpot merge, both linked to Salesforce Contacts
            "b1": paired[2], "b2": hubspot_only[0],  # HubSpot merge, only the survivor linked
            "d1": paired[3], "d2": paired[4],  # Salesforce merge, both linked to HubSpot contacts
            "e1": salesforce_only[0], "e2": paired[5]}  # Salesforce merge of a linked Contact into an unlinked one


@pytest.fixture(scope="module", params=["new id", "primary id preserved"])
def cases(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cases]:
    """Both kinds of HubSpot account: a merge survivor with a new id (the default), or the primary's id."""
    preserved = request.param == "primary id preserved"
    for world in make_world(tmp_path_factory.mktemp("merges"), people=200, seed=21):
        with hubspot_control(world) as http:
            r = http.post("/_sandbox/hubspot/account", json={"primary_id_preservation": preserved})
            assert r.status_code == 200, r.text
        # a Salesforce-only Contact (no e-mail, so it is not created in HubSpot): case e's survivor
        sf_type(world.salesforce_sdk(), "Contact").create({"FirstName": "Kim", "LastName": "Lindqvist",
                                                           "Title": "Buyer", "MailingCity": "Uppsala"})
        sync(world)
        world.sandbox.clock.advance(LAG_MS + 1_000)
        sync(world)  # the first sync's own writes come back (and anything the lag held)
        people = pick(world)
        snapshot(world, people)
        p = people
        survivor: dict[str, str] = {}
        with hubspot_control(world) as http:
            for primary, other in (("a1", "a2"), ("b1", "b2")):
                r = http.post("/crm/v3/objects/contacts/merge",
                              json={"primaryObjectId": p[primary].hubspot, "objectIdToMerge": p[other].hubspot})
                assert r.status_code == 200, r.text
                survivor[primary] = r.json()["id"]
                assert (survivor[primary] == p[primary].hubspot) == preserved
        with hubspot_control(world) as http:  # the loser's HubSpot twin is the one touched last
            current = read_hubspot(world, [p["d2"].hubspot or ""])[p["d2"].hubspot or ""].get("hs_lead_status")
            r = http.patch(f"/crm/v3/objects/contacts/{p['d2'].hubspot}",
                           json={"properties": {
                               "hs_lead_status": "CONNECTED" if current != "CONNECTED" else "BAD_TIMING"}})
            assert r.status_code == 200, r.text
        with salesforce_control(world) as http:
            for master, loser in (("d1", "d2"), ("e1", "e2")):
                kept, merged = p[master].salesforce, p[loser].salesforce
                assert kept and merged
                r = http.post("/_sandbox/salesforce/merge", json={"masterId": kept[1], "mergeIds": [merged[1]]})
                assert r.status_code == 200, r.text
        live_hs = [survivor.get(k) or p[k].hubspot for k in ("a1", "b1", "d1", "d2", "e2")]
        before: dict[tuple[str, str], dict[str, Any]] = {
            ("hubspot", k): v for k, v in read_hubspot(world, [i for i in live_hs if i]).items()}
        for k in ("a1", "a2", "b1", "d1", "e1"):
            obj, rid = p[k].salesforce or ("", "")
            before[("salesforce", rid)] = read_salesforce(world, obj, rid)
        syncs = [sync(world)]  # right after the merges: the lag keeps them for the next one
        world.sandbox.clock.advance(LAG_MS + 1_000)
        planned = sync(world, dry_run=True, full_plan=True)["plan"]["diffs"]
        syncs.append(sync(world))
        world.sandbox.clock.advance(LAG_MS + 1_000)
        syncs.append(sync(world))
        yield Cases(world, people, before, planned, syncs, survivor, preserved)


def after(cases: Cases) -> dict[tuple[str, str], dict[str, Any]]:
    world = cases.world
    out: dict[tuple[str, str], dict[str, Any]] = {
        ("hubspot", k): v for k, v in read_hubspot(world, [s[1] for s in cases.before if s[0] == "hubspot"]).items()}
    for system, rid in cases.before:
        if system == "salesforce":
            out[(system, rid)] = read_salesforce(world, "Lead" if rid.startswith("00Q") else "Contact", rid)
    return out


def explain(world: World, who: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["explain", who, "--json", "--config", str(world.config_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    return out


def linked(found: dict[str, Any]) -> set[str]:
    return {link["record_id"] for link in found["links"]}


def test_a_hubspot_merge_of_two_linked_people_moves_no_value_between_them(cases: Cases) -> None:
    a1_sf, a2_sf = cases.salesforce("a1"), cases.salesforce("a2")
    records = {"a1": [("hubspot", cases.hubspot("a1")), ("salesforce", a1_sf)], "a2": [("salesforce", a2_sf)]}
    pairs = [("a1", "a2", records["a1"]), ("a2", "a1", records["a2"])]
    assert planned_moves(cases, pairs) == []
    assert moved_values(cases, after(cases), pairs) == []
    # nothing was written to either Salesforce twin's identity fields, nor rejected
    now = after(cases)
    for rid in (a1_sf, a2_sf):
        assert now[("salesforce", rid)]["Email"] == cases.before[("salesforce", rid)]["Email"]
        assert now[("salesforce", rid)]["HubSpot_Contact_Id__c"] == \
            cases.before[("salesforce", rid)]["HubSpot_Contact_Id__c"]
    involved = {r for c in cases.people for r in (cases.people[c].hubspot, cases.hubspot(c), cases.salesforce(c)) if r}
    assert not [r for s in cases.syncs for r in s["push"]["rejections_sample"] if r["record"] in involved]


def test_a_salesforce_merge_of_two_linked_people_moves_no_value_between_them(cases: Cases) -> None:
    p = cases.people
    d1_sf = (p["d1"].salesforce or ("", ""))[1]
    pairs = [("d1", "d2", [("hubspot", p["d1"].hubspot or ""), ("salesforce", d1_sf)]),
             ("d2", "d1", [("hubspot", p["d2"].hubspot or "")])]
    assert planned_moves(cases, pairs) == []
    assert moved_values(cases, after(cases), pairs) == []
    # the loser's HubSpot twin still names its own (merged-away) Contact: nobody has decided yet
    d2 = after(cases)[("hubspot", p["d2"].hubspot or "")]
    assert d2["salesforce_contact_id"] == (p["d2"].salesforce or ("", ""))[1]


def test_held_merges_are_parked_for_review_with_a_plain_hint(cases: Cases, capsys: pytest.CaptureFixture[str]) -> None:
    world, p = cases.world, cases.people
    with Session(world.engine) as session:
        held = session.exec(select(ParkedRecord).where(ParkedRecord.stage == "identity",
                                                       ParkedRecord.resolved_at.is_(None))).all()  # type: ignore[union-attr]
    by_record = {r.record_id: r for r in held}
    assert set(by_record) == {cases.hubspot("a1"), cases.salesforce("d1")}
    for row in held:
        assert row.hint and "merge" in row.hint
        text = f"{row.message} {row.hint}".casefold()
        for person in p.values():  # no personal data in messages or hints
            assert not any(e in text for e in person.emails if e)
    assert "Salesforce" in by_record[cases.hubspot("a1")].hint  # type: ignore[operator]
    # listed for review
    capsys.readouterr()
    assert main(["duplicates", "--json", "--config", str(world.config_path)]) == 0
    rows = json.loads(capsys.readouterr().out)["duplicates"]
    assert {(p["a2"].salesforce or ("", ""))[1], p["d2"].hubspot} <= {r["record_id"] for r in rows}
    # retrying changes nothing: no writes, still held, nothing rejected
    assert main(["retry", "--config", str(world.config_path)]) == 0
    world.sandbox.clock.advance(LAG_MS + 1_000)
    again = sync(world)
    involved = {r for c in p for r in (p[c].hubspot, cases.hubspot(c), cases.salesforce(c)) if r}
    assert not [r for r in again["push"]["rejections_sample"] if r["record"] in involved]
    with Session(world.engine) as session:
        still = session.exec(select(ParkedRecord).where(ParkedRecord.stage == "identity",
                                                        ParkedRecord.resolved_at.is_(None))).all()  # type: ignore[union-attr]
    assert {r.record_id for r in still} == set(by_record)


def test_a_followed_hubspot_merge_moves_the_links_to_the_survivor(cases: Cases,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    p, world = cases.people, cases.world
    survivor = explain(world, cases.hubspot("b1"), capsys)
    assert {p["b1"].hubspot, p["b2"].hubspot, cases.hubspot("b1"), cases.salesforce("b1")} <= linked(survivor)
    assert {link["record_id"] for link in survivor["links"] if link["role"] == "primary"} == {
        cases.hubspot("b1"), cases.salesforce("b1")}
    for old_id in (p["b1"].hubspot or "", p["b2"].hubspot or ""):
        assert explain(world, old_id, capsys)["person_id"] == survivor["person_id"]
    # the Salesforce twin names the survivor, and no Salesforce record was made for the merged-away contact
    assert read_salesforce(world, "Contact", cases.salesforce("b1"))["HubSpot_Contact_Id__c"] == cases.hubspot("b1")
    b1 = cases.hubspot("b1")
    assert read_hubspot(world, [b1])[b1]["salesforce_contact_id"] == cases.salesforce("b1")
    for email in p["b2"].emails:  # the merged-away contact's address now lives in hs_additional_emails
        assert explain(world, email, capsys)["person_id"] == survivor["person_id"]


def test_a_followed_salesforce_merge_relinks_the_hubspot_twin_to_the_survivor(
        cases: Cases, capsys: pytest.CaptureFixture[str]) -> None:
    p, world = cases.people, cases.world
    master = (p["e1"].salesforce or ("", ""))[1]
    twin = after(cases)[("hubspot", p["e2"].hubspot or "")]
    assert twin["salesforce_contact_id"] == master
    assert read_salesforce(world, "Contact", master)["HubSpot_Contact_Id__c"] == p["e2"].hubspot
    found = explain(world, (p["e2"].salesforce or ("", ""))[1], capsys)
    assert {master, p["e2"].hubspot} <= linked(found)
    assert explain(world, master, capsys)["person_id"] == found["person_id"]


def test_explain_finds_every_person_by_any_email_and_id(cases: Cases, capsys: pytest.CaptureFixture[str]) -> None:
    world, p = cases.world, cases.people
    for name in ("a1", "a2", "d1", "d2"):
        person = p[name]
        ids = [i for i in (person.hubspot, cases.survivor.get(name), cases.salesforce(name)) if i]
        found = {explain(world, i, capsys)["person_id"] for i in ids}
        found |= {explain(world, e, capsys)["person_id"] for e in person.emails}
        assert len(found) == 1, (name, found)  # every id and address of one person: that person
        shown = explain(world, ids[0], capsys)
        assert set(ids) <= linked(shown), (name, shown["links"])
        assert shown["held"] and all(h["hint"] for h in shown["held"])
    # and the held people are different people
    assert explain(world, cases.hubspot("a1"), capsys)["person_id"] != explain(
        world, cases.salesforce("a2"), capsys)["person_id"]
    # the text form says what is held and how to decide
    capsys.readouterr()
    assert main(["explain", cases.hubspot("a1"), "--config", str(world.config_path)]) == 0
    text = capsys.readouterr().out
    assert "held (MERGED_ON_ONE_SIDE)" in text and "to decide: if they are one person" in text
    # nobody: exit 1, and the address asked for is not echoed (personal data)
    assert main(["explain", "nobody@example.invalid", "--json", "--config", str(world.config_path)]) == 1
    assert "nobody@example.invalid" not in capsys.readouterr().out


def test_merging_the_other_side_too_releases_a_held_merge(cases: Cases, capsys: pytest.CaptureFixture[str]) -> None:
    """(Runs last: it changes the world.) Someone decides they are one person and merges the Salesforce
    Contacts too: the next sync follows both merges, links everything to the survivors, writes the
    cross-references and resolves the parked case."""
    world = cases.world
    with salesforce_control(world) as http:
        r = http.post("/_sandbox/salesforce/merge", json={"masterId": cases.salesforce("a1"),
                                                          "mergeIds": [cases.salesforce("a2")]})
        assert r.status_code == 200, r.text
    world.sandbox.clock.advance(LAG_MS + 1_000)
    done = [sync(world)]
    world.sandbox.clock.advance(LAG_MS + 1_000)
    done.append(sync(world))
    involved = {cases.hubspot("a1"), cases.salesforce("a1"), cases.salesforce("a2")}
    assert not [r for s in done for r in s["push"]["rejections_sample"] if r["record"] in involved]
    with Session(world.engine) as session:
        rows = session.exec(select(ParkedRecord).where(ParkedRecord.stage == "identity",
                                                       ParkedRecord.record_id == cases.hubspot("a1"))).all()
    assert len(rows) == 1 and rows[0].resolved_at is not None
    person = explain(world, cases.salesforce("a2"), capsys)
    assert person["person_id"] == explain(world, cases.hubspot("a1"), capsys)["person_id"] and not person["held"]
    assert {cases.people["a2"].hubspot, cases.salesforce("a2")} <= linked(person)
    assert read_salesforce(world, "Contact", cases.salesforce("a1"))["HubSpot_Contact_Id__c"] == cases.hubspot("a1")
    survivor = read_hubspot(world, [cases.hubspot("a1")])[cases.hubspot("a1")]
    assert survivor["salesforce_contact_id"] == cases.salesforce("a1")
