"""Secrets and personal data (issue 18): a daemon syncs a sandbox with DEBUG logging; every log line it wrote,
its status page, readiness and metrics, and the --json of the summary commands are searched for the
credentials and for every seeded person's e-mail address. None may appear. (`connector explain`, which
shows one person's record to an admin who asked for it by name, is not a summary.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from connector.cli import main
from connector.sandbox.runner import Sandbox
from connector.store import open_engine
from connector.store.models import SourceRecord

from .daemon_process import DaemonProcess, daemon_config

DAEMON_TOKEN = "daemon-token-for-the-secrets-test-0123456789"


def test_no_log_line_page_metric_or_summary_holds_a_secret_or_an_email(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_url = f"sqlite:///{tmp_path}/store.db"
    with Sandbox(people=150, seed=181, rate_limits=False) as sb:
        info = sb.info()
        config = tmp_path / "c.toml"
        config.write_text(daemon_config(sb.connector_config(store_url), listen="127.0.0.1:0",
                                        extra='level = "DEBUG"\n'))
        assert main(["setup", "--apply", "--config", str(config), "--json"]) == 0
        daemon = DaemonProcess(config, env={"CONNECTOR_DAEMON_TOKEN": DAEMON_TOKEN})
        try:
            serving = daemon.message("serving /healthz")
            port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", serving["message"]).group(1))  # type: ignore[union-attr]
            daemon.wait_for(lambda r: str(r.get("message", "")).startswith("sync run "), "a run's summary")
            base = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {DAEMON_TOKEN}"}
            page = httpx.get(f"{base}/", headers=auth, timeout=60)
            metrics = httpx.get(f"{base}/metrics", headers=auth, timeout=60)
            ready = httpx.get(f"{base}/readyz", timeout=60)
            refused = httpx.get(f"{base}/", timeout=60)
            assert page.status_code == 200 and metrics.status_code == 200 and refused.status_code == 401
            assert daemon.term() == 0
        finally:
            daemon.close()
        outputs = {"page": page.text, "metrics": metrics.text, "readyz": ready.text, "refused": refused.text}
        capsys.readouterr()
        # (`plan` is left out: a dry run lists the values it would write, addresses included, by design)
        for command in (["sync", "--once"], ["status"], ["report", "funnel"], ["report", "scoring"]):
            assert main([*command, "--config", str(config), "--json"]) == 0
            outputs[" ".join(command)] = capsys.readouterr().out
    logs = "\n".join(json.dumps(r) for r in daemon.records) + "".join(daemon.other)
    assert sum(1 for r in daemon.records if r["level"] == "DEBUG") > 0, "DEBUG lines were written and searched"
    outputs["logs"] = logs

    engine = open_engine(store_url)
    with Session(engine) as s:
        # the people's (the owners' work addresses name them in the by-owner reports, as they must)
        emails = {e for e in s.exec(select(SourceRecord.email_norm).where(
            col(SourceRecord.object_type).in_(["contacts", "Lead", "Contact"]))).all() if e}
    engine.dispose()
    assert len(emails) >= 100, "the seeded people's addresses are what is searched for"
    secrets = {"HubSpot token": info.hubspot_access_token, "Salesforce secret": info.salesforce_client_secret,
               "daemon token": DAEMON_TOKEN}
    for where, text in outputs.items():
        folded = text.casefold()
        for name, secret in secrets.items():
            assert secret not in text, f"the {name} is in the {where}"
        leaked = sorted(e for e in emails if e in folded)
        assert not leaked, f"{len(leaked)} seeded e-mail address(es) in the {where}"
    assert re.search(r"00D\w{12,15}!", logs) is None, "a Salesforce session id is in the logs"
