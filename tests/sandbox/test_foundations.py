"""The sandbox's shared parts: clock, Salesforce ids, fault plans and middleware, call counters, TLS serving."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.sandbox.clock import SandboxClock, datetime_to_ms, ms_to_datetime
from connector.sandbox.counters import CallCounter, CountingMiddleware
from connector.sandbox.faults import FaultMiddleware, FaultPlan, FaultRule, FaultSpecError
from connector.sandbox.http import ServerThread
from connector.sandbox.salesforce.ids import KEY_PREFIXES, id_counter, make_id, prefix_object, to_18
from connector.sandbox.tls import make_tls


def test_clock_freezes_sets_and_advances() -> None:
    clock = SandboxClock(start_ms=1_700_000_000_000)
    assert abs(clock.now_ms() - 1_700_000_000_000) < 1000
    frozen = clock.freeze(1_700_000_000_500)
    time.sleep(0.01)
    assert clock.now_ms() == frozen == 1_700_000_000_500
    assert clock.advance(250) == 1_700_000_000_750
    clock.set(1_800_000_000_000)
    assert clock.now_ms() == 1_800_000_000_000
    clock.unfreeze()
    time.sleep(0.01)
    assert 1_800_000_000_000 < clock.now_ms() < 1_800_000_001_000
    assert datetime_to_ms(ms_to_datetime(1_700_000_000_123)) == 1_700_000_000_123


def test_salesforce_ids_have_prefix_checksum_and_round_trip() -> None:
    lead = make_id("Lead", 12345)
    assert len(lead) == 18 and lead.startswith(KEY_PREFIXES["Lead"])
    assert to_18(lead[:15]) == lead
    assert id_counter(lead) == 12345 and prefix_object(lead) == "Lead"
    # the 3-character suffix encodes the case of the 15 characters: ids differing only in case differ
    assert to_18("00Q5g00000000aB")[15:] != to_18("00Q5g00000000AB")[15:]
    assert len({make_id("Contact", n) for n in range(5000)}) == 5000


def test_salesforce_checksum_matches_published_examples() -> None:
    # worked examples of CASESAFEID() published by Salesforce practitioners
    assert to_18("a0D30000001n7Pi") == "a0D30000001n7PiEAI"
    assert to_18("0019000000B98de") == "0019000000B98deAAB"


def test_fault_spec_parses_rates_counts_and_paths() -> None:
    plan = FaultPlan.parse("503:0.5, 429-retry@/crm/*/search:x2, drop@*query*")
    rules = plan.rules()
    assert [r["kind"] for r in rules] == ["503", "429-retry", "drop"]
    assert rules[0]["rate"] == 0.5 and rules[1]["count"] == 2 and rules[2]["rate"] == 1.0
    with pytest.raises(FaultSpecError, match="unknown fault kind 'teapot'"):
        FaultPlan.parse("teapot:0.1")
    with pytest.raises(FaultSpecError, match="neither a rate"):
        FaultPlan.parse("503:often")


def test_scripted_fault_fires_after_skipping_and_only_count_times() -> None:
    plan = FaultPlan([FaultRule(kind="503", path="/x", count=2, after=1)])
    fired = [plan.pick("GET", "/x") is not None for _ in range(5)]
    assert fired == [False, True, True, False, False]
    assert plan.pick("GET", "/y") is None


def test_rate_faults_are_deterministic_per_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan([FaultRule(kind="500", rate=0.3)], seed=seed)
        return [plan.pick("GET", "/a") is not None for _ in range(200)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 30 < sum(pattern(1)) < 90


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return make_tls(Path(tmp_path_factory.mktemp("tls")))


def test_served_app_counts_calls_and_applies_faults(tls) -> None:  # type: ignore[no-untyped-def]
    async def record(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["recordId"], "items": list(range(50))})

    async def control(_: Request) -> JSONResponse:
        return JSONResponse({"control": True})

    def render(rule: FaultRule) -> Response:
        headers = {"Retry-After": str(int(rule.retry_after))} if rule.kind == "429-retry" else {}
        return JSONResponse({"fault": rule.kind}, status_code=int(rule.kind[:3]), headers=headers)

    counter = CallCounter()
    plan = FaultPlan()
    app = Starlette(routes=[Route("/objects/{recordId}", record), Route("/_sandbox/info", control)])
    served = CountingMiddleware(FaultMiddleware(app, plan, render), counter)
    verify = ssl.create_default_context(cafile=str(tls.ca_file))
    with ServerThread(served, tls) as server, httpx.Client(base_url=server.url, verify=verify) as client:
        assert client.get("/objects/7").json()["id"] == "7"
        plan.add(FaultRule(kind="429-retry", path="/objects/*", count=1, retry_after=3))
        limited = client.get("/objects/8")
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        plan.add(FaultRule(kind="malformed", path="/objects/*", count=1))
        with pytest.raises(ValueError):
            client.get("/objects/9").json()
        plan.add(FaultRule(kind="drop", path="/objects/*", count=1))
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/objects/10")
        plan.add(FaultRule(kind="503", path="/_sandbox/*", count=5))
        assert client.get("/_sandbox/info").json() == {"control": True}  # control API: never faulted
    counts = counter.snapshot()
    assert counts["GET /objects/{recordId}"] == 2  # the calls that reached the router
    assert sum(counts.values()) == 4 and "GET /_sandbox/info" not in counts
