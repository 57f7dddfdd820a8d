"""The daily budget: one definition of "remaining today", a configured limit the account can lower but never
raise, and a check that stops the run at its share (issue #12 item 4, issue #13 forecast)."""

from __future__ import annotations

import httpx
import pytest

from connector.systems.http import HttpLayer, RetryPolicy, StaticToken
from connector.systems.ledger import CallLedger
from connector.systems.pacing import BudgetExhausted, DailyBudget


def hubspot_headers(daily: int, left: int) -> dict[str, str]:
    return {"x-hubspot-ratelimit-daily": str(daily), "x-hubspot-ratelimit-daily-remaining": str(left)}


def test_a_larger_account_limit_never_raises_the_configured_one() -> None:
    budget = DailyBudget("hubspot", daily_limit=1000, share=0.06)
    budget.observe(hubspot_headers(625_000, 624_990))
    assert budget.limit == 1000 and budget.allowance == 60 and budget.remaining() == 60
    budget.spend(60)
    with pytest.raises(BudgetExhausted, match="60 of 60 calls = 6% of 1000"):
        budget.check()


def test_a_smaller_account_limit_lowers_it() -> None:
    budget = DailyBudget("hubspot", daily_limit=250_000, share=0.5)
    budget.observe(hubspot_headers(100_000, 99_000))
    assert budget.limit == 100_000 and budget.remaining() == 50_000


def test_the_http_layer_stops_at_the_share_whatever_the_headers_say() -> None:
    """The reported case: limit 1,000, share 0.06, the account saying 625,000: at most 60 calls go out."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={}, headers=hubspot_headers(625_000, 625_000 - len(sent)))

    budget = DailyBudget("hubspot", daily_limit=1000, share=0.06)
    layer = HttpLayer("hubspot", "https://api.example.test", auth=StaticToken("t"), ledger=CallLedger(), budget=budget,
                      retry=RetryPolicy(attempts=2), transport=httpx.MockTransport(answer), sleep=lambda s: None)
    with pytest.raises(BudgetExhausted):
        for _ in range(100):
            layer.request("GET", "/crm/v3/objects/contacts", object_type="contacts")
    assert len(sent) == 60


def test_remaining_today_is_one_figure_before_and_after_a_pull() -> None:
    """Issue #13: 125,000 before a pull, 312,427 after it. Now the pull's calls are all that move it."""
    before = DailyBudget("hubspot", daily_limit=250_000, share=0.5, prior_calls=10)
    assert before.remaining() == 125_000 - 10
    during = DailyBudget("hubspot", daily_limit=250_000, share=0.5, prior_calls=10)
    for n in range(1, 74):  # a pull of 73 calls; the account also reports the calls of other tools
        during.spend()
        during.observe(hubspot_headers(625_000, 625_000 - 500 - n))
    assert during.remaining() == 125_000 - 10 - 73
    next_run = DailyBudget("hubspot", daily_limit=250_000, share=0.5, prior_calls=10 + 73)
    assert next_run.remaining() == during.remaining()  # the next process, from the store's runs: the same


@pytest.mark.parametrize("daily,left", [(625_000, 625_000), (250_000, 250_000), (100_000, 99_000), (1_000, 10)])
def test_remaining_never_exceeds_share_of_the_configured_limit(daily: int, left: int) -> None:
    budget = DailyBudget("hubspot", daily_limit=250_000, share=0.5)
    budget.observe(hubspot_headers(daily, left))
    remaining = budget.remaining()
    assert remaining is not None and 0 <= remaining <= 125_000


def test_the_account_reserve_binds_when_others_spent_the_allowance() -> None:
    budget = DailyBudget("hubspot", daily_limit=250_000, share=0.5)
    budget.observe(hubspot_headers(250_000, 15_000))  # 235,000 used by other integrations
    assert budget.remaining() == 250_000 - 12_500 - 235_000


def test_salesforce_limit_is_the_orgs_own_and_unknown_until_it_reports() -> None:
    budget = DailyBudget("salesforce", daily_limit=None, share=0.5, prior_calls=3)
    assert budget.limit is None and budget.remaining() is None
    budget.check()  # unknown: the first call goes, and its answer tells the limit
    budget.spend()
    budget.observe({"sforce-limit-info": "api-usage=40/115000"})
    assert budget.limit == 115_000 and budget.remaining() == 57_500 - 4
    fresh = DailyBudget("salesforce", daily_limit=None, share=0.5, prior_calls=4)
    fresh.observe_account(limit=115_000, used=40)  # what GET /limits answers
    assert fresh.remaining() == budget.remaining()
