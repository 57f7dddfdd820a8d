"""HubSpot companies in the emulator through the official SDK: objects, batch, search, properties, v4
associations with contacts, deals and other companies (primary and parent labels, roll-ups), and the
connector's own HubSpot adapter calls for company associations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hubspot.crm.associations.v4 import (AssociationSpec, BatchInputPublicAssociationMultiPost,
                                         BatchInputPublicFetchAssociationsBatchRequest, PublicAssociationMultiPost,
                                         PublicFetchAssociationsBatchRequest, PublicObjectId)
from hubspot.crm.companies import (ApiException, BatchInputSimplePublicObjectBatchInputUpsert,
                                   BatchInputSimplePublicObjectBatchInputForCreate, Filter, FilterGroup,
                                   PublicObjectSearchRequest, SimplePublicObjectBatchInputForCreate,
                                   SimplePublicObjectBatchInputUpsert,
                                   SimplePublicObjectInput, SimplePublicObjectInputForCreate)
from pydantic import SecretStr

from connector.config import HubSpotConfig
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.hubspot.industries import COMPANY_INDUSTRIES
from connector.systems.hubspot import HubSpotSink, HubSpotSource
from connector.systems.ledger import CallLedger
from tests.sandbox.hubspot_fixtures import T0, Hub

UNIQUE = "salesforce_account_id"


@pytest.fixture
def co(hub: Hub) -> Iterator[Hub]:
    """The hub account plus companies 901 (acme.com, contacts 1-2 and deal 7001) and 902 (globex.com)."""
    hub.state.load(SeedBatch(hubspot={"companies": [
        {"id": "901", "properties": {"name": "Acme Inc", "domain": "acme.com", "industry": "COMPUTER_SOFTWARE",
                                     "numberofemployees": "120", "city": "Lyon"},
         "createdAt": T0, "updatedAt": T0},
        {"id": "902", "properties": {"name": "Globex", "domain": "globex.com"}, "createdAt": T0 + 5,
         "updatedAt": T0 + 5},
    ]}, hubspot_associations=[("contacts", "1", "companies", "901"), ("contacts", "2", "companies", "901"),
                              ("deals", "7001", "companies", "901")]))
    yield hub


def _types(hub: Hub, from_type: str, from_id: str, to_type: str) -> dict[int, list[int]]:
    """toObjectId -> sorted type ids, as a v4 list read returns them."""
    r = hub.http.get(f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}")
    assert r.status_code == 200, r.text
    return {int(t["toObjectId"]): sorted(a["typeId"] for a in t["associationTypes"]) for t in r.json()["results"]}


def _props(hub: Hub, company_id: str, *names: str) -> dict[str, Any]:
    return hub.sdk.crm.companies.basic_api.get_by_id(company_id, properties=list(names)).properties


def test_company_properties_have_hubspot_types_groups_and_options(hub: Hub) -> None:
    props = {p.name: p for p in hub.sdk.crm.properties.core_api.get_all("companies").results}
    assert {"name", "domain", "website", "industry", "numberofemployees", "annualrevenue", "city", "state", "country",
            "zip", "phone", "address", "description", "type", "lifecyclestage", "hubspot_owner_id", "createdate",
            "hs_lastmodifieddate", "hs_object_id", "hs_parent_company_id", "num_associated_contacts",
            "num_associated_deals"} <= set(props)
    assert [o.value for o in props["industry"].options] == list(COMPANY_INDUSTRIES)
    assert props["industry"].type == "enumeration" and props["numberofemployees"].type == "number"
    assert [o.value for o in props["type"].options] == ["PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"]
    for name in ("num_associated_contacts", "num_associated_deals", "hs_parent_company_id", "hs_lastmodifieddate"):
        assert props[name].modification_metadata.read_only_value is True, name
    assert props["name"].group_name == "companyinformation"
    groups = {g.name for g in hub.sdk.crm.properties.groups_api.get_all("companies").results}
    assert "companyinformation" in groups
    assert hub.http.get("/crm/v3/objects/0-2").status_code == 200


def test_create_get_update_list_and_archive_a_company(co: Hub) -> None:
    companies = co.sdk.crm.companies.basic_api
    at = co.clock.freeze()
    made = companies.create(SimplePublicObjectInputForCreate(properties={
        "name": "Initech", "domain": "initech.com", "industry": "INFORMATION_TECHNOLOGY_AND_SERVICES",
        "annualrevenue": "1500000.50", "type": "PROSPECT"}))
    assert made.properties["domain"] == "initech.com" and made.properties["annualrevenue"] == "1500000.5"
    assert made.properties["hs_lastmodifieddate"] == made.properties["createdate"]
    assert made.created_at.timestamp() * 1000 == at
    got = companies.get_by_id(made.id)
    assert set(got.properties) == {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}
    co.clock.advance(60_000)
    updated = companies.update(made.id, SimplePublicObjectInput(properties={"city": "Austin"}))
    assert updated.properties["city"] == "Austin" and updated.updated_at.timestamp() * 1000 == at + 60_000
    blank = companies.create(SimplePublicObjectInputForCreate(properties={}))  # name/domain only recommended
    assert blank.properties["name"] is None
    page = companies.get_page(limit=2)
    assert [r.id for r in page.results] == ["901", "902"] and page.paging.next.after
    companies.archive(made.id)
    with pytest.raises(ApiException) as err:
        companies.get_by_id(made.id)
    assert err.value.status == 404


def test_an_unknown_industry_or_type_is_refused_with_hubspots_400(co: Hub) -> None:
    with pytest.raises(ApiException) as err:
        co.sdk.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(properties={
            "name": "Bad", "industry": "Technology", "type": "CUSTOMER"}))
    assert err.value.status == 400
    body = json.loads(err.value.body)
    assert body["category"] == "VALIDATION_ERROR"
    assert {(e["context"]["propertyName"][0], e["code"]) for e in body["errors"]} == {
        ("industry", "INVALID_OPTION"), ("type", "INVALID_OPTION")}
    ro = co.http.patch("/crm/v3/objects/companies/901", json={"properties": {"num_associated_contacts": "9"}})
    assert ro.status_code == 400 and "READ_ONLY_VALUE" in ro.text


def test_search_filters_and_sorts_companies(co: Hub) -> None:
    search = co.sdk.crm.companies.search_api.do_search
    by_domain = search(PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[
        Filter(property_name="domain", operator="EQ", value="ACME.com")])], properties=["name", "industry"]))
    assert by_domain.total == 1 and by_domain.results[0].properties["industry"] == "COMPUTER_SOFTWARE"
    co.clock.advance(10_000)
    co.http.patch("/crm/v3/objects/companies/902", json={"properties": {"city": "Springfield"}}).raise_for_status()
    changed = search(PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="hs_lastmodifieddate", operator="GTE",
                                                   value=str(T0 + 1000))])],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]))
    assert [r.id for r in changed.results] == ["902"]
    by_name = search(PublicObjectSearchRequest(sorts=[{"propertyName": "name", "direction": "DESCENDING"}], limit=1))
    assert by_name.total == 2 and by_name.results[0].properties["name"] == "Globex"
    assert by_name.paging.next.after == "1"
    text = search(PublicObjectSearchRequest(query="acme"))
    assert [r.id for r in text.results] == ["901"]
    linked = search(PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[
        Filter(property_name="associations.contact", operator="EQ", value="2")])]))
    assert [r.id for r in linked.results] == ["901"]


def test_unique_property_upsert_read_and_conflict(co: Hub) -> None:
    co.http.post("/crm/v3/properties/companies", json={
        "name": UNIQUE, "label": "Salesforce Account Id", "type": "string", "fieldType": "text",
        "groupName": "companyinformation", "hasUniqueValue": True}).raise_for_status()
    batch = co.sdk.crm.companies.batch_api
    first = batch.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id="001000000000001AAA", id_property=UNIQUE,
                                           properties={"name": "Umbrella", "domain": "umbrella.com"})]))
    assert first.results[0].new is True
    again = batch.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id="001000000000001AAA", id_property=UNIQUE,
                                           properties={"city": "Raccoon City"})]))
    assert again.results[0].new is False and again.results[0].id == first.results[0].id
    got = co.sdk.crm.companies.basic_api.get_by_id("001000000000001AAA", id_property=UNIQUE, properties=["city"])
    assert got.properties["city"] == "Raccoon City"
    conflict = co.http.patch("/crm/v3/objects/companies/901", json={"properties": {UNIQUE: "001000000000001AAA"}})
    assert conflict.status_code == 409 and conflict.json()["context"]["existingId"] == [first.results[0].id]
    made = batch.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        SimplePublicObjectBatchInputForCreate(properties={"name": "Hooli", UNIQUE: "001000000000002AAA"}, associations=[
            {"to": {"id": "3"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 280}]}])]))
    assert _types(co, "contacts", "3", "companies") == {int(made.results[0].id): [279]}


def test_associations_both_directions_v3_and_labels(co: Hub) -> None:
    v4 = co.sdk.crm.associations.v4
    v4.basic_api.create_default("contacts", "5", "companies", "902")
    assert _types(co, "contacts", "5", "companies") == {902: [279]}
    assert _types(co, "companies", "902", "contacts") == {5: [280]}
    assert _types(co, "contacts", "1", "companies") == {901: [1, 279]}  # the seed made it the primary
    assert _types(co, "companies", "901", "deals") == {7001: [6, 342]}
    read = v4.batch_api.get_page("companies", "contacts", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id="901")]))
    specs = {(t.type_id, t.label) for to in read.results[0].to for t in to.association_types}
    assert specs == {(2, "Contact with Primary Company"), (280, None)}
    labels = v4.schema.definitions_api.get_all("contacts", "companies").results
    assert [(lb.category, lb.type_id, lb.label) for lb in labels] == [
        ("HUBSPOT_DEFINED", 1, "Contact with Primary Company"), ("HUBSPOT_DEFINED", 279, None)]
    back = co.http.get("/crm/v4/associations/companies/companies/labels").json()["results"]
    assert [(x["typeId"], x["label"]) for x in back] == [(13, "Child Company"), (14, "Parent Company"), (450, None)]
    contact = co.sdk.crm.contacts.basic_api.get_by_id("1", associations=["companies"])
    assert {(a.id, a.type) for a in contact.associations["companies"].results} == {
        ("901", "contact_to_company"), ("901", "contact_to_company_unlabeled")}
    company = co.http.get("/crm/v3/objects/companies/901", params={"associations": "contacts,deals"}).json()
    assert {a["id"] for a in company["associations"]["contacts"]["results"]} == {"1", "2"}
    assert {a["id"] for a in company["associations"]["deals"]["results"]} == {"7001"}
    v4.basic_api.archive("companies", "902", "contacts", "5")
    assert _types(co, "contacts", "5", "companies") == {}


def test_a_second_primary_company_replaces_the_first(co: Hub) -> None:
    v4 = co.sdk.crm.associations.v4
    made = v4.basic_api.create("contacts", "1", "companies", "902", [
        AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)])
    assert made.labels == ["Contact with Primary Company"]
    assert _types(co, "contacts", "1", "companies") == {901: [279], 902: [1, 279]}
    assert _types(co, "companies", "901", "contacts") == {1: [280], 2: [2, 280]}
    v4.batch_api.create("deals", "companies", BatchInputPublicAssociationMultiPost(inputs=[PublicAssociationMultiPost(
        _from=PublicObjectId(id="7001"), to=PublicObjectId(id="902"),
        types=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}])]))
    assert _types(co, "deals", "7001", "companies") == {901: [341], 902: [5, 341]}
    # set from the company's side (type 2): the contact's primary moves back
    co.http.put("/crm/v4/objects/companies/901/associations/contacts/1",
                json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 2}]).raise_for_status()
    assert _types(co, "contacts", "1", "companies") == {901: [1, 279], 902: [279]}
    # dropping a label keeps the association; dropping the unlabeled type drops the whole association
    co.http.post("/crm/v4/associations/contacts/companies/batch/labels/archive", json={"inputs": [
        {"from": {"id": "1"}, "to": {"id": "901"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                               "associationTypeId": 1}]}]}).raise_for_status()
    assert _types(co, "contacts", "1", "companies") == {901: [279], 902: [279]}
    co.http.post("/crm/v4/associations/contacts/companies/batch/labels/archive", json={"inputs": [
        {"from": {"id": "1"}, "to": {"id": "902"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                               "associationTypeId": 279}]}]}).raise_for_status()
    assert _types(co, "contacts", "1", "companies") == {901: [279]}
    bad = co.http.put("/crm/v4/objects/contacts/1/associations/companies/902",
                      json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}])
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"


def test_parent_and_child_companies_and_roll_ups(co: Hub) -> None:
    seeded = co.sdk.crm.companies.basic_api.get_by_id(
        "901", properties=["num_associated_contacts", "num_associated_deals", "hs_parent_company_id"])
    assert {k: seeded.properties[k] for k in ("num_associated_contacts", "num_associated_deals",
                                               "hs_parent_company_id")} == {
        "num_associated_contacts": "2", "num_associated_deals": "1", "hs_parent_company_id": None}
    assert seeded.updated_at.timestamp() * 1000 == T0  # seeded roll-ups do not move the seeded modified time
    at = co.clock.freeze()
    child = co.sdk.crm.companies.basic_api.create(SimplePublicObjectInputForCreate(properties={"name": "Acme EU"}))
    co.clock.advance(1000)
    co.http.put(f"/crm/v4/objects/companies/{child.id}/associations/companies/901",
                json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 14}]).raise_for_status()
    assert _types(co, "companies", child.id, "companies") == {901: [14, 450]}
    assert _types(co, "companies", "901", "companies") == {int(child.id): [13, 450]}
    assert _props(co, child.id, "hs_parent_company_id")["hs_parent_company_id"] == "901"
    parent = co.sdk.crm.companies.basic_api.get_by_id("901", properties=["hs_num_child_companies"])
    assert parent.properties["hs_num_child_companies"] == "1"
    assert parent.updated_at.timestamp() * 1000 == at + 1000  # a roll-up change is a modification
    # a second parent (set from the new parent's side, type 13) replaces the first
    co.http.put(f"/crm/v4/objects/companies/902/associations/companies/{child.id}",
                json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 13}]).raise_for_status()
    assert _types(co, "companies", child.id, "companies") == {901: [450], 902: [14, 450]}
    assert _props(co, child.id, "hs_parent_company_id")["hs_parent_company_id"] == "902"
    assert _props(co, "901", "hs_num_child_companies")["hs_num_child_companies"] == "0"
    itself = co.http.put("/crm/v4/objects/companies/902/associations/default/companies/902")
    assert itself.status_code == 400
    # roll-ups follow associations and archives
    co.sdk.crm.associations.v4.basic_api.create_default("contacts", "3", "companies", "901")
    assert _props(co, "901", "num_associated_contacts")["num_associated_contacts"] == "3"
    co.sdk.crm.contacts.basic_api.archive("2")
    assert _props(co, "901", "num_associated_contacts")["num_associated_contacts"] == "2"
    co.http.delete("/crm/v4/objects/deals/7001/associations/companies/901").raise_for_status()
    assert _props(co, "901", "num_associated_deals")["num_associated_deals"] == "0"


def test_merging_contacts_keeps_the_primary_records_primary_company(co: Hub) -> None:
    co.http.put("/crm/v4/objects/contacts/2/associations/companies/902",
                json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]).raise_for_status()
    merged = co.http.post("/crm/v3/objects/contacts/merge", json={"primaryObjectId": "1", "objectIdToMerge": "2"})
    assert merged.status_code == 200, merged.text
    survivor = merged.json()["id"]
    assert _types(co, "contacts", survivor, "companies") == {901: [1, 279], 902: [279]}
    assert _props(co, "901", "num_associated_contacts")["num_associated_contacts"] == "1"


def test_the_connectors_hubspot_adapter_reads_and_writes_company_associations(co: Hub) -> None:
    src = HubSpotSource(HubSpotConfig(base_url=co.url, access_token=SecretStr(co.state.access_token),
                                      ca_bundle=Path(co.tls.ca_file)), CallLedger())
    try:
        out = HubSpotSink(src).associate("deals", "companies", [("7001", "902")])
        assert out[("7001", "902")].ok
        out = HubSpotSink(src).associate("contacts", "companies", [("4", "902"), ("999999", "902")])
        assert out[("4", "902")].ok and not out[("999999", "902")].ok
        assert src.associations("deals", "companies", ["7001"]) == {"7001": ["901", "902"]}
        assert src.associations("companies", "contacts", ["902"]) == {"902": ["4"]}
        pages = list(src.list_pages("contacts", ["email"], associations=["companies"]))
        linked: dict[str, Any] = {r["id"]: r.get("associations") for page, _ in pages for r in page}
        assert {a["id"] for a in linked["4"]["companies"]["results"]} == {"902"}
        companies = [r["id"] for page, _ in src.list_pages("companies", ["name", "domain"],
                                                           associations=["contacts", "deals"]) for r in page]
        assert companies == ["901", "902"]
    finally:
        src.close()
