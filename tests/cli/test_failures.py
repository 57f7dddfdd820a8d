"""Failures through the command line, against the sandbox with the defaults a user runs (issue #12 items 2,
3, 4, 7; issue #13's daily forecast): the right exit code, one clear line, and exactly one JSON object
on stdout under --json."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CONNECTOR_") and not name.startswith("CONNECTOR_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)  # the sandbox's config points at ./mappings


def write_config(sb: Sandbox, tmp_path: Path, *, replace: dict[str, str] | None = None, extra: str = "") -> Path:
    text = sb.connector_config(store_url=f"sqlite:///{tmp_path}/c.db")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "sandbox.toml"
    path.write_text(text + "\n" + extra)
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    """Exit code, the one JSON object on stdout (asserted to be exactly one), and stderr."""
    code = main(args)
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "Traceback" not in err, err
    return code, json.loads(lines[0]), err


def api_calls(counter_snapshot: dict[str, int]) -> int:
    return sum(n for key, n in counter_snapshot.items() if "/oauth2/token" not in key and "/oauth/v1/" not in key)


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    with Sandbox(people=150, seed=21) as sb:  # real rate limits: the daily headers are sent
        yield sb


def test_a_salesforce_concurrency_limit_does_not_abort_the_pull(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(people=100, seed=5, faults="429@/services/data/v62.0/composite:x2") as sb:
        code, out, _ = run(["pull", "--config", str(write_config(sb, tmp_path)), "--json"], capsys)
        fired = sb.salesforce.faults.rules()[0]["fired"]
    assert code == 0 and out["ok"] is True and fired == 2
    assert out["streams"]["salesforce:Lead"]["new"] > 0


def test_a_503_on_the_token_endpoint_is_ridden_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Sandbox(people=50, seed=6, faults="503@/services/oauth2/token:x1") as sb:
        code, out, _ = run(["pull", "--config", str(write_config(sb, tmp_path)), "--json"], capsys)
    assert code == 0 and out["ok"] is True


def test_a_wrong_salesforce_secret_stops_before_anything_is_read(shared: Sandbox, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    secret = shared.info().salesforce_client_secret
    config = write_config(shared, tmp_path, replace={f'client_secret = "{secret}"': 'client_secret = "wrong-secret"'})
    shared.hubspot.counter.reset()
    shared.salesforce.counter.reset()
    code, out, _ = run(["pull", "--config", str(config), "--json"], capsys)
    assert code == 2 and out["error"] == "ConfigError"
    assert shared.hubspot.counter.total() == 0 and api_calls(shared.salesforce.counter.snapshot()) == 0
    problem = out["problems"][0]
    assert "invalid_client" in problem["message"] and "client_secret" in problem["hint"]
    assert "wrong-secret" not in json.dumps(out)
    code, status, _ = run(["status", "--config", str(config), "--json"], capsys)
    assert code == 0 and status["runs"] == []  # nothing was started


def test_an_unreachable_salesforce_prints_one_clear_failure(shared: Sandbox, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = shared.info().salesforce_instance_url
    config = write_config(shared, tmp_path, replace={f'instance_url = "{url}"': f'instance_url = "https://127.0.0.1:{port}"'})
    code, out, err = run(["pull", "--config", str(config), "--json"], capsys)
    assert code == 1 and out["ok"] is False and out["error"] == "TransientApiError"
    assert f"127.0.0.1:{port}" in str(out["message"]) and "still failing" in str(out["message"])
    code = main(["pull", "--config", str(config)])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1 and "Traceback" not in err and len(errors) == 1 and f"127.0.0.1:{port}" in errors[0]


def test_an_untrusted_certificate_is_a_configuration_error_naming_ca_bundle(shared: Sandbox, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    ca_line = f'ca_bundle = "{shared.info().ca_file}"'
    config = write_config(shared, tmp_path, replace={ca_line: ""})  # the system store does not know the sandbox CA
    code, out, _ = run(["pull", "--config", str(config), "--json"], capsys)
    assert code == 2 and out["error"] == "ConfigError"
    assert out["problems"][0]["key"] == "[salesforce].ca_bundle"
    assert "temporar" not in str(out["message"])


def test_an_unwritable_store_path_says_what_and_where(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_STORE_URL", "sqlite:////proc/nope/x.db")
    code, out, _ = run(["status", "--config", str(ROOT / "config.example.toml"), "--json"], capsys)
    assert code == 2 and out["error"] == "ConfigError"
    problem = out["problems"][0]
    assert problem["key"] == "[store].url" and "/proc/nope" in problem["message"]
    code = main(["status", "--config", str(ROOT / "config.example.toml")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "/proc/nope" in err


def test_the_daily_share_is_not_overrun_within_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue #12 item 4: limit 1,000 at a share of 0.06 is 60 calls, whatever HubSpot says its own limit is
    (625,000 here). A first pull of 2,000 people needs 66."""
    with Sandbox(people=2000, seed=8) as sb:
        config = write_config(sb, tmp_path, replace={'auth = "private_app"': 'auth = "private_app"\n'
                                                     "daily_limit = 1000\ndaily_budget_share = 0.06"})
        code, out, _ = run(["pull", "--config", str(config), "--json"], capsys)
        hubspot_calls = sb.hubspot.counter.total()
    assert code == 1 and out["error"] == "BudgetExhausted" and "60 of 60" in str(out["message"])
    assert hubspot_calls == 60


def test_remaining_today_is_one_figure_before_and_after_a_pull(shared: Sandbox, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Issue #13: the forecast was 125,000 before a pull and 312,427 after it (HubSpot), 50,000 then 57,497
    (Salesforce). Now: never above share x limit, and between two plans it falls by the calls made."""
    config = str(write_config(shared, tmp_path))
    assert main(["setup", "--apply", "--config", config, "--json"]) == 0
    capsys.readouterr()
    plans = []
    for args in (["plan"], ["plan", "--pull"], ["plan"]):
        code, out, _ = run([*args, "--config", config, "--json"], capsys)
        assert code == 0, out
        plans.append(out)
    ceiling = {"hubspot": int(250_000 * 0.5),
               "salesforce": int(shared.salesforce.state.limits.daily_api_requests * 0.5)}
    for system in ("hubspot", "salesforce"):
        left = [int(p["forecast"][system]["remaining_today"]) for p in plans]
        calls = [int(p["api_calls"].get(system, {}).get("total", 0)) for p in plans]
        assert all(0 < n <= ceiling[system] for n in left), (system, left)
        for before, after, spent_before, spent_after in zip(left, left[1:], calls, calls[1:], strict=False):
            # it never rises, and falls by no more than the calls of the two runs (the earlier one's after its
            # forecast, the later one's before its own)
            assert before - spent_before - spent_after <= after <= before, (system, left, calls)
