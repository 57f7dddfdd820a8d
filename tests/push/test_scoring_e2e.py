"""Scoring end to end on the sandbox, with the shipped mappings and scoring.toml (issue #16):

- after a sync, every person in both systems has the same score, grade and status in both, equal to the store's;
- a second sync writes nothing;
- a Lead status set in Salesforce moves the status on the next cycle, and it shows in HubSpot;
- a HubSpot form submission raises the score, and the new value reaches Salesforce.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from connector.score.signals import to_ms
from connector.store.models import PersonScore, StatusTransition
from connector.store.scores import score_of

from .conftest import World, hubspot_contacts, make_world, sf_type

HS = ["connector_score", "connector_grade", "connector_status", "connector_mql_date", "salesforce_lead_id",
      "salesforce_contact_id", "lifecyclestage"]
SF = "Id, Connector_Score__c, Connector_Grade__c, Connector_Status__c, Connector_MQL_Date__c, Status"


def sync(world: World) -> dict[str, Any]:
    return world.sync(scoring=world.mappings.scoring)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """300 seeded people, set up and synced twice (the second for what the first left to the next run)."""
    for world in make_world(tmp_path_factory.mktemp("scoring"), people=300, seed=23):
        sync(world)
        sync(world)
        yield world


def control(world: World, system: str) -> httpx.Client:
    info = world.sandbox.info()
    return httpx.Client(base_url=info.hubspot_base_url if system == "hubspot" else info.salesforce_instance_url,
                        trust_env=False, verify=ssl.create_default_context(cafile=info.ca_file))


def salesforce_rows(world: World) -> dict[str, dict[str, Any]]:
    sf = world.salesforce_sdk()
    rows = sf.query_all(f"SELECT {SF} FROM Lead WHERE IsConverted = false")["records"]
    rows += sf.query_all(f"SELECT {SF.replace(', Status', '')} FROM Contact")["records"]
    return {r["Id"]: r for r in rows}


def pairs(world: World) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(HubSpot id, HubSpot contact, its live Salesforce twin) for every person in both systems."""
    sf = salesforce_rows(world)
    out = []
    for hid, c in hubspot_contacts(world.sandbox, HS).items():
        twin = sf.get(c.get("salesforce_contact_id") or "") or sf.get(c.get("salesforce_lead_id") or "")
        if twin is not None:
            out.append((hid, c, twin))
    return out


def scores(world: World) -> dict[str, PersonScore]:
    with Session(world.engine) as session:
        return {s.person_id: s for s in session.exec(select(PersonScore)).all()}


def test_both_systems_show_one_score_grade_and_status_and_a_second_sync_writes_nothing(world: World) -> None:
    both = pairs(world)
    assert len(both) > 100
    for _, c, twin in both:
        assert c["connector_score"] not in (None, "")
        assert float(c["connector_score"]) == twin["Connector_Score__c"]
        assert c["connector_grade"] == twin["Connector_Grade__c"]
        assert c["connector_status"] == twin["Connector_Status__c"]
    stored = {(s.score, s.grade, s.status) for s in scores(world).values()}
    shown = {(int(float(c["connector_score"])), c["connector_grade"], c["connector_status"]) for _, c, _ in both}
    assert shown <= stored
    statuses = {c["connector_status"] for _, c, _ in both}
    assert {"Lead", "Customer"} <= statuses and len(statuses) >= 4
    third = sync(world)
    assert third["scores"]["values_to_write"] == {}
    assert third["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}


def test_a_lead_status_set_in_salesforce_moves_the_status_and_hubspot_shows_it(world: World) -> None:
    sf = salesforce_rows(world)
    hid, contact, lead = next((h, c, t) for h, c, t in pairs(world) if t["Id"].startswith("00Q")
                              and t["Connector_Status__c"] in ("Lead", "MQL", "SAL"))
    with control(world, "salesforce") as ui:
        r = ui.patch(f"/_sandbox/salesforce/records/{lead['Id']}",
                     json={"fields": {"Status": "Closed - Not Converted"}})
        assert r.status_code == 200, r.text
    sync(world)
    after = salesforce_rows(world)[lead["Id"]]
    assert after["Connector_Status__c"] == "Disqualified" and sf[lead["Id"]]["Status"] != "Closed - Not Converted"
    shown = hubspot_contacts(world.sandbox, HS)[hid]
    assert shown["connector_status"] == "Disqualified"
    with Session(world.engine) as session:
        moves = session.exec(select(StatusTransition).where(StatusTransition.to_status == "Disqualified",
                                                            StatusTransition.source_id == lead["Id"])).all()
    assert len(moves) == 1 and moves[0].system == "salesforce"
    assert moves[0].reason == "Lead status Closed - Not Converted"
    assert contact["connector_status"] != "Disqualified"


def test_a_hubspot_form_submission_raises_the_score_and_salesforce_gets_it(world: World) -> None:
    hid, contact, twin = next((h, c, t) for h, c, t in pairs(world)
                              if c["connector_status"] == "Lead" and float(c["connector_score"]) < 20)
    now = world.sandbox.clock.now_ms()
    events = [{"id": f"form-e2e-{i}", "kind": "form_submission", "contact_id": hid, "email": "",
               "occurred_at": now - 1000 * (i + 1),
               "properties": {"form_id": "e2e", "form_title": "Demo request",
                              "page_url": "https://www.sellwell.example/demo"}} for i in range(2)]
    with control(world, "hubspot") as ui:
        r = ui.post("/_sandbox/hubspot/events", json={"events": events})
        assert r.status_code == 200, r.text
    sync(world)
    after = salesforce_rows(world)[twin["Id"]]
    assert after["Connector_Score__c"] >= float(contact["connector_score"]) + 40  # two forms, one demo request
    assert float(hubspot_contacts(world.sandbox, HS)[hid]["connector_score"]) == after["Connector_Score__c"]
    person = next(pid for pid, s in scores(world).items() if s.score == int(after["Connector_Score__c"])
                  and any(b[0] == "Demo request" for b in s.breakdown))
    explained = score_of(world.engine, person)
    assert explained is not None and "2 form submissions" in explained["reason"]
    assert any(t["to"] == "MQL" for t in explained["transitions"]) == (explained["score"] >= 50
                                                                        and explained["grade"] != "D")


def test_a_new_mql_is_handed_to_salesforce_in_the_same_sync(world: World) -> None:
    """Leads are created from MQL on (contacts.toml's inclusion rule): the sync that makes a HubSpot-only person
    an MQL creates their Lead, with its score and status, instead of leaving it to the next cycle."""
    lawful = set(world.mappings.contacts.privacy.allowed_bases)
    contacts = hubspot_contacts(world.sandbox, [*HS, "hs_legal_basis", "email"])
    hid, before = next((h, c) for h, c in sorted(contacts.items(), key=lambda kv: int(kv[0]))
                       if not c.get("salesforce_lead_id") and not c.get("salesforce_contact_id") and c.get("email")
                       and c.get("hs_legal_basis") in lawful and c.get("connector_status") == "Lead"
                       and c.get("connector_grade") in ("A", "B", "C"))
    now = world.sandbox.clock.now_ms()
    events = [{"id": f"handoff-{i}", "kind": "form_submission", "contact_id": hid, "email": "",
               "occurred_at": now - 1000 * (i + 1),
               "properties": {"form_id": "handoff", "form_title": "Demo request",
                              "page_url": "https://www.sellwell.example/demo"}} for i in range(3)]
    with control(world, "hubspot") as ui:
        assert ui.post("/_sandbox/hubspot/events", json={"events": events}).status_code == 200
    done = sync(world)
    after = hubspot_contacts(world.sandbox, HS)[hid]
    assert before["lifecyclestage"] != after["lifecyclestage"] == "marketingqualifiedlead"
    assert after["connector_status"] == "MQL" and after["salesforce_lead_id"], after
    lead = salesforce_rows(world)[after["salesforce_lead_id"]]
    assert lead["Connector_Status__c"] == "MQL" and lead["Connector_Score__c"] == float(after["connector_score"])
    assert done["push"]["written"]["salesforce"]["Lead"]["created"] >= 1
    assert sync(world)["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}  # nothing left for the next


def test_the_sla_clock_shows_in_both_systems_a_call_meets_it_and_silence_breaches_it(world: World) -> None:
    """Issue #17's handoff clock on the shipped [sla] (8 working hours, New York): a new MQL is On time in both
    systems; a call logged in Salesforce marks it Met; with no touch, a week later it is Breached in both."""
    lawful = set(world.mappings.contacts.privacy.allowed_bases)
    contacts = hubspot_contacts(world.sandbox, [*HS, "hs_legal_basis", "email"])
    quiet, called = [h for h, c in sorted(contacts.items(), key=lambda kv: -int(kv[0]))
                     if not c.get("salesforce_lead_id") and not c.get("salesforce_contact_id") and c.get("email")
                     and c.get("hs_legal_basis") in lawful and c.get("connector_status") == "Lead"
                     and c.get("connector_grade") in ("A", "B", "C")][:2]
    now = world.sandbox.clock.now_ms()
    events = [{"id": f"sla-{hid}-{i}", "kind": "form_submission", "contact_id": hid, "email": "",
               "occurred_at": now - 1000 * (i + 1), "properties": {"form_id": "sla", "form_title": "Demo request",
                                                                  "page_url": "https://www.sellwell.example/demo"}}
              for hid in (quiet, called) for i in range(3)]
    with control(world, "hubspot") as ui:
        assert ui.post("/_sandbox/hubspot/events", json={"events": events}).status_code == 200
    sync(world)
    shown = hubspot_contacts(world.sandbox, [*HS, "connector_sla_state", "connector_sla_due",
                                             "connector_touches_before_mql"])
    def lead_of(hid: str) -> dict[str, Any]:  # a fresh session: the clock moves by days below
        soql = ("SELECT Id, Connector_SLA_State__c, Connector_SLA_Due__c, Connector_Touches_Before_MQL__c "
                f"FROM Lead WHERE Id = '{shown[hid]['salesforce_lead_id']}'")
        return world.salesforce_sdk().query(soql)["records"][0]

    for hid in (quiet, called):
        assert shown[hid]["connector_status"] == "MQL" and shown[hid]["connector_sla_state"] == "On time"
        lead = lead_of(hid)
        assert lead["Connector_SLA_State__c"] == "On time" and lead["Connector_Touches_Before_MQL__c"] >= 3
        due = to_ms(lead["Connector_SLA_Due__c"])
        assert due is not None and due == to_ms(shown[hid]["connector_sla_due"]) and due > now
    call = {"WhoId": shown[called]["salesforce_lead_id"], "Subject": "Intro call", "TaskSubtype": "Call",
            "Type": "Call", "Status": "Completed"}
    sf_type(world.salesforce_sdk(), "Task").create(call)
    sync(world)
    assert hubspot_contacts(world.sandbox, [*HS, "connector_sla_state"])[called]["connector_sla_state"] == "Met"
    assert lead_of(called)["Connector_SLA_State__c"] == "Met"
    world.sandbox.clock.advance(7 * 86_400_000)  # a week with no touch: at least five working days
    sync(world)
    after = hubspot_contacts(world.sandbox, [*HS, "connector_sla_state"])
    assert after[quiet]["connector_sla_state"] == "Breached" and lead_of(quiet)["Connector_SLA_State__c"] == "Breached"
    assert after[called]["connector_sla_state"] == "Met"
