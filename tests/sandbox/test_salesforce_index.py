"""The Salesforce emulator's first-sync writes and look-ups search indexes (issue #20), with unchanged results.

The connector looks people up before creating them with ``(Email IN (...) OR HubSpot_Contact_Id__c IN
(...))``: no hint comes from under an OR, so the emulator read every Lead per query. The plan now
searches ``rec_email`` and the ``extid`` table; SOQL still decides each match, which these tests check
against records that must (case-insensitive values, a changed external id) and must not (deleted,
converted) come back. Speed itself: bench/bench_sandbox_salesforce.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from connector.sandbox.salesforce._query import explain
from connector.sandbox.salesforce.testing import SalesforceSandbox

from tests.sandbox.query_plans import query_plans

V = "/services/data/v62.0"
LOOKUP = ("SELECT Id FROM Lead WHERE (Email IN ('a@example.com', 'B@EXAMPLE.COM', 'gone@example.com') "
          "OR HubSpot_Contact_Id__c IN ('hs-c', 'HS-D', 'hs-old', 'hs-gone')) AND IsConverted = false")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-index"), rate_limits=False) as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def _lead(sb: SalesforceSandbox, **fields: str) -> str:
    r = sb.http.post(f"{V}/sobjects/Lead", json={"LastName": "L", "Company": "C", **fields})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_the_connectors_lookup_searches_indexes_and_finds_what_soql_matches(sb: SalesforceSandbox) -> None:
    a = _lead(sb, Email="A@example.com")
    b = _lead(sb, Email="b@example.com")
    c = _lead(sb, Email="c@example.com", HubSpot_Contact_Id__c="HS-C")
    d = _lead(sb, HubSpot_Contact_Id__c="hs-d", Phone="555")
    moved = _lead(sb, Email="m@example.com", HubSpot_Contact_Id__c="hs-old")
    gone = _lead(sb, Email="gone@example.com", HubSpot_Contact_Id__c="hs-gone")
    converted = _lead(sb, Email="a@example.com", HubSpot_Contact_Id__c="hs-conv")
    _lead(sb, Email="other@example.com", HubSpot_Contact_Id__c="hs-other")
    assert sb.http.patch(f"{V}/sobjects/Lead/{moved}", json={"HubSpot_Contact_Id__c": "hs-new"}).status_code == 204
    assert sb.http.delete(f"{V}/sobjects/Lead/{gone}").status_code == 204
    sb.state.store.put("Lead", {**(sb.state.store.get(converted) or {}), "IsConverted": True})

    plan = explain(sb.state, LOOKUP)
    assert "rec_email (sobject=? AND email_lower=?)" in plan and "SEARCH extid USING PRIMARY KEY" in plan, plan
    found = sb.http.get(f"{V}/query", params={"q": LOOKUP}).json()
    assert sorted(r["Id"] for r in found["records"]) == sorted([a, b, c, d]) and found["totalSize"] == 4

    # queryAll still sees the deleted record by its values (not narrowed: extid holds live records only)
    everything = sb.http.get(f"{V}/queryAll", params={"q": LOOKUP}).json()
    assert sorted(r["Id"] for r in everything["records"]) == sorted([a, b, c, d, gone])
    single = sb.http.get(f"{V}/query", params={"q": "SELECT Id FROM Lead WHERE HubSpot_Contact_Id__c = 'HS-NEW'"})
    assert [r["Id"] for r in single.json()["records"]] == [moved]
    assert "SEARCH extid USING PRIMARY KEY" in explain(
        sb.state, "SELECT Id FROM Lead WHERE HubSpot_Contact_Id__c IN ('x', 'y')")


def test_an_or_with_a_field_no_index_holds_is_evaluated_in_full(sb: SalesforceSandbox) -> None:
    a = _lead(sb, Email="a@example.com")
    b = _lead(sb, Email="z@example.com", Phone="555-0199")
    soql = "SELECT Id FROM Lead WHERE Email = 'a@example.com' OR Phone = '555-0199'"
    assert "extid" not in explain(sb.state, soql)
    found = sb.http.get(f"{V}/query", params={"q": soql}).json()
    assert sorted(r["Id"] for r in found["records"]) == sorted([a, b])


def test_external_id_upserts_search_indexes_and_still_refuse_duplicates(sb: SalesforceSandbox) -> None:
    _lead(sb, Email="x@example.com", HubSpot_Contact_Id__c="hs-1")
    conn = sb.state.store._db

    def upserts() -> None:
        r = sb.http.patch(f"{V}/composite/sobjects/Lead/HubSpot_Contact_Id__c", json={"allOrNone": False,
                                                                                     "records": [
            {"attributes": {"type": "Lead"}, "HubSpot_Contact_Id__c": "hs-1", "Rating": "Hot"},
            {"attributes": {"type": "Lead"}, "HubSpot_Contact_Id__c": "hs-2", "LastName": "N", "Company": "C",
             "Email": "n@example.com"}]})
        assert r.status_code == 200 and [x["success"] for x in r.json()] == [True, True], r.text
        assert sb.http.get(f"{V}/sobjects/Lead/HubSpot_Contact_Id__c/hs-2").status_code == 200

    plans = query_plans(conn, upserts)
    assert plans and not [p for p in plans if re.search(r"\bSCAN (?!CONSTANT)", p[1])
                          or p[1].endswith("(sobject=? AND is_deleted=?)")], plans

    clash = sb.http.post(f"{V}/sobjects/Lead", json={"LastName": "D", "Company": "C", "Email": "d@example.com",
                                                     "HubSpot_Contact_Id__c": "HS-1"})
    assert clash.status_code == 400
    assert clash.json()[0]["errorCode"] == "DUPLICATE_VALUE" and "HubSpot_Contact_Id__c" in clash.json()[0]["message"]
