"""Issue #19, "Undo", end to end on the sandbox: a bad mapping rule (lead_source overwriting the Lead
Source sales set in Salesforce with HubSpot's) is synced, then that run is reverted. Both systems must
hold the values from before it, field by field, with nothing else touched; a value someone edited since
is left alone; and a sync with the fixed mapping writes nothing over the restored values."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from connector.cli import main
from connector.reconcile import load_mappings
from connector.store.models import WriteJournal
from connector.sync import CycleOptions, run_cycle
from connector.sync.revert import run_revert

from .conftest import MAPPINGS, SAFETY_LAG_MS, World, hubspot_contacts, make_world, sf_type

REVERTED = {("salesforce", "Lead", "LeadSource"), ("salesforce", "Contact", "LeadSource")}
EDIT = "Phone Inquiry"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tmp_path_factory.mktemp("revert"), people=150, seed=23)


#: lead_source's rule says always_hubspot instead of fill_blank_only: every Lead Source sales set in
#: Salesforce is overwritten with HubSpot's original source
ALWAYS_HUBSPOT = ('direction = "to_salesforce"\nrule = "fill_blank_only"',
                  'direction = "to_salesforce"\nrule = "always_hubspot"')
#: website without its url transform: HubSpot's full addresses are overwritten with Salesforce's shorter
#: forms of the same site ("https://www.x.com" with "www.x.com")
NO_URL = ('transforms = ["trim", "url"]', 'transforms = ["trim"]')


def bad_mappings(tmp: Path, change: tuple[str, str] = ALWAYS_HUBSPOT) -> Path:
    """A copy of the shipped mappings with one mistake in contacts.toml."""
    bad = tmp / "bad-mappings"
    shutil.copytree(MAPPINGS, bad)
    contacts = bad / "contacts.toml"
    text = contacts.read_text()
    assert text.count(change[0]) == 1
    contacts.write_text(text.replace(*change))
    return bad


def snapshot(world: World) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every mapped field (and cross-reference) of every person record in both systems, read through the
    official SDKs: (system, object, id) -> {field: value}."""
    contacts = world.mappings.contacts
    ident = contacts.identity
    hs_props = sorted({f.hubspot for f in contacts.fields if f.hubspot}
                      | {ident.hubspot_lead_id_property, ident.hubspot_contact_id_property})
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rid, props in hubspot_contacts(world.sandbox, hs_props).items():
        out[("hubspot", "contacts", rid)] = {p: props.get(p) for p in hs_props}
    sf = world.salesforce_sdk()
    for obj in ("Lead", "Contact"):
        names = sorted({f.salesforce[obj] for f in contacts.fields if obj in f.salesforce}
                       | {ident.salesforce_hubspot_id_field})
        for row in sf.query_all(f"SELECT Id, {', '.join(names)} FROM {obj}")["records"]:
            out[("salesforce", obj, row["Id"])] = {n: row.get(n) for n in names}
    return out


def journal(world: World, run_id: int) -> list[WriteJournal]:
    with Session(world.engine) as s:
        return list(s.exec(select(WriteJournal).where(WriteJournal.run_id == run_id)).all())


def options(world: World, **kw: Any) -> CycleOptions:
    return CycleOptions(world.mappings.contacts, command="revert", clock=world.sandbox.clock.now_ms,
                        safety_lag_ms=SAFETY_LAG_MS, lookback_ms=0, deal_mapping=world.mappings.opportunities,
                        scoring=world.mappings.scoring, **kw)


def sync_with(world: World, mappings: Path) -> int:
    """One sync with the mapping files in `mappings`; its run id."""
    bad = load_mappings(mappings)
    world.sandbox.clock.advance(SAFETY_LAG_MS + 1_000)
    systems = world.systems()
    try:
        return int(run_cycle(world.engine, systems, bad.contacts, clock=world.sandbox.clock.now_ms,
                             safety_lag_ms=SAFETY_LAG_MS, lookback_ms=0, deal_mapping=bad.opportunities,
                             scoring=bad.scoring)["run_id"])
    finally:
        systems.close()


def last_run_writing(world: World, field: str) -> int | None:
    with Session(world.engine) as s:
        return s.exec(select(WriteJournal.run_id).where(WriteJournal.field == field).order_by(
            col(WriteJournal.id).desc())).first()


def test_a_bad_rule_synced_then_reverted(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world.sync()
    settled = world.sync()  # converged: the next one writes nothing
    assert not settled["push"]["written"], settled["push"]
    before = snapshot(world)

    # the bad rule is synced
    bad_id = sync_with(world, bad_mappings(tmp_path))
    written = journal(world, bad_id)
    # a mapping change makes every person's score and status current again (the scoring pass), and may
    # create someone who became an MQL since: a revert of lead_source must leave all of that as it is
    titles = [r for r in written if (r.system, r.object_type, r.field) in REVERTED and not r.created]
    assert len(titles) >= 10
    assert all(r.old_value not in (None, "", r.new_value) for r in titles)
    mangled = snapshot(world)
    journaled = {(r.system, r.object_type, r.record_id, r.field) for r in written}
    assert {(*k, f) for k, v in mangled.items() for f in v if before.get(k, {}).get(f, v[f]) != v[f]} <= journaled

    # a salesperson sets one of the overwritten Lead Sources again before the revert
    edited = next(r for r in titles if r.new_value != EDIT)
    edited_key = ("salesforce", edited.object_type, edited.record_id)
    sf_type(world.salesforce_sdk(), edited.object_type).update(edited.record_id, {"LeadSource": EDIT})
    mangled[edited_key] = {**mangled[edited_key], "LeadSource": EDIT}

    # a dry run first: the plan, and nothing written
    world.sandbox.clock.advance(SAFETY_LAG_MS + 1_000)
    systems = world.systems()
    try:
        dry = run_revert(world.engine, systems, options(world), bad_id, fields=["lead_source"], dry_run=True)
    finally:
        systems.close()
    assert dry.push is None and dry.plan.restore == len(titles) - 1
    assert dry.plan.skipped("changed_since") == 1
    assert snapshot(world) == mangled

    # the same dry run through the command line, as text: the plan per field, person ids, no values
    world.sandbox.clock.advance(SAFETY_LAG_MS + 1_000)
    assert main(["revert", str(bad_id), "--field", "lead_source", "--dry-run", "--config", str(world.config_path)]) == 0
    text = capsys.readouterr().out
    assert f"plan to revert run {bad_id}: {len(titles) - 1:,} values to restore" in text
    assert "1 changed since and left alone" in text and edited.person_id in text
    assert EDIT not in text and "nothing was written" in text
    assert snapshot(world) == mangled

    # the revert, through the command line (the plan is printed first, then the writes)
    world.sandbox.clock.advance(SAFETY_LAG_MS + 1_000)
    code = main(["revert", str(bad_id), "--field", "lead_source", "--config", str(world.config_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["reverted_run"] == bad_id and not out["dry_run"]
    assert out["restore"] == len(titles) - 1 and out["left_alone"]["changed_since"] == 1
    assert {(f["system"], f["object_type"], f["field"]) for f in out["fields"]} <= REVERTED
    pushed = out["push"]["written"]
    assert sum(n["fields_written"] for o in pushed.values() for n in o.values()) == len(titles) - 1
    assert out["push"]["rejected"] == 0

    # the values the bad run replaced are back as they were before it (but for the edit), and nothing else
    # in either system changed: every other field, and every record it created, is as the bad run left it
    expected = {k: dict(v) for k, v in mangled.items()}
    for r in titles:
        key = (r.system, r.object_type, r.record_id)
        if key != edited_key:
            expected[key][r.field] = before[key][r.field]
    assert snapshot(world) == expected

    # the fixed mapping (the shipped one) writes nothing over the restored values (nor over the edit)
    fixed = world.sync()
    assert [r for r in journal(world, fixed["run_id"]) if r.field in ("LeadSource", "hs_analytics_source")] == []
    assert snapshot(world) == expected  # its writes (scores, statuses) are not mapped fields
    assert not world.sync()["push"]["written"]  # and then nothing at all


def test_hubspot_values_reverted_by_native_name(world: World, tmp_path: Path) -> None:
    """The other direction: HubSpot's own values overwritten, reverted with `--field website` (HubSpot's
    name for it), and the shipped mapping then agrees with every restored address."""
    world.sync()
    assert not world.sync()["push"]["written"]
    before = snapshot(world)
    bad_id = sync_with(world, bad_mappings(tmp_path, NO_URL))
    sites = [r for r in journal(world, bad_id) if r.field == "website" and not r.created]
    assert len(sites) >= 20 and all(str(r.old_value).endswith(str(r.new_value)) for r in sites)
    mangled = snapshot(world)
    assert all(mangled[("hubspot", "contacts", r.record_id)]["website"] == r.new_value for r in sites)

    world.sandbox.clock.advance(SAFETY_LAG_MS + 1_000)
    systems = world.systems()
    try:
        result = run_revert(world.engine, systems, options(world), bad_id, fields=["website"])
    finally:
        systems.close()
    assert result.plan.restore == len(sites) and result.push is not None
    assert result.push.to_json()["written"] == {"hubspot": {"contacts": {
        "created": 0, "updated": len(sites), "fields_written": len(sites), "rejected": 0}}}
    expected = {k: dict(v) for k, v in mangled.items()}
    for r in sites:
        expected[("hubspot", "contacts", r.record_id)]["website"] = before[("hubspot", "contacts", r.record_id)][
            "website"]
    assert snapshot(world) == expected
    # the revert's own writes come back as the connector's echo, and the shipped mapping agrees with them
    fixed = world.sync()
    assert [r for r in journal(world, fixed["run_id"]) if r.field in ("website", "Website")] == []
    assert not world.sync()["push"]["written"]


def test_unknown_run_and_unwritten_field_exit_2(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["revert", "999999", "--config", str(world.config_path), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and "999999" in out["message"]
    if last_run_writing(world, "LeadSource") is None:  # run alone: the first sync creates Leads with one
        world.sync()
    run = last_run_writing(world, "LeadSource")
    assert main(["revert", str(run), "--field", "no_such_field", "--config", str(world.config_path)]) == 2
    err = capsys.readouterr().err
    assert "no_such_field" in err and "--field" in err and "LeadSource" in err


def test_field_names_pick_native_fields_in_both_systems() -> None:
    from connector.store.journal import JournaledRun
    from connector.sync.revert import RevertRefused, chosen_fields

    contacts = load_mappings(MAPPINGS).contacts
    written = {("salesforce", "Lead", "LeadSource"): 3, ("hubspot", "contacts", "jobtitle"): 2,
               ("salesforce", "Contact", "Title"): 1}
    run = JournaledRun(9, "sync", 1, "ok", written, {("salesforce", "Lead", "Title"): 4})
    assert chosen_fields(run, ["lead_source"], contacts) == {("salesforce", "Lead", "LeadSource")}
    assert chosen_fields(run, ["job_title"], contacts) == {
        ("hubspot", "contacts", "jobtitle"), ("salesforce", "Contact", "Title"), ("salesforce", "Lead", "Title")}
    assert chosen_fields(run, ["title", "leadsource"], contacts) == {  # a native name, in any case
        ("salesforce", "Contact", "Title"), ("salesforce", "Lead", "Title"), ("salesforce", "Lead", "LeadSource")}
    with pytest.raises(RevertRefused) as refused:
        chosen_fields(run, ["phone"], contacts)
    message = str(refused.value)
    assert "'phone'" in message and "job_title" in message and "LeadSource" in message and "--field" in message
    assert refused.value.exit_code == 2
