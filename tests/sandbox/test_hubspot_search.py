"""CRM search through the official SDK: operators, groups, sort and ties, paging and the 10,000 cap."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.contacts import ApiException, Filter, FilterGroup, PublicObjectSearchRequest

from connector.sandbox.dataset import SeedBatch
from tests.sandbox.hubspot_fixtures import T0, Hub, seed_contacts


def _ids(hub: Hub, filters: list[dict[str, Any]], **extra: Any) -> list[str]:
    body = {"filterGroups": [{"filters": filters}] if filters else [], "limit": 100, **extra}
    r = hub.http.post("/crm/v3/objects/contacts/search", json=body)
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["results"]]


def test_sdk_search_with_filters_sort_and_paging(hub: Hub) -> None:
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="lastname", operator="EQ", value="doe")])],
        sorts=[{"propertyName": "createdate", "direction": "DESCENDING"}], properties=["lastname"], limit=4)
    page = hub.sdk.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert page.total == 10
    assert [r.id for r in page.results] == ["19", "17", "15", "13"]
    assert page.paging.next.after == "4"
    request.after = page.paging.next.after
    nxt = hub.sdk.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert [r.id for r in nxt.results] == ["11", "9", "7", "5"]


@pytest.mark.parametrize(("filters", "expected"), [
    ([{"propertyName": "annualrevenue", "operator": "GT", "value": "18000"}], ["19", "20"]),
    ([{"propertyName": "annualrevenue", "operator": "LTE", "value": 2000}], ["1", "2"]),
    ([{"propertyName": "annualrevenue", "operator": "BETWEEN", "value": "3000", "highValue": "5000"}], ["3", "4", "5"]),
    ([{"propertyName": "email", "operator": "EQ", "value": "PERSON7@example.com"}], ["7"]),
    ([{"propertyName": "hs_object_id", "operator": "IN", "values": ["3", "9"]}], ["3", "9"]),
    ([{"propertyName": "firstname", "operator": "IN", "values": ["first4", "first6"]}], ["4", "6"]),
    ([{"propertyName": "firstname", "operator": "IN", "values": ["First4"]}], []),
    ([{"propertyName": "lifecyclestage", "operator": "EQ", "value": "LEAD"}], []),
    ([{"propertyName": "company", "operator": "CONTAINS_TOKEN", "value": "1*"}],
     ["1", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"]),
    ([{"propertyName": "phone", "operator": "HAS_PROPERTY"}], []),
    ([{"propertyName": "hs_object_id", "operator": "LT", "value": "4"},
      {"propertyName": "lastname", "operator": "NEQ", "value": "Doe"}], ["2"]),
    ([{"propertyName": "createdate", "operator": "GTE", "value": str(T0 + 18)}], ["18", "19", "20"]),
    ([{"propertyName": "lastmodifieddate", "operator": "LT", "value": "2023-11-14T22:13:21.003Z"}], ["1", "2"]),
])
def test_operators(hub: Hub, filters: list[dict[str, Any]], expected: list[str]) -> None:
    assert sorted(_ids(hub, filters), key=int) == expected


def test_filter_groups_are_ored(hub: Hub) -> None:
    r = hub.http.post("/crm/v3/objects/contacts/search", json={"filterGroups": [
        {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": "2"}]},
        {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": "5"}]}]})
    assert sorted(x["id"] for x in r.json()["results"]) == ["2", "5"]


def test_free_text_query(hub: Hub) -> None:
    assert _ids(hub, [], query="person12") == ["12"]


def test_limits_on_groups_filters_and_page_size(hub: Hub) -> None:
    f = {"propertyName": "hs_object_id", "operator": "GT", "value": "0"}
    too_many_groups = {"filterGroups": [{"filters": [f]}] * 6}
    too_many_in_group = {"filterGroups": [{"filters": [f] * 7}]}
    too_many_total = {"filterGroups": [{"filters": [f] * 6}] * 4}
    for body in (too_many_groups, too_many_in_group, too_many_total, {"limit": 201}):
        r = hub.http.post("/crm/v3/objects/contacts/search", json=body)
        assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"


def test_archived_records_never_appear(hub: Hub) -> None:
    hub.http.delete("/crm/v3/objects/contacts/3")
    assert "3" not in _ids(hub, [])


def test_ties_on_the_sort_value_break_by_id(hub: Hub) -> None:
    for object_id in ("9", "4", "12"):
        hub.control("POST", f"/objects/contacts/{object_id}/modified", json={"at_ms": T0 + 50_000})
    ids = _ids(hub, [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(T0 + 50_000)}],
               sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}])
    assert ids == ["4", "9", "12"]


def test_search_responses_have_no_rate_limit_headers(hub: Hub) -> None:
    hub.state.rate_limits = True
    r = hub.http.post("/crm/v3/objects/contacts/search", json={})
    assert not [h for h in r.headers if h.lower().startswith("x-hubspot-ratelimit")]
    listed = hub.http.get("/crm/v3/objects/contacts")
    assert listed.headers["X-HubSpot-RateLimit-Max"] == "190"


def test_ten_thousand_result_cap(hub: Hub) -> None:
    hub.state.load(SeedBatch(hubspot={"contacts": seed_contacts(100, 10_150, created=T0 + 100)}))
    body: dict[str, Any] = {"filterGroups": [], "limit": 200, "after": "9900",
                            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]}
    r = hub.http.post("/crm/v3/objects/contacts/search", json=body)
    assert r.status_code == 200
    assert r.json()["total"] == 10_071 and len(r.json()["results"]) == 100
    assert r.json()["paging"]["next"]["after"] == "10000"
    body["after"] = "10000"
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.contacts.search_api.do_search(public_object_search_request=PublicObjectSearchRequest(**{
            "filter_groups": [], "limit": 200, "after": "10000"}))
    assert err.value.status == 400
    assert json.loads(err.value.body)["category"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(("object_type", "body", "index"), [
    ("contacts",
     {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "1"}]}],
      "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]}, "records_modified"),
    ("deals", {"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "BETWEEN",
                                              "value": "1", "highValue": "9"}]}]}, "records_modified"),
    ("contacts", {"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "LT", "value": "9"}]}],
                  "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}]}, "records_created"),
    ("contacts", {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "a@b.c"}]}]},
     "records_email_lookup"),
])
def test_date_id_and_email_searches_use_an_index(hub: Hub, object_type: str, body: dict[str, Any], index: str) -> None:
    from connector.sandbox.hubspot.search import build_search

    q = build_search(object_type, body, hub.state.registry)
    plan = hub.state.db.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT id FROM records WHERE {q.where} ORDER BY {q.order} LIMIT 10", q.params).fetchall()
    assert index in plan[0][3] and "SCAN" not in plan[0][3]
