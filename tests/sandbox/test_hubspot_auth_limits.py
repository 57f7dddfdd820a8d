"""Auth (private app token, OAuth refresh and expiry), rate limits, faults and call counting."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import ApiException

from connector.sandbox.faults import FaultRule
from tests.sandbox.hubspot_fixtures import Hub


def test_missing_or_unknown_token_is_401_invalid_authentication(hub: Hub) -> None:
    with pytest.raises(ApiException) as err:
        hub.client("pat-na1-not-a-token").crm.contacts.basic_api.get_page()
    assert err.value.status == 401
    body = json.loads(err.value.body)
    assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
    assert hub.http.get("/crm/v3/objects/contacts", headers={"Authorization": ""}).status_code == 401


def test_oauth_refresh_issues_a_token_that_expires_after_30_minutes(hub: Hub) -> None:
    hub.clock.freeze()
    tokens = hub.sdk.oauth.tokens_api.create(
        grant_type="refresh_token", client_id=hub.state.oauth_client_id,
        client_secret=hub.state.oauth_client_secret, refresh_token=hub.state.oauth_refresh_token)
    assert tokens.expires_in == 1800 and tokens.token_type == "bearer"
    client = hub.client(tokens.access_token)
    assert client.crm.contacts.basic_api.get_by_id("1").id == "1"
    hub.clock.advance(1800 * 1000 + 5_000)
    with pytest.raises(ApiException) as err:
        client.crm.contacts.basic_api.get_by_id("1")
    body = json.loads(err.value.body)
    assert err.value.status == 401 and body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"] == "The OAuth token used to make this call expired 5 second(s) ago."


def test_bad_refresh_token_is_rejected(hub: Hub) -> None:
    r = hub.http.post("/oauth/v1/token", data={"grant_type": "refresh_token", "client_id": hub.state.oauth_client_id,
                                               "client_secret": hub.state.oauth_client_secret, "refresh_token": "x"})
    assert r.status_code == 400 and r.json()["status"] == "BAD_REFRESH_TOKEN"


def test_oauth_requests_omit_daily_headers(hub: Hub) -> None:
    hub.state.rate_limits = True
    token = hub.http.post("/oauth/v1/token", data={
        "grant_type": "refresh_token", "client_id": hub.state.oauth_client_id,
        "client_secret": hub.state.oauth_client_secret, "refresh_token": hub.state.oauth_refresh_token}).json()
    r = hub.http.get("/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert "X-HubSpot-RateLimit-Max" in r.headers and "X-HubSpot-RateLimit-Daily" not in r.headers
    private = hub.http.get("/crm/v3/objects/contacts")
    assert private.headers["X-HubSpot-RateLimit-Daily"] == "625000"


def test_burst_limit_answers_429_ten_secondly_rolling(hub: Hub) -> None:
    hub.state.rate_limits = True
    hub.state.limits.burst_max = 3
    statuses = [hub.http.get("/crm/v3/objects/contacts/1") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[2].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    body = statuses[3].json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert "Retry-After" not in statuses[3].headers
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.contacts.basic_api.get_by_id("1")
    assert err.value.status == 429


def test_search_has_its_own_per_second_limit(hub: Hub) -> None:
    hub.state.rate_limits = True
    hub.state.limits.search_per_second = 2
    codes = [hub.http.post("/crm/v3/objects/contacts/search", json={}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert hub.http.get("/crm/v3/objects/contacts/1").status_code == 200


def test_daily_limit_resets_at_midnight_by_the_sandbox_clock(hub: Hub) -> None:
    hub.state.rate_limits = True
    hub.state.limits.daily_max = 2
    hub.clock.freeze()
    codes = [hub.http.get("/crm/v3/objects/contacts/1").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    hub.clock.advance(86_400_000)
    assert hub.http.get("/crm/v3/objects/contacts/1").status_code == 200


def test_injected_faults_use_hubspot_shapes_and_calls_are_counted(hub: Hub) -> None:
    hub.faults.add(FaultRule(kind="429-retry", path="/crm/v3/objects/contacts/*", retry_after=2, count=1))
    hub.faults.add(FaultRule(kind="503", path="/crm/v3/objects/deals*", count=1))
    r = hub.http.get("/crm/v3/objects/contacts/1")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2" and r.json()["errorType"] == "RATE_LIMIT"
    assert hub.http.get("/crm/v3/objects/deals").status_code == 503
    assert hub.http.get("/crm/v3/objects/contacts/1").status_code == 200
    counts = hub.counter.snapshot()
    assert hub.counter.total() == 3  # faulted requests never reach the router, so they count under the raw path
    assert counts["GET /crm/v3/objects/contacts/{objectId}"] == 1
    hub.control("GET", "/objects/contacts/1")
    assert hub.counter.total() == 3


def test_unknown_endpoint_is_a_hubspot_shaped_404(hub: Hub) -> None:
    r = hub.http.get("/crm/v3/nothing/here")
    assert r.status_code == 404 and r.json()["category"] == "OBJECT_NOT_FOUND"
    assert r.headers["X-HubSpot-Correlation-Id"] == r.json()["correlationId"]
