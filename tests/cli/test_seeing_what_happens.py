"""Seeing what happens (issue #13): stage logs at INFO, retries at WARNING, progress on a terminal only,
whole tables on a pipe, plan's per-field counts, words that agree with their numbers, and usage errors
said as such."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import main
from connector.progress import progress
from connector.sandbox.runner import Sandbox
from connector.wording import at, count

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("seeing")
    with Sandbox(people=150, seed=21, rate_limits=False) as sb:
        path = tmp / "c.toml"
        path.write_text(sb.connector_config(f"sqlite:///{tmp}/s.db") + '\n[logging]\nlevel = "DEBUG"\n')
        assert main(["setup", "--apply", "--config", str(path), "--json"]) == 0
        yield path


def test_a_sync_logs_each_stage_and_no_personal_data(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["sync", "--once", "--config", str(config), "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    lines = [json.loads(line) for line in err.splitlines()]  # not a terminal: JSON lines (format "auto")
    stages = [r["message"] for r in lines if r["level"] == "INFO" and r["logger"] == "connector.sync"]
    for start in ("sync run", "pull: reading", "pull: done", "reconcile: unifying", "reconcile: done",
                  "push: writing", "push: done"):
        assert any(s.startswith(start) for s in stages), (start, stages)
    assert stages[-1] == f"sync run {summary['run_id']} ok in {summary['seconds']:.1f} s"
    pulled = summary["pull"]["streams"]
    assert f"{sum(s['new'] for s in pulled.values())} new" in next(s for s in stages if s.startswith("pull: done"))
    assert not EMAIL.search(err), EMAIL.search(err)


def test_retries_are_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(people=20, seed=2, rate_limits=False, faults="503@/crm/v3/objects/contacts:x1") as sb:
        path = tmp_path / "c.toml"
        path.write_text(sb.connector_config(f"sqlite:///{tmp_path}/s.db"))
        assert main(["pull", "--config", str(path), "--json"]) == 0
    # (an earlier test's sandbox threads may report "--- Logging error ---" for a closed capture)
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(r["level"] == "WARNING" and r["logger"] == "connector.systems.http"
               and re.search(r"^hubspot .*retry 1 of", r["message"]) for r in records), records


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_the_stage_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # earlier tests' handlers write to closed captures
    log = logging.getLogger("connector.sync")
    log.setLevel(logging.INFO)
    terminal, pipe = _Terminal(), io.StringIO()
    with progress(True, stream=terminal):
        log.info("pull: done in 1.0 s: 3 streams, 7 new")
    assert "pull: done in 1.0 s: 3 streams, 7 new" in terminal.getvalue()
    with progress(True, stream=pipe):
        log.info("pull: done in 1.0 s: 3 streams, 7 new")
    quiet = _Terminal()
    with progress(False, stream=quiet):  # --json
        log.info("pull: done")
    assert pipe.getvalue() == "" and quiet.getvalue() == ""


def test_plan_text_is_whole_on_a_pipe_with_values_per_field(config: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    with Sandbox(people=80, seed=4, rate_limits=False) as sb:
        path = config.parent / "fresh.toml"
        path.write_text(sb.connector_config(f"sqlite:///{config.parent}/fresh.db"))
        assert main(["setup", "--apply", "--config", str(path), "--json"]) == 0
        capsys.readouterr()
        assert main(["plan", "--pull", "--config", str(path)]) == 0
        text = capsys.readouterr().out
        assert main(["plan", "--field", "Email", "--config", str(path)]) == 0
        email_only = capsys.readouterr().out
        assert main(["plan", "--field", "hs_lead_status", "--config", str(path), "--json"]) == 0
        lead_status = json.loads(capsys.readouterr().out)["plan"]
    assert "…" not in text and "values planned per field" in text
    assert "the same change planned for several records" in text
    # one field only; the records to be created are named by their address on the terminal
    assert re.search(r"salesforce\W+Lead new: \S+@\S+\W+Email", email_only), email_only
    assert "hs_lead_status" not in email_only and "jobtitle" not in email_only
    assert lead_status["field"] == "hs_lead_status" and lead_status["sample"]
    assert {r["field"] for r in lead_status["sample"]} == {"hs_lead_status"}
    assert all("new_record_email" not in r for r in lead_status["sample"])
    assert set(lead_status["fields"]) == {"hubspot:contacts"} and list(lead_status["fields"]["hubspot:contacts"]) == [
        "hs_lead_status"]
    assert re.search(r"hubspot\W+contacts\W+hs_lead_status\W+\d", text), text  # whole names, not 'hs_lead_s…'
    assert "sample of field changes" in text and "write call" in text


def test_sync_without_once_is_a_usage_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "Usage: connector sync" in err and "--once" in err and "invalid configuration" not in err
    assert main(["sync", "--config", str(config), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out == {"ok": False, "error": "UsageError", "message": out["message"]} and "--once" in out["message"]


def test_words_agree_with_numbers() -> None:
    assert count(1, "record") == "1 record" and count(2, "record") == "2 records"
    assert count(1, "person") == "1 person" and count(1_234, "person") == "1,234 people"
    assert count(1, "attempt") == "1 attempt" and count(0, "attempt") == "0 attempts"
    assert at(1796591163212) == "2026-12-06 21:06:03 UTC" and at(None) == "?"


def test_help_texts_say_what_commands_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pull", "--help"]) == 0
    text = capsys.readouterr().out
    assert "people so far" not in text and "engagement" in text and "opportunities" in text
    assert main(["status", "--help"]) == 0
    assert "where each stream stands" not in capsys.readouterr().out
