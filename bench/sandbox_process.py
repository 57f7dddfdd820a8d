"""The sandbox as a process of its own, for benchmarks: started with `connector sandbox`, read through its
control routes (never counted, never rate-limited), stopped with SIGTERM.

A process of its own, so that the connector's figures (RSS, CPU) are the connector's alone; the
benchmarks that start it (`bench_pull.py`, `bench_push.py`, `run.py`) share this code instead of a copy
each.
"""

from __future__ import annotations

import json
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ROOT", "SandboxCounters", "api_calls", "proc_hwm_mb", "start_sandbox", "stop_sandbox"]

ROOT = Path(__file__).resolve().parents[1]

#: path segments that carry a person's address (HubSpot's subscription API): folded like the sandbox folds ids
_ADDRESS_SEGMENT = re.compile(r"/statuses/[^/]+")


def start_sandbox(people: int, seed: int, *options: str, config_out: Path | None = None, python: str = sys.executable,
                  cwd: Path = ROOT) -> tuple[subprocess.Popen[str], dict[str, Any], float]:
    """`connector sandbox --people N --seed S [options] [--config-out PATH]`; returns the process, the JSON line
    it prints when it serves (URLs, tokens, CA file) and the seconds it took to seed and start."""
    started = time.perf_counter()
    command = [python, "-m", "connector", "sandbox", "--people", str(people), "--seed", str(seed), *options]
    if config_out is not None:
        command += ["--config-out", str(config_out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=cwd)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"the sandbox exited before it was ready (code {proc.wait()})")
    return proc, json.loads(line), time.perf_counter() - started


def stop_sandbox(proc: subprocess.Popen[str], timeout: float = 120) -> None:
    """SIGTERM, and wait for it to go (it removes its temporary data directory on the way out)."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=timeout)


def proc_hwm_mb(pid: int) -> float | None:
    """Peak RSS (VmHWM) of another process, e.g. the sandbox."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def api_calls(by_endpoint: dict[str, int]) -> dict[str, Any]:
    """The API calls among a sandbox's endpoint counts: sign-in (OAuth token) requests are not API calls (no
    vendor counts them against the allowance); addresses in paths are folded to `{address}`."""
    folded: dict[str, int] = {}
    for key, n in by_endpoint.items():
        key = _ADDRESS_SEGMENT.sub("/statuses/{address}", key)
        folded[key] = folded.get(key, 0) + n
    api = {k: v for k, v in folded.items() if "/oauth" not in k}
    return {"total": sum(api.values()), "by_endpoint": dict(sorted(folded.items()))}


class SandboxCounters:
    """The emulators' own per-endpoint request counters (control API: never counted itself)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.urls = {"hubspot": info["hubspot"]["base_url"], "salesforce": info["salesforce"]["instance_url"]}
        self.client = httpx.Client(verify=ssl.create_default_context(cafile=info["ca_file"]), timeout=60,
                                   trust_env=False)

    def reset(self) -> None:
        for url in self.urls.values():
            self.client.delete(url + "/_sandbox/counters").raise_for_status()

    def read(self) -> dict[str, dict[str, Any]]:
        """Per system: {"total": API calls, "by_endpoint": every request counted, sign-ins included}."""
        out = {}
        for system, url in self.urls.items():
            body = self.client.get(url + "/_sandbox/counters").raise_for_status().json()
            out[system] = api_calls(body["by_endpoint"])
        return out

    def close(self) -> None:
        self.client.close()
