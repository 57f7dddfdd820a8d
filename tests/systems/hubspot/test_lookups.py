"""HubSpot look-ups before a create: against the emulator, and with respx for the answers the emulator does
not give (a 200 with fewer results, a 404 when nothing is found)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from pydantic import SecretStr

from connector.config import HubSpotConfig
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.runner import Sandbox
from connector.systems.http import ApiError, RetryPolicy
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.hubspot import hubspot_lookup_calls
from connector.systems.hubspot.lookups import find_by_email

from ..conftest import hubspot_config

T0 = 1_750_000_000_000


def hubspot_people() -> SeedBatch:
    return SeedBatch(hubspot={"contacts": [
        {"id": "11", "createdAt": T0, "updatedAt": T0 + 5,
         "properties": {"email": "Ann@Example.com", "firstname": "Ann"}},
        {"id": "12", "createdAt": T0, "updatedAt": T0,
         "properties": {"email": "bob@example.com", "firstname": "Bob"}}]})


def test_hubspot_finds_contacts_by_email_100_per_call(empty_sandbox: Sandbox) -> None:
    empty_sandbox.hubspot.state.load(hubspot_people())
    ledger = CallLedger()
    src = HubSpotSource(hubspot_config(empty_sandbox), ledger)
    emails = ["ann@example.com"] + [f"p{i}@example.com" for i in range(149)] + ["ann@example.com"]
    found = find_by_email(src.http, emails, properties=["email", "firstname", "salesforce_lead_id"])
    assert [(r.record_id, r.email_norm, r.modified_at) for r in found] == [("11", "ann@example.com", T0 + 5)]
    assert found[0].data["firstname"] == "Ann"  # what the pull reads, as the pull stages it
    # 150 distinct addresses: two batch reads; the emulator answers 207 naming the missing ones
    assert ledger.total() == 2 == hubspot_lookup_calls(150)


def hubspot_source(handler: respx.Router) -> HubSpotSource:
    config = HubSpotConfig.model_validate({"base_url": "https://hs.test", "access_token": SecretStr("t")})
    return HubSpotSource(config, CallLedger(), transport=httpx.MockTransport(handler.handler),
                         retry=RetryPolicy(attempts=1))


def contact(rid: str, email: str) -> dict[str, object]:
    return {"id": rid, "properties": {"email": email, "lastmodifieddate": "2025-06-15T15:06:40.000Z"},
            "createdAt": "2025-06-15T15:06:40.000Z", "updatedAt": "2025-06-15T15:06:40.000Z", "archived": False}


@pytest.mark.parametrize("status, body", [
    (200, {"status": "COMPLETE", "results": [contact("7", "a@x.io")]}),  # fewer results, no errors
    (207, {"status": "COMPLETE", "results": [contact("7", "a@x.io")], "numErrors": 1, "errors": [
        {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some CONTACT objects",
         "context": {"ids": ["b@x.io"]}}]}),
])
def test_hubspot_addresses_not_held_are_not_found_however_hubspot_says_so(status: int, body: dict[str, object]
                                                                           ) -> None:
    router = respx.Router(base_url="https://hs.test")
    route = router.post("/crm/v3/objects/contacts/batch/read").mock(return_value=httpx.Response(status, json=body))
    found = find_by_email(hubspot_source(router).http, ["a@x.io", "b@x.io"], properties=["email"])
    assert [r.record_id for r in found] == ["7"]
    sent = json.loads(route.calls[0].request.content)
    assert sent["idProperty"] == "email" and sent["inputs"] == [{"id": "a@x.io"}, {"id": "b@x.io"}]


def test_hubspot_404_when_none_is_held_means_none_found_but_other_errors_raise() -> None:
    router = respx.Router(base_url="https://hs.test")
    router.post("/crm/v3/objects/contacts/batch/read").mock(return_value=httpx.Response(404, json={
        "status": "error", "category": "OBJECT_NOT_FOUND", "message": "Object not found"}))
    assert find_by_email(hubspot_source(router).http, ["a@x.io"], properties=["email"]) == []
    denied = respx.Router(base_url="https://hs.test")
    denied.post("/crm/v3/objects/contacts/batch/read").mock(return_value=httpx.Response(403, json={
        "status": "error", "category": "MISSING_SCOPES", "message": "missing crm.objects.contacts.read"}))
    with pytest.raises(ApiError):
        find_by_email(hubspot_source(denied).http, ["a@x.io"], properties=["email"])


def test_lookup_cost_figures() -> None:
    assert hubspot_lookup_calls(0) == 0
    assert hubspot_lookup_calls(100) == 1 and hubspot_lookup_calls(101) == 2


# ---------------------------------------------------------------------------------- before an update


def test_hubspot_reads_what_records_hold_now_100_per_call(empty_sandbox: Sandbox) -> None:
    """The push's check before an update: one batch read per 100 ids; an id HubSpot no longer holds is absent."""
    from connector.systems.hubspot.lookups import current_values

    empty_sandbox.hubspot.state.load(hubspot_people())
    ledger = CallLedger()
    src = HubSpotSource(hubspot_config(empty_sandbox), ledger)
    ids = ["11", "12"] + [str(900 + i) for i in range(148)]
    held = current_values(src.http, "contacts", ids, ["firstname", "jobtitle"])
    assert set(held) == {"11", "12"}
    assert held["11"]["firstname"] == "Ann" and held["11"].get("jobtitle") is None
    assert ledger.total() == 2  # 150 ids, 100 a call
    assert current_values(src.http, "contacts", [], ["firstname"]) == {} and ledger.total() == 2
