"""SOQL over REST: paging with nextRecordsUrl, batch sizes, queryAll, parent fields, errors, seeding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import SalesforceMalformedRequest

from connector.sandbox.dataset import SeedBatch
from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.testing import SalesforceSandbox

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-query")) as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def seed(sb: SalesforceSandbox, n: int, *, accounts: int = 3) -> list[str]:
    """n Leads with modstamps one second apart and `accounts` Accounts with one Contact each."""
    accs = [{"Id": make_id("Account", i + 1), "Name": f"Acme {i}", "CreatedDate": T0, "LastModifiedDate": T0,
             "SystemModstamp": T0} for i in range(accounts)]
    contacts = [{"Id": make_id("Contact", i + 1), "LastName": f"C{i}", "AccountId": accs[i]["Id"],
                 "Email": f"c{i}@example.com", "CreatedDate": T0, "LastModifiedDate": T0, "SystemModstamp": T0}
                for i in range(accounts)]
    leads: list[dict[str, Any]] = [{"Id": make_id("Lead", i + 1), "LastName": f"L{i:05d}", "Company": "Co",
                                    "Email": f"l{i}@example.com",
              "Status": "Open - Not Contacted", "CreatedDate": T0 + i * 1000, "LastModifiedDate": T0 + i * 1000,
              "SystemModstamp": T0 + i * 1000, "HubSpot_Contact_Id__c": str(i)} for i in range(n)]
    sb.state.load(SeedBatch(salesforce={"Account": accs, "Contact": contacts, "Lead": leads}))
    return [r["Id"] for r in leads]


def test_paging_follows_next_records_url_in_batches(sb: SalesforceSandbox) -> None:
    ids = seed(sb, 2500)
    sf = sb.simple_salesforce()
    first = sf.query("SELECT Id, SystemModstamp FROM Lead ORDER BY SystemModstamp, Id")
    assert first["totalSize"] == 2500 and first["done"] is False and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    assert first["records"][0]["SystemModstamp"] == "2026-01-01T00:00:00.000+0000"
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True and "nextRecordsUrl" not in rest and len(rest["records"]) == 500
    assert [r["Id"] for r in first["records"] + rest["records"]] == ids
    small = sb.http.get("/services/data/v62.0/query", params={"q": "SELECT Id FROM Lead"},
                        headers={"Sforce-Query-Options": "batchSize=300"}).json()
    assert len(small["records"]) == 300 and small["nextRecordsUrl"].endswith("-300")
    assert len(list(sf.query_all_iter("SELECT Id FROM Lead WHERE SystemModstamp >= 2026-01-01T00:10:00Z"))) == 1900
    bad = sb.http.get("/services/data/v62.0/query/01gNOPE-2000")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_incremental_filters_and_orders(sb: SalesforceSandbox) -> None:
    ids = seed(sb, 50)
    sf = sb.simple_salesforce()
    since = sf.query("SELECT Id FROM Lead WHERE SystemModstamp > 2026-01-01T00:00:39Z ORDER BY SystemModstamp DESC")
    assert [r["Id"] for r in since["records"]] == ids[40:][::-1]
    by_id = sf.query(f"SELECT Id, Email FROM Lead WHERE Id IN ('{ids[3]}', '{ids[7][:15]}') ORDER BY Id")
    assert [r["Id"] for r in by_id["records"]] == [ids[3], ids[7]]
    by_email = sf.query("SELECT Id FROM Lead WHERE Email = 'L5@EXAMPLE.com'")
    assert [r["Id"] for r in by_email["records"]] == [ids[5]]
    by_name = sf.query("SELECT LastName FROM Lead WHERE LastName LIKE 'L0001%' ORDER BY LastName DESC LIMIT 3")
    assert [r["LastName"] for r in by_name["records"]] == ["L00019", "L00018", "L00017"]
    assert sf.query("SELECT COUNT() FROM Lead WHERE HubSpot_Contact_Id__c != null")["totalSize"] == 50
    page = sf.query("SELECT Id FROM Lead ORDER BY SystemModstamp LIMIT 5 OFFSET 10")
    assert [r["Id"] for r in page["records"]] == ids[10:15] and page["totalSize"] == 5


def test_parent_fields_nest_as_objects(sb: SalesforceSandbox) -> None:
    seed(sb, 1)
    sf = sb.simple_salesforce()
    orphan = sf.Contact.create({"LastName": "Orphan"})["id"]
    res = sf.query("SELECT Id, Account.Name, Owner.Email FROM Contact ORDER BY LastName")
    by_id = {r["Id"]: r for r in res["records"]}
    c0 = by_id[make_id("Contact", 1)]
    assert c0["Account"]["Name"] == "Acme 0"
    assert c0["Account"]["attributes"]["type"] == "Account"
    assert c0["Owner"]["Email"] == "integration@sandbox.example.com"
    assert by_id[orphan]["Account"] is None


def test_query_all_sees_deleted_and_merged(sb: SalesforceSandbox) -> None:
    ids = seed(sb, 4)
    sf = sb.simple_salesforce()
    sf.Lead.delete(ids[0])
    sb.control().post("/_sandbox/salesforce/merge", json={"masterId": ids[1], "mergeIds": [ids[2]]})
    live = sf.query("SELECT Id FROM Lead")
    assert sorted(r["Id"] for r in live["records"]) == sorted([ids[1], ids[3]])
    every = sf.query_all("SELECT Id, IsDeleted, MasterRecordId FROM Lead WHERE IsDeleted = true", include_deleted=True)
    got = {r["Id"]: r for r in every["records"]}
    assert set(got) == {ids[0], ids[2]}
    assert got[ids[2]]["MasterRecordId"] == ids[1] and got[ids[0]]["MasterRecordId"] is None


def test_query_errors_have_salesforce_shape(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FORM Lead")
    content: Any = exc.value.content
    err: dict[str, Any] = content[0]
    assert err["errorCode"] == "MALFORMED_QUERY" and "ERROR at Row:1" in err["message"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Shoe__c FROM Lead")
    content = exc.value.content
    assert content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Nope")
    content = exc.value.content
    assert content[0]["errorCode"] == "INVALID_TYPE"


def test_seeding_continues_id_counters_and_reset_empties(sb: SalesforceSandbox) -> None:
    seed(sb, 10)
    sf = sb.simple_salesforce()
    new = sf.Lead.create({"LastName": "New", "Company": "Co", "Phone": "555"})["id"]
    assert new == make_id("Lead", 11)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 11
    sb.state.reset()
    sb.token = sb.state.issue_token()
    assert sb.simple_salesforce().query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_equal_modstamps_can_be_pinned(sb: SalesforceSandbox) -> None:
    ids = seed(sb, 3)
    ctl = sb.control()
    for rid in ids:
        assert ctl.post(f"/_sandbox/salesforce/records/{rid}/modstamp",
                        json={"SystemModstamp": "2026-02-01T00:00:00.000Z"}).status_code == 200
    res = sb.simple_salesforce().query("SELECT Id FROM Lead WHERE SystemModstamp = 2026-02-01T00:00:00Z "
                                       "ORDER BY SystemModstamp, Id")
    assert [r["Id"] for r in res["records"]] == ids


@pytest.mark.parametrize(("soql", "all_rows", "index"), [
    ("SELECT Id FROM Lead WHERE SystemModstamp > 2026-01-01T00:00:00Z ORDER BY SystemModstamp, Id", False, "rec_mod"),
    ("SELECT Id FROM Lead WHERE SystemModstamp >= 2026-01-01T00:00:00Z", False, "rec_mod"),
    ("SELECT Id FROM Lead WHERE SystemModstamp > 2026-01-01T00:00:00Z AND SystemModstamp <= 2026-02-01T00:00:00Z "
     "ORDER BY SystemModstamp DESC", False, "rec_mod"),
    ("SELECT Id FROM Lead ORDER BY Id", False, "rec_obj"),
    ("SELECT Id FROM Lead", True, "PRIMARY KEY"),
    ("SELECT Id FROM Lead WHERE Email = 'a@b.com' ORDER BY Id", False, "rec_email"),
    ("SELECT Id FROM Lead WHERE Id IN ('00Q5g0000000001EAA', '00Q5g0000000002EAA')", False, "PRIMARY KEY"),
    ("SELECT Id FROM Lead WHERE CreatedDate < 2026-01-01T00:00:00Z ORDER BY CreatedDate", False, "rec_created"),
])
def test_candidate_scans_use_indexes(sb: SalesforceSandbox, soql: str, all_rows: bool, index: str) -> None:
    from connector.sandbox.salesforce._query import explain

    plan = explain(sb.state, soql, all_rows=all_rows)
    assert index in plan
    assert "SCAN rec" not in plan
    if "Email" not in soql and "IN (" not in soql:
        assert "TEMP B-TREE" not in plan


@pytest.mark.slow
def test_incremental_query_at_a_million_records(sb: SalesforceSandbox) -> None:
    """Right at a million records (the store filters through indexes it names, `INDEXED BY`, which SQLite
    refuses to run without; speed itself: bench/bench_sandbox_salesforce.py)."""
    for start in range(0, 1_000_000, 50_000):
        leads = [{"Id": make_id("Lead", i + 1), "LastName": f"L{i}", "Company": "Co", "Email": f"l{i}@example.com",
                  "CreatedDate": T0, "LastModifiedDate": T0, "SystemModstamp": T0 + i * 1000}
                 for i in range(start, start + 50_000)]
        sb.state.load(SeedBatch(salesforce={"Lead": leads}))
    sf = sb.simple_salesforce()
    res = sf.query("SELECT Id, Email FROM Lead WHERE SystemModstamp > 2026-01-12T13:45:00Z ORDER BY SystemModstamp, Id")
    assert res["totalSize"] == 1_000_000 - 999_901
    assert sf.query("SELECT Id FROM Lead WHERE Email = 'l777777@example.com'")["totalSize"] == 1


def test_count_with_a_date_literal_still_applies_the_other_filters() -> None:
    """A relative date literal becomes two index hints; COUNT() must not treat the query as answered by them."""
    import tempfile
    from pathlib import Path

    from connector.sandbox.salesforce.testing import SalesforceSandbox

    with tempfile.TemporaryDirectory() as tmp, SalesforceSandbox.start(Path(tmp)) as sb:
        sf = sb.simple_salesforce()
        for status in ("Open - Not Contacted", "Working - Contacted", "Working - Contacted"):
            sf.Lead.create({"LastName": "X", "Company": "C", "Status": status, "Email": "x@y.io"})
        result = sf.query("SELECT COUNT() FROM Lead WHERE CreatedDate = LAST_N_DAYS:7 "
                          "AND Status = 'Working - Contacted'")
        assert result["totalSize"] == 2
