"""A served Salesforce sandbox for tests, demos and benchmarks: state + HTTPS server + ready clients.

    with SalesforceSandbox.start(tmp_path) as sb:
        sf = sb.simple_salesforce()           # simple-salesforce, unmodified, over real TLS
        r = sb.http.get("/services/data/v62.0/limits")   # httpx with the bearer token
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ssl
import time

import httpx
import requests

from ..clock import SandboxClock
from ..counters import CallCounter
from ..faults import FaultPlan
from ..http import ServerThread
from ..tls import TLSFiles, make_tls
from ._app import create_app
from ._state import DEFAULT_API_VERSION, BulkTiming, DatetimeMillis, SalesforceLimits, SalesforceState

__all__ = ["SalesforceSandbox"]


@dataclass
class SalesforceSandbox:
    """Everything a test needs to talk to a running emulator."""

    state: SalesforceState
    clock: SandboxClock
    counter: CallCounter
    faults: FaultPlan
    server: ServerThread
    tls: TLSFiles
    token: str = ""
    _clients: list[Any] = field(default_factory=list)

    @classmethod
    @contextmanager
    def start(cls, directory: Path, *, limits: SalesforceLimits | None = None, rate_limits: bool = True,
              clock: SandboxClock | None = None, bulk_timing: BulkTiming = "realistic",
              soql_datetime_millis: DatetimeMillis = "truncate") -> Iterator[SalesforceSandbox]:
        clock = clock or SandboxClock()
        state = SalesforceState(directory / "data", clock, limits=limits, rate_limits=rate_limits,
                                bulk_timing=bulk_timing, soql_datetime_millis=soql_datetime_millis)
        counter, faults = CallCounter(), FaultPlan()
        tls = make_tls(directory / "tls")
        server = ServerThread(create_app(state, counter=counter, faults=faults), tls, name="salesforce").start()
        sb = cls(state, clock, counter, faults, server, tls)
        sb.fresh()
        try:
            yield sb
        finally:
            for c in sb._clients:
                c.close()
            server.stop()
            state.close()

    @property
    def url(self) -> str:
        return self.server.url

    def fresh(self) -> None:
        """Reset the org, faults, counters and clock (back to real time) and issue a new session token."""
        self.clock.unfreeze()
        self.clock.set(time.time_ns() // 1_000_000)
        self.state.reset()
        self.faults.clear()
        self.counter.reset()
        self.token = self.state.issue_token()

    def freeze(self, at_ms: int) -> None:
        """Freeze the sandbox clock at `at_ms` and issue a token valid from then."""
        self.clock.freeze(at_ms)
        self.token = self.state.issue_token()

    def requests_session(self) -> requests.Session:
        s = requests.Session()
        s.trust_env = False
        s.verify = str(self.tls.ca_file)
        self._clients.append(s)
        return s

    def simple_salesforce(self, version: str = DEFAULT_API_VERSION, token: str | None = None) -> Any:
        from simple_salesforce import Salesforce

        return Salesforce(instance_url=self.url, session_id=token or self.token, session=self.requests_session(),
                          version=version)

    @property
    def http(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, verify=ssl.create_default_context(cafile=str(self.tls.ca_file)),
                              trust_env=False,
                              headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        self._clients.append(client)
        return client

    def control(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, verify=ssl.create_default_context(cafile=str(self.tls.ca_file)),
                              trust_env=False, timeout=30)
        self._clients.append(client)
        return client
