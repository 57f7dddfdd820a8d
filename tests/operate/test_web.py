"""The daemon's HTTP endpoint over a real store: health, readiness, the token, the metrics' figures and the
status page's escaping."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.operate.metrics import BudgetLimit
from connector.operate.state import DaemonState
from connector.operate.web import Server, build_app, start_server
from connector.store import open_engine
from connector.store.models import Link, ParkedRecord, Person, PersonScore, SourceRecord, SyncRun

NOW_MS = 1_796_000_000_000  # 2026-11-29
NOW = NOW_MS / 1000
HOUR_MS = 3_600_000
TOKEN = "test-token-4f9c2a"
HOSTILE_REASON = "<script>alert(1)</script> refused jane.doe@example.com"
HOSTILE_PERSON = '"><img src=x onerror=alert(2)>'


def _streams(**per: tuple[int, int, int]) -> dict[str, Any]:
    return {key.replace("__", ":"): {"mode": "incremental", "new": n, "changed": c, "unchanged": u, "echoes": 0}
            for key, (n, c, u) in per.items()}


def _written(system: str, obj: str, created: int, updated: int, rejected: int) -> dict[str, Any]:
    return {system: {obj: {"created": created, "updated": updated, "fields_written": 9, "rejected": rejected}}}


def _run(session: Session, command: str, status: str, started: int, calls: tuple[int, int],
         counts: dict[str, Any], error: str | None = None) -> None:
    session.add(SyncRun(command=command, status=status, started_at=started,
                        finished_at=None if status == "running" else started + 90_000,
                        api_calls={"hubspot": {"total": calls[0], "by_object": {}},
                                   "salesforce": {"total": calls[1], "by_object": {}}},
                        counts=counts, error=error))
    session.flush()


def seed(url: str) -> Engine:
    """A store with runs of every outcome (one older than a day), parked records (one hostile, one resolved)
    and people whose published SLA clocks read breached or not."""
    engine = open_engine(url)
    with Session(engine) as session, session.begin():
        _run(session, "pull", "ok", NOW_MS - 30 * HOUR_MS, (100, 50), _streams(hubspot__contacts=(7, 0, 0)))
        cycle = {"pull": {"seconds": 1.0, "streams": _streams(hubspot__contacts=(3, 2, 1), salesforce__Lead=(1, 4, 0)),
                          "api_calls": {}},
                 "push": {"written": {**_written("hubspot", "contacts", 1, 2, 1),
                                      **_written("salesforce", "Lead", 0, 3, 0)}},
                 "deals": {"push": {"written": _written("hubspot", "deals", 2, 0, 0)}}}
        _run(session, "sync", "ok", NOW_MS - 3 * HOUR_MS, (10, 4), cycle)
        _run(session, "sync", "partial", NOW_MS - 2 * HOUR_MS, (20, 6), cycle)
        _run(session, "sync", "failed", NOW_MS - HOUR_MS, (5, 0), {}, error="HubSpot answered 502 <b>twice</b>")
        _run(session, "sync", "running", NOW_MS - 60_000, (3, 1), {})
        parked = [("hubspot", "contacts", "101", "INVALID_EMAIL", HOSTILE_REASON, HOSTILE_PERSON, None),
                  ("hubspot", "contacts", "102", "INVALID_EMAIL", HOSTILE_REASON, "p-2", None),
                  ("salesforce", "Lead", "00Q1", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone required", "p-3", None),
                  ("salesforce", "Lead", "00Q2", "DUPLICATE_VALUE", "resolved since", "p-4", NOW_MS - HOUR_MS)]
        for system, obj, record, code, message, person, resolved in parked:
            session.add(ParkedRecord(system=system, object_type=obj, record_id=record, stage="push", code=code,
                                     message=message, hint="fix the value in the system, then `connector retry`",
                                     first_seen=NOW_MS - HOUR_MS, last_seen=NOW_MS - HOUR_MS, resolved_at=resolved,
                                     payload={"person_id": person}))
        # the published clocks: p1 breached in both systems (one person), p2 on time, p3's breached record
        # deleted, p4's breached record history only, p5 breached but never an MQL
        clocks = [("p1", "hubspot", "contacts", "h1", "Breached", False, "primary", True),
                  ("p1", "salesforce", "Lead", "00Qa", "Breached", False, "primary", True),
                  ("p2", "hubspot", "contacts", "h2", "On time", False, "primary", True),
                  ("p3", "hubspot", "contacts", "h3", "Breached", True, "primary", True),
                  ("p4", "salesforce", "Contact", "003d", "Breached", False, "history", True),
                  ("p6", "salesforce", "Contact", "003f", "Breached", False, "primary", True),
                  ("p5", "hubspot", "contacts", "h5", "Breached", False, "primary", False)]
        for pid in sorted({c[0] for c in clocks}):
            session.add(Person(id=pid, created_at=NOW_MS, updated_at=NOW_MS))
            mql = next(c[7] for c in clocks if c[0] == pid)
            session.add(PersonScore(person_id=pid, status="MQL" if mql else "Lead", status_since=NOW_MS,
                                    mql_at=NOW_MS - 50 * HOUR_MS if mql else None, breakdown=[], model_hash="m",
                                    inputs_digest="d", scored_at=NOW_MS))
        session.flush()
        for pid, system, obj, record, clock, deleted, role, _ in clocks:
            name = "connector_sla_state" if system == "hubspot" else "Connector_SLA_State__c"
            session.add(SourceRecord(system=system, object_type=obj, record_id=record, modified_at=NOW_MS,
                                     fetched_at=NOW_MS, deleted=deleted, data={name: clock}))
            session.add(Link(person_id=pid, system=system, object_type=obj, record_id=record, role=role,
                             reason="reconciled", linked_at=NOW_MS))
    return engine


def leader() -> DaemonState:
    return DaemonState(interval_s=60, started_at=NOW - 600, role="leader", last_run_at=NOW - 30,
                       last_run_status="completed", last_success_at=NOW - 30)


BUDGETS = {"hubspot": BudgetLimit(1_000, 0.5), "salesforce": BudgetLimit(None, 0.5)}
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def engine(tmp_path: Any) -> Iterator[Engine]:
    engine = seed(f"sqlite:///{tmp_path}/store.db")
    yield engine
    engine.dispose()


_servers: list[Server] = []


@pytest.fixture(autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    while _servers:
        _servers.pop().stop()


def client(engine: Engine, state: DaemonState | None = None, token: str | None = TOKEN, **kw: Any) -> httpx.Client:
    """An HTTP client of the endpoint served on a free loopback port (stopped after the test)."""
    app = build_app(engine, state or leader(), token=token, clock=lambda: NOW, budgets=BUDGETS, **kw)
    _servers.append(start_server(app, "127.0.0.1", 0))
    return httpx.Client(base_url=f"http://127.0.0.1:{_servers[-1].port}", timeout=60)


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by its name and sorted labels (parsed by prometheus_client)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def own(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The connector's samples (not the process's CPU and memory)."""
    return {k: v for k, v in metrics(text).items() if k[0].startswith("connector_")}


# -- health and readiness -------------------------------------------------------------------------------


def test_healthz_answers_without_the_token(engine: Engine) -> None:
    answer = client(engine).get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok\n")


@pytest.mark.parametrize(("state", "code", "reason"), [
    (leader(), 200, "ready: ok"),
    (DaemonState(interval_s=60, started_at=NOW - 600, role="standby"), 200, "ready: standby"),
    (DaemonState(interval_s=60, started_at=NOW - 5, role="starting"), 503, "not ready: starting"),
    (DaemonState(interval_s=60, started_at=NOW - 600, role="leader", last_success_at=NOW - 181), 503,
     "not ready: no successful run for 181 s"),
    (DaemonState(interval_s=60, started_at=NOW - 600, role="stopping"), 503, "not ready: stopping"),
])
def test_readyz_follows_the_daemon_state(engine: Engine, state: DaemonState, code: int, reason: str) -> None:
    answer = client(engine, state).get("/readyz")
    assert answer.status_code == code and answer.text.startswith(reason), answer.text


def test_readyz_is_not_ready_when_the_store_is_unreachable(tmp_path: Any) -> None:
    gone = create_engine(f"sqlite:///{tmp_path}/no/such/directory/store.db")  # cannot be opened
    answer = client(gone).get("/readyz")
    assert answer.status_code == 503
    assert answer.text == "not ready: the state store is unreachable (OperationalError)\n"
    answer = client(gone).get("/healthz")  # alive all the same: a restart would not bring the store back
    assert answer.status_code == 200


def test_readyz_gives_up_on_a_store_that_never_answers() -> None:
    """A server that accepts the connection and never speaks (a hung PostgreSQL): the probe's bound answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        hung = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")
        app = client(hung, store_probe_timeout_s=0.2)
        first = app.get("/readyz")
        second = app.get("/readyz")  # shares the check still waiting: no second thread
    assert (first.status_code, second.status_code) == (503, 503)
    assert first.text == "not ready: the state store did not answer within 0.2 s\n"
    hung.dispose()


# -- the token --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/metrics", "/"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Bearer {TOKEN}x"},
                                     {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()},
                                     {"Authorization": "Basic !!!"}])
def test_metrics_and_page_refuse_without_the_token(engine: Engine, path: str, headers: dict[str, str]) -> None:
    answer = client(engine).get(path, headers=headers)
    assert answer.status_code == 401
    # a scraper is asked for a bearer token; a browser for the token as its sign-in dialog's password
    assert answer.headers["www-authenticate"].startswith("Bearer" if path == "/metrics" else "Basic")
    assert "connector_runs_total" not in answer.text and "Last runs" not in answer.text


@pytest.mark.parametrize("headers", [BEARER, {"Authorization": "Basic " + base64.b64encode(
    f"anyone:{TOKEN}".encode()).decode()}])
def test_the_token_opens_metrics_and_page(engine: Engine, headers: dict[str, str]) -> None:
    app = client(engine)
    assert app.get("/metrics", headers=headers).status_code == 200
    page = app.get("/", headers=headers)
    assert page.status_code == 200 and "Last runs" in page.text


def test_without_a_token_metrics_and_page_are_open(engine: Engine) -> None:
    app = client(engine, token=None)
    assert app.get("/metrics").status_code == 200
    assert app.get("/").status_code == 200


# -- metrics ----------------------------------------------------------------------------------------------


def check_figures(engine: Engine) -> None:
    """The seeded store's figures, as /metrics serves them."""
    answer = client(engine).get("/metrics", headers=BEARER)
    assert answer.headers["content-type"].startswith("text/plain; version=")
    got = metrics(answer.text)
    runs = {labels: v for (name, labels), v in got.items() if name == "connector_runs_total"}
    assert runs == {(("command", "pull"), ("status", "ok")): 1, (("command", "sync"), ("status", "ok")): 1,
                    (("command", "sync"), ("status", "partial")): 1, (("command", "sync"), ("status", "failed")): 1}
    per_object = {(name, labels): v for (name, labels), v in got.items() if name.startswith("connector_records_")}
    hs, lead = (("object", "contacts"), ("system", "hubspot")), (("object", "Lead"), ("system", "salesforce"))
    deals = (("object", "deals"), ("system", "hubspot"))
    assert per_object == {
        ("connector_records_pulled_total", hs): 7 + 2 * 6, ("connector_records_pulled_total", lead): 2 * 5,
        ("connector_records_written_total", hs): 2 * 3, ("connector_records_written_total", lead): 2 * 3,
        ("connector_records_written_total", deals): 2 * 2,
        ("connector_records_rejected_total", hs): 2, ("connector_records_rejected_total", lead): 0,
        ("connector_records_rejected_total", deals): 0,
        ("connector_records_parked", hs): 2, ("connector_records_parked", lead): 1}
    assert got[("connector_api_calls_total", (("system", "hubspot"),))] == 100 + 10 + 20 + 5  # ended runs
    # the daily budget counts the last 24 hours' runs, the one in progress included
    assert got[("connector_api_calls_last_24h", (("system", "hubspot"),))] == 10 + 20 + 5 + 3
    assert got[("connector_api_calls_last_24h", (("system", "salesforce"),))] == 4 + 6 + 0 + 1
    assert got[("connector_api_calls_remaining", (("system", "hubspot"),))] == 500 - 38
    assert ("connector_api_calls_remaining", (("system", "salesforce"),)) not in got  # the org's limit: unknown
    assert got[("connector_sync_lag_seconds", ())] == 2 * 3600  # the partial sync: completed, records parked
    assert got[("connector_sla_breached_people", ())] == 2  # p1 (once, though breached in both) and p6
    assert got[("connector_store_up", ())] == 1
    assert got[("connector_daemon_role", (("role", "leader"),))] == 1
    assert got[("connector_daemon_role", (("role", "standby"),))] == 0
    assert got[("connector_daemon_ready", ())] == 1
    assert got[("connector_daemon_paused", ())] == 0


def test_metrics_are_the_stores_figures(engine: Engine) -> None:
    check_figures(engine)


@pytest.mark.postgres
def test_metrics_are_the_stores_figures_on_postgresql(postgres_database: str) -> None:
    from sqlalchemy import text

    reset = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with reset.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    reset.dispose()
    engine = seed(postgres_database)
    try:
        check_figures(engine)
    finally:
        engine.dispose()


def test_the_budgets_are_the_configured_ones() -> None:
    from connector.config import ConnectorConfig
    from connector.operate.metrics import budget_limits

    configured = ConnectorConfig.model_validate({
        "hubspot": {"access_token": "pat-na1-0000", "daily_limit": 1_000_000, "daily_budget_share": 0.25},
        "salesforce": {"client_id": "id", "client_secret": "secret", "daily_budget_share": 0.3}})
    assert budget_limits(configured) == {"hubspot": BudgetLimit(1_000_000, 0.25), "salesforce": BudgetLimit(None, 0.3)}
    sandboxed = ConnectorConfig.model_validate({"sandbox": {"enabled": True}})
    assert budget_limits(sandboxed) == {"hubspot": BudgetLimit(250_000, 0.5), "salesforce": BudgetLimit(None, 0.5)}


def test_metrics_count_each_run_once_and_survive_a_restart(engine: Engine) -> None:
    """A second scrape adds nothing; the run in progress counts once it ends; a new app (a restarted daemon)
    serves the same figures."""
    app = client(engine)
    first = own(app.get("/metrics", headers=BEARER).text)
    assert own(app.get("/metrics", headers=BEARER).text) == first
    with Session(engine) as session, session.begin():
        running = session.exec(select(SyncRun).where(SyncRun.status == "running")).one()
        running.status, running.finished_at = "ok", NOW_MS
        running.counts = {"pull": {"streams": _streams(hubspot__contacts=(0, 5, 0))}}
    after = own(app.get("/metrics", headers=BEARER).text)
    pulled = ("connector_records_pulled_total", (("object", "contacts"), ("system", "hubspot")))
    assert after[pulled] == first[pulled] + 5
    assert after[("connector_api_calls_total", (("system", "hubspot"),))] == 135 + 3
    assert after[("connector_runs_total", (("command", "sync"), ("status", "ok")))] == 2
    assert own(client(engine).get("/metrics", headers=BEARER).text) == after


def test_until_the_runs_history_is_read_its_figures_are_left_out(engine: Engine,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A long history is read in the background: a scrape meanwhile serves everything else, not low counters."""
    import threading

    from connector.operate import metrics as module

    release = threading.Event()
    real = module.run_totals

    def held(*args: Any) -> Any:
        release.wait(60)
        return real(*args)

    monkeypatch.setattr(module, "run_totals", held)
    collector = module.StoreCollector(engine, leader(), BUDGETS, lambda: NOW, history_wait_s=0.05)
    names = {m.name for m in collector.collect()}
    assert not names & {"connector_runs", "connector_records_pulled", "connector_records_written",
                        "connector_records_rejected", "connector_api_calls"}
    assert {"connector_store_up", "connector_records_parked", "connector_api_calls_last_24h"} <= names
    release.set()
    assert collector._totals.caught_up.wait(60)
    figures = {s.name: s.value for m in collector.collect() for s in m.samples}
    assert figures["connector_runs_total"] > 0 and figures["connector_records_pulled_total"] > 0


def test_metrics_without_the_store_serve_the_daemons_own(tmp_path: Any) -> None:
    gone = create_engine(f"sqlite:///{tmp_path}/no/such/directory/store.db")
    state = DaemonState(interval_s=60, started_at=NOW, role="standby", mappings_problem="bad rule")
    answer = client(gone, state).get("/metrics", headers=BEARER)
    got = metrics(answer.text)
    assert answer.status_code == 200
    assert got[("connector_store_up", ())] == 0
    assert got[("connector_daemon_role", (("role", "standby"),))] == 1
    assert got[("connector_daemon_mappings_ok", ())] == 0
    assert not any(name.startswith("connector_runs") for name, _ in got)


# -- the status page --------------------------------------------------------------------------------------


def test_the_page_shows_runs_parked_records_budgets_and_the_funnel(engine: Engine) -> None:
    page = client(engine).get("/", headers=BEARER)
    text = page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    for shown in ("leader", "Last runs", "partial", "Parked records (3)", "INVALID_EMAIL",
                  "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fix the value in the system, then `connector retry`",
                  "API budgets", "500", "462", "Funnel (last 12 months)", "p-2", "p-3", "7,200 s ago",
                  "2 (as published to the systems)"):
        assert shown in text, shown
    assert "p-4" not in text  # resolved: not parked any more


def test_the_page_escapes_every_value_and_shows_no_address(engine: Engine) -> None:
    text = client(engine).get("/", headers=BEARER).text
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    assert "HubSpot answered 502 &lt;b&gt;twice&lt;/b&gt;" in text
    assert "jane.doe@example.com" not in text and "[email]" in text


def test_the_sign_in_page_says_how_to_give_the_token(engine: Engine) -> None:
    page = client(engine).get("/")
    assert page.status_code == 401 and "Sign-in required" in page.text and "Authorization: Bearer" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_page_without_the_store_shows_the_daemon(tmp_path: Any) -> None:
    gone = create_engine(f"sqlite:///{tmp_path}/no/such/directory/store.db")
    page = client(gone).get("/", headers=BEARER)
    assert page.status_code == 200
    assert "the state store did not answer (OperationalError)" in page.text and "leader" in page.text


# -- the server -------------------------------------------------------------------------------------------


def test_the_server_serves_on_a_free_port_and_stops(engine: Engine) -> None:
    server = start_server(build_app(engine, leader(), token=TOKEN, clock=lambda: NOW), "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.port}"
    kept_alive = httpx.Client(base_url=base, timeout=30)
    try:
        assert server.port > 0
        assert kept_alive.get("/healthz").text == "ok\n"
        assert kept_alive.head("/healthz").status_code == 200  # what a container's health check may send
        assert kept_alive.get("/metrics").status_code == 401
        scraped = kept_alive.get("/metrics", headers=BEARER)
        assert metrics(scraped.text)[("connector_store_up", ())] == 1
    finally:
        server.stop()  # with the client's connection still open
        kept_alive.close()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/healthz", timeout=30)


def test_a_port_in_use_is_refused_at_once(engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(OSError):
            start_server(build_app(engine, leader(), token=None), "127.0.0.1", taken.getsockname()[1])


def test_the_databases_sums_are_the_runs_figures(store_url: str, capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the runs a real demo recorded (people, deals, scores: the shapes `connector.sync.results` writes), the
    sums the database makes for the metrics equal the figures the status page reads from each run."""
    monkeypatch.chdir(tmp_path)  # the demo writes its config for a PostgreSQL store into the working directory
    from collections import Counter

    from connector.cli import main
    from connector.store.operations import (ended_through, pulled_per_object, recent_run_rows, run_totals,
                                            written_per_object)

    assert main(["demo", "--people", "60", "--seed", "7", "--store", store_url, "--rate-limits", "off",
                 "--search-lag", "0", "--bulk-jobs", "instant", "--json"]) == 0
    capsys.readouterr()
    engine = open_engine(store_url)
    try:
        runs = recent_run_rows(engine, limit=100)
        pulled: Counter[tuple[str, str]] = Counter()
        written: Counter[tuple[str, str]] = Counter()
        rejected: Counter[tuple[str, str]] = Counter()
        calls: Counter[str] = Counter()
        for run in runs:
            pulled.update(pulled_per_object(run.counts))
            for key, (done, refused) in written_per_object(run.counts).items():
                written[key] += done
                rejected[key] += refused
            calls.update({system: c["total"] for system, c in run.api_calls.items()})
        totals = run_totals(engine, 0, ended_through(engine, 0))
    finally:
        engine.dispose()
    assert len(runs) >= 2 and sum(written.values()) > 0 and sum(pulled.values()) > 0
    assert (totals.pulled, totals.written, totals.rejected, totals.calls) == (
        dict(pulled), dict(written), dict(rejected), dict(calls))
    assert totals.outcomes == dict(Counter((run.command, run.status) for run in runs))


def test_the_page_counts_every_parked_record_beyond_the_ones_it_groups(tmp_path: Any) -> None:
    """The page groups the newest 200 parked records; its count is of all of them, and says so."""
    engine = open_engine(f"sqlite:///{tmp_path}/many.db")
    with Session(engine) as session, session.begin():
        for i in range(203):
            session.add(ParkedRecord(system="hubspot", object_type="contacts", record_id=str(i), stage="push",
                                     code="INVALID_EMAIL", message="bad", hint="fix it", first_seen=i, last_seen=i,
                                     payload={}))
    text = client(engine).get("/", headers=BEARER).text
    assert "Parked records (203; the newest 200 grouped below)" in text
