"""A record parked for a write the mapping then stops planning is resolved as "no longer needed" by the next
sync (before: it stayed parked through `retry` and every sync, since only a successful write cleared it)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput

from connector.cli import main
from connector.reconcile import load_mappings

from .conftest import MAPPINGS, World, make_world, sf_type
from .test_sync_e2e import hubspot_contacts, pairs, salesforce_people


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("unplanned"), people=120, seed=4)


def test_a_parked_write_the_mapping_no_longer_plans_is_resolved(world: World, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    world.sync()
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    h, s = next((h, s) for h, s in pairs(world) if h in hs and s in sf and s.startswith("00Q"))
    sf_type(world.salesforce_sdk(), "Lead").update(s, {"City": None})
    world.hubspot_sdk().crm.contacts.basic_api.update(h, SimplePublicObjectInput(properties={
        "city": "Llanfair" + "pwllgwyngyll" * 4}))  # longer than Lead.City holds: refused and parked
    assert world.sync()["push"]["rejected"] == 1
    assert main(["status", "--json", "--config", str(world.config_path)]) == 0
    (parked,) = json.loads(capsys.readouterr().out)["parked"]
    assert (parked["record_id"], parked["field"], parked["resolution"]) == (s, "City", None)
    # RevOps decide Salesforce's city is not HubSpot's business: city only flows to HubSpot now
    shutil.copy(MAPPINGS / "opportunities.toml", tmp_path / "opportunities.toml")
    text = (MAPPINGS / "contacts.toml").read_text(encoding="utf-8")
    old = 'salesforce = { lead = "City", contact = "MailingCity" }\nrule = "prefer_salesforce_unless_blank"'
    assert old in text
    (tmp_path / "contacts.toml").write_text(text.replace(old, old + '\ndirection = "to_hubspot"'), encoding="utf-8")
    fixed = dataclasses.replace(world, mappings=load_mappings(tmp_path))
    assert main(["retry", "--config", str(world.config_path)]) == 0  # what an operator tries first
    capsys.readouterr()
    after = fixed.sync()
    assert after["push"]["rejected"] == 0 and after["parked"] == 0
    assert main(["status", "--all", "--json", "--config", str(world.config_path)]) == 0
    (resolved,) = [p for p in json.loads(capsys.readouterr().out)["parked"] if p["record_id"] == s]
    assert resolved["resolution"] == "no longer needed" and resolved["resolved_at"] is not None
    assert sf_type(world.salesforce_sdk(), "Lead").get(s)["City"] is None  # nothing was written in its place
