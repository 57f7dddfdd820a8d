"""`connector issues` (issue 19): a value the connector cannot carry is listed by field, person and value with
its fix, filtered by field or kind, written to CSV, counted by `status`, shown by `explain`; once it is
fixed at its source the next sync takes it off the list."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubspot.crm.contacts import SimplePublicObjectInput

from connector.cli import main

from ..push.conftest import World, make_world
from .conftest import run


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("issues"), people=60, seed=19)


def test_a_value_that_cannot_be_carried_is_listed_with_its_fix_until_it_is_fixed(
        world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world.sync()
    contact = world.hubspot_sdk().crm.contacts.basic_api.get_page(limit=1).results[0].id
    world.hubspot_sdk().crm.contacts.basic_api.update(contact, SimplePublicObjectInput(
        properties={"phone": "call me on my mobile"}))
    world.sync()
    config = str(world.config_path)
    code, listed = run(capsys, "issues", "--config", config)
    assert code == 0 and listed["count"] == len(listed["issues"]) >= 1
    mine = [i for i in listed["issues"] if i["record_id"] == contact]
    assert [(i["system"], i["field"], i["unified_field"], i["kind"], i["value"]) for i in mine] == [
        ("hubspot", "phone", "phone", "phone", "call me on my mobile")]
    assert mine[0]["reason"].startswith("not a possible phone number") and "call me" not in mine[0]["reason"]
    assert f"correct the number in the hubspot record {contact}" in mine[0]["fix"]
    assert all(i["fix"] for i in listed["issues"])
    _, phones = run(capsys, "issues", "--field", "phone", "--config", config)
    _, by_kind = run(capsys, "issues", "--kind", "phone", "--csv", str(tmp_path), "--config", config)
    assert phones["issues"] and all(i["unified_field"] == "phone" for i in phones["issues"])
    assert all(i["kind"] == "phone" for i in by_kind["issues"]) and mine[0] in by_kind["issues"]
    with open(by_kind["csv"], newline="", encoding="utf-8") as fh:
        assert [r["record_id"] for r in csv.DictReader(fh)] == [i["record_id"] for i in by_kind["issues"]]
    _, status = run(capsys, "status", "--config", config)
    assert status["value_issues"] == listed["count"]
    _, explained = run(capsys, "explain", contact, "--config", config)
    assert [i["value"] for i in explained["issues"]] == ["call me on my mobile"]
    capsys.readouterr()
    assert main(["issues", "--config", config]) == 0
    assert "call me on my mobile" in capsys.readouterr().out

    world.hubspot_sdk().crm.contacts.basic_api.update(contact, SimplePublicObjectInput(
        properties={"phone": "+1 415 555 0134"}))
    world.sync()
    _, after = run(capsys, "issues", "--config", config)
    assert not [i for i in after["issues"] if i["record_id"] == contact]
    assert after["count"] == listed["count"] - 1
