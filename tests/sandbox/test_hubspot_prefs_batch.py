"""The batch unsubscribe-all of communication preferences v4, as HubSpot documents it: at most 100 inputs a
call, an input that is no address reported as its own error while the others are opted out, the same store
as the one-address endpoint (``hs_email_optout`` follows), and one counted call per batch.

Sources: HubSpot's published OpenAPI spec of the v4 subscriptions API (HubSpot/HubSpot-public-api-spec-collection,
``Communication Preferences/Subscriptions/Rollouts/176901/v4/subscriptions.json``: body ``BatchInputString``
``{"inputs": [string]}``, the only answer 200 ``BatchResponsePublicBulkOptOutFromAllResponse`` whose schema
carries ``errors`` and ``numErrors``, scope ``subscription-status-batch-write``); the shape of an invalid
input's error as a third-party reference shows it (withone.ai, "Batch Unsubscribe Contacts From All
Subscriptions": ``VALIDATION_ERROR``, ``subCategory INVALID_EMAIL``, the address in ``context``). The cap of
100 is HubSpot's on its CRM batch endpoints; the spec states none for this one (⚠ inferred)."""

from __future__ import annotations

from typing import Any

import pytest

from connector.sandbox.hubspot.routes_prefs import MAX_BATCH_INPUTS
from tests.sandbox.hubspot_fixtures import Hub

BATCH = "/communication-preferences/v4/statuses/batch/unsubscribe-all"
KEY = f"POST {BATCH}"


def optout(hub: Hub, contact: int) -> Any:
    got = hub.http.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": "hs_email_optout"})
    return got.json()["properties"]["hs_email_optout"]


@pytest.fixture
def enterprise(hub: Hub) -> Hub:
    hub.control("POST", "/account", json={"tier": "enterprise"}).raise_for_status()
    return hub


def test_one_call_opts_out_a_whole_batch_and_is_counted_once(enterprise: Hub) -> None:
    hub = enterprise
    r = hub.http.post(BATCH, params={"channel": "EMAIL"},
                      json={"inputs": [f"person{i}@example.com" for i in range(1, 11)]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "COMPLETE" and body["results"] == [] and "errors" not in body
    assert [optout(hub, i) for i in (1, 5, 10, 11)] == ["true", "true", "true", None]
    assert hub.counter.snapshot()[KEY] == 1
    # the same store as the one-address endpoints: the portal-wide status reads back per contact
    wide = hub.http.get("/communication-preferences/v4/statuses/person5@example.com/unsubscribe-all",
                        params={"channel": "EMAIL"}).json()["results"]
    assert [(w["status"], w["wideStatusType"]) for w in wide] == [("UNSUBSCRIBED", "PORTAL_WIDE")]


def test_an_input_that_is_no_address_is_its_own_error_and_the_others_are_opted_out(enterprise: Hub) -> None:
    hub = enterprise
    r = hub.http.post(BATCH, params={"channel": "EMAIL", "verbose": "true"},
                      json={"inputs": ["person2@example.com", "not-an-email", "PERSON3@example.com",
                                       "person2@example.com", 42]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numErrors"] == 2
    assert [e["context"]["subscriberIdString"] for e in body["errors"]] == [["not-an-email"], ["42"]]
    assert {(e["category"], e["errors"][0]["subCategory"]) for e in body["errors"]} == {
        ("VALIDATION_ERROR", "INVALID_EMAIL")}
    # each address once, in canonical form, with every subscription's new status
    assert [x["subscriberIdString"] for x in body["results"]] == ["person2@example.com", "person3@example.com"]
    assert {s["status"] for x in body["results"] for s in x["statuses"]} == {"UNSUBSCRIBED"}
    assert (optout(hub, 2), optout(hub, 3)) == ("true", "true")


def test_more_than_the_cap_is_refused_whole_and_changes_nothing(enterprise: Hub) -> None:
    hub = enterprise
    inputs = [f"person{1 + i % 20}@example.com" for i in range(MAX_BATCH_INPUTS + 1)]
    r = hub.http.post(BATCH, params={"channel": "EMAIL"}, json={"inputs": inputs})
    assert r.status_code == 400
    assert r.json()["category"] == "VALIDATION_ERROR" and str(MAX_BATCH_INPUTS) in r.json()["message"]
    assert optout(hub, 1) is None
    full = hub.http.post(BATCH, params={"channel": "EMAIL"}, json={"inputs": inputs[:MAX_BATCH_INPUTS]})
    assert full.status_code == 200 and optout(hub, 1) == "true"
    assert hub.counter.snapshot()[KEY] == 2  # a refused call is a call too


def test_the_batch_needs_the_channel_and_a_non_empty_list(enterprise: Hub) -> None:
    hub = enterprise
    assert hub.http.post(BATCH, json={"inputs": ["person1@example.com"]}).status_code == 400
    assert hub.http.post(BATCH, params={"channel": "EMAIL"}, json={"inputs": []}).status_code == 400
    assert hub.http.post(BATCH, params={"channel": "EMAIL"}, json={"emails": ["a@b.c"]}).status_code == 400
    assert optout(hub, 1) is None


def test_the_official_sdk_reaches_the_batch_through_its_generic_request(enterprise: Hub,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """hubspot-api-client 12 wraps communication preferences v3 only (``StatusApi``: get_email_status,
    subscribe, unsubscribe); its ``api_request`` (plain ``requests``, so the CA comes from the environment)
    sends any call."""
    hub = enterprise
    assert not hasattr(hub.sdk.communication_preferences.status_api, "batch_unsubscribe_all")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(hub.tls.ca_file))
    r = hub.sdk.api_request({"method": "POST", "base_url": hub.url, "path": BATCH, "qs": {"channel": "EMAIL"},
                             "body": {"inputs": ["person7@example.com", "person8@example.com"]}})
    assert r.status_code == 200, r.text
    assert (optout(hub, 7), optout(hub, 8)) == ("true", "true")
    assert hub.counter.snapshot()[KEY] == 1


def test_the_counters_name_no_address(hub: Hub) -> None:
    """Per-address calls count under one key, as record ids do: a counter snapshot holds no e-mail address."""
    for i in (1, 2):
        hub.http.post(f"/communication-preferences/v4/statuses/person{i}@example.com/unsubscribe-all",
                      params={"channel": "EMAIL"}).raise_for_status()
    hub.http.get("/communication-preferences/v3/status/email/person1@example.com").raise_for_status()
    assert hub.counter.snapshot() == {
        "POST /communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all": 2,
        "GET /communication-preferences/v3/status/email/{emailAddress}": 1}
