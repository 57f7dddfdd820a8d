"""Conflicts are told as what a run decided (issue #13): a fill of a blank side is no conflict, a standing
disagreement (fill_blank_only, a one-way field) is not repeated by every sync, and `connector status`
keeps the standing ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from connector.cli import main
from connector.reconcile.engine import ReconcileResult
from connector.reconcile.records import (
    FieldChange,
    Provenance,
    RecordKey,
    UnifiedPerson,
)
from connector.reconcile.summary import summarize
from connector.sandbox.runner import Sandbox
from connector.store import open_engine
from connector.store.models import FieldAudit


def test_a_fill_is_no_conflict_and_standing_disagreements_are_apart() -> None:
    links = (RecordKey("hubspot", "contacts", "1"), RecordKey("salesforce", "Lead", "00Q1"))
    people = (
        UnifiedPerson("p1", {"lead_status": Provenance("Open", "salesforce", "00Q1", 5,
                                                       "prefer_salesforce_unless_blank", "record",
                                                       (("hubspot", None, 4),))}, links),  # a fill
        UnifiedPerson("p2", {"job_title": Provenance("CTO", "salesforce", "00Q2", 5, "prefer_salesforce_unless_blank",
                                                     "record", (("hubspot", "CEO", 4),))}, links),  # decided: written
        UnifiedPerson("p3", {"lifecycle_stage": Provenance("lead", "hubspot", "3", 5, "fill_blank_only", "record",
                                                           (("salesforce", "customer", 4),))}, links),  # standing
    )
    changes = (
        FieldChange("hubspot", "contacts", "1", "hs_lead_status", None, "OPEN",
                    "lead_status: prefer_salesforce_unless_blank chose salesforce", "p1"),
        FieldChange("hubspot", "contacts", "2", "jobtitle", "CEO", "CTO",
                    "job_title: prefer_salesforce_unless_blank chose salesforce", "p2"),
    )
    summary = summarize(ReconcileResult(people, changes, (), ()))
    assert summary["conflicts"] == [{"field": "job_title", "rule": "prefer_salesforce_unless_blank", "people": 1}]
    assert summary["standing_conflicts"] == [{"field": "lifecycle_stage", "rule": "fill_blank_only", "people": 1}]


@pytest.fixture
def synced(tmp_path: Path, store_url: str) -> Iterator[tuple[Path, dict[str, object]]]:
    with Sandbox(people=200, seed=3, rate_limits=False) as sb:
        config = tmp_path / "c.toml"
        config.write_text(sb.connector_config(store_url))
        assert main(["setup", "--apply", "--config", str(config), "--json"]) == 0
        yield config, {"store": store_url}


def test_syncs_tell_what_they_decided_and_status_keeps_what_stands(
        synced: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]) -> None:
    config, info = synced
    capsys.readouterr()
    assert main(["sync", "--once", "--config", str(config), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["reconcile"]["conflicts"], "the first sync decides conflicts"
    with Session(open_engine(str(info["store"]))) as s:  # the conflict audit holds no fills
        assert s.exec(select(FieldAudit)).first() is not None
        assert s.exec(select(FieldAudit).where(FieldAudit.loser_value.is_(None))).first() is None
    assert main(["sync", "--once", "--config", str(config)]) == 0  # the text a person reads
    text = capsys.readouterr().out
    assert "wrote nothing" in text and "conflict" not in text and "decided" not in text, text
    assert main(["status", "--config", str(config), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    standing = {c["field"]: c for c in status["standing_conflicts"]}
    assert standing and all(c["people"] > 0 for c in standing.values())
    assert {"fill_blank_only"} & {c["rule"] for c in standing.values()}
    assert main(["status", "--config", str(config)]) == 0
    assert "standing: " in capsys.readouterr().out
