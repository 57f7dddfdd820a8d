"""The live checks suggest a truncate from Salesforce's field lengths, and `plan`/`sync` run them before
planning any write (metadata read once per run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from connector.cli import main
from connector.reconcile import Mappings
from connector.sandbox.runner import Sandbox
from connector.setup import live_check

from .conftest import MAPPINGS_DIR, MakeSources, copy_mappings, set_up

READ_ONLY_FIELD = ('[fields.first_conversion]\nhubspot = "first_conversion_event_name"\n'
                   'salesforce = { lead = "Description" }\n')
DECLARE_IT = ('[custom_fields]\nhubspot = []', '[custom_fields]\nhubspot = ["first_conversion_event_name"]')


def test_a_field_of_limited_length_gets_a_truncate_suggestion(shipped: Sandbox, mappings: Mappings,
                                                              sources_for: MakeSources, tmp_path: Path) -> None:
    src = set_up(shipped, mappings, sources_for)
    found = live_check(src.hubspot, src.salesforce, mappings)
    assert found.problems == []
    by_key = {s.key: s for s in found.suggestions}
    first = by_key["fields.first_name.salesforce.lead"]
    assert "holds at most 40 characters" in first.message and "STRING_TOO_LONG" in first.message
    assert first.hint == ('to cut longer values instead, add "truncate" to fields.first_name.transforms and '
                          'set max_length = 40')
    names = {Path(s.source).name: s.message for s in found.suggestions if s.key == "fields.name.salesforce"}
    assert "Opportunity field 'Name'" in names["opportunities.toml"]
    assert "Account field 'Name'" in names["companies.toml"]
    # job_title already truncates to Title's length; an e-mail address or a phone cut short would be wrong
    assert not [k for k in by_key if k.startswith(("fields.job_title.", "fields.email.", "fields.phone."))]
    too_long = copy_mappings(tmp_path, "", ("max_length = 128", "max_length = 200"))
    problems = {p.key: p for p in live_check(src.hubspot, src.salesforce, too_long).problems}
    p = problems["fields.job_title.max_length"]
    assert "max_length = 200 is longer than Salesforce Lead field 'Title' holds (128 characters)" in p.message
    assert p.hint == "set max_length = 128"


def _config(sb: Sandbox, tmp_path: Path, mappings_dir: Path) -> Path:
    path = tmp_path / "connector.toml"
    text = sb.connector_config(f"sqlite:///{tmp_path}/state.db").split("[mappings]")[0]
    path.write_text(text + f'\n[mappings]\ndirectory = "{mappings_dir}"\n')
    return path


def test_validate_live_prints_the_suggestions(shipped: Sandbox, mappings: Mappings, sources_for: MakeSources,
                                              tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_up(shipped, mappings, sources_for)
    copy_mappings(tmp_path)
    config = _config(shipped, tmp_path, tmp_path)
    assert main(["validate", "--live", "--json", "--config", str(config)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["problems"] == []
    assert {"source", "key", "message", "hint"} == set(out["suggestions"][0])
    assert any(s["key"] == "fields.first_name.salesforce.lead" for s in out["suggestions"])


def test_sync_refuses_a_read_only_target_before_planning_or_writing(
        shipped: Sandbox, mappings: Mappings, sources_for: MakeSources, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Before: plain `validate` passed, `plan` showed the overwrites and `sync` parked every record."""
    set_up(shipped, mappings, sources_for)
    copy_mappings(tmp_path, READ_ONLY_FIELD, DECLARE_IT)
    config = _config(shipped, tmp_path, tmp_path)
    assert main(["validate", "--json", "--config", str(config)]) == 0  # the static checks cannot know
    capsys.readouterr()
    shipped.hubspot.counter.reset()
    shipped.salesforce.counter.reset()
    for command in (["plan"], ["sync", "--once"]):
        assert main([*command, "--json", "--config", str(config)]) == 2
        out = json.loads(capsys.readouterr().out)
        assert out["ok"] is False and out["error"] == "ConfigError"
        (p,) = out["problems"]
        assert p["key"] == "fields.first_conversion.hubspot" and "read-only" in p["message"]
    calls = {**shipped.hubspot.counter.snapshot(), **shipped.salesforce.counter.snapshot()}
    assert all(k.startswith("GET ") or "/search" in k or "/composite" in k or "token" in k for k in calls), calls
    assert not any("batch" in k or k.startswith(("PATCH", "DELETE")) for k in calls)


def test_plan_reads_each_objects_metadata_once(shipped: Sandbox, mappings: Mappings, sources_for: MakeSources,
                                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_up(shipped, mappings, sources_for)
    copy_mappings(tmp_path)
    config = _config(shipped, tmp_path, tmp_path)
    shipped.hubspot.counter.reset()
    shipped.salesforce.counter.reset()
    assert main(["plan", "--pull", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"]
    hubspot, salesforce = shipped.hubspot.counter.snapshot(), shipped.salesforce.counter.snapshot()
    assert {k: v for k, v in hubspot.items() if "/properties/" in k} == {
        "GET /crm/v3/properties/contacts": 1, "GET /crm/v3/properties/deals": 1}
    describes = {k.split("/sobjects/")[1]: v for k, v in salesforce.items() if k.endswith("/describe")}
    assert describes == {"Lead/describe": 1, "Contact/describe": 1, "Opportunity/describe": 1}


def _metadata_calls(sb: Sandbox) -> int:
    calls = {**sb.hubspot.counter.snapshot(), **sb.salesforce.counter.snapshot()}
    return sum(n for k, n in calls.items() if "/properties/" in k or k.endswith("/describe"))


def test_mappings_that_passed_are_trusted_for_metadata_check_minutes(
        shipped: Sandbox, mappings: Mappings, sources_for: MakeSources, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """With the shipped [sync] metadata_check_minutes (60), a run after one that passed the live check reads
    no metadata; a changed mapping file, a run a system failed and `0` make the next run read it again."""
    from connector.store import open_engine
    from connector.sync.checks import forget_live_fit

    set_up(shipped, mappings, sources_for)
    copy_mappings(tmp_path)
    config = _config(shipped, tmp_path, tmp_path)

    def plan() -> int:
        shipped.hubspot.counter.reset()
        shipped.salesforce.counter.reset()
        assert main(["plan", "--json", "--config", str(config)]) == 0
        assert json.loads(capsys.readouterr().out)["ok"]
        return _metadata_calls(shipped)

    assert plan() == 5  # contacts and deals properties, Lead, Contact and Opportunity describes
    assert plan() == 0  # passed a moment ago, same files
    copy_mappings(tmp_path, "\n# a comment is a change too\n")
    assert plan() == 5 and plan() == 0
    shutil.copy(MAPPINGS_DIR / "scoring.toml", tmp_path / "scoring.toml")  # its outputs are checked too
    assert plan() == 5 and plan() == 0
    engine = open_engine(f"sqlite:///{tmp_path}/state.db")
    forget_live_fit(engine)  # what a run a system refused does
    engine.dispose()
    assert plan() == 5
    config.write_text(config.read_text().replace("[mappings]", "[sync]\nmetadata_check_minutes = 0\n\n[mappings]"))
    assert plan() == 5 and plan() == 5
    # and a mapping into a read-only target is still refused on the run right after one that passed
    copy_mappings(tmp_path, READ_ONLY_FIELD, DECLARE_IT)
    config.write_text(config.read_text().replace("metadata_check_minutes = 0", "metadata_check_minutes = 60"))
    assert main(["plan", "--json", "--config", str(config)]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "ConfigError"
