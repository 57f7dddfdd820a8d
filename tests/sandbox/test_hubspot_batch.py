"""Batch endpoints through the official SDK: create, read, update, upsert, archive, 207 partial results."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import (ApiException, BatchInputSimplePublicObjectBatchInput,
                                  BatchInputSimplePublicObjectBatchInputForCreate,
                                  BatchInputSimplePublicObjectBatchInputUpsert, BatchInputSimplePublicObjectId,
                                  BatchReadInputSimplePublicObjectId, SimplePublicObjectBatchInput,
                                  SimplePublicObjectBatchInputForCreate, SimplePublicObjectBatchInputUpsert,
                                  SimplePublicObjectId)

from tests.sandbox.hubspot_fixtures import Hub


def test_batch_create_then_read_returns_every_record(hub: Hub) -> None:
    created = hub.sdk.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        SimplePublicObjectBatchInputForCreate(properties={"email": f"b{i}@example.com", "firstname": f"B{i}"})
        for i in range(5)]))
    assert created.status == "COMPLETE" and len(created.results) == 5
    ids = [r.id for r in created.results]
    read = hub.sdk.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=i) for i in ids], properties=["firstname"], properties_with_history=[]))
    assert sorted(r.properties["firstname"] for r in read.results) == [f"B{i}" for i in range(5)]


def test_batch_create_without_trace_ids_fails_whole_batch(hub: Hub) -> None:
    with pytest.raises(ApiException) as err:
        hub.sdk.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties={"email": "ok@example.com"}),
            SimplePublicObjectBatchInputForCreate(properties={"email": "bad@example.com", "missing": "x"})]))
    assert err.value.status == 400
    assert "PROPERTY_DOESNT_EXIST" in json.loads(err.value.body)["message"]
    assert hub.http.get("/crm/v3/objects/contacts/ok@example.com", params={"idProperty": "email"}).status_code == 404


def test_batch_create_with_trace_ids_is_207_with_per_input_errors(hub: Hub) -> None:
    r = hub.http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
        {"properties": {"email": "good@example.com"}, "objectWriteTraceId": "t-1"},
        {"properties": {"email": "worse@example.com", "missing": "x"}, "objectWriteTraceId": "t-2"},
        {"properties": {"email": "person1@example.com"}, "objectWriteTraceId": "t-3"}]})
    assert r.status_code == 207
    body = r.json()
    assert [x["properties"]["email"] for x in body["results"]] == ["good@example.com"]
    assert body["numErrors"] == 2
    by_trace = {e["context"]["objectWriteTraceId"][0]: e for e in body["errors"]}
    assert by_trace["t-2"]["category"] == "VALIDATION_ERROR"
    assert by_trace["t-3"]["category"] == "CONFLICT"
    assert body["startedAt"] <= body["completedAt"]


def test_batch_create_rejects_duplicate_emails_inside_one_batch(hub: Hub) -> None:
    r = hub.http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
        {"properties": {"email": "twin@example.com"}}, {"properties": {"email": "TWIN@example.com"}}]})
    assert r.status_code == 409


def test_batch_read_reports_missing_ids_as_207_and_by_email(hub: Hub) -> None:
    r = hub.http.post("/crm/v3/objects/contacts/batch/read", json={"inputs": [{"id": "1"}, {"id": "424242"}],
                                                                   "properties": ["email"]})
    assert r.status_code == 207
    assert r.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert r.json()["errors"][0]["context"]["ids"] == ["424242"]
    by_email = hub.http.post("/crm/v3/objects/contacts/batch/read", json={
        "idProperty": "email", "inputs": [{"id": "person2@example.com"}], "properties": ["firstname"]})
    assert by_email.status_code == 200 and by_email.json()["results"][0]["id"] == "2"


def test_batch_limits_100_inputs_and_50_with_history(hub: Hub) -> None:
    too_many = hub.http.post("/crm/v3/objects/contacts/batch/read", json={"inputs": [{"id": "1"}] * 101})
    assert too_many.status_code == 400
    history = hub.http.post("/crm/v3/objects/contacts/batch/read", json={
        "inputs": [{"id": str(i)} for i in range(51)], "propertiesWithHistory": ["email"]})
    assert history.status_code == 400 and "property histories is 50" in history.json()["message"]


def test_batch_update_applies_all_and_rejects_duplicate_ids(hub: Hub) -> None:
    result = hub.sdk.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        SimplePublicObjectBatchInput(id="1", properties={"jobtitle": "CTO"}),
        SimplePublicObjectBatchInput(id="person2@example.com", id_property="email", properties={"jobtitle": "CEO"})]))
    assert sorted(r.properties["jobtitle"] for r in result.results) == ["CEO", "CTO"]
    dup = hub.http.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
        {"id": "1", "properties": {"city": "A"}}, {"id": "1", "properties": {"city": "B"}}]})
    assert dup.status_code == 400 and "Duplicate IDs" in dup.json()["message"]


def test_batch_upsert_by_email_reports_new(hub: Hub) -> None:
    result = hub.sdk.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id="person3@example.com", id_property="email",
                                           properties={"jobtitle": "VP"}),
        SimplePublicObjectBatchInputUpsert(id="fresh@example.com", id_property="email",
                                           properties={"firstname": "Fresh"})]))
    by_email = {r.properties["email"]: r for r in result.results}
    assert by_email["person3@example.com"].new is False and by_email["person3@example.com"].id == "3"
    assert by_email["fresh@example.com"].new is True


def test_batch_upsert_by_custom_unique_property(hub: Hub) -> None:
    hub.http.post("/crm/v3/properties/contacts", json={
        "name": "sf_lead_id", "label": "Salesforce Lead Id", "type": "string", "fieldType": "text",
        "groupName": "contactinformation", "hasUniqueValue": True}).raise_for_status()
    first = hub.http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
        {"id": "00Q000000000001", "idProperty": "sf_lead_id", "properties": {"email": "u1@example.com"}}]})
    assert first.status_code == 200 and first.json()["results"][0]["new"] is True
    second = hub.http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
        {"id": "00Q000000000001", "idProperty": "sf_lead_id", "properties": {"firstname": "Una"}}]})
    assert second.json()["results"][0]["new"] is False
    assert second.json()["results"][0]["id"] == first.json()["results"][0]["id"]
    clash = hub.http.patch("/crm/v3/objects/contacts/5", json={"properties": {"sf_lead_id": "00Q000000000001"}})
    assert clash.status_code == 409


def test_batch_archive_is_204_and_records_move_to_archived(hub: Hub) -> None:
    hub.sdk.crm.contacts.batch_api.archive(BatchInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id="10"), SimplePublicObjectId(id="11"), SimplePublicObjectId(id="99999")]))
    archived = hub.sdk.crm.contacts.basic_api.get_page(archived=True)
    assert {r.id for r in archived.results} == {"10", "11"}
