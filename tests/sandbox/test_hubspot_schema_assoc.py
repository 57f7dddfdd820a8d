"""Properties API, owners, pipelines and associations v4 through the official SDK."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4 import (BatchInputPublicAssociationMultiPost,
                                         BatchInputPublicDefaultAssociationMultiPost,
                                         BatchInputPublicFetchAssociationsBatchRequest, PublicAssociationMultiPost,
                                         PublicDefaultAssociationMultiPost, PublicFetchAssociationsBatchRequest,
                                         PublicObjectId)
from hubspot.crm.properties import ApiException, OptionInput, PropertyCreate

from tests.sandbox.hubspot_fixtures import Hub


def test_created_property_is_listed_and_usable_at_once(hub: Hub) -> None:
    created = hub.sdk.crm.properties.core_api.create("contacts", PropertyCreate(
        name="connector_score", label="Connector score", type="number", field_type="number",
        group_name="contactinformation"))
    assert created.name == "connector_score" and created.modification_metadata.read_only_value is False
    enum = hub.sdk.crm.properties.core_api.create("contacts", PropertyCreate(
        name="connector_status", label="Status", type="enumeration", field_type="select",
        group_name="contactinformation",
        options=[OptionInput(label="MQL", value="MQL", display_order=0, hidden=False),
                 OptionInput(label="SQL", value="SQL", display_order=1, hidden=False)]))
    assert [o.value for o in enum.options] == ["MQL", "SQL"]
    names = {p.name for p in hub.sdk.crm.properties.core_api.get_all("contacts").results}
    assert {"connector_score", "connector_status", "email", "lifecyclestage"} <= names
    ok = hub.http.patch("/crm/v3/objects/contacts/1", json={"properties": {"connector_score": "87",
                                                                            "connector_status": "SQL"}})
    assert ok.status_code == 200 and ok.json()["properties"]["connector_score"] == "87"
    bad = hub.http.patch("/crm/v3/objects/contacts/1", json={"properties": {"connector_status": "sql"}})
    assert bad.status_code == 400 and "INVALID_OPTION" in bad.text
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.properties.core_api.create("contacts", PropertyCreate(
            name="connector_score", label="again", type="number", field_type="number", group_name="contactinformation"))
    assert err.value.status == 409


def test_property_definitions_carry_types_options_and_read_only_flags(hub: Hub) -> None:
    prop = hub.sdk.crm.properties.core_api.get_by_name("contacts", "lifecyclestage")
    assert prop.type == "enumeration" and "marketingqualifiedlead" in [o.value for o in prop.options]
    optout = hub.http.get("/crm/v3/properties/contacts/hs_email_optout").json()
    assert optout["type"] == "bool" and optout["modificationMetadata"]["readOnlyValue"] is True
    groups = hub.http.get("/crm/v3/properties/contacts/groups").json()["results"]
    assert "contactinformation" in {g["name"] for g in groups}
    created = hub.http.post("/crm/v3/properties/contacts/groups", json={"name": "connector", "label": "Connector"})
    assert created.status_code == 201


def test_owners_are_paged(hub: Hub) -> None:
    first = hub.sdk.crm.owners.owners_api.get_page(limit=1)
    assert first.results[0].email == "ana@example.com" and first.results[0].user_id == 9001
    second = hub.sdk.crm.owners.owners_api.get_page(limit=1, after=first.paging.next.after)
    assert second.results[0].id == "502" and second.paging is None


def test_deal_pipeline_has_default_stages_with_metadata(hub: Hub) -> None:
    pipelines = hub.sdk.crm.pipelines.pipelines_api.get_all("deals").results
    stages = {s.id: s.metadata for s in pipelines[0].stages}
    assert pipelines[0].id == "default"
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["appointmentscheduled"]["isClosed"] == "false"


def test_associations_batch_read_and_create(hub: Hub) -> None:
    v4 = hub.sdk.crm.associations.v4
    read = v4.batch_api.get_page("contacts", "deals", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id="1")]))
    assert str(read.results[0].to[0].to_object_id) == "7001"
    assert read.results[0].to[0].association_types[0].type_id == 4
    v4.basic_api.create_default("contacts", "3", "deals", "7001")
    v4.batch_api.create_default("contacts", "deals", BatchInputPublicDefaultAssociationMultiPost(
        inputs=[PublicDefaultAssociationMultiPost(_from=PublicObjectId(id="4"), to=PublicObjectId(id="7001"))]))
    back = hub.http.post("/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": "7001"}]}).json()
    assert sorted(t["toObjectId"] for t in back["results"][0]["to"]) == [1, 3, 4]
    assert back["results"][0]["to"][0]["associationTypes"][0]["typeId"] == 3
    v4.batch_api.create("contacts", "deals", BatchInputPublicAssociationMultiPost(inputs=[PublicAssociationMultiPost(
        _from=PublicObjectId(id="5"), to=PublicObjectId(id="7001"),
        types=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}])]))
    assert hub.http.get("/crm/v4/objects/contacts/5/associations/deals").json()["results"][0]["toObjectId"] == 7001


def test_associations_batch_read_reports_records_without_associations(hub: Hub) -> None:
    r = hub.http.post("/crm/v4/associations/contacts/deals/batch/read", json={"inputs": [{"id": "1"}, {"id": "2"}]})
    assert r.status_code == 207
    assert r.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    too_many = hub.http.post("/crm/v4/associations/contacts/deals/batch/read",
                             json={"inputs": [{"id": "1"}] * 1001})
    assert too_many.status_code == 400


def test_association_paging_per_input(hub: Hub) -> None:
    calls = [{"properties": {"hs_timestamp": "1700000000000", "hs_call_title": f"c{i}"},
              "associations": [{"to": {"id": "9"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                              "associationTypeId": 194}]}]} for i in range(3)]
    for call in calls:
        hub.http.post("/crm/v3/objects/calls", json=call).raise_for_status()
    first = hub.http.get("/crm/v4/objects/contacts/9/associations/calls", params={"limit": 2}).json()
    assert len(first["results"]) == 2 and "paging" in first
    rest = hub.http.get("/crm/v4/objects/contacts/9/associations/calls",
                        params={"limit": 2, "after": first["paging"]["next"]["after"]}).json()
    assert len(rest["results"]) == 1 and "paging" not in rest
