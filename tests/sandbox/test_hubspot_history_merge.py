"""Property history, lifecycle rules, merges and GDPR deletion."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import ApiException, PublicGdprDeleteInput, PublicMergeInput, SimplePublicObjectInput

from tests.sandbox.hubspot_fixtures import T0, Hub


def test_history_records_api_writes_as_integration_and_ui_writes_as_crm_ui(hub: Hub) -> None:
    hub.clock.freeze()
    hub.sdk.crm.contacts.basic_api.update("2", SimplePublicObjectInput(properties={"jobtitle": "Engineer"}))
    hub.clock.advance(5_000)
    r = hub.control("POST", "/objects/contacts/2/ui-update", json={"userId": 9001, "properties": {"jobtitle": "Lead"}})
    assert r.status_code == 200, r.text
    got = hub.sdk.crm.contacts.basic_api.get_by_id("2", properties_with_history=["jobtitle", "firstname"])
    history = got.properties_with_history["jobtitle"]
    assert [h.value for h in history] == ["Lead", "Engineer"]
    assert history[0].source_type == "CRM_UI" and history[0].updated_by_user_id == 9001
    assert history[0].source_id == "userId:9001"
    assert history[1].source_type == "INTEGRATION" and history[1].source_id == hub.state.private_app_id
    assert (history[0].timestamp - history[1].timestamp).total_seconds() == 5
    assert [h.value for h in got.properties_with_history["firstname"]] == ["First2"]


def test_unchanged_values_do_not_touch_history_or_modified_date(hub: Hub) -> None:
    before = hub.sdk.crm.contacts.basic_api.get_by_id("3")
    hub.sdk.crm.contacts.basic_api.update("3", SimplePublicObjectInput(properties={"firstname": "First3"}))
    after = hub.sdk.crm.contacts.basic_api.get_by_id("3")
    assert after.updated_at == before.updated_at


def test_lifecycle_stage_does_not_move_backwards_through_the_api_unless_cleared(hub: Hub) -> None:
    # contact 2 is "marketingqualifiedlead"
    r = hub.http.patch("/crm/v3/objects/contacts/2", json={"properties": {"lifecyclestage": "lead"}})
    assert r.status_code == 200
    assert r.json()["properties"]["lifecyclestage"] == "marketingqualifiedlead"
    hub.http.patch("/crm/v3/objects/contacts/2", json={"properties": {"lifecyclestage": ""}}).raise_for_status()
    hub.http.patch("/crm/v3/objects/contacts/2", json={"properties": {"lifecyclestage": "lead"}}).raise_for_status()
    got = hub.http.get("/crm/v3/objects/contacts/2", params={"propertiesWithHistory": "lifecyclestage"}).json()
    assert [h["value"] for h in got["propertiesWithHistory"]["lifecyclestage"]] == [
        "lead", "", "marketingqualifiedlead"]
    forward = hub.http.patch("/crm/v3/objects/contacts/2", json={"properties": {"lifecyclestage": "customer"}})
    assert forward.json()["properties"]["lifecyclestage"] == "customer"


# Merges. Source: HubSpot developer changelog "Updated merge functionality for contacts and companies"
# (developers.hubspot.com/changelog/updated-merge-functionality-for-contacts-and-companies): "a new record
# with a new ID will be created for the resulting merged record ... both of the previous IDs will point to
# the resulting merged record, so fetching any records using the original IDs will return the new merged
# record with the new ID"; "the property values of the resulting merged record will use the latest
# property values of the primary record". Accounts in the "Primary ID Preservation for Merged Records"
# beta keep the primary's id (HubSpot object API guides, merge section).


def test_merge_gives_the_survivor_a_new_id_by_default(hub: Hub) -> None:
    assert hub.control("GET", "/account").json()["primary_id_preservation"] is False
    merged = hub.sdk.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id="2", object_id_to_merge="1"))
    new_id = merged.id
    assert new_id not in ("1", "2") and int(new_id) > 20
    assert merged.properties["hs_merged_object_ids"] == "2;1"
    assert merged.properties["email"] == "person2@example.com"
    assert merged.created_at.timestamp() * 1000 == T0 + 1  # the older of the two create times
    for old in ("1", "2"):  # both old ids read as the survivor, under its own id
        got = hub.sdk.crm.contacts.basic_api.get_by_id(old, properties=["email", "hs_object_id", "firstname"])
        assert got.id == new_id and got.properties["hs_object_id"] == new_id
        assert got.properties["firstname"] == "First2"  # the primary's values win
    batch = hub.http.post("/crm/v3/objects/contacts/batch/read",
                          json={"properties": ["email"], "inputs": [{"id": "1"}, {"id": "2"}, {"id": new_id}]})
    assert batch.status_code == 200 and [r["id"] for r in batch.json()["results"]] == [new_id]
    by_email = hub.http.get("/crm/v3/objects/contacts/person1@example.com", params={"idProperty": "email"})
    assert by_email.json()["id"] == new_id
    deal = hub.http.get("/crm/v3/objects/deals/7001", params={"associations": "contacts"}).json()
    assert [r["id"] for r in deal["associations"]["contacts"]["results"]] == [new_id]
    listed = {r["id"] for r in hub.http.get("/crm/v3/objects/contacts", params={"limit": 100}).json()["results"]}
    assert new_id in listed and not {"1", "2"} & listed
    assert hub.http.get("/crm/v3/objects/contacts", params={"archived": "true"}).json()["results"] == []
    assert hub.http.get("/crm/v3/objects/contacts/1", params={"archived": "true"}).status_code == 404
    again = hub.http.post("/crm/v3/objects/contacts/merge", json={"primaryObjectId": "3", "objectIdToMerge": "1"})
    assert again.status_code == 200  # a merged-away id names its survivor, here merged again
    third = again.json()["id"]
    assert sorted(hub.http.get(f"/crm/v3/objects/contacts/{third}", params={"properties": "hs_merged_object_ids"})
                  .json()["properties"]["hs_merged_object_ids"].split(";")) == sorted(["1", "2", "3", new_id])
    assert hub.http.get("/crm/v3/objects/contacts/2").json()["id"] == third


def test_merge_keeps_the_primary_id_when_the_account_preserves_it(hub: Hub) -> None:
    assert hub.control("POST", "/account", json={"primary_id_preservation": True}).json()[
        "primary_id_preservation"] is True
    merged = hub.sdk.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id="2", object_id_to_merge="1"))
    assert merged.id == "2"
    assert merged.properties["hs_merged_object_ids"] == "1"
    old = hub.sdk.crm.contacts.basic_api.get_by_id("1", properties=["hs_additional_emails", "email"])
    assert old.id == "2" and old.properties["email"] == "person2@example.com"
    assert old.properties["hs_additional_emails"] == "person1@example.com"
    by_old_email = hub.http.get("/crm/v3/objects/contacts/person1@example.com", params={"idProperty": "email"})
    assert by_old_email.json()["id"] == "2"
    deal = hub.http.get("/crm/v3/objects/deals/7001", params={"associations": "contacts"}).json()
    assert deal["associations"]["contacts"]["results"][0]["id"] == "2"
    assert hub.http.get("/crm/v3/objects/contacts", params={"archived": "true"}).json()["results"] == []
    ids = [r["id"] for r in hub.http.post("/crm/v3/objects/contacts/search", json={"limit": 100}).json()["results"]]
    assert "1" not in ids


def test_account_settings_are_checked_and_a_reset_restores_them(hub: Hub) -> None:
    assert hub.control("POST", "/account", json={"primary_id_presevation": True}).status_code == 400
    assert hub.control("POST", "/account", json={"primary_id_preservation": "yes"}).status_code == 400
    hub.control("POST", "/account", json={"primary_id_preservation": True})
    hub.state.reset()
    assert hub.state.account.primary_id_preservation is False


def test_merge_as_a_user_through_the_control_api(hub: Hub) -> None:
    r = hub.control("POST", "/objects/contacts/merge", json={"primaryObjectId": "5", "objectIdToMerge": "6",
                                                             "userId": 9002})
    assert r.status_code == 200 and r.json()["properties"]["hs_merged_object_ids"] == "5;6"
    raw = hub.control("GET", f"/objects/contacts/{r.json()['id']}").json()
    assert raw["history"]["hs_merged_object_ids"][0]["updatedByUserId"] == 9002


def test_gdpr_delete_is_permanent(hub: Hub) -> None:
    hub.sdk.crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id="4"))
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.contacts.basic_api.get_by_id("4")
    assert err.value.status == 404
    assert hub.http.get("/crm/v3/objects/contacts/4", params={"archived": "true"}).status_code == 404
    assert hub.http.get("/crm/v3/objects/contacts", params={"archived": "true"}).json()["results"] == []
    by_email = hub.http.post("/crm/v3/objects/contacts/gdpr-delete",
                             json={"objectId": "person5@example.com", "idProperty": "email"})
    assert by_email.status_code == 204
    assert hub.http.get("/crm/v3/objects/contacts/5").status_code == 404


def test_archive_and_restore_through_the_control_api(hub: Hub) -> None:
    assert hub.control("POST", "/objects/contacts/7/archive").json()["archived"] is True
    assert hub.http.get("/crm/v3/objects/contacts/7").status_code == 404
    assert hub.control("POST", "/objects/contacts/7/restore").json()["archived"] is False
    assert hub.http.get("/crm/v3/objects/contacts/7").status_code == 200


def test_seeded_history_is_returned_newest_first(hub: Hub) -> None:
    from connector.sandbox.dataset import SeedBatch

    hub.state.load(SeedBatch(hubspot={"contacts": [{
        "id": "300", "properties": {"email": "h@example.com", "jobtitle": "CTO"}, "createdAt": 1_600_000_000_000,
        "updatedAt": 1_600_000_500_000, "history": {"jobtitle": [
            {"value": "CTO", "timestamp": 1_600_000_500_000, "sourceType": "CRM_UI"},
            {"value": "Engineer", "timestamp": 1_600_000_000_000, "sourceType": "IMPORT"}]}}]}))
    listed = hub.http.get("/crm/v3/objects/contacts", params={"propertiesWithHistory": "jobtitle", "limit": 50,
                                                              "after": "MzAw"}).json()
    assert listed["results"][0]["id"] == "300"
    history = listed["results"][0]["propertiesWithHistory"]["jobtitle"]
    assert [(h["value"], h["sourceType"]) for h in history] == [("CTO", "CRM_UI"), ("Engineer", "IMPORT")]
    assert history[1]["timestamp"] == "2020-09-13T12:26:40.000Z"
    created = hub.http.post("/crm/v3/objects/contacts", json={"properties": {"email": "after@example.com"}}).json()
    assert int(created["id"]) > 300


def test_restore_refuses_when_the_email_was_taken_meanwhile(hub: Hub) -> None:
    hub.control("POST", "/objects/contacts/12/archive")
    hub.http.post("/crm/v3/objects/contacts", json={"properties": {"email": "person12@example.com"}})
    r = hub.control("POST", "/objects/contacts/12/restore")
    assert r.status_code == 409
