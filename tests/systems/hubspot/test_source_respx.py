"""HubSpotSource against respx: list paging, 429 policies, 5xx retries, OAuth refresh on 401, batch reads of
missing ids and malformed bodies, with exact call counts and no sandbox."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import SecretStr

from connector.errors import ConfigError
from connector.systems.http import ApiError, MalformedResponse, TransientApiError
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.pacing import BudgetExhausted
from tests.systems.respx_vendors import (
    ATTEMPTS,
    HS,
    HS_TOKEN,
    hs_error,
    hs_not_found,
    hs_page,
    hs_rate_limited,
    hs_record,
    hubspot,
    json_of,
)

CONTACTS = f"{HS}/crm/v3/objects/contacts"
T0 = 1_700_000_000_000


# ---------------------------------------------------------------------------------------------- list paging


def test_list_follows_paging_next_after_until_it_is_absent(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(side_effect=[
        hs_page([hs_record(1, T0), hs_record(2, T0)], after="NTI1Cg%3D%3D"),  # opaque cursor (HS-SPEC, A2)
        hs_page([hs_record(3, T0)], after="3"),
        hs_page([hs_record(4, T0)]),
    ])
    source, ledger = hubspot(router, sleeps)
    pages = list(source.list_pages("contacts", ["email", "lastmodifieddate"]))
    assert [([r["id"] for r in page], after) for page, after in pages] == [
        (["1", "2"], "NTI1Cg%3D%3D"), (["3"], "3"), (["4"], None)]
    assert route.call_count == 3 and ledger.total("hubspot") == 3
    params = [dict(call.request.url.params) for call in route.calls]
    assert [p.get("after") for p in params] == [None, "NTI1Cg%3D%3D", "3"]
    assert params[0] == {"limit": "100", "properties": "email,lastmodifieddate", "archived": "false"}


def test_an_empty_page_with_a_cursor_is_followed_and_not_yielded(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(side_effect=[hs_page([], after="200"), hs_page([hs_record(201, T0)])])
    source, _ = hubspot(router, sleeps)
    pages = list(source.list_pages("contacts", ["email"], archived=True))
    assert [[r["id"] for r in page] for page, _ in pages] == [["201"]]
    assert route.call_count == 2 and route.calls[0].request.url.params["archived"] == "true"


# ---------------------------------------------------------------------------------------------- 429 and 5xx


def test_a_ten_secondly_429_waits_retry_after_and_sends_again(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(side_effect=[hs_rate_limited("TEN_SECONDLY_ROLLING", retry_after="3"),
                                                   hs_page([hs_record(1, T0)])])
    source, ledger = hubspot(router, sleeps)
    assert len(list(source.list_pages("contacts", ["email"]))) == 1
    assert route.call_count == 2 and ledger.total() == 2 and sleeps == [3.0]


def test_a_daily_429_stops_the_cycle_at_once(router: respx.Router, sleeps: list[float]) -> None:
    """policyName DAILY (HS-USAGE): the account's day is spent; retrying would only burn error calls."""
    route = router.get(CONTACTS).mock(return_value=hs_rate_limited("DAILY", retry_after="3"))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(BudgetExhausted, match="daily limit"):
        list(source.list_pages("contacts", ["email"]))
    assert route.call_count == 1 and sleeps == []


def test_server_errors_are_retried_with_bounded_backoff_then_succeed(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(side_effect=[httpx.Response(502, text="<html>Bad Gateway</html>"),
                                                   hs_error(503, "SERVICE_UNAVAILABLE", "try again"),
                                                   hs_page([hs_record(1, T0)])])
    source, ledger = hubspot(router, sleeps)
    assert len(list(source.list_pages("contacts", ["email"]))) == 1
    assert route.call_count == 3 and ledger.total() == 3
    assert len(sleeps) == 2 and all(0 <= s <= 8.0 for s in sleeps)


def test_server_errors_that_outlast_every_attempt_are_try_again_later(router: respx.Router, sleeps: list[float]
                                                                      ) -> None:
    route = router.get(CONTACTS).mock(return_value=httpx.Response(504))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(TransientApiError, match=f"still failing after {ATTEMPTS} attempts"):
        list(source.list_pages("contacts", ["email"]))
    assert route.call_count == ATTEMPTS and len(sleeps) == ATTEMPTS - 1


# ---------------------------------------------------------------------------------------------- auth


def oauth(router: respx.Router, sleeps: list[float]) -> tuple[HubSpotSource, CallLedger]:
    return hubspot(router, sleeps, auth="oauth", access_token=None, client_id="app-1",
                   client_secret=SecretStr("client-secret-xyz"), refresh_token=SecretStr("refresh-abcdef-123456"))


def grant(token: str) -> httpx.Response:
    """HubSpot's refresh grant (HS-OAUTH; api-facts.md A1): snake_case fields."""
    return httpx.Response(200, json={"access_token": token, "refresh_token": "refresh-abcdef-123456",
                                     "expires_in": 1800, "token_type": "bearer"})


def test_an_expired_oauth_token_is_refreshed_once_and_the_request_sent_again(
        router: respx.Router, sleeps: list[float]) -> None:
    token = router.post(HS_TOKEN).mock(side_effect=[grant("hs-token-1"), grant("hs-token-2")])
    # EXPIRED_AUTHENTICATION 401 as HubSpot sends it (quoted in segment-boneyard/segment-docs#6244)
    api = router.get(CONTACTS).mock(side_effect=[
        hs_error(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired 7 second(s) ago."),
        hs_page([hs_record(1, T0)])])
    source, ledger = oauth(router, sleeps)
    assert len(list(source.list_pages("contacts", ["email"]))) == 1
    assert token.call_count == 2 and api.call_count == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer hs-token-1", "Bearer hs-token-2"]
    assert dict(httpx.QueryParams(token.calls[1].request.content.decode())) == {
        "grant_type": "refresh_token", "client_id": "app-1", "client_secret": "client-secret-xyz",
        "refresh_token": "refresh-abcdef-123456"}
    assert ledger.total() == 2  # token requests are not API calls


def test_a_401_after_the_refresh_is_an_api_error_not_a_loop(router: respx.Router, sleeps: list[float]) -> None:
    token = router.post(HS_TOKEN).mock(side_effect=[grant("hs-token-1"), grant("hs-token-2")])
    api = router.get(CONTACTS).mock(return_value=hs_error(401, "EXPIRED_AUTHENTICATION", "expired"))
    source, _ = oauth(router, sleeps)
    with pytest.raises(ApiError) as caught:
        list(source.list_pages("contacts", ["email"]))
    assert caught.value.status == 401 and caught.value.code == "EXPIRED_AUTHENTICATION"
    assert "reinstall the app" in caught.value.hint
    assert token.call_count == 2 and api.call_count == 2


def test_a_refused_refresh_token_is_a_configuration_error(router: respx.Router, sleeps: list[float]) -> None:
    token = router.post(HS_TOKEN).mock(return_value=httpx.Response(400, json={
        "status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}))
    source, _ = oauth(router, sleeps)
    with pytest.raises(ConfigError) as caught:
        source.authenticate()
    assert caught.value.problems[0].key == "[hubspot].refresh_token" and token.call_count == 1


def test_a_private_app_token_is_not_refreshed(router: respx.Router, sleeps: list[float]) -> None:
    api = router.get(CONTACTS).mock(return_value=hs_error(
        401, "INVALID_AUTHENTICATION", "Authentication credentials not found."))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(ApiError) as caught:
        list(source.list_pages("contacts", ["email"]))
    assert caught.value.code == "INVALID_AUTHENTICATION" and "private app token" in caught.value.hint
    assert api.call_count == 1


# ---------------------------------------------------------------------------------------------- batch reads


def test_batch_read_of_missing_ids_counts_only_the_records_returned(router: respx.Router, sleeps: list[float]
                                                                    ) -> None:
    survivor = hs_record(10, T0, hs_merged_object_ids="11;12")
    route = router.post(f"{CONTACTS}/batch/read").mock(return_value=httpx.Response(207, json={
        "status": "COMPLETE", "results": [survivor], "numErrors": 1, "errors": [hs_not_found("13", "14")],
        "startedAt": "2024-08-15T17:09:13.610Z", "completedAt": "2024-08-15T17:09:13.910Z"}))
    source, _ = hubspot(router, sleeps)
    assert source.present("contacts", ["10", "11", "13", "14"]) == {"10", "11"}
    assert route.call_count == 1 and json_of(route.calls[0])["inputs"] == [
        {"id": "10"}, {"id": "11"}, {"id": "13"}, {"id": "14"}]


def test_a_batch_read_answered_as_a_list_is_malformed_without_its_content(router: respx.Router,
                                                                         sleeps: list[float]) -> None:
    route = router.post(f"{CONTACTS}/batch/read").mock(
        return_value=httpx.Response(200, json=[{"email": "ann@example.test"}]))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(MalformedResponse, match="hubspot contacts batch read: expected a JSON object") as caught:
        source.present("contacts", ["10"])
    assert "ann@example.test" not in str(caught.value) and route.call_count == 1


def test_batch_read_goes_100_ids_per_call(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(f"{CONTACTS}/batch/read").mock(return_value=httpx.Response(200, json={
        "status": "COMPLETE", "results": []}))
    source, _ = hubspot(router, sleeps)
    assert source.present("contacts", [str(i) for i in range(250)], archived=True) == set()
    assert route.call_count == 3 and [len(json_of(c)["inputs"]) for c in route.calls] == [100, 100, 50]
    assert route.calls[0].request.url.params["archived"] == "true"


def test_associations_follow_each_records_own_paging(router: respx.Router, sleeps: list[float]) -> None:
    """v4 batch read (api-facts.md A7): ``paging.next.after`` per result, sent back next to the id."""
    to = [{"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}]
    route = router.post(f"{HS}/crm/v4/associations/contacts/deals/batch/read").mock(side_effect=[
        httpx.Response(200, json={"status": "COMPLETE", "results": [
            {"from": {"id": "1"}, "to": [{"toObjectId": 20, "associationTypes": to}],
             "paging": {"next": {"after": "MC0yLTE1OTc0MDA2NTg%3D"}}},
            {"from": {"id": "2"}, "to": [{"toObjectId": 30, "associationTypes": to}]}]}),
        httpx.Response(200, json={"status": "COMPLETE", "results": [
            {"from": {"id": "1"}, "to": [{"toObjectId": 21, "associationTypes": to}]}]}),
    ])
    source, _ = hubspot(router, sleeps)
    assert source.associations("contacts", "deals", ["1", "2", "3"]) == {"1": ["20", "21"], "2": ["30"], "3": []}
    assert route.call_count == 2
    assert json_of(route.calls[1])["inputs"] == [{"id": "1", "after": "MC0yLTE1OTc0MDA2NTg%3D"}]


# ---------------------------------------------------------------------------------------------- malformed bodies


def test_a_body_that_is_not_json_is_asked_again_then_malformed(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(return_value=httpx.Response(
        200, content=b'{"results": [{"id": "1", "prop', headers={"content-type": "application/json"}))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(MalformedResponse, match="not valid JSON"):
        list(source.list_pages("contacts", ["email"]))
    assert route.call_count == ATTEMPTS // 2


@pytest.mark.parametrize("body", [{"status": "COMPLETE"}, {"results": {"id": "1"}}, ["not", "an", "object"]])
def test_a_list_answer_without_a_results_list_is_malformed_and_not_retried(
        router: respx.Router, sleeps: list[float], body: object) -> None:
    route = router.get(CONTACTS).mock(return_value=httpx.Response(200, json=body))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(MalformedResponse, match="unexpected response shape"):
        list(source.list_pages("contacts", ["email"]))
    assert route.call_count == 1


def test_a_validation_error_carries_the_vendor_category_and_hint(router: respx.Router, sleeps: list[float]) -> None:
    """HS-ERR's example body (api-facts.md A9); a 400 is not retried."""
    route = router.get(f"{HS}/crm/v3/properties/contacts").mock(return_value=hs_error(
        400, "VALIDATION_ERROR", "Property values were not valid",
        errors=[{"message": "discount was not a valid number", "code": "INVALID_INTEGER",
                 "context": {"propertyName": ["discount"]}}]))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.properties("contacts")
    assert (caught.value.status, caught.value.code) == (400, "VALIDATION_ERROR") and "mapping" in caught.value.hint
    assert route.call_count == 1 and sleeps == []


def test_a_refusal_whose_body_is_a_list_is_an_api_error_with_the_status(router: respx.Router,
                                                                        sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(return_value=httpx.Response(400, json=["not", "an", "object"]))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(ApiError) as caught:
        list(source.list_pages("contacts", ["email"]))
    assert caught.value.status == 400 and caught.value.code == "400" and route.call_count == 1


def test_a_429_whose_body_is_a_list_is_retried_like_a_burst_limit(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "1"}, json=["x"]),
                                                   hs_page([])])
    source, _ = hubspot(router, sleeps)
    assert list(source.list_pages("contacts", ["email"])) == []
    assert route.call_count == 2 and sleeps == [1.0]


def test_a_ten_secondly_429_without_retry_after_waits_out_the_window(router: respx.Router, sleeps: list[float]
                                                                     ) -> None:
    """HubSpot does not promise Retry-After on a CRM 429 (api-facts.md A9): while another app of the portal
    holds the burst limit, a jittered half-second backoff would spend every attempt inside the window. A fifth
    of the window each, the retries span it whole."""
    limited = hs_rate_limited("TEN_SECONDLY_ROLLING")
    with_interval = httpx.Response(429, headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "20000"},
                                   json=limited.json())
    route = router.get(CONTACTS).mock(side_effect=[limited, with_interval, hs_page([hs_record(1, T0)])])
    source, ledger = hubspot(router, sleeps)
    assert len(list(source.list_pages("contacts", ["email"]))) == 1
    assert route.call_count == 3 and ledger.total() == 3 and sleeps == [2.0, 4.0]
    from connector.systems.http import DEFAULT_RETRY
    assert (DEFAULT_RETRY.attempts - 1) * 2.0 >= 10.0  # a 429's retries, as shipped, span HubSpot's 10 s window


def test_a_secondly_429_of_search_waits_a_second(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(CONTACTS).mock(side_effect=[hs_rate_limited("SECONDLY"), hs_page([hs_record(1, T0)])])
    source, _ = hubspot(router, sleeps)
    assert len(list(source.list_pages("contacts", ["email"]))) == 1
    assert route.call_count == 2 and sleeps == [1.0]
