"""Objects API through the official SDK: list/paging, get, create, update, archive, validation errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot.crm.contacts import ApiException, SimplePublicObjectInput, SimplePublicObjectInputForCreate

from tests.sandbox.hubspot_fixtures import Hub


def _error(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def test_list_pages_through_every_contact_with_an_opaque_cursor(hub: Hub) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = hub.sdk.crm.contacts.basic_api.get_page(limit=7, after=after, properties=["email", "company"])
        seen += [r.id for r in page.results]
        assert all(set(r.properties) >= {"email", "company", "createdate", "lastmodifieddate", "hs_object_id"}
                   for r in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
        assert not after.isdigit()
    assert seen == [str(i) for i in range(1, 21)]


def test_list_rejects_limits_over_100_and_history_pages_over_50(hub: Hub) -> None:
    assert hub.http.get("/crm/v3/objects/contacts", params={"limit": 101}).status_code == 400
    r = hub.http.get("/crm/v3/objects/contacts", params={"limit": 51, "propertiesWithHistory": "email"})
    assert r.status_code == 400


def test_get_by_id_email_and_object_type_id(hub: Hub) -> None:
    by_id = hub.sdk.crm.contacts.basic_api.get_by_id("3", properties=["company"])
    assert by_id.properties["company"] == "Acme 3"
    by_email = hub.sdk.crm.contacts.basic_api.get_by_id("PERSON3@example.com", id_property="email")
    assert by_email.id == "3"
    r = hub.http.get("/crm/v3/objects/0-1/3")
    assert r.json()["id"] == "3"
    dated = hub.http.get("/crm/objects/2026-03/contacts/3")
    assert dated.status_code == 200 and dated.json()["properties"]["email"] == "person3@example.com"


def test_missing_record_is_404_with_hubspot_error_shape(hub: Hub) -> None:
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.contacts.basic_api.get_by_id("999999")
    assert err.value.status == 404
    body = _error(err.value)
    assert body["status"] == "error" and body["category"] == "OBJECT_NOT_FOUND"
    assert body["correlationId"] == err.value.headers["X-HubSpot-Correlation-Id"]


def test_create_sets_server_managed_dates_from_the_sandbox_clock(hub: Hub) -> None:
    at = hub.clock.freeze()
    created = hub.sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": "new@example.com", "firstname": "New", "lifecyclestage": "lead"}))
    assert int(created.id) > 20
    assert created.properties["hs_object_id"] == created.id
    assert int(created.created_at.timestamp() * 1000) == at
    assert created.properties["lastmodifieddate"] == created.properties["createdate"]


def test_duplicate_email_is_409_conflict_naming_the_existing_id(hub: Hub) -> None:
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"email": "Person4@Example.com"}))
    assert err.value.status == 409
    body = _error(err.value)
    assert body["category"] == "CONFLICT" and body["message"] == "Contact already exists. Existing ID: 4"


@pytest.mark.parametrize(("props", "code"), [
    ({"lifecyclestage": "Lead"}, "INVALID_OPTION"),
    ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
    ({"createdate": "2020-01-01"}, "READ_ONLY_VALUE"),
    ({"hs_email_optout": "true"}, "READ_ONLY_VALUE"),
    ({"annualrevenue": "lots"}, "INVALID_INTEGER"),
    ({"hubspot_owner_id": "999"}, "INVALID_OPTION"),
])
def test_invalid_property_values_are_validation_errors(hub: Hub, props: dict[str, Any], code: str) -> None:
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.contacts.basic_api.update("5", SimplePublicObjectInput(properties=props))
    assert err.value.status == 400
    body = _error(err.value)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    inner = json.loads(body["message"].split(": ", 1)[1])
    assert inner[0]["error"] == code and inner[0]["name"] == next(iter(props))
    assert body["errors"][0]["code"] == code


def test_update_changes_only_given_values_and_empty_string_clears(hub: Hub) -> None:
    updated = hub.sdk.crm.contacts.basic_api.update("6", SimplePublicObjectInput(
        properties={"company": "", "phone": "+1 555 0100", "hubspot_owner_id": "501", "numemployees": "1000+"}))
    assert updated.properties["company"] is None
    again = hub.sdk.crm.contacts.basic_api.get_by_id("6", properties=["company", "phone", "firstname"])
    assert again.properties["company"] is None
    assert again.properties["phone"] == "+1 555 0100" and again.properties["firstname"] == "First6"


def test_number_date_and_bool_values_are_normalised(hub: Hub) -> None:
    hub.http.post("/crm/v3/properties/contacts", json={
        "name": "trial_end", "label": "Trial end", "type": "datetime", "fieldType": "date",
        "groupName": "contactinformation"}).raise_for_status()
    r = hub.http.patch("/crm/v3/objects/contacts/7", json={"properties": {
        "annualrevenue": 1500.0, "trial_end": 1700000000000}})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["annualrevenue"] == "1500"
    assert r.json()["properties"]["trial_end"] == "2023-11-14T22:13:20.000Z"
    bad = hub.http.patch("/crm/v3/objects/contacts/7", json={"properties": {"trial_end": "next tuesday"}})
    assert bad.status_code == 400 and "INVALID_DATE" in bad.text


def test_archive_hides_record_and_archived_listing_shows_only_archived(hub: Hub) -> None:
    hub.sdk.crm.contacts.basic_api.archive("8")
    with pytest.raises(ApiException):
        hub.sdk.crm.contacts.basic_api.get_by_id("8")
    archived = hub.sdk.crm.contacts.basic_api.get_page(archived=True)
    assert [r.id for r in archived.results] == ["8"] and archived.results[0].archived is True
    live = hub.sdk.crm.contacts.basic_api.get_page(limit=100)
    assert "8" not in {r.id for r in live.results}
    assert hub.http.get("/crm/v3/objects/contacts/8", params={"archived": "true"}).json()["archivedAt"]
    # the email is free again once archived
    hub.sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "person8@example.com"}))


def test_unknown_requested_properties_are_ignored_and_empty_ones_are_null(hub: Hub) -> None:
    r = hub.http.get("/crm/v3/objects/contacts/2", params={"properties": "email,phone,not_a_property"})
    props = r.json()["properties"]
    assert props["phone"] is None and "not_a_property" not in props


def test_unknown_object_type_is_a_400(hub: Hub) -> None:
    r = hub.http.get("/crm/v3/objects/widgets")
    assert r.status_code == 400 and r.json()["message"] == "Unable to infer object type from: widgets"


def test_deals_require_stage_and_derive_probability(hub: Hub) -> None:
    missing = hub.http.post("/crm/v3/objects/deals", json={"properties": {"dealname": "x"}})
    assert missing.status_code == 400 and "dealstage" in missing.text
    deal = hub.sdk.crm.deals.basic_api.create(__import__("hubspot").crm.deals.SimplePublicObjectInputForCreate(
        properties={"dealname": "Won", "dealstage": "closedwon", "amount": "12.50"}))
    got = hub.http.get(f"/crm/v3/objects/deals/{deal.id}",
                       params={"properties": "pipeline,hs_is_closed_won,hs_deal_stage_probability,amount"}).json()
    assert got["properties"]["pipeline"] == "default" and got["properties"]["hs_is_closed_won"] == "true"
    assert got["properties"]["hs_deal_stage_probability"] == "1.0" and got["properties"]["amount"] == "12.5"


def test_engagement_created_with_association_to_contact(hub: Hub) -> None:
    r = hub.http.post("/crm/v3/objects/calls", json={
        "properties": {"hs_timestamp": "2024-01-02T03:04:05Z", "hs_call_title": "Intro",
                       "hs_call_direction": "OUTBOUND"},
        "associations": [{"to": {"id": "2"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                         "associationTypeId": 194}]}]})
    assert r.status_code == 201, r.text
    call_id = r.json()["id"]
    assert r.json()["properties"]["hs_timestamp"] == "2024-01-02T03:04:05.000Z"
    contact = hub.http.get("/crm/v3/objects/contacts/2", params={"associations": "calls"}).json()
    assert contact["associations"]["calls"]["results"] == [{"id": call_id, "type": "contact_to_call"}]
    via_type_id = hub.http.get(f"/crm/v3/objects/0-48/{call_id}").json()
    assert set(via_type_id["properties"]) == {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}
