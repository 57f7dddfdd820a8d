"""The status page as a person sees it: headless Chromium (Debian's `chromium`) against the running endpoint,
with the token required. It renders (a screenshot with the page's tables in it), it refuses a browser without
the token, and a hostile value stays text (the DOM Chromium built has no element made of it).

A browser cannot send a bearer token, so it gives the token as the Basic password (credentials in the URL,
sent once the server challenges). Without Chromium the test is skipped (and says so); where .ci/run installed
it (REPORTS_REQUIRE_CHROMIUM=1) a browser that cannot be found is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.operate.web import Server, build_app, start_server

from ..report.test_html_in_a_browser import pixels
from .test_web import NOW, TOKEN, leader, seed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HEADER_BLUE = (0xEE, 0xEE, 0xFF)  # the tables' header cells
READY_GREEN = (0x17, 0x6B, 0x2C)

if CHROMIUM is None and os.environ.get("REPORTS_REQUIRE_CHROMIUM") == "1":
    raise RuntimeError("chromium was installed for the browser tests but is not on PATH")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    engine = seed(f"sqlite:///{tmp_path_factory.mktemp('browser')}/store.db")
    running = start_server(build_app(engine, leader(), token=TOKEN, clock=lambda: NOW), "127.0.0.1", 0)
    yield running
    running.stop()
    engine.dispose()


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", *args],
                          check=True, capture_output=True, text=True, timeout=120)


def url(server: Server, token: str | None) -> str:
    return f"http://{'viewer:' + token + '@' if token else ''}127.0.0.1:{server.port}/"


def test_the_page_renders(server: Server, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    chromium(tmp_path, "--window-size=1300,1200", f"--screenshot={shot}", url(server, TOKEN))
    drawn = pixels(shot.read_bytes())
    assert len(drawn) > 20, drawn.most_common(5)  # not blank: text, borders, colours
    assert drawn[HEADER_BLUE] > 2_000, drawn.most_common(5)  # the tables' header rows
    assert any(sum(abs(a - b) for a, b in zip(colour, READY_GREEN, strict=True)) < 60 for colour in drawn)  # "ready"


def test_the_page_refuses_a_browser_without_the_token(server: Server, tmp_path: Path) -> None:
    """The page's 401 asks for Basic credentials: a person's browser shows its sign-in dialog (and the 401 page
    if it is cancelled); headless Chromium, which has no dialog, reports the sign-in refused and shows nothing
    of the page. The metrics' 401 asks for a bearer token, which a browser cannot give: it shows the 401 text."""
    for token in (None, "not-the-token"):
        loaded = chromium(tmp_path, "--dump-dom", url(server, token))
        assert "ERR_INVALID_AUTH_CREDENTIALS" in loaded.stderr, loaded.stderr[-500:]
        assert "Last runs" not in loaded.stdout and "INVALID_EMAIL" not in loaded.stdout
    metrics = chromium(tmp_path, "--dump-dom", url(server, None) + "metrics").stdout
    assert "the metrics need the daemon's token" in metrics and "connector_runs_total" not in metrics


def test_a_hostile_value_is_shown_as_text(server: Server, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", url(server, TOKEN)).stdout
    assert "Last runs" in dom
    # the DOM serialised: a text node's "<" comes back as "&lt;"; an element would come back as a tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom.lower()
    assert "&lt;img src=x onerror=alert(2)&gt;" in dom and "<img" not in dom.lower()
