"""The pull stage against fake Source ports (both shapes): what it stages, where its cursors stand, what it
asks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from sqlmodel import Session, func, select

from connector.pull.engine import Puller, PullSettings
from connector.objects.streams import Stream
from connector.store import open_engine
from connector.store.cursors import read_cursor
from connector.store.models import Engagement, SourceRecord
from connector.systems.fakes import FakeListingSource, FakeSource
from connector.systems.http import TransientApiError
from connector.systems.ports import ChangeProbe, StagedRecord, WindowRead

T0 = 1_750_000_000_000
HOUR = 3_600_000
DAY = 24 * HOUR
LEADS = [Stream("salesforce", "Lead", ("Email",))]


def lead(n: int, modified: int) -> StagedRecord:
    return StagedRecord(system="salesforce", object_type="Lead", record_id=f"00Q{n:03d}", modified_at=modified,
                        data={"Email": f"p{n}@example.com"}, email_norm=f"p{n}@example.com")


def pull(store_url: str, source: FakeSource, at: int, streams: list[Stream] = LEADS) -> dict[str, dict[str, object]]:
    engine = open_engine(store_url)
    return Puller(engine, hubspot=None, salesforce=source, settings=PullSettings(run_started_ms=at)).pull(
        streams).to_json()


def test_a_first_pull_stages_every_record_then_reads_from_where_it_stopped(store_url: str) -> None:
    source = FakeSource()
    source.add(*(lead(n, T0 + n * 1_000) for n in range(5)))
    first = pull(store_url, source, T0 + HOUR)
    assert first["salesforce:Lead"] == {"mode": "initial", "new": 5, "changed": 0, "unchanged": 0, "echoes": 0}
    ((read,),) = source.asked
    assert isinstance(read, WindowRead) and read.initial and read.window.start == 0
    assert read_cursor(open_engine(store_url), "salesforce:Lead").position == T0 + HOUR - 60_000

    source.add(lead(9, T0 + HOUR))  # changed after the first pull's ceiling
    second = pull(store_url, source, T0 + 2 * HOUR)
    assert second["salesforce:Lead"] == {"mode": "incremental", "new": 1, "changed": 0, "unchanged": 0, "echoes": 0}
    (read,) = source.asked[1]
    assert isinstance(read, WindowRead) and not read.initial
    assert read.window.start == T0 + HOUR - 60_000 - 120_000  # the lookback re-reads two minutes


def test_streams_past_the_reads_per_call_are_probed_not_read(store_url: str) -> None:
    source = FakeSource(reads_per_call=1)
    streams = [Stream("salesforce", "Lead", ("Email",)), Stream("salesforce", "User", ("Email",), poll="probe")]
    # first loads: the User stream is read after a probe of its last minutes
    pull(store_url, source, T0 + HOUR, streams)
    later = pull(store_url, source, T0 + 2 * HOUR, streams)
    assert [type(r) for r in source.asked[-1]] == [WindowRead, ChangeProbe] and len(source.asked) == 2
    assert later["salesforce:User"]["mode"] == "incremental (probed)"  # nothing changed: settled by the probe
    assert read_cursor(open_engine(store_url), "salesforce:User").settled


# ---------------------------------------------------------------------------------------------- the listing shape

CONTACTS = [Stream("hubspot", "contacts", ("email", "firstname"), associations=("companies",))]


def contact(n: int, modified: int, **data: str) -> StagedRecord:
    email = f"c{n}@example.com"
    return StagedRecord(system="hubspot", object_type="contacts", record_id=str(100 + n), modified_at=modified,
                        data={"email": email, **data}, email_norm=email)


@dataclass
class BreakingListing(FakeListingSource):
    """A listing source whose listings break off after `pages_before_failure` pages (None: never)."""

    pages_before_failure: int | None = None

    def list_records(self, object_type: str, properties: Sequence[str], *, archived: bool = False,
                     after: str | None = None, associations: Sequence[str] = ()
                     ) -> Iterator[tuple[list[StagedRecord], str | None]]:
        listing = super().list_records(object_type, properties, archived=archived, after=after,
                                       associations=associations)
        for n, answer in enumerate(listing):
            if n == self.pages_before_failure:
                raise TransientApiError(f"hubspot GET /crm/v3/objects/{object_type}: still failing")
            yield answer


def pull_hubspot(store_url: str, source: FakeListingSource, at: int, streams: list[Stream] = CONTACTS
                 ) -> dict[str, dict[str, object]]:
    engine = open_engine(store_url)
    return Puller(engine, hubspot=source, salesforce=None, settings=PullSettings(run_started_ms=at)).pull(
        streams).to_json()


def staged_hubspot(store_url: str, object_type: str = "contacts") -> dict[str, SourceRecord]:
    with Session(open_engine(store_url)) as s:
        return {r.record_id: r for r in s.exec(select(SourceRecord).where(
            SourceRecord.system == "hubspot", SourceRecord.object_type == object_type))}


def test_a_broken_off_listing_resumes_at_its_token_then_windows_follow_the_cursor(store_url: str) -> None:
    source = BreakingListing(pages_before_failure=1)
    source.add(*(contact(n, T0 + n * 1_000) for n in range(1, 5)), contact(5, T0 + HOUR - 90_000))
    source.links[("contacts", "companies")] = {"101": ["9001"], "106": ["9002"]}

    with pytest.raises(TransientApiError):
        pull_hubspot(store_url, source, T0 + HOUR)
    assert set(staged_hubspot(store_url)) == {"101", "102"}  # the first page, kept
    cursor = read_cursor(open_engine(store_url), "hubspot:contacts")
    assert cursor.resume_after == "2" and not cursor.initial_done

    source.pages_before_failure = None
    resumed = pull_hubspot(store_url, source, T0 + HOUR)
    assert resumed["hubspot:contacts"] == {"mode": "initial (resumed)", "new": 3, "changed": 0, "unchanged": 0,
                                           "echoes": 0}
    assert source.asked[-1] == ("list_records", "contacts", "2")
    staged = staged_hubspot(store_url)
    assert set(staged) == {"101", "102", "103", "104", "105"}
    assert staged["101"].data["_associations"] == {"companies": ["9001"]}  # the listing brought them along
    cursor = read_cursor(open_engine(store_url), "hubspot:contacts")
    assert cursor.position == T0 + HOUR - 60_000 and cursor.resume_after is None  # the ceiling of the first run

    source.add(contact(3, T0 + HOUR + 300_000, firstname="Ann"), contact(6, T0 + HOUR + 600_000))
    later = pull_hubspot(store_url, source, T0 + 2 * HOUR)
    assert later["hubspot:contacts"] == {"mode": "incremental", "new": 1, "changed": 1, "unchanged": 1,
                                         "echoes": 0}  # 105 sits in the lookback: read again, staged once
    window = (T0 + HOUR - 60_000 - 120_000, T0 + 2 * HOUR - 60_000)
    assert ("changed_records", "contacts", f"{window[0]}-{window[1]}") in source.asked
    staged = staged_hubspot(store_url)
    assert staged["103"].data["firstname"] == "Ann" and staged["103"].modified_at == T0 + HOUR + 300_000
    assert staged["106"].data["_associations"] == {"companies": ["9002"]}  # searched: read by a batch call
    cursor = read_cursor(open_engine(store_url), "hubspot:contacts")
    assert cursor.position == window[1] and cursor.boundary_ids == frozenset()  # the window read to its end


def page_view(n: int, occurred: int) -> dict[str, object]:
    return {"system": "hubspot", "engagement_id": f"web:{n}", "kind": "page_view", "direction": "marketing",
            "subject_system": "hubspot", "subject_id": "101", "occurred_at": occurred, "data": {}}


def test_merges_deletions_owners_and_events_come_through_the_listing_port(store_url: str) -> None:
    streams = [*CONTACTS, Stream("hubspot", "owners", (), kind="owners"),
               Stream("hubspot", "web_events", (), "engagement", kind="web_events")]
    source = FakeListingSource()
    source.add(contact(1, T0), contact(2, T0 + 1_000), contact(3, T0 + 2_000))
    source.owner_emails = {"7": "Owner@Example.com"}
    source.events["web_events"] = [page_view(1, T0 - 30 * DAY), page_view(2, T0)]
    first = pull_hubspot(store_url, source, T0 + HOUR, streams)
    assert {name: (row["mode"], row["new"]) for name, row in first.items()} == {
        "hubspot:contacts": ("initial", 3), "hubspot:owners": ("full", 1), "hubspot:web_events": ("initial", 2)}
    (owner,) = staged_hubspot(store_url, "owners").values()
    assert (owner.record_id, owner.email_norm) == ("7", "owner@example.com")

    # a day later: 101 absorbed 102, 103 was archived, one more page view
    merged = StagedRecord(system="hubspot", object_type="contacts", record_id="102", modified_at=T0 + 2 * HOUR,
                          data={}, deleted=True, merged_into="101")
    archived = StagedRecord(system="hubspot", object_type="contacts", record_id="103", modified_at=T0 + 3 * HOUR,
                            data={"email": "c3@example.com"}, deleted=True)
    source.add(contact(1, T0 + 2 * HOUR, hs_merged_object_ids="102"), merged, archived)
    source.events["web_events"].append(page_view(3, T0 + 2 * HOUR))
    later = pull_hubspot(store_url, source, T0 + HOUR + DAY, streams)
    assert later["hubspot:contacts"]["mode"] == "incremental" and later["hubspot:web_events"]["new"] == 1
    staged = staged_hubspot(store_url)
    assert (staged["102"].deleted, staged["102"].merged_into) == (True, "101")  # the marker followed its survivor
    assert staged["103"].deleted and staged["101"].data["hs_merged_object_ids"] == "102"
    assert ("list_records:archived", "contacts", None) in source.asked  # the deletion scan was due: a day passed
    assert read_cursor(open_engine(store_url), "hubspot:contacts:archived").position == T0 + HOUR + DAY
    with Session(open_engine(store_url)) as s:
        assert s.exec(select(func.count()).select_from(Engagement)).one() == 3
