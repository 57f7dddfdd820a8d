"""The HTTP layer against scripted transports: counting, retries, Retry-After, refresh, budget, malformed bodies."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from connector.errors import RetryLater
from connector.systems.http import ApiError, ErrorInfo, HttpLayer, MalformedResponse, RetryPolicy, TransientApiError
from connector.systems.ledger import CallLedger
from connector.systems.pacing import BudgetExhausted, DailyBudget, WindowPacer, parse_sforce_limit_info


class Script:
    """A transport that answers from a list of handlers, one per request, recording what it saw."""

    def __init__(self, *answers: Callable[[httpx.Request], httpx.Response] | httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer


class FakeAuth:
    def __init__(self, can_refresh: bool = True) -> None:
        self.token, self.refreshes, self.can_refresh = "t1", 0, can_refresh

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def refresh(self) -> bool:
        self.refreshes += 1
        if self.can_refresh:
            self.token = f"t{self.refreshes + 1}"
        return self.can_refresh


def make(script: Script, *, budget: DailyBudget | None = None, auth: FakeAuth | None = None,
         sleeps: list[float] | None = None, attempts: int = 4) -> tuple[HttpLayer, CallLedger]:
    ledger = CallLedger()
    layer = HttpLayer(
        "hubspot", "https://api.example.test", auth=auth or FakeAuth(), ledger=ledger, budget=budget,
        retry=RetryPolicy(attempts=attempts, initial=0.5, maximum=8.0),
        describe=lambda r: ErrorInfo(code=r.json().get("category", "?"), message=r.json().get("message", ""),
                                     hint="do the thing"),
        transport=httpx.MockTransport(script), sleep=(sleeps.append if sleeps is not None else lambda s: None),
    )
    return layer, ledger


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"results": []})


def test_counts_every_request_per_object_including_retries() -> None:
    script = Script(httpx.Response(503, json={}), ok({"a": 1}), ok({"b": 2}))
    layer, ledger = make(script)
    assert layer.json("GET", "/crm/v3/objects/contacts", object_type="contacts") == {"a": 1}
    assert layer.json("POST", "/crm/v3/objects/deals/search", object_type="deals", json_body={}) == {"b": 2}
    assert ledger.snapshot() == {"hubspot": {"total": 3, "by_object": {"contacts": 2, "deals": 1}}}


def test_429_with_retry_after_waits_exactly_that_long() -> None:
    sleeps: list[float] = []
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}, json={}), ok())
    layer, ledger = make(script, sleeps=sleeps)
    layer.request("GET", "/x", object_type="contacts")
    assert sleeps == [7.0] and ledger.total() == 2


def test_429_without_retry_after_backs_off_with_jitter_within_bounds() -> None:
    sleeps: list[float] = []
    script = Script(httpx.Response(429, json={}), httpx.Response(429, json={}), ok())
    layer, _ = make(script, sleeps=sleeps)
    layer.request("GET", "/x", object_type="contacts")
    assert len(sleeps) == 2 and all(0 <= s <= 8.0 for s in sleeps)


def test_503_storm_ends_in_retry_later_after_the_attempts() -> None:
    script = Script(httpx.Response(503, json={}))
    layer, ledger = make(script, attempts=4)
    with pytest.raises(TransientApiError) as caught:
        layer.request("GET", "/crm/v3/objects/contacts", object_type="contacts")
    assert isinstance(caught.value, RetryLater)
    assert "after 4 attempts" in str(caught.value) and ledger.total() == 4


def test_timeouts_and_dropped_connections_are_retried() -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("peer closed"), ok({"fine": True}))
    layer, ledger = make(script)
    assert layer.json("GET", "/x", object_type="contacts") == {"fine": True}
    assert ledger.total() == 3


def test_expired_token_is_refreshed_once_and_the_request_sent_again() -> None:
    auth = FakeAuth()
    script = Script(lambda r: httpx.Response(401, json={"category": "EXPIRED_AUTHENTICATION", "message": "expired"})
                    if r.headers["Authorization"] == "Bearer t1" else ok({"token": r.headers["Authorization"]}))
    layer, ledger = make(script, auth=auth)
    assert layer.json("GET", "/x", object_type="contacts") == {"token": "Bearer t2"}
    assert auth.refreshes == 1 and ledger.total() == 2


def test_401_that_cannot_be_refreshed_says_what_to_fix() -> None:
    script = Script(httpx.Response(401, json={"category": "INVALID_AUTHENTICATION", "message": "bad token"}))
    layer, _ = make(script, auth=FakeAuth(can_refresh=False))
    with pytest.raises(ApiError) as caught:
        layer.request("GET", "/x", object_type="contacts")
    assert caught.value.code == "INVALID_AUTHENTICATION" and "fix:" in str(caught.value)


def test_non_retryable_error_carries_the_system_code_message_and_hint() -> None:
    script = Script(httpx.Response(400, json={"category": "VALIDATION_ERROR", "message": "Property x does not exist"}))
    layer, ledger = make(script)
    with pytest.raises(ApiError) as caught:
        layer.request("POST", "/crm/v3/objects/contacts/batch/update", object_type="contacts")
    err = caught.value
    assert (err.status, err.code, err.vendor_message) == (400, "VALIDATION_ERROR", "Property x does not exist")
    assert "POST /crm/v3/objects/contacts/batch/update" in str(err) and ledger.total() == 1


def test_spent_budget_stops_before_sending_anything() -> None:
    script = Script(ok())
    budget = DailyBudget("salesforce", daily_limit=1000, share=0.5, prior_calls=499)
    layer, ledger = make(script, budget=budget)
    layer.request("GET", "/x", object_type="Lead")
    with pytest.raises(BudgetExhausted) as caught:
        layer.request("GET", "/x", object_type="Lead")
    assert isinstance(caught.value, RetryLater) and "500 of 500" in str(caught.value)
    assert len(script.requests) == 1 and ledger.total() == 1


def test_budget_follows_salesforce_org_usage_and_keeps_a_reserve() -> None:
    budget = DailyBudget("salesforce", daily_limit=15000, share=1.0)
    budget.observe({"sforce-limit-info": "api-usage=14200/15000"})
    assert budget.daily_limit == 15000 and budget.account_used == 14200
    assert budget.remaining() == 15000 - 750 - 14200  # 5% reserve for the org's other tools
    budget.observe({"sforce-limit-info": "api-usage=14300/15000"})
    with pytest.raises(BudgetExhausted):
        budget.check(100)
    assert parse_sforce_limit_info("api-usage=18/5000") == (18, 5000)
    assert parse_sforce_limit_info("garbage") is None


def test_budget_reads_hubspot_daily_headers_as_usage_and_never_raises_the_configured_limit() -> None:
    budget = DailyBudget("hubspot", daily_limit=250000, share=0.5)
    budget.observe({"x-hubspot-ratelimit-daily": "625000", "x-hubspot-ratelimit-daily-remaining": "600000"})
    assert budget.account_used == 25000 and budget.limit == 250000 and budget.allowance == 125000
    budget.observe({"x-hubspot-ratelimit-daily": "100000", "x-hubspot-ratelimit-daily-remaining": "90000"})
    assert budget.limit == 100000 and budget.allowance == 50000  # a lower real limit lowers it


def test_malformed_body_is_asked_again_then_reported_without_storing_anything() -> None:
    garbled = httpx.Response(200, content=b'{"results": [', headers={"content-type": "application/json"})
    layer, ledger = make(Script(garbled, ok({"results": [1]})))
    assert layer.json("GET", "/x", object_type="contacts") == {"results": [1]}
    layer, ledger = make(Script(garbled), attempts=4)
    with pytest.raises(MalformedResponse, match="no cursor moved"):
        layer.json("GET", "/x", object_type="contacts")
    assert ledger.total() == 2


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_window_pacer_never_exceeds_its_limit_in_any_window() -> None:
    clock = FakeClock()
    pacer = WindowPacer(limit=10, window=1.0, headroom=0.5, clock=clock, sleep=clock.sleep)  # 5 per second
    times = []
    for _ in range(23):
        pacer.acquire()
        times.append(clock.now)
        clock.now += 0.01
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= 5
    assert times[-1] - times[0] < 5.0  # and it does not wait more than needed


def test_window_pacer_pauses_when_hubspot_says_the_interval_is_nearly_used() -> None:
    clock = FakeClock()
    pacer = WindowPacer(limit=190, window=10.0, clock=clock, sleep=clock.sleep)
    pacer.observe({"x-hubspot-ratelimit-max": "190", "x-hubspot-ratelimit-remaining": "150",
                   "x-hubspot-ratelimit-interval-milliseconds": "10000"})
    assert pacer.delay() == 0
    pacer.observe({"x-hubspot-ratelimit-max": "190", "x-hubspot-ratelimit-remaining": "3",
                   "x-hubspot-ratelimit-interval-milliseconds": "10000"})
    assert 0 < pacer.delay() <= 10.0


def test_streamed_response_is_retried_before_reading_and_closed_after() -> None:
    body = b"".join(b"%d,row\n" % i for i in range(10_000))
    script = Script(httpx.Response(503, json={"category": "X", "message": "busy"}), httpx.Response(200, content=body))
    layer, ledger = make(script)
    with layer.streamed("GET", "/results", object_type="Lead") as response:
        lines = sum(1 for _ in response.iter_lines())
    assert lines == 10_000 and response.is_closed and ledger.total() == 2
