"""Compose both emulators into one running sandbox: shared clock, local CA, seeded data, control API.

Used by ``connector sandbox`` (serves until SIGTERM), by ``connector demo`` and by the test suite
(``with Sandbox(...) as sb:``). The connector's own code never imports this package: it talks to the
sandbox over HTTPS exactly as it talks to the real systems.
"""

from __future__ import annotations

import json
import os
import logging
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ..errors import ConfigError, ConfigProblem
from .clock import SandboxClock
from .counters import CallCounter
from .faults import FaultPlan, FaultRule, FaultSpecError
from .http import ServerThread
from .tls import TLSFiles, make_tls

if TYPE_CHECKING:
    from .salesforce import BulkTiming, DatetimeMillis
else:
    BulkTiming = DatetimeMillis = str

__all__ = ["Sandbox", "SandboxInfo", "serve_forever"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxInfo:
    """Everything a client needs to reach the running sandbox (printed as one JSON line)."""

    hubspot_base_url: str
    hubspot_access_token: str
    salesforce_instance_url: str
    salesforce_access_token: str
    salesforce_client_id: str
    salesforce_client_secret: str
    salesforce_username: str
    salesforce_password: str
    salesforce_security_token: str
    salesforce_api_version: str
    ca_file: str
    people: int
    seed: int
    seconds_to_seed: float
    search_lag_ms: int = 0
    bulk_jobs: str = "realistic"

    def to_json(self) -> dict[str, Any]:
        return {
            "hubspot": {"base_url": self.hubspot_base_url, "access_token": self.hubspot_access_token},
            "salesforce": {
                "instance_url": self.salesforce_instance_url,
                "access_token": self.salesforce_access_token,
                "client_id": self.salesforce_client_id,
                "client_secret": self.salesforce_client_secret,
                "username": self.salesforce_username,
                "password": self.salesforce_password,
                "security_token": self.salesforce_security_token,
                "api_version": self.salesforce_api_version,
            },
            "ca_file": self.ca_file,
            "people": self.people,
            "seed": self.seed,
            "seconds_to_seed": round(self.seconds_to_seed, 3),
            "search_lag_ms": self.search_lag_ms,
            "bulk_jobs": self.bulk_jobs,
        }


@dataclass
class _System:
    name: str
    state: Any
    counter: CallCounter = field(default_factory=CallCounter)
    faults: FaultPlan = field(default_factory=FaultPlan)
    server: ServerThread | None = None


class Sandbox:
    """Both emulators, seeded and served over TLS on loopback; a context manager."""

    def __init__(
        self,
        *,
        people: int = 0,
        seed: int = 42,
        data_dir: Path | None = None,
        rate_limits: bool = True,
        faults: str | None = None,
        start_ms: int | None = None,
        search_lag_ms: int | None = None,
        bulk_jobs: BulkTiming = "realistic",
        soql_datetime_millis: DatetimeMillis = "truncate",
    ) -> None:
        """`search_lag_ms` (default: HubSpot's few seconds) and `bulk_jobs` ("realistic": Bulk 2.0 jobs take
        time scaled to their size) keep the emulators as slow to settle as the real systems; 0 and
        "instant" are for benchmarks and for tests that are about something else. `soql_datetime_millis`
        says whether the milliseconds of a SOQL datetime literal count ("truncate", as in Salesforce)."""
        from .hubspot import DEFAULT_SEARCH_LAG_MS, AccountSettings, HubSpotState
        from .salesforce import SalesforceState

        self.people = people
        self.seed = seed
        self._own_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="connector-sandbox-")) if data_dir is None else data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = SandboxClock(start_ms)
        self.tls: TLSFiles = make_tls(self.data_dir / "tls")
        try:
            hubspot_faults = FaultPlan.parse(faults, seed=seed)
            salesforce_faults = FaultPlan.parse(faults, seed=seed + 1)
        except FaultSpecError as exc:
            raise ConfigError([ConfigProblem("--faults", "-", str(exc),
                                             "use KIND[@PATH_GLOB][:RATE|xCOUNT], e.g. 503:0.02")]) from exc
        lag = DEFAULT_SEARCH_LAG_MS if search_lag_ms is None else search_lag_ms
        if lag < 0 or bulk_jobs not in ("realistic", "instant"):
            raise ConfigError([ConfigProblem("sandbox", "--search-lag / --bulk-jobs",
                                             f"search lag {lag} ms and Bulk jobs {bulk_jobs!r} are not valid",
                                             "give a search lag of 0 or more seconds "
                                             "and --bulk-jobs realistic|instant")])
        self.search_lag_ms, self.bulk_jobs = lag, bulk_jobs
        self.hubspot = _System("hubspot", HubSpotState(self.data_dir / "hubspot", self.clock, rate_limits=rate_limits,
                                                       account=AccountSettings(search_lag_ms=lag)),
                               faults=hubspot_faults)
        self.salesforce = _System("salesforce",
                                  SalesforceState(self.data_dir / "salesforce", self.clock, rate_limits=rate_limits,
                                                  bulk_timing=bulk_jobs, soql_datetime_millis=soql_datetime_millis),
                                  faults=salesforce_faults)
        self.seconds_to_seed = 0.0
        self._seed_lock = threading.Lock()

    # ---------------------------------------------------------------- data

    def seed_people(self, people: int, seed: int) -> float:
        """Empty both systems and generate `people` with `seed`; returns the seconds it took."""
        from .seed import generate

        with self._seed_lock:
            started = time.perf_counter()
            for system in (self.hubspot, self.salesforce):
                system.state.reset()
            for batch in generate(people, seed, now_ms=self.clock.now_ms()):
                self.hubspot.state.load(batch)
                self.salesforce.state.load(batch)
            self.people, self.seed = people, seed
            self.seconds_to_seed = time.perf_counter() - started
            return self.seconds_to_seed

    # ---------------------------------------------------------------- serving

    def start(self) -> Sandbox:
        from .hubspot import create_app as hubspot_app
        from .salesforce import create_app as salesforce_app

        if self.people:
            self.seed_people(self.people, self.seed)
        for system, factory in ((self.hubspot, hubspot_app), (self.salesforce, salesforce_app)):
            app = factory(system.state, counter=system.counter, faults=system.faults,
                          control_routes=self._control_routes(system))
            system.server = ServerThread(app, self.tls, name=f"sandbox-{system.name}").start()
        return self

    def stop(self) -> None:
        for system in (self.hubspot, self.salesforce):
            if system.server is not None:
                system.server.stop()
                system.server = None
            close = getattr(system.state, "close", None)
            if callable(close):
                close()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def hubspot_url(self) -> str:
        return self._url(self.hubspot)

    @property
    def salesforce_url(self) -> str:
        return self._url(self.salesforce)

    def _url(self, system: _System) -> str:
        if system.server is None:
            raise RuntimeError("the sandbox is not started")
        return system.server.url

    def info(self) -> SandboxInfo:
        sf = self.salesforce.state
        return SandboxInfo(
            hubspot_base_url=self.hubspot_url,
            hubspot_access_token=self.hubspot.state.access_token,
            salesforce_instance_url=self.salesforce_url,
            salesforce_access_token=sf.issue_token(),
            salesforce_client_id=sf.client_id,
            salesforce_client_secret=sf.client_secret,
            salesforce_username=sf.username,
            salesforce_password=sf.password,
            salesforce_security_token=sf.security_token,
            salesforce_api_version="62.0",
            ca_file=str(self.tls.ca_file),
            people=self.people,
            seed=self.seed,
            seconds_to_seed=self.seconds_to_seed,
            search_lag_ms=self.search_lag_ms,
            bulk_jobs=self.bulk_jobs,
        )

    def connector_config(self, store_url: str | None = None) -> str:
        """A connector config (TOML) that points at this sandbox; sandbox credentials are not secrets. Paths
        are absolute, so the file works from any directory: the store defaults to ./connector.db as it is
        now, and without a ./mappings directory the connector uses the mappings shipped with it."""
        store_url = store_url or f"sqlite:///{Path.cwd().resolve() / 'connector.db'}"
        i = self.info()
        return "\n".join([
            "# Written by `connector sandbox`: a connector config pointing at the running sandbox.",
            "# The tokens below are sandbox credentials, not secrets of any real system.",
            "[hubspot]",
            f'base_url = "{i.hubspot_base_url}"',
            'auth = "private_app"',
            f'access_token = "{i.hubspot_access_token}"',
            f'ca_bundle = "{i.ca_file}"',
            "",
            "[salesforce]",
            f'instance_url = "{i.salesforce_instance_url}"',
            'auth = "client_credentials"',
            f'client_id = "{i.salesforce_client_id}"',
            f'client_secret = "{i.salesforce_client_secret}"',
            f'api_version = "{i.salesforce_api_version}"',
            f'ca_bundle = "{i.ca_file}"',
            "",
            "[store]",
            f'url = "{store_url}"',
            "",
            *(["[mappings]", f'directory = "{mappings}"',
               ""] if (mappings := Path.cwd().resolve() / "mappings").is_dir()
              else []),
        ])

    # ---------------------------------------------------------------- control API

    def _control_routes(self, system: _System) -> Sequence[BaseRoute]:
        """Routes common to both emulators under /_sandbox (no auth, never counted or faulted)."""

        async def reset(_: Request) -> JSONResponse:
            for s in (self.hubspot, self.salesforce):
                s.state.reset()
                s.counter.reset()
            return JSONResponse({"ok": True})

        async def seed(request: Request) -> JSONResponse:
            body = await _json_body(request)
            try:
                people, seed_value = int(body.get("people", self.people)), int(body.get("seed", self.seed))
            except (TypeError, ValueError):
                return JSONResponse({"error": "people and seed must be integers"}, status_code=400)
            seconds = self.seed_people(people, seed_value)
            return JSONResponse({"ok": True, "people": people, "seed": seed_value, "seconds": round(seconds, 3)})

        async def clock(request: Request) -> JSONResponse:
            if request.method == "POST":
                body = await _json_body(request)
                if "set_ms" in body:
                    self.clock.set(int(body["set_ms"]))
                if "advance_ms" in body:
                    self.clock.advance(int(body["advance_ms"]))
                if body.get("freeze") is True:
                    self.clock.freeze(body.get("at_ms"))
                elif body.get("freeze") is False:
                    self.clock.unfreeze()
            return JSONResponse(self.clock.state())

        async def counters(request: Request) -> JSONResponse:
            if request.method == "DELETE":
                system.counter.reset()
            snapshot = system.counter.snapshot()
            return JSONResponse({"system": system.name, "total": sum(snapshot.values()), "by_endpoint": snapshot})

        async def faults(request: Request) -> JSONResponse:
            if request.method == "DELETE":
                system.faults.clear()
            elif request.method == "POST":
                body = await _json_body(request)
                try:
                    rules = body.get("rules", [body]) if isinstance(body, dict) else body
                    for rule in rules:
                        system.faults.add(FaultRule(**rule))
                except (TypeError, FaultSpecError) as exc:
                    return JSONResponse({"error": f"bad fault rule: {exc}"}, status_code=400)
            return JSONResponse({"system": system.name, "rules": system.faults.rules()})

        async def info(_: Request) -> JSONResponse:
            return JSONResponse(self.info().to_json())

        return [
            Route("/_sandbox/reset", reset, methods=["POST"]),
            Route("/_sandbox/seed", seed, methods=["POST"]),
            Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
            Route("/_sandbox/counters", counters, methods=["GET", "DELETE"]),
            Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/_sandbox/info", info, methods=["GET"]),
        ]


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def serve_forever(
    *,
    people: int,
    seed: int,
    config_out: Path | None,
    rate_limits: bool,
    faults: str | None,
    data_dir: Path | None,
    search_lag_ms: int | None = None,
    bulk_jobs: BulkTiming = "realistic",
) -> None:
    """Start the sandbox, print its JSON line, and serve until SIGTERM or SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sandbox = Sandbox(people=people, seed=seed, data_dir=data_dir, rate_limits=rate_limits, faults=faults,
                      search_lag_ms=search_lag_ms, bulk_jobs=bulk_jobs)
    with sandbox:
        payload = sandbox.info().to_json()
        if config_out is not None:
            config_out.parent.mkdir(parents=True, exist_ok=True)
            config_out.write_text(sandbox.connector_config(), encoding="utf-8")
            payload["config"] = str(config_out)
        payload["pid"] = os.getpid()
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
