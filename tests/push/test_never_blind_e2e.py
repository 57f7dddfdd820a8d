"""Never blind, end to end on the sandbox with the shipped mappings: an update whose fields nobody touched since
the run read them goes through the check (read again, compared in the system's own forms, written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import World, make_world, sf_type


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[World]:
    for world in make_world(tmp_path, people=120, seed=5):
        for _ in range(2):
            world.sync()
        yield world


def test_a_close_date_changed_in_salesforce_is_checked_and_written(synced: World) -> None:
    """A deal's close date (a date HubSpot answers in ISO-8601) changed on the Opportunity: the deal is read
    again before its update, found as the run read it, and written; nothing is left for the next run, and the
    next sync writes nothing."""
    deals = synced.hubspot_sdk().crm.deals
    page = deals.basic_api.get_page(limit=100, properties=["closedate", "salesforce_opportunity_id"])
    linked = [d for d in page.results if d.properties.get("salesforce_opportunity_id")]
    assert linked
    deal = linked[0]
    sf_type(synced.salesforce_sdk(), "Opportunity").update(deal.properties["salesforce_opportunity_id"],
                                                          {"CloseDate": "2031-03-14"})
    pushed = synced.sync()["deals"]["push"]
    assert pushed["checked"] == {"hubspot:deals": 1} and "deferred" not in pushed, pushed
    held = deals.basic_api.get_by_id(deal.id, properties=["closedate"]).properties["closedate"]
    assert held.startswith("2031-03-14"), held
    again = synced.sync()
    assert not again["deals"]["push"]["written"], again["deals"]
