"""How the adapters read failures (issue #12 items 2, 3, 7): Salesforce's concurrency limit against its daily
total, guarded token requests for both systems, and certificates that do not verify. Scripted transports
stand in for the vendors; the sandbox for real TLS."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connector.config import HubSpotConfig, SalesforceConfig
from connector.errors import ConfigError, RetryLater
from connector.sandbox.runner import Sandbox
from connector.systems.http import (
    ApiError,
    MalformedResponse,
    RetryPolicy,
    TransientApiError,
)
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.pacing import BudgetExhausted
from connector.systems.salesforce import SalesforceSource

INSTANCE = "https://acme.my.salesforce.test"
SECRET = "s3cr3t-Consumer-Secret-42"
PASSWORD = "hunter2-Password"
TOKEN_OK = {"access_token": "00Dxx0000000001!session", "instance_url": INSTANCE, "token_type": "Bearer"}
Handler = Callable[[httpx.Request], httpx.Response]


def sf_config(**overrides: object) -> SalesforceConfig:
    values: dict[str, object] = {"instance_url": INSTANCE, "auth": "client_credentials", "client_id": "3MVG9client",
                                 "client_secret": SecretStr(SECRET)}
    values.update(overrides)
    return SalesforceConfig.model_validate(values)


class Vendor:
    """A scripted Salesforce: token answers and API answers, each list consumed in turn (the last one repeats)."""

    def __init__(self, token: list[Handler | httpx.Response], api: list[Handler | httpx.Response] | None = None,
                 token_path: str = "/services/oauth2/token") -> None:
        self.token_path = token_path
        self.token, self.api = token, api or [httpx.Response(200, json={"records": [], "done": True})]
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        is_token = request.url.path == self.token_path
        (self.token_requests if is_token else self.api_requests).append(request)
        answers = self.token if is_token else self.api
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer


def salesforce(vendor: Vendor, sleeps: list[float] | None = None, **overrides: object) -> SalesforceSource:
    return SalesforceSource(sf_config(**overrides), CallLedger(), transport=httpx.MockTransport(vendor),
                            retry=RetryPolicy(attempts=4, initial=0.5, maximum=8.0),
                            sleep=sleeps.append if sleeps is not None else (lambda s: None))


def sf_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=[{"message": message, "errorCode": code}], headers=headers)


def query(src: SalesforceSource) -> list[list[dict[str, object]]]:
    return list(src.query_pages("SELECT Id FROM Lead", object_type="Lead"))


# ---------------------------------------------------------------- item 2: REQUEST_LIMIT_EXCEEDED


@pytest.mark.parametrize("status", [403, 429])  # 403 is what Salesforce documents; the sandbox's fault sends 429
def test_concurrency_limit_is_retried_with_backoff_not_taken_for_the_daily_budget(status: int) -> None:
    vendor = Vendor([httpx.Response(200, json=TOKEN_OK)], [
        sf_error(status, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
        sf_error(status, "REQUEST_LIMIT_EXCEEDED", "ConcurrentRequests (Concurrent API Requests) Limit exceeded."),
        httpx.Response(200, json={"records": [{"Id": "00Q1"}], "done": True},
                       headers={"Sforce-Limit-Info": "api-usage=12/115000"})])
    sleeps: list[float] = []
    src = salesforce(vendor, sleeps)
    assert query(src) == [[{"Id": "00Q1"}]]
    assert len(vendor.api_requests) == 3 and len(sleeps) == 2 and all(0 <= s <= 8.0 for s in sleeps)


def test_concurrency_limit_honours_retry_after() -> None:
    vendor = Vendor([httpx.Response(200, json=TOKEN_OK)], [
        sf_error(429, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", {"Retry-After": "7"}),
        httpx.Response(200, json={"records": [], "done": True})])
    sleeps: list[float] = []
    query(salesforce(vendor, sleeps))
    assert sleeps == [7.0]


def test_a_lasting_concurrency_limit_ends_as_try_again_later() -> None:
    vendor = Vendor([httpx.Response(200, json=TOKEN_OK)],
                    [sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")])
    with pytest.raises(TransientApiError, match="after 4 attempts") as caught:
        query(salesforce(vendor))
    assert not isinstance(caught.value, BudgetExhausted) and len(vendor.api_requests) == 4


def test_the_daily_total_is_the_budget_and_is_not_retried() -> None:
    vendor = Vendor([httpx.Response(200, json=TOKEN_OK)], [sf_error(
        403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.",
        {"Sforce-Limit-Info": "api-usage=115001/115000"})])
    with pytest.raises(BudgetExhausted, match="TotalRequests"):
        query(salesforce(vendor))
    assert len(vendor.api_requests) == 1


def test_usage_at_the_limit_marks_the_daily_total_whatever_the_wording() -> None:
    vendor = Vendor([httpx.Response(200, json=TOKEN_OK)], [sf_error(
        403, "REQUEST_LIMIT_EXCEEDED", "Limit exceeded.", {"Sforce-Limit-Info": "api-usage=15000/15000"})])
    with pytest.raises(BudgetExhausted):
        query(salesforce(vendor))
    assert len(vendor.api_requests) == 1


def test_a_forecast_learns_the_orgs_limit_once_from_limits() -> None:
    vendor = Vendor([httpx.Response(200, json=TOKEN_OK)], [httpx.Response(
        200, json={"DailyApiRequests": {"Max": 115_000, "Remaining": 114_000}}, headers={})])
    src = SalesforceSource(sf_config(daily_budget_share=0.5), CallLedger(), prior_calls_today=7,
                           transport=httpx.MockTransport(vendor))
    assert src.http.budget is not None and src.http.budget.remaining() is None
    src.learn_limits()
    src.learn_limits()  # known now: no second call
    assert len(vendor.api_requests) == 1 and src.http.budget.remaining() == 57_500 - 7 - 1


def test_a_refused_limits_call_still_learns_from_its_header() -> None:
    vendor = Vendor([httpx.Response(200, json=TOKEN_OK)], [sf_error(
        403, "INSUFFICIENT_ACCESS", "insufficient access rights", {"Sforce-Limit-Info": "api-usage=500/15000"})])
    src = salesforce(vendor, daily_budget_share=0.5)
    src.learn_limits()
    assert src.http.budget is not None and src.http.budget.remaining() == 7_500 - 1


# ---------------------------------------------------------------- item 3: token requests


def test_a_503_on_the_token_endpoint_is_retried_and_the_grant_goes_through() -> None:
    vendor = Vendor([sf_error(503, "SERVER_UNAVAILABLE", "Server is temporarily unavailable."),
                     httpx.Response(200, json=TOKEN_OK)])
    sleeps: list[float] = []
    src = salesforce(vendor, sleeps)
    src.authenticate()
    assert len(vendor.token_requests) == 2 and len(sleeps) == 1 and src.auth.grants == 1
    assert vendor.api_requests == []  # signing in is not a read
    query(src)
    assert vendor.api_requests[0].headers["Authorization"] == f"Bearer {TOKEN_OK['access_token']}"


def test_a_token_endpoint_that_keeps_failing_is_try_again_later_not_bad_configuration() -> None:
    vendor = Vendor([httpx.Response(503, text="<html>down</html>", headers={"Retry-After": "2"})])
    sleeps: list[float] = []
    with pytest.raises(TransientApiError, match="still failing after 4 attempts") as caught:
        salesforce(vendor, sleeps).authenticate()
    assert isinstance(caught.value, RetryLater) and not isinstance(caught.value, ConfigError)
    assert sleeps == [2.0, 2.0, 2.0] and len(vendor.token_requests) == 4


@pytest.mark.parametrize("body", [b"<html>Login maintenance</html>", b'{"access_tok', b'{"token_type": "Bearer"}'])
def test_a_garbled_token_body_is_asked_again_then_reported_without_showing_it(body: bytes) -> None:
    vendor = Vendor([httpx.Response(200, content=body, headers={"content-type": "application/json"})])
    with pytest.raises(MalformedResponse, match="token request") as caught:
        salesforce(vendor).authenticate()
    assert body.decode() not in str(caught.value) and len(vendor.token_requests) == 4


def test_an_unreachable_instance_is_try_again_later_naming_the_host() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(TransientApiError, match=r"cannot reach https://acme\.my\.salesforce\.test/services/oauth2/token"):
        salesforce(Vendor([refuse])).authenticate()


@pytest.mark.parametrize("code,description,key_fix", [
    ("invalid_client", "invalid client credentials", "client_secret"),
    ("invalid_client_id", "client identifier invalid", "client_id"),
    ("invalid_grant", "authentication failure", "client credentials flow"),
])
def test_refused_credentials_are_a_configuration_error(code: str, description: str, key_fix: str) -> None:
    vendor = Vendor([httpx.Response(400, json={"error": code, "error_description": description})])
    with pytest.raises(ConfigError) as caught:
        salesforce(vendor).authenticate()
    problem = caught.value.problems[0]
    assert problem.key == "[salesforce].auth = 'client_credentials'" and code in problem.message
    assert key_fix in problem.hint and len(vendor.token_requests) == 1  # not retried


def test_a_token_refusal_never_echoes_the_credentials() -> None:
    echo = {"error": "invalid_grant",
            "error_description": f"bad password {PASSWORD} for user ops@acme.test with secret {SECRET}"}
    vendor = Vendor([httpx.Response(400, json=echo)])
    with pytest.raises(ConfigError) as caught:
        salesforce(vendor, auth="password", username="ops@acme.test", password=SecretStr(PASSWORD),
                   security_token=SecretStr("TOKEN123")).authenticate()
    text = str(caught.value)
    assert PASSWORD not in text and SECRET not in text and "ops@acme.test" not in text
    assert "invalid_grant" in text and "security_token" in caught.value.problems[0].hint


def test_another_refusal_is_an_api_error_not_bad_configuration() -> None:
    vendor = Vendor([httpx.Response(400, json={"error": "invalid_request",
                                               "error_description": "grant type is missing"})])
    with pytest.raises(ApiError) as caught:
        salesforce(vendor).authenticate()
    assert not isinstance(caught.value, ConfigError) and caught.value.code == "invalid_request"


def test_a_given_session_needs_no_grant() -> None:
    vendor = Vendor([httpx.Response(500)])
    src = salesforce(vendor, auth="session", session_id=SecretStr("00Dxx!given"))
    src.authenticate()
    assert vendor.token_requests == []


def hubspot_oauth(answers: list[Handler | httpx.Response], sleeps: list[float]) -> tuple[HubSpotSource, Vendor]:
    vendor = Vendor(answers, token_path="/oauth/v1/token")
    config = HubSpotConfig.model_validate({
        "base_url": "https://api.hubapi.test", "auth": "oauth", "client_id": "app-1",
        "client_secret": SecretStr(SECRET), "refresh_token": SecretStr("refresh-abcdef-123456")})
    return HubSpotSource(config, CallLedger(), transport=httpx.MockTransport(vendor), retry=RetryPolicy(attempts=3),
                         sleep=sleeps.append), vendor


def test_hubspot_refresh_is_retried_and_a_bad_refresh_token_names_its_key() -> None:
    sleeps: list[float] = []
    src, vendor = hubspot_oauth([httpx.Response(502), httpx.Response(200, json={
        "access_token": "hs-token", "expires_in": 1800, "refresh_token": "refresh-abcdef-123456"})], sleeps)
    src.authenticate()
    assert len(vendor.token_requests) == 2 and len(sleeps) == 1
    src, vendor = hubspot_oauth([httpx.Response(400, json={
        "status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token refresh-abcdef-123456"})], sleeps)
    with pytest.raises(ConfigError) as caught:
        src.authenticate()
    assert caught.value.problems[0].key == "[hubspot].refresh_token"
    assert "refresh-abcdef-123456" not in str(caught.value)


# ---------------------------------------------------------------- item 7: certificates


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(people=0, rate_limits=False) as sb:
        yield sb


def real_sf_config(sb: Sandbox, ca_bundle: str | None) -> SalesforceConfig:
    info = sb.info()
    return SalesforceConfig.model_validate({
        "instance_url": info.salesforce_instance_url, "auth": "client_credentials",
        "client_id": info.salesforce_client_id, "client_secret": SecretStr(info.salesforce_client_secret),
        "ca_bundle": ca_bundle})


def test_an_untrusted_certificate_is_a_configuration_error_naming_ca_bundle_and_not_retried(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import trustme

    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(trustme.CA().cert_pem.bytes())
    sleeps: list[float] = []
    for bundle in (None, str(other_ca)):  # the system store, and a bundle without the sandbox's CA
        src = SalesforceSource(real_sf_config(sandbox, bundle), CallLedger(), sleep=sleeps.append)
        with pytest.raises(ConfigError) as caught:
            src.authenticate()
        src.close()
        problem = caught.value.problems[0]
        assert problem.key == "[salesforce].ca_bundle" and "certificate" in problem.message
        assert "CONNECTOR_SALESFORCE_CA_BUNDLE" in problem.hint
    assert sleeps == []  # nothing was retried
    hubspot = HubSpotSource(HubSpotConfig.model_validate({
        "base_url": sandbox.info().hubspot_base_url, "access_token": SecretStr(sandbox.info().hubspot_access_token)}),
        CallLedger(), sleep=sleeps.append)
    with pytest.raises(ConfigError) as caught:
        hubspot.properties("contacts")
    hubspot.close()
    assert caught.value.problems[0].key == "[hubspot].ca_bundle" and sleeps == []


def test_ssl_cert_file_is_honoured_when_no_ca_bundle_is_set(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented choice (connector/systems/tls.py, README): without ca_bundle, OpenSSL's default store,
    which SSL_CERT_FILE names."""
    monkeypatch.setenv("SSL_CERT_FILE", sandbox.info().ca_file)
    src = SalesforceSource(real_sf_config(sandbox, None), CallLedger())
    try:
        src.authenticate()
        assert src.auth.grants == 1
    finally:
        src.close()


def test_a_ca_bundle_that_is_not_pem_is_a_configuration_error(sandbox: Sandbox, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text(json.dumps({"not": "a certificate"}))
    with pytest.raises(ConfigError) as caught:
        SalesforceSource(real_sf_config(sandbox, str(junk)), CallLedger())
    assert caught.value.problems[0].key == "[salesforce].ca_bundle" and str(junk) in str(caught.value)

