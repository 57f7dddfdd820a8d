"""The Salesforce adapter against the Salesforce emulator: composite windows, query-more, deletes, merges,
token expiry mid-pull, escaping, Bulk 2.0."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from connector.config import SalesforceConfig
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.runner import Sandbox
from connector.sandbox.salesforce.ids import make_id
from connector.systems.ledger import CallLedger
from connector.systems.ports import Window
from connector.systems.salesforce import SalesforceSource, sf_to_ms, soql_datetime

T0 = 1_750_000_000_000


def sf_config(sb: Sandbox, **overrides: object) -> SalesforceConfig:
    info = sb.info()
    values: dict[str, object] = {
        "instance_url": info.salesforce_instance_url, "auth": "client_credentials",
        "client_id": info.salesforce_client_id, "client_secret": SecretStr(info.salesforce_client_secret),
        "ca_bundle": info.ca_file, "api_version": "62.0"}
    values.update(overrides)
    return SalesforceConfig.model_validate(values)


def leads(n: int, *, start: int = 1, step: int = 1000, email: str | None = None) -> SeedBatch:
    rows = []
    for i in range(start, start + n):
        m = T0 + i * step
        rows.append({"Id": make_id("Lead", i), "LastName": f"L{i}", "Company": "Acme", "Status": "Open - Not Contacted",
                     "Email": email or f"lead{i}@acme.test", "CreatedDate": T0, "LastModifiedDate": m,
                     "SystemModstamp": m})
    return SeedBatch(salesforce={"Lead": rows})


def source(sb: Sandbox) -> tuple[SalesforceSource, CallLedger]:
    ledger = CallLedger()
    return SalesforceSource(sf_config(sb), ledger), ledger


def test_datetime_literals_round_trip() -> None:
    assert soql_datetime(T0 + 123) == "2025-06-15T15:06:40.123Z"
    assert sf_to_ms("2025-06-15T15:06:40.123+0000") == T0 + 123 == sf_to_ms(soql_datetime(T0 + 123))


def test_idle_poll_of_five_objects_costs_one_call(empty_sandbox: Sandbox) -> None:
    src, ledger = source(empty_sandbox)
    window = Window(T0, T0 + 60_000)
    objects = ["Lead", "Contact", "Opportunity", "Task", "Event"]
    pages = list(src.window_pages([(o, ["Id"], window) for o in objects]))
    grants = src.auth.grants
    assert pages == [] and ledger.total() == 1 and grants == 1
    api_calls = {k: v for k, v in empty_sandbox.salesforce.counter.snapshot().items() if "/oauth2/" not in k}
    assert api_calls == {"POST /services/data/v62.0/composite": 1}  # the token grant is not an API call


def test_window_pages_follow_query_more_in_order(empty_sandbox: Sandbox) -> None:
    empty_sandbox.salesforce.state.load(leads(4_500, step=10))
    src, ledger = source(empty_sandbox)
    window = Window(T0 + 10, T0 + 10 * 4_201)  # leads 1..4200
    got = [(o, r["Id"]) for o, page in src.window_pages([("Lead", ["Email"], window), ("Contact", ["Email"], window)])
           for r in page]
    assert [rid for _, rid in got] == [make_id("Lead", i) for i in range(1, 4_201)]
    assert ledger.total() == 1 + 2  # one composite, then two query-more pages of 2,000
    staged = src.to_staged("Lead", {"attributes": {}, "Id": "00Q1", "SystemModstamp": "2025-06-15T15:06:40.123+0000",
                                    "IsDeleted": False, "Email": " A@B.io"})
    assert staged.modified_at == T0 + 123 and staged.email_norm == "a@b.io" and "attributes" not in staged.data


def test_query_more_of_several_reads_rides_in_one_composite_call(empty_sandbox: Sandbox) -> None:
    """read_windows: when one read needs its next page, the other reads' next pages ride along (five query
    subrequests to a Composite call) and are kept, in order, until their read gets to them."""
    from connector.systems.ports import WindowRead

    empty_sandbox.salesforce.state.load(leads(4_500, step=10))
    empty_sandbox.salesforce.state.load(SeedBatch(salesforce={"Contact": [
        {"Id": make_id("Contact", i), "LastName": f"C{i}", "Email": f"c{i}@acme.test", "CreatedDate": T0,
         "LastModifiedDate": T0 + i * 10, "SystemModstamp": T0 + i * 10} for i in range(1, 3_001)]}))
    src, ledger = source(empty_sandbox)
    window = Window(T0 + 10, T0 + 10 * 4_201)  # leads 1..4,200 (3 pages), contacts 1..3,000 (2 pages)
    reads = src.read_windows([WindowRead("Lead", ("Email",), window), WindowRead("Contact", ("Email",), window)])
    assert ledger.total() == 1  # both first pages
    leads_read = [r.record_id for page in reads[0] for r in page]  # type: ignore[union-attr]
    # the Lead's second page brought the Contact's second (and last) page along; its third went alone
    assert ledger.total() == 3
    contacts_read = [r.record_id for page in reads[1] for r in page]  # type: ignore[union-attr]
    assert ledger.total() == 3  # nothing more to ask: the Contact's page was kept
    assert leads_read == [make_id("Lead", i) for i in range(1, 4_201)]
    assert contacts_read == [make_id("Contact", i) for i in range(1, 3_001)]
    api_calls = {k: v for k, v in empty_sandbox.salesforce.counter.snapshot().items() if "/oauth2/" not in k}
    assert api_calls == {"POST /services/data/v62.0/composite": 3}  # no separate query-more call


def test_deleted_and_merged_records_come_back_through_query_all(empty_sandbox: Sandbox) -> None:
    import ssl

    import httpx

    empty_sandbox.salesforce.state.load(leads(3))
    info = empty_sandbox.info()
    with httpx.Client(base_url=info.salesforce_instance_url,
                      verify=ssl.create_default_context(cafile=info.ca_file)) as control:
        deleted = control.post(f"/_sandbox/salesforce/records/{make_id('Lead', 1)}/delete")
        assert deleted.status_code == 200, deleted.text
        merged = control.post("/_sandbox/salesforce/merge",
                              json={"masterId": make_id("Lead", 2), "mergeIds": [make_id("Lead", 3)]})
        assert merged.status_code == 200, merged.text
    src, _ = source(empty_sandbox)
    now = empty_sandbox.clock.now_ms()
    records = {r["Id"]: src.to_staged("Lead", r) for page in src.query_pages(
        src.window_soql("Lead", ["MasterRecordId"], Window(T0, now + 1)), object_type="Lead") for r in page}
    assert records[make_id("Lead", 1)].deleted
    loser = records[make_id("Lead", 3)]
    assert loser.deleted and loser.merged_into == make_id("Lead", 2)
    assert not records[make_id("Lead", 2)].deleted


def test_expired_session_mid_pull_is_granted_again(empty_sandbox: Sandbox) -> None:
    empty_sandbox.salesforce.state.load(leads(4_100, step=10))
    src, ledger = source(empty_sandbox)
    pages = src.query_pages(src.window_soql("Lead", ["Email"], Window(T0, T0 + 10 * 5_000)), object_type="Lead")
    first = next(pages)
    empty_sandbox.salesforce.state.expire_tokens()
    rest = [r for page in pages for r in page]
    assert len(first) + len(rest) == 4_100
    assert src.auth.grants == 2 and ledger.total() == 4  # 3 pages + the one refused with INVALID_SESSION_ID


def test_hostile_email_cannot_change_the_query(empty_sandbox: Sandbox) -> None:
    hostile = "o'brien\\' OR Email != null -- @x.io"
    empty_sandbox.salesforce.state.load(leads(2, email="someone@else.io"))
    empty_sandbox.salesforce.state.load(leads(1, start=10, email=hostile))
    src, _ = source(empty_sandbox)
    found = [r["Email"] for page in src.query_pages(src.email_soql("Lead", ["Id", "Email"], [hostile]),
                                                    object_type="Lead", all_rows=False) for r in page]
    assert found == [hostile]


def test_bulk_query_returns_typed_rows_in_result_sets(empty_sandbox: Sandbox) -> None:
    empty_sandbox.salesforce.state.load(leads(1_200))
    src, ledger = source(empty_sandbox)
    rows = [r for page in src.bulk_query_pages("SELECT Id, Email, IsDeleted, SystemModstamp FROM Lead",
                                               object_type="Lead", max_records=500) for r in page]
    assert len(rows) == 1_200 and {r["IsDeleted"] for r in rows} == {False}
    assert all(src.to_staged("Lead", r).modified_at > T0 for r in rows)


def test_a_query_more_that_failed_for_another_read_fails_only_that_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.systems.http import ApiError
    from connector.systems.salesforce import source as source_module

    calls: list[list[tuple[str, str]]] = []

    def fake_query_more(_source: object, pages: list[tuple[str, str]]) -> list[object]:
        calls.append(list(pages))
        return [{"records": [{"Id": "L2"}], "done": True},
                ApiError("salesforce", "composite m Contact", 400, "INVALID_QUERY_LOCATOR", "expired")]

    monkeypatch.setattr(source_module, "query_more", fake_query_more)
    more = source_module._MorePages(object())  # type: ignore[arg-type]
    more.offer(0, "Lead", {"done": False, "nextRecordsUrl": "/q/lead-2"})
    more.offer(1, "Contact", {"done": False, "nextRecordsUrl": "/q/contact-2"})
    assert more.next_body(0) == {"records": [{"Id": "L2"}], "done": True}
    assert calls == [[("Lead", "/q/lead-2"), ("Contact", "/q/contact-2")]]
    more.offer(1, "Contact", {"done": False, "nextRecordsUrl": "/q/contact-2"})  # fetched already: no-op
    with pytest.raises(ApiError, match="INVALID_QUERY_LOCATOR"):
        more.next_body(1)
    assert len(calls) == 1 and more.pending == {} and more.fetched == {}
