"""`connector score`: the summary and the backtest read the store alone (no system, no credentials), with
--json one object on stdout, --html a self-contained page, exit code 2 without a scoring file."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest


from .conftest import run

ROOT = Path(__file__).resolve().parents[2]


def test_the_summary_scores_everyone_and_saves_nothing(demo_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "score", "--config", str(demo_store))
    assert code == 0 and out["ok"] is True
    assert out["people"] == sum(out["statuses"].values()) == sum(out["score_bands"].values())
    assert out["model"]["version"] == 1 and set(out["model"]["owners"]) == {"marketing", "sales"}
    assert out["values_to_write"] == 0  # the demo's syncs published every score already
    assert set(out["grades"]) <= {"A", "B", "C", "D"}


def test_a_backtest_compares_two_models_month_by_month(demo_store: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    shipped = (ROOT / "mappings" / "scoring.toml").read_text()
    lower = tmp_path / "scoring.toml"
    lower.write_text(shipped.replace("mql = 50 ", "mql = 30 ").replace("version = 1", "version = 2"))
    page = tmp_path / "backtest.html"
    code, out = run(capsys, "score", "--backtest", str(lower), "--months", "12", "--html", str(page),
                    "--config", str(demo_store))
    assert code == 0 and out["html"] == str(page)
    report = out["report"]
    assert report["models"]["current"]["version"] == 1 and report["models"]["new"]["version"] == 2
    totals = report["totals"]
    assert totals["new"]["mqls"] > totals["current"]["mqls"] > 0  # a lower threshold makes more MQLs
    assert report["changed"]["total"] > 0

    class Svg(HTMLParser):
        rects = scripts = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.rects += tag == "rect"
            self.scripts += tag == "script" or any(k in ("href", "src") and v and "//" in v for k, v in attrs)

    parsed = Svg()
    parsed.feed(page.read_text())
    assert parsed.rects > 0 and parsed.scripts == 0  # bars drawn; nothing fetched from anywhere


def test_without_a_scoring_file_the_command_says_so_and_exits_2(demo_store: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for name in ("contacts.toml", "opportunities.toml"):
        shutil.copy(ROOT / "mappings" / name, mappings / name)
    config = tmp_path / "c.toml"
    config.write_text(demo_store.read_text().split("[mappings]")[0] + f'[mappings]\ndirectory = "{mappings}"\n')
    code, out = run(capsys, "score", "--config", str(config))
    assert code == 2 and out["ok"] is False
    assert "no scoring file" in json.dumps(out) and "scoring.toml" in json.dumps(out)


def test_a_broken_proposed_model_is_a_configuration_error(demo_store: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 2\nowners = { marketing = "m", sales = "s" }\n[thresholds]\nmql = 0\n')
    code, out = run(capsys, "score", "--backtest", str(bad), "--config", str(demo_store))
    assert code == 2 and "thresholds.mql" in json.dumps(out)
