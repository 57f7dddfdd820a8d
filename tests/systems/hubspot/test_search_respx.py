"""HubSpot's keyset search (`hubspot.search`, through `HubSpotSource.changed_pages`) against respx: a full page
restarts the query at its last modified time, a full millisecond is paged by object id, and a record without a
modified time is malformed, with exact call counts."""

from __future__ import annotations

import pytest
import respx

from connector.systems.http import MalformedResponse
from connector.systems.hubspot import SEARCH_PAGE
from connector.systems.ports import Window
from tests.systems.respx_vendors import HS, hs_page, hs_record, hubspot, json_of

SEARCH = f"{HS}/crm/v3/objects/contacts/search"
T0 = 1_700_000_000_000


def filters_of(call: respx.models.Call) -> list[dict[str, str]]:
    return json_of(call)["filterGroups"][0]["filters"]


def test_search_pages_by_keyset_restarting_at_the_last_time_and_never_sends_after(
        router: respx.Router, sleeps: list[float]) -> None:
    """A full page (200) makes the next query start at its last modified time (GTE), not at an offset, so the
    10,000-result cap of HS-SEARCH (api-facts.md A4) is never reached; ids seen at that time are skipped."""
    first = [hs_record(i, T0 + i) for i in range(1, SEARCH_PAGE)] + [hs_record(900, T0 + SEARCH_PAGE - 1)]
    # the vendor answers the restarted query with the records at the boundary again, then the new ones
    second = [hs_record(SEARCH_PAGE - 1, T0 + SEARCH_PAGE - 1), hs_record(900, T0 + SEARCH_PAGE - 1),
              hs_record(901, T0 + SEARCH_PAGE + 5)]
    route = router.post(SEARCH).mock(side_effect=[hs_page(first, after="200"), hs_page(second)])
    source, ledger = hubspot(router, sleeps)
    pages = list(source.changed_pages("contacts", Window(T0, T0 + 10_000), ["email"]))
    assert [len(p) for p in pages] == [SEARCH_PAGE, 1] and pages[1][0]["id"] == "901"
    assert route.call_count == 2 and ledger.total() == 2
    for call in route.calls:
        body = json_of(call)
        assert "after" not in body and body["limit"] == SEARCH_PAGE
        assert body["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    assert [f["value"] for f in filters_of(route.calls[0])] == [str(T0), str(T0 + 10_000)]
    assert filters_of(route.calls[1])[0] == {"propertyName": "lastmodifieddate", "operator": "GTE",
                                             "value": str(T0 + SEARCH_PAGE - 1)}


def test_a_full_page_in_one_millisecond_is_finished_by_object_id(router: respx.Router, sleeps: list[float]) -> None:
    """200 records stamped with one time: the read pages that millisecond by hs_object_id, then goes past it."""
    same = [hs_record(i, T0 + 5) for i in range(1, SEARCH_PAGE + 1)]
    route = router.post(SEARCH).mock(side_effect=[
        hs_page(same),                                                     # GTE T0: one millisecond, full
        hs_page(same),                                                     # EQ T0+5, id > 0: all seen already
        hs_page([hs_record(i, T0 + 5) for i in range(SEARCH_PAGE + 1, SEARCH_PAGE + 31)]),  # id > 200: 30 more
        hs_page([hs_record(999, T0 + 9)]),                                 # GTE T0+6: the rest of the window
    ])
    source, _ = hubspot(router, sleeps)
    pages = list(source.changed_pages("contacts", Window(T0, T0 + 10), ["email"]))
    ids = [r["id"] for p in pages for r in p]
    assert len(ids) == len(set(ids)) == SEARCH_PAGE + 31 and ids[-1] == "999"
    assert route.call_count == 4
    assert filters_of(route.calls[1]) == [
        {"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(T0 + 5)},
        {"propertyName": "hs_object_id", "operator": "GT", "value": "0"}]
    assert json_of(route.calls[1])["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    assert filters_of(route.calls[2])[1]["value"] == str(SEARCH_PAGE)
    assert filters_of(route.calls[3])[0] == {"propertyName": "lastmodifieddate", "operator": "GTE",
                                             "value": str(T0 + 6)}


def test_a_search_record_without_a_modified_time_is_malformed(router: respx.Router, sleeps: list[float]) -> None:
    record = {"id": "5", "properties": {"hs_object_id": "5"}, "archived": False}
    route = router.post(SEARCH).mock(return_value=hs_page([record]))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(MalformedResponse, match="record 5 has no modified time"):
        list(source.changed_pages("contacts", Window(T0, T0 + 10), ["email"]))
    assert route.call_count == 1

