"""Logins, sessions and discovery of the Salesforce emulator, through real HTTPS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce, SalesforceExpiredSession
from simple_salesforce.login import SalesforceLogin

from connector.sandbox.salesforce.testing import SalesforceSandbox


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-auth")) as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def test_password_grant_returns_a_usable_token(sb: SalesforceSandbox) -> None:
    st = sb.state
    r = sb.control().post("/services/oauth2/token", data={
        "grant_type": "password", "client_id": st.client_id, "client_secret": st.client_secret,
        "username": st.username, "password": st.password + st.security_token})
    assert r.status_code == 200
    body = r.json()
    assert body["access_token"].startswith("00D") and "!AQ" in body["access_token"]
    assert body["instance_url"] == sb.url
    assert body["token_type"] == "Bearer"
    assert body["issued_at"].isdigit() and body["signature"]
    assert body["id"].endswith(f"/id/{st.org_id}/{st.integration_user_id}")
    sf = sb.simple_salesforce(token=body["access_token"])
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_password_grant_without_security_token_fails(sb: SalesforceSandbox) -> None:
    st = sb.state
    r = sb.control().post("/services/oauth2/token", data={
        "grant_type": "password", "client_id": st.client_id, "client_secret": st.client_secret,
        "username": st.username, "password": st.password})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_client_credentials_grant_carries_api_instance_url(sb: SalesforceSandbox) -> None:
    st = sb.state
    r = sb.control().post("/services/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(st.client_id, st.client_secret))
    assert r.status_code == 200
    assert r.json()["api_instance_url"] == sb.url
    bad = sb.control().post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": st.client_id, "client_secret": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"


def test_simple_salesforce_soap_login(sb: SalesforceSandbox) -> None:
    st = sb.state
    session_id, instance = SalesforceLogin(username=st.username, password=st.password,
                                           security_token=st.security_token, scratch_url=sb.url,
                                           session=sb.requests_session(), sf_version="62.0")
    assert instance == sb.url.removeprefix("https://")
    sf = Salesforce(session_id=session_id, instance=instance, session=sb.requests_session(), version="62.0")
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1
    with pytest.raises(Exception, match="INVALID_LOGIN"):
        SalesforceLogin(username=st.username, password="wrong", security_token=st.security_token,
                        scratch_url=sb.url, session=sb.requests_session())


def test_token_expires_by_the_sandbox_clock(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    sf.query("SELECT Id FROM User")
    sb.clock.advance(7200 * 1000 + 1)
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM User")
    r = sb.http.get("/services/data/v62.0/limits")
    assert r.status_code == 401
    assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_control_route_expires_all_tokens(sb: SalesforceSandbox) -> None:
    assert sb.http.get("/services/data/v62.0/limits").status_code == 200
    assert sb.control().post("/_sandbox/salesforce/tokens/expire").json()["expired"] >= 1
    assert sb.http.get("/services/data/v62.0/limits").status_code == 401
    assert sb.counter.total() == 2  # control routes are never counted


def test_versions_resources_and_unknown_version(sb: SalesforceSandbox) -> None:
    versions = sb.control().get("/services/data").json()
    by_version = {v["version"]: v for v in versions}
    assert by_version["62.0"] == {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}
    assert "40.0" in by_version and "66.0" in by_version
    r = sb.http.get("/services/data/v62.0/")
    assert r.json()["query"] == "/services/data/v62.0/query"
    assert r.headers["sforce-limit-info"].startswith("api-usage=")
    assert sb.http.get("/services/data/v39.0/limits").status_code == 404
