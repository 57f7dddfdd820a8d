"""HubSpot's metadata calls against respx: properties and groups read and created, a conflict answered as
"exists already", a refusal translated with the scope to grant, each in one call."""

from __future__ import annotations

import httpx
import pytest
import respx

from connector.systems.http import ApiError, MalformedResponse
from tests.systems.respx_vendors import HS, hs_error, hubspot, json_of

PROPERTIES = f"{HS}/crm/v3/properties/contacts"
GROUPS = f"{PROPERTIES}/groups"
BODY = {"name": "connector_score", "label": "Connector score", "type": "number", "fieldType": "number",
        "groupName": "hubspot_salesforce_connector"}


def test_properties_are_read_once_per_run_until_refreshed(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(PROPERTIES).mock(return_value=httpx.Response(200, json={"results": [{"name": "email"}]}))
    source, ledger = hubspot(router, sleeps)
    assert source.properties("contacts") == source.properties("contacts") == [{"name": "email"}]
    source.refresh_properties("contacts")
    assert source.properties("contacts") == [{"name": "email"}]
    assert route.call_count == 2 and ledger.total("hubspot") == 2


def test_property_groups_are_listed(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(GROUPS).mock(return_value=httpx.Response(200, json={"results": [
        {"name": "contactinformation", "label": "Contact information", "displayOrder": -1, "archived": False}]}))
    source, ledger = hubspot(router, sleeps)
    assert [g["name"] for g in source.property_groups("contacts")] == ["contactinformation"]
    assert route.call_count == 1 and ledger.total() == 1


def test_a_created_property_sends_its_body_once(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(PROPERTIES).mock(return_value=httpx.Response(201, json={**BODY, "hasUniqueValue": False}))
    source, ledger = hubspot(router, sleeps)
    assert source.create_property("contacts", BODY) is True
    assert route.call_count == 1 and ledger.total() == 1 == source.calls_made() and json_of(route.calls[0]) == BODY


def test_a_property_that_exists_already_is_not_an_error(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(PROPERTIES).mock(return_value=hs_error(
        409, "OBJECT_ALREADY_EXISTS", "A property named 'connector_score' already exists."))
    source, _ = hubspot(router, sleeps)
    assert source.create_property("contacts", BODY) is False
    assert route.call_count == 1 and sleeps == []


def test_a_refused_property_names_the_schema_scope_to_grant(router: respx.Router, sleeps: list[float]) -> None:
    route = router.post(PROPERTIES).mock(return_value=hs_error(
        403, "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call."))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.create_property("contacts", BODY)
    err = caught.value
    assert (err.status, err.code) == (403, "MISSING_SCOPES") and err.vendor_message.startswith("This app hasn't")
    assert err.hint == "give the private app the crm.schemas.contacts.write scope"
    assert isinstance(err.__cause__, ApiError) and route.call_count == 1


@pytest.mark.parametrize(("category", "hint"), [
    ("VALIDATION_ERROR", "a value does not fit the HubSpot property; check the mapping for that property"),
    ("UNKNOWN_CATEGORY", "give the private app the crm.schemas.deals.write scope"),
])
def test_another_refusal_keeps_hubspots_hint_or_names_the_scope(router: respx.Router, sleeps: list[float],
                                                                 category: str, hint: str) -> None:
    router.post(f"{HS}/crm/v3/properties/deals").mock(return_value=hs_error(400, category, "bad property"))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.create_property("deals", BODY)
    assert (caught.value.status, caught.value.code, caught.value.hint) == (400, category, hint)


def test_a_property_group_is_created_once_or_found_existing(router: respx.Router, sleeps: list[float]) -> None:
    group = {"name": "hubspot_salesforce_connector", "label": "HubSpot–Salesforce connector", "displayOrder": -1}
    route = router.post(GROUPS).mock(side_effect=[
        httpx.Response(201, json={**group, "archived": False}),
        hs_error(409, "OBJECT_ALREADY_EXISTS", "A group named 'hubspot_salesforce_connector' already exists.")])
    source, ledger = hubspot(router, sleeps)
    assert source.create_property_group("contacts", group) is True
    assert source.create_property_group("contacts", group) is False
    assert route.call_count == 2 and ledger.total() == 2 and json_of(route.calls[0]) == group


def test_a_refused_property_group_is_raised_as_hubspot_answered(router: respx.Router, sleeps: list[float]) -> None:
    router.post(GROUPS).mock(return_value=hs_error(403, "MISSING_SCOPES", "missing scopes"))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.create_property_group("contacts", {"name": "g", "label": "G"})
    assert (caught.value.status, caught.value.code) == (403, "MISSING_SCOPES")
    assert "crm.objects.*" in caught.value.hint  # HubSpot's MISSING_SCOPES hint, unchanged


def test_property_groups_answered_as_a_list_are_malformed(router: respx.Router, sleeps: list[float]) -> None:
    route = router.get(GROUPS).mock(
        return_value=httpx.Response(200, json=[{"name": "contactinformation"}]))
    source, _ = hubspot(router, sleeps)
    with pytest.raises(MalformedResponse, match="hubspot contacts property groups: expected a JSON object"):
        source.property_groups("contacts")
    assert route.call_count == 1
