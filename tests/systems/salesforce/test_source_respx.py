"""SalesforceSource against respx: the token request, query paging, the two kinds of REQUEST_LIMIT_EXCEEDED,
re-authentication on INVALID_SESSION_ID and the usage header, with exact call counts and no sandbox (the
injected sleep only records: no test waits)."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from connector.errors import ConfigError, RetryLater
from connector.systems.http import ApiError, MalformedResponse, TransientApiError
from connector.systems.pacing import BudgetExhausted
from tests.systems.respx_vendors import (
    ATTEMPTS,
    SF_API,
    SF_GRANT,
    SF_TOKEN,
    salesforce,
    sf_error,
    sf_granted,
    sf_query,
    sf_record,
)

QUERY_ALL = f"{SF_API}/queryAll/"


def form_of(call: respx.models.Call) -> dict[str, str]:
    return dict(httpx.QueryParams(call.request.content.decode()))


# ---------------------------------------------------------------------------------------------- token request


def test_a_grant_signs_the_api_calls_and_is_not_an_api_call(router: respx.Router, sleeps: list[float]) -> None:
    token = sf_granted(router)
    api = router.get(QUERY_ALL).mock(return_value=httpx.Response(200, json=sf_query([])))
    source, ledger = salesforce(router, sleeps)
    source.authenticate()
    assert list(source.query_pages("SELECT Id FROM Lead", object_type="Lead")) == []
    assert token.call_count == 1 and api.call_count == 1 and ledger.total() == 1
    assert form_of(token.calls[0]) == {"client_id": "3MVG9client", "grant_type": "client_credentials",
                                       "client_secret": "consumer-secret-1234"}
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {SF_GRANT['access_token']}"


def test_invalid_grant_is_a_configuration_error_and_not_retried(router: respx.Router, sleeps: list[float]) -> None:
    """OAuth error body (api-facts.md B1 🟡): ``{"error", "error_description"}``."""
    token = router.post(SF_TOKEN).mock(return_value=httpx.Response(
        400, json={"error": "invalid_grant", "error_description": "authentication failure"}))
    source, _ = salesforce(router, sleeps, auth="password", username="ops@acme.test",
                           password=SecretStr("hunter2-Password"), security_token=SecretStr("TOKEN123"))
    with pytest.raises(ConfigError) as caught:
        source.authenticate()
    problem = caught.value.problems[0]
    assert problem.key == "[salesforce].auth = 'password'" and "security_token" in problem.hint
    assert token.call_count == 1 and sleeps == []
    assert form_of(token.calls[0])["password"] == "hunter2-PasswordTOKEN123"  # security token appended (B1)


def test_a_503_from_the_token_endpoint_is_retried(router: respx.Router, sleeps: list[float]) -> None:
    token = router.post(SF_TOKEN).mock(side_effect=[
        httpx.Response(503, text="<html>Service Unavailable</html>", headers={"Retry-After": "2"}),
        httpx.Response(200, json=SF_GRANT)])
    source, ledger = salesforce(router, sleeps)
    source.authenticate()
    assert token.call_count == 2 and sleeps == [2.0] and source.auth.grants == 1 and ledger.total() == 0


def test_a_token_body_that_is_not_json_is_a_clear_malformed_response(router: respx.Router, sleeps: list[float]
                                                                     ) -> None:
    token = router.post(SF_TOKEN).mock(return_value=httpx.Response(
        200, content=b'{"access_token": "00Dxx!AQ', headers={"content-type": "application/json"}))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="token request .* not a JSON object") as caught:
        source.authenticate()
    assert "00Dxx!AQ" not in str(caught.value)  # the body can hold credentials: never shown
    assert token.call_count == ATTEMPTS


# ---------------------------------------------------------------------------------------------- query paging


def test_query_follows_next_records_url_until_done(router: respx.Router, sleeps: list[float]) -> None:
    """SF-QUERY (api-facts.md B2): ``done`` false plus ``nextRecordsUrl``; that URL is fetched as is."""
    sf_granted(router)
    more1 = "/services/data/v62.0/query/01gRO0000016PIAYA2-2000"
    more2 = "/services/data/v62.0/query/01gRO0000016PIAYA2-4000"
    first = router.get(QUERY_ALL).mock(return_value=httpx.Response(200, json=sf_query(
        [sf_record("Lead", "00Q1"), sf_record("Lead", "00Q2")], next_url=more1, total=4)))
    second = router.get(f"{SF_API}/query/01gRO0000016PIAYA2-2000").mock(return_value=httpx.Response(
        200, json=sf_query([sf_record("Lead", "00Q3")], next_url=more2, total=4)))
    third = router.get(f"{SF_API}/query/01gRO0000016PIAYA2-4000").mock(return_value=httpx.Response(
        200, json=sf_query([sf_record("Lead", "00Q4")], total=4)))
    source, ledger = salesforce(router, sleeps)
    pages = list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert [[r["Id"] for r in p] for p in pages] == [["00Q1", "00Q2"], ["00Q3"], ["00Q4"]]
    assert (first.call_count, second.call_count, third.call_count) == (1, 1, 1)
    assert ledger.snapshot()["salesforce"] == {"total": 3, "by_object": {"Lead": 3}}
    assert first.calls[0].request.url.params["q"] == "SELECT Id FROM Lead"
    assert second.calls[0].request.url.params == httpx.QueryParams()  # query-more takes no parameters
    for route in (first, second, third):
        assert route.calls[0].request.headers["Sforce-Query-Options"] == "batchSize=2000"


def test_a_query_answer_without_records_is_malformed(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.get(QUERY_ALL).mock(return_value=httpx.Response(200, json={"totalSize": 0, "done": True}))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="query response without records"):
        list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert route.call_count == 1


# ---------------------------------------------------------------------------------------------- limits and sessions


def test_the_daily_total_is_the_budget_and_is_not_retried(router: respx.Router, sleeps: list[float]) -> None:
    """403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." (SF-ERR; message as SalesforceLabs/OrgCheck#181)."""
    sf_granted(router)
    route = router.get(QUERY_ALL).mock(return_value=sf_error(403, "REQUEST_LIMIT_EXCEEDED",
                                                             "TotalRequests Limit exceeded."))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(BudgetExhausted, match="TotalRequests"):
        list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert route.call_count == 1 and sleeps == []


def test_the_concurrency_limit_is_retried(router: respx.Router, sleeps: list[float]) -> None:
    """The same code for the concurrent long-running limit (SF-LIMITS, B8; message as mautic/mautic#5006) clears
    as soon as the org's long requests finish: retried, not taken for the daily budget."""
    sf_granted(router)
    route = router.get(QUERY_ALL).mock(side_effect=[
        sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.",
                 headers={"Sforce-Limit-Info": "api-usage=18/5000"}),
        httpx.Response(200, json=sf_query([sf_record("Lead", "00Q1")]))])
    source, ledger = salesforce(router, sleeps)
    assert len(list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))) == 1
    assert route.call_count == 2 and len(sleeps) == 1 and ledger.total() == 2


def test_a_concurrency_limit_that_lasts_is_try_again_later(router: respx.Router, sleeps: list[float]) -> None:
    sf_granted(router)
    route = router.get(QUERY_ALL).mock(return_value=sf_error(403, "REQUEST_LIMIT_EXCEEDED",
                                                             "ConcurrentPerOrgLongTxn Limit exceeded."))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(TransientApiError) as caught:
        list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert isinstance(caught.value, RetryLater) and not isinstance(caught.value, BudgetExhausted)
    assert route.call_count == ATTEMPTS


def test_an_expired_session_is_granted_again_once(router: respx.Router, sleeps: list[float]) -> None:
    """401 INVALID_SESSION_ID "Session expired or invalid" (SF-ERR; api-facts.md B7 🟡)."""
    token = sf_granted(router, "00Dxx!first", "00Dxx!second")
    route = router.get(QUERY_ALL).mock(side_effect=[
        sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"),
        httpx.Response(200, json=sf_query([]))])
    source, ledger = salesforce(router, sleeps)
    assert list(source.query_pages("SELECT Id FROM Lead", object_type="Lead")) == []
    assert token.call_count == 2 and route.call_count == 2 and source.auth.grants == 2
    assert [c.request.headers["Authorization"] for c in route.calls] == ["Bearer 00Dxx!first", "Bearer 00Dxx!second"]
    assert ledger.total() == 2


def test_a_given_session_that_expires_is_an_api_error(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(QUERY_ALL).mock(return_value=sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"))
    source, _ = salesforce(router, sleeps, auth="session", session_id=SecretStr("00Dxx!given"))
    with pytest.raises(ApiError) as caught:
        list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert (caught.value.status, caught.value.code) == (401, "INVALID_SESSION_ID") and route.call_count == 1


def test_usage_headers_feed_the_budget(router: respx.Router, sleeps: list[float]) -> None:
    """``Sforce-Limit-Info: api-usage=used/limit`` on every response (SF-LIMHDR; api-facts.md B8)."""
    sf_granted(router)
    router.get(QUERY_ALL).mock(return_value=httpx.Response(
        200, json=sf_query([]), headers={"Sforce-Limit-Info": "api-usage=4990/5000"}))
    source, _ = salesforce(router, sleeps)
    list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    budget = source.http.budget
    assert budget is not None and (budget.reported_limit, budget.account_used) == (5000, 4990)
    assert budget.remaining() == 0  # the 5% reserve of the org's allowance is never eaten into
