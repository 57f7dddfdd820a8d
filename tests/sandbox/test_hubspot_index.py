"""The HubSpot emulator's write paths search indexes, never a whole type (issue #20), and refuse the same duplicates.

Every SQL statement a request runs is traced and its ``EXPLAIN QUERY PLAN`` read: a ``SCAN`` or a
search bounded only by the record type (``PRIMARY KEY (type=?)``, what the unique-property check did)
reads every record of the type, which made the emulator the bottleneck of a first sync at 100k.
Speed itself: bench/bench_sandbox_hubspot.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connector.sandbox.clock import SandboxClock
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.hubspot import HubSpotState
from tests.sandbox.hubspot_fixtures import Hub

from tests.sandbox.query_plans import query_plans

UNIQUE = "salesforce_lead_id"
_TYPE_ONLY = re.compile(r"\((type|from_type|to_type)=\?\)")


def _create_unique(http: httpx.Client) -> None:
    http.post("/crm/v3/properties/contacts", json={
        "name": UNIQUE, "label": "Salesforce Lead Id", "type": "string", "fieldType": "text",
        "groupName": "contactinformation", "hasUniqueValue": True}).raise_for_status()


def _scans(plans: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(sql, plan) for sql, plan in plans
            if re.search(r"\bSCAN (?!CONSTANT)", plan) or _TYPE_ONLY.search(plan)]


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 300, response.text
    return response


@pytest.fixture
def unique(hub: Hub) -> Iterator[Hub]:
    _create_unique(hub.http)
    yield hub


def test_unique_property_writes_and_lookups_search_the_index(unique: Hub) -> None:
    hub, http = unique, unique.http
    conn = hub.state.db.conn

    def first_sync_writes() -> None:
        _ok(http.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
            {"id": str(i), "properties": {UNIQUE: f"00Q{i:015d}"}} for i in range(1, 6)]}))
        _ok(http.post("/crm/v3/objects/contacts/batch/read", json={
            "idProperty": UNIQUE, "inputs": [{"id": "00Q000000000000001"}]}))
        _ok(http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
            {"idProperty": UNIQUE, "id": "00Q000000000000002", "properties": {"city": "Lyon"}},
            {"idProperty": UNIQUE, "id": "00Q000000000000099", "properties": {"email": "new99@example.com"}}]}))
        _ok(http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
            {"idProperty": "email", "id": "person7@example.com", "properties": {"city": "Lyon"}}]}))
        _ok(http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
            {"properties": {"email": "new100@example.com", UNIQUE: "00Q000000000000100"},
             "associations": [{"to": {"id": "7001"}, "types": [
                 {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]}]}]}))
        _ok(http.patch("/crm/v3/objects/contacts/9", json={"properties": {UNIQUE: "00Q000000000000009"}}))
        _ok(http.get("/crm/v3/objects/contacts/00Q000000000000009", params={"idProperty": UNIQUE}))
        _ok(http.get("/crm/v3/objects/contacts/person9@example.com", params={"idProperty": "email"}))

    plans = query_plans(conn, first_sync_writes)
    lookups = [plan for sql, plan in plans if f"'$.{UNIQUE}')" in sql and sql.startswith("SELECT")]
    assert lookups and all(f"USING INDEX records_unique_contacts_{UNIQUE} (<expr>=? AND archived=? AND type=?)"
                           in plan for plan in lookups), lookups
    assert _scans(plans) == []


def test_merge_and_gdpr_delete_search_indexes(unique: Hub) -> None:
    http = unique.http
    _ok(http.put("/crm/v4/objects/contacts/12/associations/default/deals/7001"))

    def merge_and_delete() -> None:
        _ok(http.post("/crm/v3/objects/contacts/merge", json={"primaryObjectId": "11", "objectIdToMerge": "12"}))
        _ok(http.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": "13"}))

    plans = query_plans(unique.state.db.conn, merge_and_delete)
    assert any("assoc_to" in plan for _, plan in plans)
    assert _scans(plans) == []


def test_a_duplicate_unique_value_is_still_refused_as_hubspot_refuses_it(unique: Hub) -> None:
    http = unique.http
    _ok(http.patch("/crm/v3/objects/contacts/1", json={"properties": {UNIQUE: "L1"}}))
    context = {"existingId": ["1"], "propertyName": [UNIQUE]}
    conflict = {"category": "CONFLICT", "message": f"A contact with {UNIQUE}=L1 already exists. Existing ID: 1",
                "context": context}

    untraced = http.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
        {"id": "2", "properties": {UNIQUE: "L1"}}]})
    assert untraced.status_code == 409
    assert {k: untraced.json()[k] for k in ("status", "category", "message", "context")} == {
        "status": "error", **conflict}

    traced = http.post("/crm/v3/objects/contacts/batch/update", json={"inputs": [
        {"id": "2", "properties": {UNIQUE: "L1"}, "objectWriteTraceId": "t1"},
        {"id": "3", "properties": {UNIQUE: "L3"}, "objectWriteTraceId": "t2"}]})
    assert traced.status_code == 207
    body = traced.json()
    assert body["numErrors"] == 1 and [r["id"] for r in body["results"]] == ["3"]
    assert body["errors"] == [{"status": "error", **conflict, "context": {**context, "objectWriteTraceId": ["t1"]}}]

    created = http.post("/crm/v3/objects/contacts", json={"properties": {"email": "z@example.com", UNIQUE: "L1"}})
    assert created.status_code == 409 and created.json()["context"] == context
    in_batch = http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": [
        {"properties": {"email": "m@example.com", UNIQUE: "LX"}},
        {"properties": {"email": "n@example.com", UNIQUE: "LX"}}]})
    assert in_batch.status_code == 409 and in_batch.json()["category"] == "CONFLICT"
    assert in_batch.json()["context"]["propertyName"] == [UNIQUE]
    upsert = http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": [
        {"idProperty": "email", "id": "person4@example.com", "properties": {UNIQUE: "L1"}}]})
    assert upsert.status_code == 409 and upsert.json()["context"] == context
    unchanged = _ok(http.post("/crm/v3/objects/contacts/batch/read", json={
        "idProperty": UNIQUE, "inputs": [{"id": "L1"}, {"id": "L3"}, {"id": "LX"}], "properties": [UNIQUE]}))
    assert sorted((r["id"], r["properties"][UNIQUE]) for r in unchanged.json()["results"]) == [
        ("1", "L1"), ("3", "L3")]

    # an archived holder frees the value (the check and the lookup are of live records only)
    _ok(http.post("/crm/v3/objects/contacts/batch/archive", json={"inputs": [{"id": "1"}]}))
    _ok(http.patch("/crm/v3/objects/contacts/5", json={"properties": {UNIQUE: "L1"}}))


def test_a_data_dir_with_the_old_index_shape_gets_the_searchable_one(tmp_path: Path) -> None:
    state = HubSpotState(tmp_path, SandboxClock(), rate_limits=False)
    state.registry.create("contacts", {"name": UNIQUE, "label": "L", "type": "string", "fieldType": "text",
                                       "groupName": "contactinformation", "hasUniqueValue": True})
    name = f"records_unique_contacts_{UNIQUE}"
    state.db.conn.execute(f"DROP INDEX {name}")
    state.db.conn.execute(f"CREATE INDEX {name} ON records (type, json_extract(props, '$.{UNIQUE}'))")
    state.load(SeedBatch(hubspot={"contacts": [{"id": "1", "properties": {"email": "a@example.com", UNIQUE: "L1"}}]}))
    state.close()

    reopened = HubSpotState(tmp_path, SandboxClock(), rate_limits=False)
    sql = reopened.db.conn.execute("SELECT sql FROM sqlite_master WHERE name=?", (name,)).fetchone()[0]
    assert sql == f"CREATE INDEX {name} ON records (json_extract(props, '$.{UNIQUE}'), archived)"
    assert reopened.records.find_by_property("contacts", UNIQUE, "L1") == 1
    plans = query_plans(reopened.db.conn, lambda: reopened.records.find_by_property("contacts", UNIQUE, "L1"))
    assert plans and all(f"USING INDEX {name}" in plan for _, plan in plans)
    reopened.close()


def test_company_associations_and_roll_ups_search_indexes(hub: Hub) -> None:
    http = hub.http
    hub.state.load(SeedBatch(hubspot={"companies": [
        {"id": str(c), "properties": {"name": f"Co {c}"}, "createdAt": 1, "updatedAt": 1} for c in (901, 902, 903)]},
        hubspot_associations=[("contacts", "1", "companies", "901"), ("companies", "903", "companies", "901")]))

    def company_writes() -> None:
        _ok(http.put("/crm/v4/objects/contacts/1/associations/companies/902",
                     json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]))
        _ok(http.put("/crm/v4/objects/companies/903/associations/companies/902",
                     json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 14}]))
        _ok(http.post("/crm/v4/associations/deals/companies/batch/associate/default",
                      json={"inputs": [{"from": {"id": "7001"}, "to": {"id": "901"}}]}))
        _ok(http.delete("/crm/v3/objects/contacts/1"))

    plans = query_plans(hub.state.db.conn, company_writes)
    assert any("num_associated" in sql or "a.type_id=?" in sql for sql, _ in plans)
    assert _scans(plans) == []
