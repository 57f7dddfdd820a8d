"""A `connector run` in a process of its own, its JSON log lines read as they come, so a test waits for what
the daemon says (an event), never for a length of time."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: a safety net only: every wait ends on an observed event long before this on a healthy machine
PATIENCE_S = 120.0


def daemon_config(sandbox_config: str, *, interval_minutes: float = 0.1, listen: str = "",
                  extra: str = "") -> str:
    """The sandbox's connector config plus a short interval, JSON logs and (by default) no HTTP server."""
    return (f"{sandbox_config}\n[sync]\ninterval_minutes = {interval_minutes}\n"
            f'[daemon]\nlisten = "{listen}"\nstop_grace_seconds = 30\n[logging]\nformat = "json"\n{extra}')


class DaemonProcess:
    """`connector run --config PATH`, its log records collected on a thread."""

    def __init__(self, config: Path, *, env: dict[str, str] | None = None) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
        self.proc = subprocess.Popen([sys.executable, "-m", "connector", "run", "--config", str(config)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**clean, **(env or {})})
        self.records: list[dict[str, Any]] = []
        self.other: list[str] = []  # stdout lines that are not JSON, and stderr
        self._new: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._seen = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                self.other.append(line)
                continue
            self.records.append(record)
            self._new.put(record)
        self._new.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.other.append(line)

    def wait_for(self, matches: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The first record from now on that `matches` (records already waited past are not looked at again)."""
        while True:
            try:
                record = self._new.get(timeout=PATIENCE_S)
            except queue.Empty:
                raise AssertionError(f"the daemon never logged {what}; it logged: "
                                     f"{[r['message'] for r in self.records][-20:]} {self.other[-20:]}") from None
            if record is None:
                raise AssertionError(f"the daemon exited ({self.proc.wait()}) before logging {what}: "
                                     f"{[r['message'] for r in self.records][-20:]} {''.join(self.other)[-3000:]}")
            if matches(record):
                return record

    def message(self, start: str) -> dict[str, Any]:
        return self.wait_for(lambda r: str(r.get("message", "")).startswith(start), repr(start))

    def term(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=PATIENCE_S)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=PATIENCE_S)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
