"""HubSpotSink.opt_out against respx: 100 addresses per batch unsubscribe-all call on Enterprise accounts, one
address a call once HubSpot refuses the batch scope, an outcome per address (an input's own error fails it
alone; a batch that failed whole after every retry fails each of its addresses), exact call counts, and no
address in any outcome.

Answers are shaped as HubSpot's v4 spec gives them (HubSpot/HubSpot-public-api-spec-collection,
communication preferences v4: ``BatchResponsePublicBulkOptOutFromAllResponse``, 200 only, with ``errors``
and ``numErrors``); the invalid input's error as a third-party example shows it (docs/sandbox/hubspot.md)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from connector.systems.hubspot import HubSpotSink
from connector.systems.hubspot.optouts import OPT_OUT_BATCH, opt_out_calls
from connector.systems.ports import WriteOutcome
from tests.systems.respx_vendors import ATTEMPTS, HS, hs_error, hubspot, json_of

PREFS = f"{HS}/communication-preferences/v4/statuses"
BATCH = f"{PREFS}/batch/unsubscribe-all"
STAMP = "2026-12-07T09:00:00.000Z"


def addresses(n: int, start: int = 0) -> list[str]:
    return [f"Person.{i}+news@Example.org" for i in range(start, start + n)]


def statuses(email: str) -> dict[str, Any]:
    """One input's result with ``verbose``: its address (as HubSpot stores it, lower case) and its statuses."""
    return {"subscriberIdString": email.lower(), "statuses": [
        {"channel": "EMAIL", "source": "API", "status": "UNSUBSCRIBED", "subscriberIdString": email.lower(),
         "subscriptionId": 1, "subscriptionName": "Marketing Information", "timestamp": STAMP,
         "setStatusSuccessReason": "UNSUBSCRIBE_FROM_ALL_OCCURRED"}]}


def answer(request: httpx.Request) -> httpx.Response:
    """A batch answer opting out every input it was sent."""
    inputs = json.loads(request.content)["inputs"]
    return httpx.Response(200, json={"status": "COMPLETE", "results": [statuses(e) for e in inputs],
                                     "startedAt": STAMP, "completedAt": STAMP})


def invalid(raw: str) -> dict[str, Any]:
    context = {"subscriberIdString": [raw]}
    return {"status": "400", "category": "VALIDATION_ERROR", "message": "One or more inputs were invalid.",
            "context": context, "errors": [{"code": "400", "in": "inputs", "subCategory": "INVALID_EMAIL",
                                            "message": f"Invalid subscriber identifier: {raw}", "context": context}]}


def names_no_address(outcomes: dict[str, WriteOutcome]) -> bool:
    texts = [f"{o.code} {o.message} {o.fields}" for o in outcomes.values()]
    return not any("person." in t.lower() or "%40" in t for t in texts)


def test_an_enterprise_account_opts_out_100_addresses_a_call(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(BATCH).mock(side_effect=answer)
    source, ledger = hubspot(router, sleeps)
    emails = addresses(250)
    out = HubSpotSink(source).opt_out(emails)
    assert out == dict.fromkeys(emails, WriteOutcome(True))
    assert route.call_count == ledger.total() == opt_out_calls(250) == 3
    assert [len(json_of(c)["inputs"]) for c in route.calls] == [OPT_OUT_BATCH, OPT_OUT_BATCH, 50]
    assert [e for c in route.calls for e in json_of(c)["inputs"]] == emails  # as given, each once, in order
    assert dict(route.calls[0].request.url.params) == {"channel": "EMAIL", "verbose": "true"}
    assert ledger.snapshot()["hubspot"]["by_object"] == {"subscriptions": 3}


def test_an_address_given_twice_is_sent_once(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(BATCH).mock(side_effect=answer)
    source, _ = hubspot(router, sleeps)
    emails = addresses(2)
    assert HubSpotSink(source).opt_out([*emails, emails[0]]) == dict.fromkeys(emails, WriteOutcome(True))
    assert json_of(route.calls[0])["inputs"] == emails


def test_an_input_hubspot_reports_fails_alone_and_one_it_never_mentions_is_not_assumed_done(
        router: respx.Router, sleeps: list[float]) -> None:
    good, bad, silent = addresses(3)
    router.post(BATCH).mock(return_value=httpx.Response(200, json={
        "status": "COMPLETE", "results": [statuses(good)], "numErrors": 1, "errors": [invalid(bad.upper())],
        "startedAt": STAMP, "completedAt": STAMP}))
    source, ledger = hubspot(router, sleeps)
    out = HubSpotSink(source).opt_out([good, bad, silent])
    assert out == {
        good: WriteOutcome(True),
        bad: WriteOutcome(False, code="INVALID_EMAIL", message="Invalid subscriber identifier: [email]"),
        silent: WriteOutcome(False, code="NO_RESULT", message="HubSpot's answer did not mention this address"),
    }
    assert ledger.total() == 1 and names_no_address(out)


def test_below_enterprise_the_refused_batch_falls_back_to_one_address_a_call_for_the_run(
        router: respx.Router, sleeps: list[float]) -> None:
    """The batch scope needs Marketing Hub Enterprise: HubSpot's 403 MISSING_SCOPES, asked once per sink."""
    refused = router.post(BATCH).mock(return_value=hs_error(
        403, "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call.",
        errors=[{"message": "One or more of the following scopes are required.",
                 "context": {"requiredGranularScopes": ["subscription-status-batch-write"]}}]))
    single = router.post(url__regex=rf"{PREFS}/[^/]+@[^/]+/unsubscribe-all").mock(
        return_value=httpx.Response(200, json={"status": "COMPLETE", "results": [], "startedAt": STAMP,
                                               "completedAt": STAMP}))
    source, ledger = hubspot(router, sleeps)
    sink = HubSpotSink(source)
    first, later = addresses(150), addresses(3, start=150)
    assert sink.opt_out(first) == dict.fromkeys(first, WriteOutcome(True))
    assert sink.opt_out(later) == dict.fromkeys(later, WriteOutcome(True))
    assert refused.call_count == 1  # not asked again: 150 + 3 addresses, one call each
    assert single.call_count == 153 and ledger.total() == 154 == 1 + opt_out_calls(153, batched=False)
    assert str(single.calls[0].request.url).startswith(f"{PREFS}/Person.0%2Bnews@Example.org/unsubscribe-all?")
    assert dict(single.calls[0].request.url.params) == {"channel": "EMAIL"}


def test_a_batch_refused_whole_for_its_content_is_sent_again_address_by_address(
        router: respx.Router, sleeps: list[float]) -> None:
    """Should HubSpot refuse a whole batch (400) for one bad input, the others still go, and the next batch
    is a batch again (the scope is there)."""
    emails = addresses(101)
    bad = emails[7]
    batch = router.post(BATCH).mock(side_effect=[
        hs_error(400, "VALIDATION_ERROR", f"{bad} is not a valid email address"), httpx.Response(200, json={
            "status": "COMPLETE", "results": [statuses(emails[100])], "startedAt": STAMP, "completedAt": STAMP})])

    def one(request: httpx.Request) -> httpx.Response:
        if "/person.7%2bnews@" in str(request.url).lower():
            return hs_error(400, "VALIDATION_ERROR", f"{bad} is not a valid email address")
        return httpx.Response(200, json={"status": "COMPLETE", "results": []})

    single = router.post(url__regex=rf"{PREFS}/[^/]+@[^/]+/unsubscribe-all").mock(side_effect=one)
    source, ledger = hubspot(router, sleeps)
    out = HubSpotSink(source).opt_out(emails)
    assert out[bad] == WriteOutcome(False, code="VALIDATION_ERROR", message="[email] is not a valid email address")
    assert all(out[e].ok for e in emails if e != bad) and len(out) == 101
    assert batch.call_count == 2 and single.call_count == 100 and ledger.total() == 102
    assert names_no_address(out)


def test_a_batch_failing_after_every_retry_fails_each_of_its_addresses_and_the_next_batch_goes(
        router: respx.Router, sleeps: list[float]) -> None:
    emails = addresses(120)
    replies = iter([*[httpx.Response(503)] * ATTEMPTS])
    route = router.post(BATCH).mock(side_effect=lambda request: next(replies, None) or answer(request))
    source, ledger = hubspot(router, sleeps)
    out = HubSpotSink(source).opt_out(emails)
    unavailable = {o for e, o in out.items() if e in emails[:100]}
    assert [o.code for o in unavailable] == ["UNAVAILABLE"] and "after every retry" in unavailable.pop().message
    assert all(out[e].ok for e in emails[100:])
    assert route.call_count == ledger.total() == ATTEMPTS + 1 and len(sleeps) == ATTEMPTS - 1


@pytest.mark.parametrize(("reply", "message"), [
    (httpx.Response(200, content=b'{"status": "COMPLETE", "results": [{"subscriberIdString": "pers'),
     "not JSON"),
    (httpx.Response(200, json=[{"subscriberIdString": "person.0+news@example.org"}]), "not a batch response"),
    (httpx.Response(200, json={"status": "COMPLETE", "results": {"person.0+news@example.org": "done"}}),
     "not a batch response"),
])
def test_a_malformed_answer_fails_each_address_of_its_batch(router: respx.Router, sleeps: list[float],
                                                           reply: httpx.Response, message: str) -> None:
    router.post(BATCH).mock(return_value=reply)
    source, _ = hubspot(router, sleeps)
    out = HubSpotSink(source).opt_out(addresses(2))
    assert {(o.ok, o.code) for o in out.values()} == {(False, "MALFORMED_RESPONSE")} and len(out) == 2
    assert all(message in o.message for o in out.values()) and names_no_address(out)


def test_opt_out_calls_per_account() -> None:
    assert [opt_out_calls(n) for n in (0, 1, 100, 101, 250)] == [0, 1, 1, 2, 3]
    assert [opt_out_calls(n, batched=False) for n in (0, 1, 101)] == [0, 1, 101]
