"""`connector plan` after a mapping file changed (issue 19): "since the last sync", each changed field with
what changed in it and how many values the plan would write because of it; nothing when the files are as
the last sync ran them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import main

from ..push.conftest import MAPPINGS, World, make_world
from .conftest import run


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("since"), people=60, seed=23)


def test_plan_says_which_changed_rules_would_write_what(world: World, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--once", "--config", str(world.config_path), "--json"]) == 0
    _, unchanged = run(capsys, "plan", "--config", str(world.config_path))
    assert "since_last_sync" not in unchanged["plan"]
    # the people left out of the other system, by reason, as `explain` gives it for one of them
    left = unchanged["plan"]["left_out"]
    assert left.get("salesforce") and all(n > 0 for n in left["salesforce"].values())
    assert any(reason.startswith("lifecyclestage ") for reason in left["salesforce"])
    edited = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, edited)
    contacts = edited / "contacts.toml"
    # RevOps decide HubSpot's original source should overwrite the Lead Source sales set, not only fill it
    before = 'direction = "to_salesforce"\nrule = "fill_blank_only"'
    contacts.write_text(contacts.read_text().replace(before, before.replace("fill_blank_only",
                                                                            "prefer_hubspot_unless_blank"), 1))
    config = tmp_path / "c.toml"
    config.write_text(world.config_path.read_text().replace(str(MAPPINGS), str(edited)))
    _, planned = run(capsys, "plan", "--config", str(config))
    since = planned["plan"]["since_last_sync"]
    assert [(f["file"], f["field"], f["changes"]) for f in since["fields"]] == [
        ("contacts.toml", "lead_source", ["rule: fill_blank_only -> prefer_hubspot_unless_blank"])]
    sources = sum(n for key, per in planned["plan"]["fields"].items() for name, n in per.items()
                  if name == "LeadSource")
    assert since["fields"][0]["values_planned"] == sources > 0
    capsys.readouterr()
    assert main(["plan", "--config", str(config)]) == 0
    assert (f"contacts.toml fields.lead_source: rule: fill_blank_only -> prefer_hubspot_unless_blank: {sources} "
            "values would be written") in \
        capsys.readouterr().out


def test_the_people_left_out_are_counted_as_explain_judges_each(world: World) -> None:
    """A differential check: `left_out` over the store equals `explain`'s verdict person by person."""
    from collections import Counter

    from sqlmodel import Session, col, select

    from connector.store.explain import creation_and_reconciliation, left_out
    from connector.store.models import Link

    world.sync()  # (alone, this test syncs the world itself)
    with Session(world.engine) as s:
        people = sorted(set(s.exec(select(Link.person_id).where(col(Link.role) == "primary")).all()))
    expected: dict[str, Counter[str]] = {}
    for pid in people:
        for n in creation_and_reconciliation(world.engine, pid, world.mappings.contacts)["not_created"]:
            if not n["will_create"]:
                expected.setdefault(n["system"], Counter())[n["reason"]] += 1
    assert expected and left_out(world.engine, world.mappings.contacts) == {
        system: dict(c.most_common()) for system, c in sorted(expected.items())}
