"""SalesforceSource against respx: the token request, query paging, Composite subrequest errors, the two
kinds of REQUEST_LIMIT_EXCEEDED, re-authentication on INVALID_SESSION_ID and Bulk 2.0 query polling, with
exact call counts and no sandbox (the injected sleep only records: no test waits)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from pydantic import SecretStr

from connector.errors import ConfigError, RetryLater
from connector.pull.cursor import Window
from connector.pull.streams import ChangeProbe, ProbeResult, WindowQuery
from connector.systems.http import ApiError, MalformedResponse, TransientApiError
from connector.systems.pacing import BudgetExhausted
from connector.systems.salesforce import BULK_POLL_SECONDS
from tests.systems.respx_vendors import (  # noqa: F401
    ATTEMPTS,
    SF_API,
    SF_GRANT,
    SF_TOKEN,
    router_fixture,
    salesforce,
    sf_composite,
    sf_error,
    sf_query,
    sf_record,
    sleeps_fixture,
)

QUERY_ALL = f"{SF_API}/queryAll/"
COMPOSITE = f"{SF_API}/composite"
T0 = 1_700_000_000_000


def granted(router: respx.Router, *tokens: str) -> respx.Route:
    """The token endpoint granting `tokens` in turn (one grant when none are named)."""
    answers = [httpx.Response(200, json={**SF_GRANT, "access_token": t}) for t in tokens or (SF_GRANT["access_token"],)]
    return router.post(SF_TOKEN).mock(side_effect=answers)


def form_of(call: respx.models.Call) -> dict[str, str]:
    return dict(httpx.QueryParams(call.request.content.decode()))


# ---------------------------------------------------------------------------------------------- token request


def test_a_grant_signs_the_api_calls_and_is_not_an_api_call(router: respx.Router, sleeps: list[float]) -> None:
    token = granted(router)
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
    granted(router)
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
    granted(router)
    route = router.get(QUERY_ALL).mock(return_value=httpx.Response(200, json={"totalSize": 0, "done": True}))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="query response without records"):
        list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert route.call_count == 1


# ---------------------------------------------------------------------------------------------- Composite


def test_six_window_queries_take_two_composite_calls(router: respx.Router, sleeps: list[float]) -> None:
    """At most five query subrequests per Composite call (api-facts.md B3a)."""
    granted(router)

    def answer(request: httpx.Request) -> httpx.Response:
        subs = json.loads(request.content)["compositeRequest"]
        return sf_composite(*[(s["referenceId"], 200, sf_query([])) for s in subs])

    route = router.post(COMPOSITE).mock(side_effect=answer)
    source, ledger = salesforce(router, sleeps)
    window = Window(T0, T0 + 60_000)
    items = [WindowQuery(name, ("Email",), window) for name in ("Lead", "Contact", "Account", "Task", "Event", "User")]
    results = source.composite(items)
    assert results == [sf_query([])] * 6 and route.call_count == 2 and ledger.total() == 2
    sizes = [len(json.loads(c.request.content)["compositeRequest"]) for c in route.calls]
    assert sizes == [5, 1]
    assert "IsDeleted" not in json.loads(route.calls[1].request.content)["compositeRequest"][0]["url"]  # User


def test_a_probe_reads_get_updated_and_get_deleted_in_the_same_call(router: respx.Router, sleeps: list[float]
                                                                    ) -> None:
    """getUpdated / getDeleted shapes (SF-UPD, SF-DEL; api-facts.md B5 🟡)."""
    granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(
        ("u0", 200, {"ids": [], "latestDateCovered": "2023-11-14T23:13:00.000+0000"}),
        ("d0", 200, {"deletedRecords": [{"id": "00Q9", "deletedDate": "2023-11-14T22:13:20.000+0000"}],
                     "earliestDateAvailable": "2023-11-01T00:00:00.000+0000",
                     "latestDateCovered": "2023-11-14T23:13:00.000+0000"})))
    source, _ = salesforce(router, sleeps)
    [result] = source.composite([ChangeProbe("Lead", Window(T0, T0 + 3_600_000))])
    assert result == ProbeResult("Lead", changed=True, covered_until=1_700_003_580_000)  # whole minutes
    assert route.call_count == 1


def test_a_failed_subrequest_is_an_api_error_with_the_vendor_code(router: respx.Router, sleeps: list[float]) -> None:
    """INVALID_FIELD inside a 200 Composite answer (its message as camel-quarkus#3022 quotes it; B7)."""
    granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(("q0", 400, [{
        "message": "No such column 'Foo__c' on entity 'Lead'. If you are attempting to use a custom field, be sure "
                   "to append the '__c' after the custom field name.", "errorCode": "INVALID_FIELD", "fields": None}])))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.composite([WindowQuery("Lead", ("Foo__c",), Window(T0, T0 + 1))])
    assert (caught.value.status, caught.value.code) == (400, "INVALID_FIELD") and "mapping" in caught.value.hint
    assert route.call_count == 1 and sleeps == []


def test_a_composite_answer_missing_a_subrequest_is_malformed(router: respx.Router, sleeps: list[float]) -> None:
    granted(router)
    route = router.post(COMPOSITE).mock(return_value=sf_composite(("q7", 200, sf_query([]))))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(MalformedResponse, match="no answer for the Lead subrequest q0"):
        source.composite([WindowQuery("Lead", ("Email",), Window(T0, T0 + 1))])
    assert route.call_count == 1


# ---------------------------------------------------------------------------------------------- limits and sessions


def test_the_daily_total_is_the_budget_and_is_not_retried(router: respx.Router, sleeps: list[float]) -> None:
    """403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." (SF-ERR; message as SalesforceLabs/OrgCheck#181)."""
    granted(router)
    route = router.get(QUERY_ALL).mock(return_value=sf_error(403, "REQUEST_LIMIT_EXCEEDED",
                                                             "TotalRequests Limit exceeded."))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(BudgetExhausted, match="TotalRequests"):
        list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert route.call_count == 1 and sleeps == []


def test_the_concurrency_limit_is_retried(router: respx.Router, sleeps: list[float]) -> None:
    """The same code for the concurrent long-running limit (SF-LIMITS, B8; message as mautic/mautic#5006) clears
    as soon as the org's long requests finish: retried, not taken for the daily budget."""
    granted(router)
    route = router.get(QUERY_ALL).mock(side_effect=[
        sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.",
                 headers={"Sforce-Limit-Info": "api-usage=18/5000"}),
        httpx.Response(200, json=sf_query([sf_record("Lead", "00Q1")]))])
    source, ledger = salesforce(router, sleeps)
    assert len(list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))) == 1
    assert route.call_count == 2 and len(sleeps) == 1 and ledger.total() == 2


def test_a_concurrency_limit_that_lasts_is_try_again_later(router: respx.Router, sleeps: list[float]) -> None:
    granted(router)
    route = router.get(QUERY_ALL).mock(return_value=sf_error(403, "REQUEST_LIMIT_EXCEEDED",
                                                             "ConcurrentPerOrgLongTxn Limit exceeded."))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(TransientApiError) as caught:
        list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert isinstance(caught.value, RetryLater) and not isinstance(caught.value, BudgetExhausted)
    assert route.call_count == ATTEMPTS


def test_an_expired_session_is_granted_again_once(router: respx.Router, sleeps: list[float]) -> None:
    """401 INVALID_SESSION_ID "Session expired or invalid" (SF-ERR; api-facts.md B7 🟡)."""
    token = granted(router, "00Dxx!first", "00Dxx!second")
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
    granted(router)
    router.get(QUERY_ALL).mock(return_value=httpx.Response(
        200, json=sf_query([]), headers={"Sforce-Limit-Info": "api-usage=4990/5000"}))
    source, _ = salesforce(router, sleeps)
    list(source.query_pages("SELECT Id FROM Lead", object_type="Lead"))
    budget = source.http.budget
    assert budget is not None and (budget.reported_limit, budget.account_used) == (5000, 4990)
    assert budget.remaining() == 0  # the 5% reserve of the org's allowance is never eaten into


# ---------------------------------------------------------------------------------------------- Bulk 2.0 query


def job(state: str) -> httpx.Response:
    """A query job (SF-BULKQ; api-facts.md B9)."""
    return httpx.Response(200, json={"id": "750R0000000zlh9IAA", "operation": "queryAll", "object": "Lead",
                                     "state": state, "concurrencyMode": "Parallel", "contentType": "CSV",
                                     "apiVersion": 62.0, "lineEnding": "LF", "columnDelimiter": "COMMA"})


def describe() -> httpx.Response:
    return httpx.Response(200, json={"name": "Lead", "fields": [
        {"name": "Id", "type": "id"}, {"name": "IsDeleted", "type": "boolean"},
        {"name": "NumberOfEmployees", "type": "int"}, {"name": "AnnualRevenue", "type": "currency"}]})


def test_a_bulk_query_polls_with_the_injected_sleep_and_follows_locators(router: respx.Router, sleeps: list[float]
                                                                          ) -> None:
    granted(router)
    create = router.post(f"{SF_API}/jobs/query").mock(return_value=job("UploadComplete"))
    poll = router.get(f"{SF_API}/jobs/query/750R0000000zlh9IAA").mock(
        side_effect=[job("UploadComplete"), job("InProgress"), job("JobComplete")])
    fields = router.get(f"{SF_API}/sobjects/Lead/describe").mock(return_value=describe())
    header = "Id,IsDeleted,NumberOfEmployees,AnnualRevenue\n"
    results = router.get(f"{SF_API}/jobs/query/750R0000000zlh9IAA/results").mock(side_effect=[
        httpx.Response(200, text=header + '00Q1,false,12,1500.5\n00Q2,true,,\n',
                       headers={"Sforce-Locator": "MTAwMDA", "Sforce-NumberOfRecords": "2"}),
        httpx.Response(200, text=header + '00Q3,false,"7",\n',
                       headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"}),  # literal "null": done
    ])
    source, ledger = salesforce(router, sleeps)
    pages = list(source.bulk_query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert pages == [
        [{"Id": "00Q1", "IsDeleted": False, "NumberOfEmployees": 12, "AnnualRevenue": 1500.5},
         {"Id": "00Q2", "IsDeleted": True, "NumberOfEmployees": None, "AnnualRevenue": None}],
        [{"Id": "00Q3", "IsDeleted": False, "NumberOfEmployees": 7, "AnnualRevenue": None}]]
    assert sleeps == list(BULK_POLL_SECONDS[:2])  # two polls found it unfinished; nothing waited for real
    assert (create.call_count, poll.call_count, fields.call_count, results.call_count) == (1, 3, 1, 2)
    assert ledger.total() == 7
    assert json.loads(create.calls[0].request.content) == {
        "operation": "queryAll", "query": "SELECT Id FROM Lead", "contentType": "CSV", "columnDelimiter": "COMMA",
        "lineEnding": "LF"}
    assert [dict(c.request.url.params) for c in results.calls] == [
        {"maxRecords": "10000"}, {"maxRecords": "10000", "locator": "MTAwMDA"}]


def test_a_failed_bulk_query_job_is_an_api_error(router: respx.Router, sleeps: list[float]) -> None:
    granted(router)
    router.post(f"{SF_API}/jobs/query").mock(return_value=job("UploadComplete"))
    poll = router.get(f"{SF_API}/jobs/query/750R0000000zlh9IAA").mock(side_effect=[job("InProgress"), job("Failed")])
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError, match="the job ended Failed") as caught:
        list(source.bulk_query_pages("SELECT Id FROM Lead", object_type="Lead"))
    assert caught.value.code == "Failed" and poll.call_count == 2 and sleeps == [BULK_POLL_SECONDS[0]]
