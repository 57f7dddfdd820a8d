"""A failing opt-out is one person's parked write, never the run's failure, and the address it is keyed
by appears in no error, run record, summary or log line: the HTTP layer masks personal data in the
paths it names, and the subscription call's outcomes never repeat the address."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from connector.cli import main
from connector.sandbox.faults import FaultRule
from connector.store.models import ParkedRecord, SyncRun
from connector.systems.http import (
    ApiError,
    ErrorInfo,
    HttpLayer,
    RetryPolicy,
    StaticToken,
    TransientApiError,
)
from connector.systems.ledger import CallLedger
from connector.systems.hubspot import HubSpotSink

from .conftest import World, make_world
from .test_sync_e2e import hubspot_contacts, pairs, salesforce_people

ADDRESS = "jane.quill+news@example.org"


def layer(status: int, body: dict[str, Any]) -> HttpLayer:
    return HttpLayer("hubspot", "https://api.example.test", auth=StaticToken("t"), ledger=CallLedger(),
                     retry=RetryPolicy(attempts=3, initial=0.01, maximum=0.01),
                     describe=lambda r: ErrorInfo(str(r.json().get("category")), str(r.json().get("message"))),
                     transport=httpx.MockTransport(lambda _request: httpx.Response(status, json=body)),
                     sleep=lambda _seconds: None)


def unsubscribe_path(email: str) -> str:
    from urllib.parse import quote

    return f"/communication-preferences/v4/statuses/{quote(email, safe='@')}/unsubscribe-all"


def test_the_http_layer_names_no_address_in_its_errors_or_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="connector.systems.http")
    with pytest.raises(TransientApiError) as transient:
        layer(503, {"category": "UNAVAILABLE", "message": "down"}).json(
            "POST", unsubscribe_path(ADDRESS), object_type="subscriptions")
    with pytest.raises(ApiError) as refused:
        layer(400, {"category": "VALIDATION_ERROR", "message": "bad"}).json(
            "POST", unsubscribe_path(ADDRESS), object_type="subscriptions")
    texts = [str(transient.value), str(refused.value), refused.value.endpoint,
             *(r.getMessage() for r in caplog.records)]
    assert caplog.records  # the retries were logged ...
    for text in texts:  # ... and nothing names the address, plain or URL-encoded
        assert "jane.quill" not in text and "%2B" not in text, text
    assert "statuses/[email]/unsubscribe-all" in str(transient.value)


def test_each_address_gets_its_own_outcome_without_the_address_in_it() -> None:
    source = SimpleNamespace(http=layer(503, {"category": "UNAVAILABLE", "message": "down"}))
    (outcome,) = HubSpotSink(source).opt_out([ADDRESS]).values()  # type: ignore[arg-type]
    assert not outcome.ok and outcome.code == "UNAVAILABLE" and "jane" not in outcome.message
    source = SimpleNamespace(http=layer(400, {"category": "INVALID_EMAIL", "message": f"{ADDRESS} is not valid"}))
    (outcome,) = HubSpotSink(source).opt_out([ADDRESS]).values()  # type: ignore[arg-type]
    assert outcome.code == "INVALID_EMAIL" and outcome.message == "[email] is not valid"
    assert outcome.record_id is None


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in make_world(tmp_path_factory.mktemp("optout"), people=150, seed=13):
        world.sync()
        yield world


def subscribed_pairs(world: World) -> list[tuple[str, str, str]]:
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    return [(h, s, hs[h]["email"].lower()) for h, s in pairs(world)
            if h in hs and s in sf and hs[h].get("email") and hs[h].get("hs_email_optout") != "true"
            and not sf[s]["HasOptedOutOfEmail"] and sf[s]["HubSpot_Contact_Id__c"] == h]


def test_a_persistent_503_on_one_opt_out_parks_it_and_the_run_goes_on(synced: World,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (h1, s1, email1), (h2, s2, _) = subscribed_pairs(synced)[:2]
    sf = synced.salesforce_sdk()
    for s in (s1, s2):  # opted out in Salesforce: HubSpot must learn it through the subscription API
        getattr(sf, "Lead" if s.startswith("00Q") else "Contact").update(s, {"HasOptedOutOfEmail": True})
    synced.sandbox.hubspot.faults.add(FaultRule("503", path=unsubscribe_path(email1), count=1_000))
    result = synced.sync()  # raised TransientApiError naming the address before: no push summary at all
    assert result["ok"] and result["push"]["rejected"] >= 1
    hs = hubspot_contacts(synced)
    assert hs[h2].get("hs_email_optout") == "true"  # the other person's opt-out went through
    assert hs[h1].get("hs_email_optout") != "true"
    with Session(synced.engine) as session:
        row = session.exec(select(ParkedRecord).where(ParkedRecord.record_id == h1)).one()
        run = session.get(SyncRun, result["run_id"])
    assert run is not None and run.error is None and run.status == "partial"
    assert (row.field, row.code, row.resolved_at) == ("hs_email_optout", "UNAVAILABLE", None)
    assert "connector retry" in (row.hint or "")
    assert main(["status", "--config", str(synced.config_path), "--json"]) == 0
    status = capsys.readouterr().out
    assert h1 in status
    for text in (json.dumps(result), json.dumps(run.counts), status, row.message, row.hint or ""):
        assert email1 not in text and email1.split("@")[0] not in text
    # once HubSpot answers again, a retry opts them out and settles the parked entry
    synced.sandbox.hubspot.faults.clear()
    assert main(["retry", "--config", str(synced.config_path)]) == 0
    synced.sync()
    assert hubspot_contacts(synced)[h1].get("hs_email_optout") == "true"
    with Session(synced.engine) as session:
        assert session.exec(select(ParkedRecord).where(ParkedRecord.record_id == h1)).one().resolved_at is not None
