"""The HubSpot adapter against the HubSpot emulator: initial list, keyset search, equal timestamps, merges."""

from __future__ import annotations

from connector.sandbox.dataset import MarketingEvent, MarketingEventKind, SeedBatch
from connector.sandbox.runner import Sandbox
from connector.systems.hubspot import LIST_PAGE, SEARCH_PAGE, HubSpotSource
from connector.systems.hubspot.records import modified_at, to_staged
from connector.systems.ledger import CallLedger
from connector.systems.ports import Window

from ..conftest import hubspot_config

T0 = 1_750_000_000_000


def contacts(n: int, *, start_id: int = 1, modified: int | None = None, step: int = 1000) -> SeedBatch:
    records = []
    for i in range(n):
        rid = start_id + i
        m = modified if modified is not None else T0 + i * step
        records.append({"id": str(rid), "createdAt": T0 - 10_000, "updatedAt": m,
                        "properties": {"email": f"Person{rid}@Example.com", "firstname": f"P{rid}", "lastname": "X"}})
    return SeedBatch(hubspot={"contacts": records})


def source(sb: Sandbox) -> tuple[HubSpotSource, CallLedger]:
    ledger = CallLedger()
    return HubSpotSource(hubspot_config(sb), ledger), ledger


def test_initial_load_lists_every_record_at_100_per_call(empty_sandbox: Sandbox) -> None:
    empty_sandbox.hubspot.state.load(contacts(250))
    src, ledger = source(empty_sandbox)
    ids = [r["id"] for page, _ in src.list_pages("contacts", ["email", "firstname"]) for r in page]
    assert sorted(ids, key=int) == [str(i) for i in range(1, 251)]
    assert ledger.total() == 3 == -(-250 // LIST_PAGE)
    assert empty_sandbox.hubspot.counter.total() == 3  # the server counted the same


def test_window_is_read_ascending_exactly_once_by_keyset(empty_sandbox: Sandbox) -> None:
    empty_sandbox.hubspot.state.load(contacts(1000, step=10))
    src, ledger = source(empty_sandbox)
    window = Window(T0 + 2_000, T0 + 9_000)  # records 200..899
    pages = list(src.changed_pages("contacts", window, ["email"]))
    got = [r["id"] for page in pages for r in page]
    assert got == [str(i) for i in range(201, 901)]
    times = [modified_at("contacts", r) for page in pages for r in page]
    assert times == sorted(times) and all(window.start <= t < window.end for t in times)
    assert ledger.total() <= -(-700 // SEARCH_PAGE) + 1


def test_more_than_a_page_in_one_millisecond_ends_and_loses_nothing(empty_sandbox: Sandbox) -> None:
    state = empty_sandbox.hubspot.state
    state.load(contacts(10, start_id=1, step=1))             # T0 .. T0+9
    state.load(contacts(450, start_id=100, modified=T0 + 5))  # 450 records share one millisecond
    state.load(contacts(3, start_id=1000, modified=T0 + 7))
    src, _ = source(empty_sandbox)
    got = [r["id"] for page in src.changed_pages("contacts", Window(T0, T0 + 100), ["email"]) for r in page]
    assert len(got) == len(set(got)) == 463
    assert set(got) == {str(i) for i in [*range(1, 11), *range(100, 550), *range(1000, 1003)]}


def test_merge_survivor_marks_absorbed_ids_as_merged(empty_sandbox: Sandbox) -> None:
    src, _ = source(empty_sandbox)
    record = {"id": "51", "updatedAt": "2026-01-01T00:00:00.000Z",
              "properties": {"email": " Ann@X.io ", "hs_merged_object_ids": "12;34",
                             "lastmodifieddate": "2026-01-01T00:00:00.000Z"}}
    staged = to_staged("contacts", record)
    assert staged[0].email_norm == "ann@x.io" and not staged[0].deleted
    assert [(s.record_id, s.deleted, s.merged_into) for s in staged[1:]] == [("12", True, "51"), ("34", True, "51")]


def test_email_bounces_and_unsubscribes_are_read_as_negative_signals(empty_sandbox: Sandbox) -> None:
    def event(eid: str, kind: MarketingEventKind, n: int, **props: str) -> MarketingEvent:
        return {"id": eid, "kind": kind, "contact_id": str(n), "email": f"Person{n}@Example.com",
                "occurred_at": T0 + n, "properties": {"email_campaign_id": "77", **props}}

    empty_sandbox.hubspot.state.load(SeedBatch(marketing_events=[
        event("b1", "email_bounce", 1, category="UNKNOWN_USER", status="550"),
        event("b2", "email_bounce", 2, category="MAILBOX_FULL", status="452"),
        event("u1", "unsubscribe", 3, source="SOURCE_RECIPIENT", portal="true"),
        event("u2", "unsubscribe", 4, source="SOURCE_SPAM_REPORT", portal="false", subscription_id="1001"),
        event("u3", "unsubscribe", 5, source="SOURCE_RECIPIENT", portal="false"),  # unsubscribes from nothing
        event("d1", "email_delivered", 6),
    ]))
    src, _ = source(empty_sandbox)
    rows = sorted((r for page in src.event_pages("email_events", Window(T0, T0 + 100)) for r in page),
                  key=lambda r: r["occurred_at"])
    assert [(r["engagement_id"], r["kind"], r["subject_id"], r["data"]) for r in rows] == [
        ("email:b1", "email_bounce", "person1@example.com", {"emailCampaignId": 77, "category": "UNKNOWN_USER",
                                                              "hard": True}),
        ("email:b2", "email_bounce", "person2@example.com", {"emailCampaignId": 77, "category": "MAILBOX_FULL"}),
        ("email:u1", "unsubscribe", "person3@example.com", {"emailCampaignId": 77, "source": "SOURCE_RECIPIENT",
                                                             "portal": True}),
        ("email:u2", "unsubscribe", "person4@example.com", {"emailCampaignId": 77, "source": "SOURCE_SPAM_REPORT",
                                                             "portal": False}),
        ("email:d1", "email_delivered", "person6@example.com", {"emailCampaignId": 77}),
    ]
