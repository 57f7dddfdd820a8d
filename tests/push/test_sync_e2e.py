"""One sync of a seeded sandbox, checked through the official SDKs: agreement, direction, no duplicates,
parked rejections, settled conflicts with their audit entry, and a second sync that writes nothing."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hubspot.crm.contacts import SimplePublicObjectInput
from sqlmodel import Session, select

from connector.cli import main
from connector.store.models import FieldAudit, Link, ParkedRecord

from . import conftest
from .conftest import World, sf_type

TEXT_PAIRS = (("firstname", "FirstName"), ("lastname", "LastName"), ("jobtitle", "Title"), ("email", "Email"))
HS_PROPS = ["email", "firstname", "lastname", "jobtitle", "phone", "city", "hs_email_optout", "salesforce_lead_id",
            "salesforce_contact_id"]


@pytest.fixture(scope="module")
def first(world: World) -> dict[str, Any]:
    return world.sync()


def hubspot_contacts(world: World) -> dict[str, dict[str, Any]]:
    return conftest.hubspot_contacts(world.sandbox, HS_PROPS)


def salesforce_people(world: World) -> dict[str, dict[str, Any]]:
    sf = world.salesforce_sdk()
    fields = "Id, Email, FirstName, LastName, Title, Phone, HasOptedOutOfEmail, HubSpot_Contact_Id__c"
    rows = sf.query_all(f"SELECT {fields}, IsConverted FROM Lead")["records"]
    rows += sf.query_all(f"SELECT {fields} FROM Contact")["records"]
    return {r["Id"]: r for r in rows if not r.get("IsConverted")}


def pairs(world: World) -> list[tuple[str, str]]:
    """(HubSpot contact id, Salesforce id) of every person linked in both systems: their primary records,
    from the store's links (duplicates and history are not the records the sync writes)."""
    with Session(world.engine) as s:
        links = s.exec(select(Link).where(Link.role == "primary")).all()
    by_person: dict[str, dict[str, list[str]]] = {}
    for link in links:
        by_person.setdefault(link.person_id, {}).setdefault(link.system, []).append(link.record_id)
    return [(p["hubspot"][0], sf_id) for p in by_person.values() if "hubspot" in p and "salesforce" in p
            for sf_id in p["salesforce"]]


def e164(value: Any) -> str | None:
    try:
        number = phonenumbers.parse(str(value or ""), "US")
    except phonenumbers.NumberParseException:
        return None
    valid = phonenumbers.is_valid_number(number)
    if not valid:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) + f"x{number.extension}"


def digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))[-10:]


def test_first_sync_writes_and_parks_nothing_silently(first: dict[str, Any]) -> None:
    push = first["push"]
    assert first["ok"] and push["written"]["hubspot"]["contacts"]["created"] > 0
    assert push["written"]["salesforce"]["Lead"]["created"] > 0
    total_writes = sum(n["created"] + n["updated"] + n["rejected"]
                       for o in push["written"].values() for n in o.values())
    planned = first["reconcile"]["planned_writes"]  # what the push was handed: planned = written
    assert total_writes == sum(planned[s]["creates"] + planned[s]["updates"] for s in planned)
    assert push["held_back"] == sum(planned[s]["held"] for s in planned)


def test_two_way_fields_agree_in_both_systems(world: World, first: dict[str, Any]) -> None:
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    # a person with two Salesforce records (a listed duplicate) is kept in step through the one both
    # cross-references name; the duplicate is left alone for a person to merge
    everyone = [(h, s) for h, s in pairs(world) if h in hs and s in sf]
    linked = [(h, s) for h, s in everyone if sf[s]["HubSpot_Contact_Id__c"] == h
              or s in (hs[h].get("salesforce_lead_id"), hs[h].get("salesforce_contact_id"))]
    assert len(linked) > 150 and len(everyone) - len(linked) <= first["reconcile"]["duplicates"]
    parked = {p.record_id for p in Session(world.engine).exec(select(ParkedRecord)).all()}
    for h, s in linked:
        if h in parked or s in parked:
            continue
        for hs_name, sf_name in TEXT_PAIRS:
            a, b = (hs[h].get(hs_name) or "").strip(), (sf[s].get(sf_name) or "").strip()
            if hs_name == "email":
                a, b = a.lower(), b.lower()
            assert a == b or (not a and b == "[not provided]"), (h, s, hs_name, a, b)
        # an unparseable number on either side is an issue for a person to look at, never copied or overwritten
        a_phone, b_phone = e164(hs[h].get("phone")), e164(sf[s].get("Phone"))
        if a_phone and b_phone:
            assert a_phone == b_phone, (h, s)
        # each side holds the other's id (cross-references)
        assert sf[s]["HubSpot_Contact_Id__c"] == h
        assert s in (hs[h].get("salesforce_lead_id"), hs[h].get("salesforce_contact_id"))


def test_an_opt_out_anywhere_is_an_opt_out_everywhere(world: World, first: dict[str, Any]) -> None:
    """HubSpot's opt-out is read-only through the CRM API: a Salesforce opt-out reaches it through the
    subscription preferences API (unsubscribe from all e-mail); nobody is ever opted back in."""
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    linked = [(h, s) for h, s in pairs(world) if h in hs and s in sf and sf[s]["HubSpot_Contact_Id__c"] == h]
    opted_in_hubspot = [(h, s) for h, s in linked if hs[h].get("hs_email_optout") == "true"]
    assert opted_in_hubspot and all(sf[s]["HasOptedOutOfEmail"] is True for _, s in opted_in_hubspot)
    opted_in_salesforce = [(h, s) for h, s in linked if sf[s]["HasOptedOutOfEmail"]]
    assert opted_in_salesforce and all(hs[h].get("hs_email_optout") == "true" for h, _ in opted_in_salesforce)
    assert first["api_calls"]["hubspot"]["by_object"].get("subscriptions", 0) > 0


def test_nothing_is_duplicated(world: World, first: dict[str, Any]) -> None:
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    emails = Counter((p.get("email") or "").lower() for p in hs.values() if p.get("email"))
    assert max(emails.values()) == 1
    with Session(world.engine) as session:
        created = session.exec(select(Link).where(Link.reason == "created")).all()
    made_in_sf = [link.record_id for link in created if link.system == "salesforce"]
    made_in_hs = [link.record_id for link in created if link.system == "hubspot"]
    assert len(made_in_sf) == first["push"]["written"]["salesforce"]["Lead"]["created"] > 0
    assert len(made_in_hs) == first["push"]["written"]["hubspot"]["contacts"]["created"] > 0
    # each record the connector created is the only one holding its cross-reference id
    xrefs = Counter(r["HubSpot_Contact_Id__c"] for r in sf.values() if r["HubSpot_Contact_Id__c"])
    assert all(xrefs[sf[i]["HubSpot_Contact_Id__c"]] == 1 for i in made_in_sf)
    refs = Counter(v for p in hs.values() for v in (p.get("salesforce_lead_id"), p.get("salesforce_contact_id")) if v)
    assert all(refs[hs[i].get("salesforce_lead_id") or hs[i].get("salesforce_contact_id")] == 1 for i in made_in_hs)


def test_second_sync_writes_nothing(world: World, first: dict[str, Any]) -> None:
    again = world.sync()
    assert again["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
    assert again["push"]["written"] == {}
    echoes = sum(s["echoes"] for s in again["pull"]["streams"].values())
    assert echoes > 0  # the first sync's writes came back, and were recognised as its own


def test_conflicting_edits_are_settled_by_the_rule_with_an_audit_entry(world: World, first: dict[str, Any]) -> None:
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    h, s = next((h, s) for h, s in pairs(world) if h in hs and s in sf and s.startswith("00Q"))
    world.hubspot_sdk().crm.contacts.basic_api.update(h, SimplePublicObjectInput(properties={
        "phone": "+1 415 555 0101"}))
    sf_type(world.salesforce_sdk(), "Lead").update(s, {"Phone": "+1 415 555 0199"})
    result = world.sync()
    assert result["push"]["written"]["hubspot"]["contacts"]["updated"] >= 1
    after = hubspot_contacts(world)[h]
    assert digits(after["phone"]) == "4155550199"  # phone: prefer_salesforce_unless_blank
    with Session(world.engine) as session:
        audit = session.exec(select(FieldAudit).where(FieldAudit.field == "phone",
                                                      FieldAudit.run_id == result["run_id"])).all()
    assert any(a.winner_system == "salesforce" and a.loser_system == "hubspot" and "0101" in str(a.loser_value)
               for a in audit)
    assert world.sync()["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}


def test_a_rejected_value_is_parked_with_a_hint_and_the_rest_is_written(world: World, first: dict[str, Any],
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    h, s = next((h, s) for h, s in pairs(world) if h in hs and s in sf and s.startswith("00Q"))
    sf_type(world.salesforce_sdk(), "Lead").update(s, {"Title": None, "City": None})  # blank: HubSpot's values win
    # longer than Lead.City's 40 characters (a long title no longer fails: the shipped mapping truncates it)
    long_city = "Llanfair" + "pwllgwyngyll" * 4
    world.hubspot_sdk().crm.contacts.basic_api.update(h, SimplePublicObjectInput(properties={
        "jobtitle": "Head of Growth", "city": long_city}))
    result = world.sync()
    assert result["push"]["rejected"] == 1
    with Session(world.engine) as session:
        parked = session.exec(select(ParkedRecord).where(ParkedRecord.record_id == s)).one()
    assert parked.field == "City" and parked.code == "STRING_TOO_LONG" and parked.resolved_at is None
    hint = parked.hint or ""
    assert "city" in hint and "mappings/contacts.toml" in hint
    assert '"truncate"' in hint and "max_length = 40" in hint  # the hint names a transform that exists
    # the record's other change went through
    assert sf_type(world.salesforce_sdk(), "Lead").get(s)["Title"] == "Head of Growth"
    # status shows it; while its retry is not due the next sync holds it back instead of failing again
    capsys.readouterr()
    assert main(["status", "--config", str(world.config_path)]) == 0
    grouped = capsys.readouterr().out  # by cause: the count, the code, one example with the fix
    line = rf"\b1  salesforce Lead\.City: STRING_TOO_LONG \(push\); e\.g\. #{parked.id} {s}: "
    assert re.search(line, grouped), grouped
    assert hint in grouped and "parked: 1 record by 1 cause" in grouped
    assert main(["status", "--all", "--config", str(world.config_path)]) == 0
    shown = capsys.readouterr().out  # every record, and the hint naming the fix
    assert f"salesforce Lead {s} (1 attempt): {parked.hint}" in shown
    assert main(["status", "--config", str(world.config_path), "--json"]) == 0
    causes = json.loads(capsys.readouterr().out)["parked_by_cause"]
    assert [(c["system"], c["object_type"], c["field"], c["code"], c["records"], c["example"]["record_id"])
            for c in causes] == [("salesforce", "Lead", "City", "STRING_TOO_LONG", 1, s)]
    held = world.sync()
    assert held["push"]["write_calls"]["salesforce"] == 0 and held["push"]["held_back"] >= 1
    # retry requeues it: the next sync tries again (and parks it again, one more attempt)
    assert main(["retry", "--config", str(world.config_path), "--json"]) == 0
    again = world.sync()
    assert again["push"]["rejected"] == 1
    with Session(world.engine) as session:
        assert session.exec(select(ParkedRecord).where(ParkedRecord.record_id == s)).one().attempts == 2
    # fixed at the source: the next (requeued) sync writes it and the parked record is resolved
    world.hubspot_sdk().crm.contacts.basic_api.update(h, SimplePublicObjectInput(properties={"city": "Gothenburg"}))
    assert main(["retry", "--config", str(world.config_path)]) == 0
    fixed = world.sync()
    assert fixed["push"]["rejected"] == 0
    with Session(world.engine) as session:
        assert session.exec(select(ParkedRecord).where(ParkedRecord.record_id == s)).one().resolved_at is not None
    assert sf_type(world.salesforce_sdk(), "Lead").get(s)["City"] == "Gothenburg"


def test_plan_is_a_dry_run_with_a_forecast(tmp_path_factory: pytest.TempPathFactory,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import make_world

    for fresh in make_world(tmp_path_factory.mktemp("plan"), people=120, seed=2):
        before = (hubspot_contacts(fresh), salesforce_people(fresh))
        assert main(["plan", "--pull", "--json", "--config", str(fresh.config_path)]) == 0
        out = json.loads(capsys.readouterr().out)
        objects = out["plan"]["objects"]
        assert objects["hubspot:contacts"]["create"] > 0 and objects["salesforce:Lead"]["update"] > 0
        assert out["plan"]["sample"] and {"old", "new", "reason", "field"} <= set(out["plan"]["sample"][0])
        assert {r["system"] for r in out["plan"]["sample"]} == {"hubspot", "salesforce"}
        assert len(out["plan"]["diffs"]) == sum(n["fields"] for n in objects.values())  # --json: everything
        forecast = out["forecast"]
        assert forecast["hubspot"]["write_calls"] >= 2 and forecast["hubspot"]["fits"]
        assert forecast["salesforce"]["write_calls"] >= 1
        assert (hubspot_contacts(fresh), salesforce_people(fresh)) == before  # nothing was written
        # then the real thing costs what was forecast
        assert main(["sync", "--once", "--json", "--config", str(fresh.config_path)]) == 0
        done = json.loads(capsys.readouterr().out)
        # links to records this very sync creates (a deal's contacts, a contact's or a deal's company), and a
        # company for an Account whose first HubSpot person this sync creates, are not known before it creates
        # them: one call for each such kind of write the plan could not see
        unseen = sum(b not in out[part]["link_batches"] for part in ("companies", "deals")
                     for b in done[part]["link_batches"])
        unseen += done["companies"]["planned_creates"]["hubspot"] > out["companies"]["planned_creates"]["hubspot"]
        assert done["push"]["write_calls"]["hubspot"] <= forecast["hubspot"]["write_calls"] + unseen
        assert done["push"]["write_calls"]["salesforce"] <= forecast["salesforce"]["write_calls"]
        assert main(["plan", "--config", str(fresh.config_path)]) == 0
        assert "planned writes" in capsys.readouterr().out


def test_duplicates_are_listed_with_the_record_kept(world: World, first: dict[str, Any],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["duplicates", "--json", "--config", str(world.config_path)]) == 0
    rows = json.loads(capsys.readouterr().out)["duplicates"]
    assert rows and len(rows) <= first["reconcile"]["duplicates"] * 3
    assert all(r["kept"] and r["reason"] and r["system"] == "salesforce" for r in rows)
    with Session(world.engine) as session:
        roles = Counter(link.role for link in session.exec(select(Link)).all())
    assert roles["primary"] > 0 and roles["duplicate"] == len(rows) and roles["history"] > 0


def test_most_recent_uses_hubspot_property_history_not_the_record_time(world: World, first: dict[str, Any]) -> None:
    """An owner changed in Salesforce wins over HubSpot's older owner even when another pulled HubSpot
    property changed later: the record time would have said HubSpot is newer. (A change to a property
    the connector does not pull does not even count as a change: see echo suppression.)"""
    from connector.store.people import owner_directory

    world.sync()  # settle whatever earlier tests left
    owners = owner_directory(world.engine)
    both = sorted(set(map(str.casefold, owners.hubspot.values())) & set(map(str.casefold, owners.salesforce.values())))
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    h, s = next((h, s) for h, s in pairs(world) if h in hs and s in sf and s.startswith("00Q")
                and sf[s]["HubSpot_Contact_Id__c"] == h)
    current = owners.email_of("salesforce", sf_type(world.salesforce_sdk(), "Lead").get(s)["OwnerId"])
    target = next(e for e in both if e != current)
    sf_type(world.salesforce_sdk(), "Lead").update(s, {"OwnerId": owners.id_of("salesforce", target)})
    world.sandbox.clock.advance(60_000)
    client = world.hubspot_sdk()
    # a property the connector pulls but does not sync (the lawful basis): the record's time moves on
    basis = client.crm.contacts.basic_api.get_by_id(h, properties=["hs_legal_basis"]).properties.get("hs_legal_basis")
    other = next(b for b in ("Legitimate interest – prospect/lead", "Freely given consent from contact") if b != basis)
    client.crm.contacts.basic_api.update(h, SimplePublicObjectInput(properties={"hs_legal_basis": other}))
    result = world.sync()
    assert result["field_history"]["records"] >= 1
    after = client.crm.contacts.basic_api.get_by_id(h, properties=["hubspot_owner_id"]).properties
    assert owners.email_of("hubspot", after["hubspot_owner_id"]) == target
    assert main(["explain", h, "--json", "--config", str(world.config_path)]) == 0


def test_opportunities_become_deals_linked_to_their_contacts(world: World, first: dict[str, Any]) -> None:
    deals_summary = first["deals"]
    assert deals_summary["push"]["written"]["hubspot"]["deals"]["created"] > 0
    sf = world.salesforce_sdk()
    opps = {o["Id"]: o for o in sf.query_all(
        "SELECT Id, Name, Amount, StageName, HubSpot_Deal_Id__c FROM Opportunity")["records"]}
    roles = sf.query_all("SELECT OpportunityId, ContactId FROM OpportunityContactRole")["records"]
    client = world.hubspot_sdk()
    linked = [o for o in opps.values() if o["HubSpot_Deal_Id__c"]]
    assert len(linked) >= deals_summary["push"]["written"]["hubspot"]["deals"]["created"]
    assert world.mappings.opportunities is not None
    stage_map = world.mappings.opportunities.fields  # the stage transform maps names both ways
    assert any(f.name == "stage" for f in stage_map)
    hs_contacts = hubspot_contacts(world)
    for opp in linked[:25]:
        deal = client.crm.deals.basic_api.get_by_id(
            opp["HubSpot_Deal_Id__c"], properties=["dealname", "amount", "dealstage", "salesforce_opportunity_id"],
            associations=["contacts"])
        props = deal.properties
        assert props["dealname"] == opp["Name"] and props["salesforce_opportunity_id"][:15] == opp["Id"][:15]
        if opp["Amount"] is not None:
            assert float(props["amount"]) == pytest.approx(float(opp["Amount"]))
        # every contact with a role on the Opportunity, if synced to HubSpot, is associated with the deal
        contacts = {r["ContactId"][:15] for r in roles if r["OpportunityId"] == opp["Id"]}
        expected = {h for h, p in hs_contacts.items() if (p.get("salesforce_contact_id") or "")[:15] in contacts}
        associated = ({a.id for a in (deal.associations or {}).get("contacts", {}).results} if deal.associations
                      else set())
        assert expected <= associated, (opp["Id"], expected, associated)


def test_sync_without_setup_stops_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from connector.sandbox.runner import Sandbox

    with Sandbox(people=40, seed=3, rate_limits=False) as sb:
        config = tmp_path / "connector.toml"
        config.write_text(sb.connector_config(f"sqlite:///{tmp_path}/state.db"))
        assert main(["sync", "--once", "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert "salesforce_contact_id" in err and "connector setup --apply" in err
        assert not [k for k in sb.hubspot.counter.snapshot() if "batch/" in k]  # nothing was written
        assert main(["setup", "--apply", "--config", str(config), "--json"]) == 0
        capsys.readouterr()
        assert main(["sync", "--once", "--config", str(config), "--json"]) == 0
        done = json.loads(capsys.readouterr().out)
        assert done["ok"] and done["push"]["written"]
