"""`connector duplicates` gives whole reasons, and `connector explain` says why a person was not created in
the other system and when their record was reconciled (store only: no sandbox needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from connector.cli import main
from connector.store import open_engine
from connector.store.people import REASON_LENGTH, short_reason
from connector.store.staging import stage_records
from connector.systems.ports import StagedRecord

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
BASIS = "Legitimate interest – prospect/lead"


def _store(tmp_path: Path, hubspot: list[tuple[str, dict[str, Any]]],
           leads: list[tuple[str, dict[str, Any]]]) -> Path:
    """A store holding these pulled records, and a config pointing at it."""
    url = f"sqlite:///{tmp_path}/state.db"
    engine = open_engine(url)
    with Session(engine) as s, s.begin():
        if hubspot:
            stage_records(s, [StagedRecord("hubspot", "contacts", rid, 1_000 + n, data,
                                           email_norm=str(data.get("email") or "").casefold() or None)
                              for n, (rid, data) in enumerate(hubspot)], fetched_at=1)
        if leads:
            stage_records(s, [StagedRecord("salesforce", "Lead", rid, 2_000 + n, data,
                                           email_norm=str(data.get("Email") or "").casefold() or None)
                              for n, (rid, data) in enumerate(leads)], fetched_at=1)
    config = tmp_path / "connector.toml"
    config.write_text(f'[sandbox]\nenabled = true\n[store]\nurl = "{url}"\n[mappings]\ndirectory = "{MAPPINGS}"\n')
    return config


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main([*args, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_duplicate_reasons_are_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: every reason was cut at 32 characters ("2 active salesforce records for ")."""
    lead = {"Email": "dup@x.io", "LastName": "Dup", "Company": "X", "Status": "Open - Not Contacted"}
    config = _store(tmp_path, [], [("00Q000000000001AAA", lead), ("00Q000000000002AAA", dict(lead))])
    _json(capsys, "reconcile", "--config", str(config))
    (row,) = _json(capsys, "duplicates", "--config", str(config))["duplicates"]
    assert row["reason"].startswith("2 active salesforce records for one person; kept Lead 00Q00000000000")
    assert "Contact over Lead" in row["reason"] and not row["reason"].endswith(" ")
    assert main(["duplicates", "--config", str(config)]) == 0
    assert "2 active salesforce records for one person; kept" in capsys.readouterr().out


def test_a_stored_reason_fits_without_being_cut_mid_clause() -> None:
    assert short_reason("2 active salesforce records for one person; kept by: Contact over Lead") == \
        "2 active salesforce records"
    assert short_reason("12 active salesforce records for one person; kept by: x") == "12 active salesforce records"
    assert short_reason("stored people hs-1, sf-00Q1 are one person now; kept hs-1") == \
        "stored people are one person now"
    assert short_reason("held: merged on one side only") == "held: merged on one side only"
    long = short_reason("a reason in many words that no clause of fits in thirty-two characters")
    assert len(long) <= REASON_LENGTH and long.endswith("…") and not long.endswith(" …")


def test_explain_says_why_a_person_was_not_created_and_when_reconciled(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Before: explain showed the values and said nothing about the lawful-basis gate or the inclusion rule."""
    no_basis = {"email": "nobasis@x.io", "lastname": "N", "lifecyclestage": "marketingqualifiedlead"}
    early = {"email": "early@x.io", "lastname": "E", "lifecyclestage": "subscriber", "hs_legal_basis": BASIS}
    included = {"email": "in@x.io", "lastname": "I", "lifecyclestage": "marketingqualifiedlead",
                "hs_legal_basis": BASIS}
    no_email = {"Email": None, "LastName": "Q", "Company": "X", "Status": "Open - Not Contacted"}
    config = _store(tmp_path, [("101", no_basis), ("102", early), ("103", included)],
                    [("00Q000000000009AAA", no_email)])
    run = _json(capsys, "reconcile", "--config", str(config))
    out = _json(capsys, "explain", "nobasis@x.io", "--config", str(config))
    (why,) = out["not_created"]
    assert why["system"] == "salesforce" and why["will_create"] is False
    assert "no lawful basis in hs_legal_basis" in why["reason"] and "privacy.allow_when" in why["reason"]
    assert out["reconciled"]["run_id"] == run["run_id"] and out["reconciled"]["at"] > 0
    assert out["reconciled"]["record_changed_at"] > 0
    early_out = _json(capsys, "explain", "early@x.io", "--config", str(config))
    assert "lifecyclestage 'subscriber' is before 'marketingqualifiedlead'" in early_out["not_created"][0]["reason"]
    included_out = _json(capsys, "explain", "in@x.io", "--config", str(config))
    assert included_out["not_created"] == [{"system": "salesforce", "will_create": True,
                                            "reason": "included: the next sync creates it (a Lead)"}]
    sf_only = _json(capsys, "explain", "00Q000000000009AAA", "--config", str(config))
    assert sf_only["not_created"] == [{"system": "hubspot", "will_create": False, "reason": "no email"}]
    assert main(["explain", "nobasis@x.io", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "not in salesforce: no lawful basis" in text and "reconciled by run" in text
