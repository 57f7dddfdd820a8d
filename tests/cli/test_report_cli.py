"""`connector report`: the funnel, the handoff SLA and the scoring calibration from a demo's store alone (no
system, no credentials): --json one object on stdout, --csv one file per table, --html a self-contained page
with SVG charts; `report sla` without `[sla]` in scoring.toml is a configuration error (exit 2)."""

from __future__ import annotations

import csv
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from connector.cli import main

from .conftest import run


class Page(HTMLParser):
    """What the page holds: SVG charts and their bars, and anything that would reach out."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs = self.rects = self.scripts = self.links = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.svgs += tag == "svg"
        self.rects += tag == "rect"
        self.scripts += tag == "script"
        self.links += tag == "link" or any(v and "http" in v and k != "xmlns" for k, v in attrs)


def test_the_funnel_as_json_csv_and_html(demo_store: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    page, out_dir = tmp_path / "funnel.html", tmp_path / "csv"
    code, out = run(capsys, "report", "funnel", "--csv", str(out_dir), "--html", str(page),
                    "--config", str(demo_store))
    assert code == 0 and out["ok"] is True and out["html"] == str(page)
    report = out["report"]
    assert report["kind"] == "funnel" and report["models"][0]["version"] == 1 and report["data_as_of"]
    stages = [r["people"] for r in report["stages"]]
    assert [r["stage"] for r in report["stages"]] == ["MQL", "SAL", "SQL", "Opportunity", "Customer"]
    assert stages[0] == report["people"] > 0 and stages == sorted(stages, reverse=True)
    assert sum(r["stages"]["MQL"] for r in report["by"]["owner"]) == report["people"]
    assert report["won_revenue"] > 0
    assert sorted(Path(p).name for p in out["csv"]) == ["by_lead_source.csv", "by_month.csv", "by_owner.csv",
                                                        "stages.csv"]
    with (out_dir / "stages.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["stage", "people"] and [int(r[1]) for r in rows[1:]] == stages
    parsed = Page()
    parsed.feed(page.read_text(encoding="utf-8"))
    assert parsed.svgs >= 1 and parsed.rects >= 5 and parsed.scripts == 0 and parsed.links == 0


def test_the_scoring_calibration_as_json_html_and_text(demo_store: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "scoring.html"
    code, out = run(capsys, "report", "scoring", "--since", "2020-01-01", "--html", str(page),
                    "--config", str(demo_store))
    assert code == 0 and out["report"]["kind"] == "scoring"
    report = out["report"]
    assert report["period"]["since"] == "2020-01-01T00:00:00+00:00"
    assert report["mqls"] == report["overall"]["mqls"] == sum(b["mqls"] for b in report["by_band"])
    assert report["suggested_threshold"]["applied"] is False
    parsed = Page()
    parsed.feed(page.read_text(encoding="utf-8"))
    assert parsed.svgs >= 1 and parsed.scripts == 0
    capsys.readouterr()
    assert main(["report", "scoring", "--config", str(demo_store)]) == 0
    text = capsys.readouterr().out
    assert "Suggested MQL threshold (a suggestion: never applied)" in text and "data as of: " in text


def test_the_sla_report_as_json_csv_html_and_text(demo_store: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    page, out_dir = tmp_path / "sla.html", tmp_path / "csv"
    code, out = run(capsys, "report", "sla", "--since", "2020-01-01", "--csv", str(out_dir), "--html", str(page),
                    "--config", str(demo_store))
    assert code == 0 and out["ok"] is True and out["html"] == str(page)
    report = out["report"]
    assert report["kind"] == "sla" and report["period"]["since"] == "2020-01-01T00:00:00+00:00"
    assert report["models"][0]["version"] == 1 and report["data_as_of"]
    assert report["sla"]["hours"] == 8 and report["sla"]["time_zone"] == "America/New_York"  # the shipped [sla]
    states = ("met", "breached", "on_time", "due_soon", "ended")
    assert report["clocks"] > 0 and sum(report[s] for s in states) == report["clocks"]
    assert sum(r["clocks"] for r in report["by_owner"]) == sum(r["clocks"] for r in report["by_week"]) \
        == report["clocks"]
    assert sum(r["breached"] for r in report["by_week"]) == report["breached"]
    assert len(report["due_soon_list"]) == report["due_soon"] and len(report["breach_list"]) == report["breached"]
    assert all(set(r) == {"person_id", "owner", "due_at", "working_hours_left"} for r in report["due_soon_list"])
    assert sorted(Path(p).name for p in out["csv"]) == ["breaches.csv", "by_owner.csv", "by_week.csv", "clocks.csv",
                                                          "due_soon.csv"]
    parsed = Page()
    parsed.feed(page.read_text(encoding="utf-8"))
    assert parsed.svgs >= 1 and parsed.rects >= 1 and parsed.scripts == 0 and parsed.links == 0
    assert "Breaches per week" in page.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "sla", "--config", str(demo_store)]) == 0
    text = capsys.readouterr().out
    assert "By ISO week of the MQL" in text and "SLA: first sales touch within 8 working hours" in text


def test_the_sla_report_without_an_sla_table_is_a_configuration_error(demo_store: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(Path(__file__).resolve().parents[2] / "mappings", mappings)
    lines, inside = [], False
    for line in (mappings / "scoring.toml").read_text().splitlines():
        if line.startswith("["):
            inside = line.startswith("[sla")
        if not inside:
            lines.append(line)
    (mappings / "scoring.toml").write_text("\n".join(lines) + "\n")
    config = tmp_path / "c.toml"
    config.write_text(demo_store.read_text().split("[mappings]")[0] + f'[mappings]\ndirectory = "{mappings}"\n')
    code, out = run(capsys, "report", "sla", "--config", str(config))
    assert code == 2 and out["ok"] is False and out["error"] == "ConfigError"
    assert "scoring.toml" in out["message"] and "[sla]" in out["message"]
    assert main(["report", "funnel", "--json", "--config", str(config)]) == 0  # the other reports need no clock
