"""The HTML reports as a person sees them: rendered by headless Chromium (Debian's `chromium`, which CI installs),
screenshotted, and the charts' bars found in the picture by their colours. The pages are self-contained (inline
SVG, no script, no download), so they render with no network.

Without Chromium the test is skipped (and says so); where .ci/run installed it (REPORTS_REQUIRE_CHROMIUM=1) a
browser that cannot be found is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from connector.cli import main

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FUNNEL_BLUE = (0x3B, 0x6E, 0xA8)
BACKTEST_BLUE, BACKTEST_ORANGE = (0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B)

if CHROMIUM is None and os.environ.get("REPORTS_REQUIRE_CHROMIUM") == "1":
    raise RuntimeError("chromium was installed for the HTML report test but is not on PATH")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")


def pixels(png: bytes) -> Counter[tuple[int, int, int]]:
    """The colours of an 8-bit RGB or RGBA PNG (what Chromium writes), counted: a small decoder, no imaging library."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, width = 8, b"", 0
    channels = 3
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, _, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += chunk
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    previous = bytearray(stride)
    counts: Counter[tuple[int, int, int]] = Counter()
    for row in range(len(raw) // (stride + 1)):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        counts.update(tuple(line[i:i + 3]) for i in range(0, stride, channels))  # type: ignore[misc]
        previous = line
    return counts


def screenshot(page: Path, out: Path, profile: Path) -> Counter[tuple[int, int, int]]:
    assert CHROMIUM is not None
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                    "--hide-scrollbars", "--window-size=1200,1400", f"--screenshot={out}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return pixels(out.read_bytes())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    assert main(["demo", "--people", "300", "--seed", "5", "--store", f"sqlite:///{tmp}/d.db", "--rate-limits",
                 "off", "--json"]) == 0
    return tmp / "d.toml"


def test_the_funnel_and_backtest_pages_draw_their_charts(store: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    funnel, backtest = tmp_path / "funnel.html", tmp_path / "backtest.html"
    assert main(["report", "funnel", "--since", "2020-01-01", "--html", str(funnel), "--config", str(store),
                 "--json"]) == 0
    lower = tmp_path / "scoring.toml"
    lower.write_text((ROOT / "mappings" / "scoring.toml").read_text().replace("mql = 50 ", "mql = 30 "))
    assert main(["score", "--backtest", str(lower), "--months", "12", "--html", str(backtest), "--config",
                 str(store), "--json"]) == 0
    capsys.readouterr()
    drawn = screenshot(funnel, tmp_path / "funnel.png", tmp_path / "profile-1")
    assert drawn[FUNNEL_BLUE] > 500, drawn.most_common(5)  # the funnel's bars, as pixels on the screen
    drawn = screenshot(backtest, tmp_path / "backtest.png", tmp_path / "profile-2")
    assert drawn[BACKTEST_BLUE] > 100 and drawn[BACKTEST_ORANGE] > 100, drawn.most_common(5)  # both models' bars


def test_the_sla_page_draws_its_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On the hand-worked SLA store of test_sla_report (the demo's few MQL clocks would draw next to nothing)."""
    from .test_sla_report import seed

    seed(f"sqlite:///{tmp_path}/sla.db").dispose()
    config = tmp_path / "c.toml"
    mappings = ROOT / "mappings"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/sla.db"\n\n[mappings]\ndirectory = "{mappings}"\n')
    page = tmp_path / "sla.html"
    assert main(["report", "sla", "--since", "2020-01-01", "--html", str(page), "--config", str(config),
                 "--json"]) == 0
    capsys.readouterr()
    drawn = screenshot(page, tmp_path / "sla.png", tmp_path / "profile-sla")
    assert drawn[FUNNEL_BLUE] > 100, drawn.most_common(5)  # breaches per week and by owner
