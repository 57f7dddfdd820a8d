"""Lower bounds of API calls (connector/bounds.py): from record counts and page sizes only, and never above
what a correct client could do (issue #13: the demo printed "6 reading, lower bound 10" for Salesforce)."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st

from connector.bounds import (
    hubspot_read_calls,
    hubspot_write_calls,
    salesforce_read_calls,
    salesforce_write_calls,
)


def test_salesforce_reads_count_composite_and_bulk() -> None:
    assert salesforce_read_calls({}) == 0
    assert salesforce_read_calls({"Lead": 0}) == 0
    assert salesforce_read_calls({"Lead": 2_000}) == 1
    assert salesforce_read_calls({"Lead": 10_000}) == 1  # five queries (query-more included) in one Composite call
    assert salesforce_read_calls({"Lead": 10_001}) == 2
    assert salesforce_read_calls({"Lead": 1_000_000}) == 2  # one Bulk 2.0 job: create it, read its results
    # the demo world: ten query pages of rows over seven objects fit two Composite calls
    world = {"Lead": 1_100, "Contact": 700, "Account": 300, "Opportunity": 500, "Task": 5_000, "Event": 2_500,
             "User": 12}
    assert salesforce_read_calls(world) == 2 < sum(-(-n // 2_000) for n in world.values())


def test_salesforce_writes_count_collections_and_bulk() -> None:
    assert salesforce_write_calls([]) == 0
    assert salesforce_write_calls([1_000]) == 1  # five Collections of 200 in one Composite call
    assert salesforce_write_calls([1_001]) == 2
    assert salesforce_write_calls([50_000, 30_000]) == 8  # two Bulk ingest jobs of four calls
    assert salesforce_write_calls([50_000, 150]) == 5  # one job, and one Composite call for the rest


def test_hubspot_bounds_use_the_largest_pages() -> None:
    assert hubspot_read_calls({"contacts": 200}) == 1 and hubspot_read_calls({"contacts": 201}) == 2
    assert hubspot_read_calls({"owners": 500}) == 1
    assert hubspot_read_calls({}, events=1_001) == 2
    assert hubspot_write_calls([100, 101, 0]) == 3


def _best_mix(rows: list[int], per: int, bulk: int) -> int:
    """Every way to send some objects to Bulk and the rest through Composite: the cheapest."""
    pieces = [-(-n // per) for n in rows if n > 0]
    best = -(-sum(pieces) // 5)
    for k in range(1, len(pieces) + 1):
        for chosen in combinations(range(len(pieces)), k):
            rest = sum(p for i, p in enumerate(pieces) if i not in chosen)
            best = min(best, k * bulk + -(-rest // 5))
    return best


@given(st.lists(st.integers(min_value=0, max_value=60_000), max_size=7))
def test_the_bound_is_the_cheapest_strategy(rows: list[int]) -> None:
    reads = salesforce_read_calls({f"O{i}": n for i, n in enumerate(rows)})
    assert reads == _best_mix(rows, 2_000, 2)
    assert reads <= -(-sum(-(-n // 2_000) for n in rows) // 5)  # never above Composite alone
    assert reads <= 2 * sum(1 for n in rows if n)  # nor above one Bulk job per object
    assert salesforce_write_calls(rows) == _best_mix(rows, 200, 4)


def test_creates_are_looked_up_first() -> None:
    # 1,000 Lead creates: five Collections, and ten look-up queries (Lead and Contact, 200 keys each): three calls
    assert salesforce_write_calls([1_000], lookups=1_000) == 3
    assert salesforce_write_calls([], lookups=100_000) == 4  # two Bulk query jobs beat 200 Composite calls
    assert hubspot_write_calls([150], lookups=150) == 4


def test_reading_records_again_before_their_update_is_in_the_write_bound() -> None:
    # HubSpot: 250 updates in 3 batches, 250 records read again, 100 a batch read: 3 more calls
    assert hubspot_write_calls([250], checks=250) == 3 + 3
    assert hubspot_write_calls([250], checks=1) == 3 + 1
    # Salesforce: 1,000 updates (5 Collections) and 1,000 records read again (one 2,000-row query): the six
    # subrequests need two Composite calls, five a call
    assert salesforce_write_calls([1_000], checks=1_000) == 2
    # 4,000 updates (20 Collections) and 4,000 checks (2 queries): 22 subrequests, 5 calls; 4 if the updates
    # went as one Bulk ingest job (4 calls) and the 2 queries rode in one Composite call: 5 either way
    assert salesforce_write_calls([4_000], checks=4_000) == 5
    # 100,000 updates: a Bulk ingest job (4) and the 50 check queries as a Bulk query job (2)
    assert salesforce_write_calls([100_000], checks=100_000) == 6


def test_hubspot_opt_outs_go_100_a_call_on_enterprise_accounts_and_one_a_call_below() -> None:
    assert hubspot_write_calls([], opt_outs=0) == 0
    assert hubspot_write_calls([], opt_outs=1) == 1
    assert hubspot_write_calls([], opt_outs=100) == 1 and hubspot_write_calls([], opt_outs=101) == 2
    assert hubspot_write_calls([], opt_outs=101, batched_opt_outs=False) == 101
    # the first sync at 10k: 98 opt-outs were 98 calls; on an Enterprise account one call holds them
    assert hubspot_write_calls([], opt_outs=98) == 1
    # creates, updates, the look-up before the creates and the opt-outs: each its own calls, never shared
    # (upsert 150 = 2, update 1,020 = 11, look-up of 150 addresses = 2, 230 opt-outs = 3)
    assert hubspot_write_calls([150, 1_020], lookups=150, opt_outs=230) == 18
    assert hubspot_write_calls([150, 1_020], lookups=150, opt_outs=230, batched_opt_outs=False) == 245
    # with the records read again before their update (1,020 checks = 11 batch reads)
    assert hubspot_write_calls([150, 1_020], lookups=150, checks=1_020, opt_outs=230) == 29
