"""`connector sandbox` as admins script it: one JSON line, a config that validates, clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from connector.cli import main


def test_sandbox_serves_until_sigterm_and_prints_one_json_line(tmp_path: Path) -> None:
    config_out = tmp_path / "sandbox.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "--people", "300", "--seed", "5", "--rate-limits", "off",
         "--config-out", str(config_out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert info["people"] == 300 and info["seed"] == 5 and info["config"] == str(config_out)
        ctx = ssl.create_default_context(cafile=info["ca_file"])
        hs = httpx.get(info["hubspot"]["base_url"] + "/crm/v3/objects/contacts", params={"limit": 1}, verify=ctx,
                       headers={"Authorization": f"Bearer {info['hubspot']['access_token']}"})
        assert hs.status_code == 200 and len(hs.json()["results"]) == 1
        sf = httpx.get(info["salesforce"]["instance_url"] + "/services/data/v62.0/query",
                       params={"q": "SELECT Id FROM Contact LIMIT 1"}, verify=ctx,
                       headers={"Authorization": f"Bearer {info['salesforce']['access_token']}"})
        assert sf.status_code == 200 and sf.json()["totalSize"] == 1
        assert main(["validate", "--config", str(config_out)]) == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == ""  # exactly one line was printed


def test_bad_fault_spec_is_a_configuration_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sandbox", "--people", "0", "--faults", "teapot:0.5"]) == 2
    assert "unknown fault kind 'teapot'" in capsys.readouterr().err
