"""`connector plan`'s forecast counts the look-ups before the creates, at their lower bound."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from connector.reconcile.writes import RecordWrite, WritePlan
from connector.sync import forecast


def systems() -> Any:
    unlimited = SimpleNamespace(http=SimpleNamespace(budget=None), learn_limits=lambda: None)
    return SimpleNamespace(hubspot=unlimited, salesforce=unlimited)


def leads(n: int) -> tuple[RecordWrite, ...]:
    return tuple(RecordWrite("salesforce", "Lead", None, f"p{i}", {"LastName": "x", "HubSpot_Contact_Id__c": str(i)})
                 for i in range(n))


def contacts(n: int, *, email: bool = True) -> tuple[RecordWrite, ...]:
    return tuple(RecordWrite("hubspot", "contacts", None, f"q{i}", {"salesforce_lead_id": f"00Q{i:015d}",
                                                                     **({"email": f"P{i}@x.io "} if email else {})})
                 for i in range(n))


def test_the_forecast_adds_the_lookups_to_the_creates() -> None:
    out = forecast(WritePlan(leads(250) + contacts(150), (), ()), systems(), 10_000)
    # Salesforce: 1 Composite of Collections for 250 creates + 4 queries (2 per object) in 1 Composite
    # HubSpot: 2 batch upserts for 150 creates + 2 batch reads by e-mail
    assert out["salesforce"]["write_calls"] == 1 + 1 and out["hubspot"]["write_calls"] == 2 + 2


def test_creates_without_an_email_are_not_read_from_hubspot_and_no_creates_cost_no_lookup() -> None:
    assert forecast(WritePlan(contacts(50, email=False), (), ()), systems(), 10_000)["hubspot"]["write_calls"] == 1
    update = RecordWrite("salesforce", "Lead", "00Q000000000001AAA", "p", {"Title": "x"})
    assert forecast(WritePlan((), (update,), ()), systems(), 10_000)["salesforce"]["write_calls"] == 1
