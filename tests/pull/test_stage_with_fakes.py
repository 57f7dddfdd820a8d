"""The pull stage against a fake Source port: what it stages, where its cursors stand, what it asks."""

from __future__ import annotations

from connector.pull.engine import Puller, PullSettings
from connector.objects.streams import Stream
from connector.store import open_engine
from connector.store.cursors import read_cursor
from connector.systems.fakes import FakeSource
from connector.systems.ports import ChangeProbe, StagedRecord, WindowRead

T0 = 1_750_000_000_000
HOUR = 3_600_000
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
