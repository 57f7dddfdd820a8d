"""The `slow` fault answers late but still acts on the request, as a server does when its client gives up:
the write lands and only its answer is lost (before, the request body was read after the wait, so a client
that timed out meanwhile made the handler fail with ClientDisconnect and the write never happened)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator

import httpx
import pytest

from connector.sandbox.faults import FaultRule
from connector.sandbox.runner import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(people=0, rate_limits=False, search_lag_ms=0) as sb:
        yield sb


def _client(sb: Sandbox, timeout: float) -> httpx.Client:
    info = sb.info()
    return httpx.Client(base_url=info.hubspot_base_url, verify=ssl.create_default_context(cafile=info.ca_file),
                        headers={"Authorization": f"Bearer {info.hubspot_access_token}"}, trust_env=False,
                        timeout=timeout)


def test_a_write_answered_after_the_client_gave_up_still_lands(sandbox: Sandbox) -> None:
    sandbox.hubspot.faults.add(FaultRule("slow", path="/crm/v3/objects/contacts", method="POST", count=1, delay=1.0))
    with _client(sandbox, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post("/crm/v3/objects/contacts", json={"properties": {"email": "late@example.com"}})
    with _client(sandbox, timeout=30) as http:
        deadline = time.monotonic() + 60  # a safety net: the write lands about a second after it was sent
        while True:
            found = http.get("/crm/v3/objects/contacts", params={"properties": "email"}).json()["results"]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # polling the emulator's state: how often the test looks, not how long it waits
    assert [c["properties"]["email"] for c in found] == ["late@example.com"]
    assert sandbox.hubspot.faults.rules()[0]["fired"] == 1


def test_a_slow_answer_within_the_timeout_is_the_real_answer(sandbox: Sandbox) -> None:
    sandbox.hubspot.faults.add(FaultRule("slow", path="/crm/v3/objects/contacts", method="POST", count=1, delay=0.3))
    with _client(sandbox, timeout=30) as http:
        made = http.post("/crm/v3/objects/contacts", json={"properties": {"email": "slow@example.com"}})
    assert made.status_code == 201 and made.json()["properties"]["email"] == "slow@example.com"
