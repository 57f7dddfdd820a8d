"""The whole-cycle benchmark's own arithmetic (bench/run.py): the time floors the rate limits impose, the 429s
read from the connector's log, the ratios and the table. The benchmark itself is run by hand (minutes)."""

from __future__ import annotations

import json

import pytest

from bench.run import first_sync_figures, hubspot_floor_s, logged_pauses, retried_429s, salesforce_floor_s, table
from bench.sandbox_process import api_calls

LIMITS = {"burst_max": 190, "burst_window_ms": 10_000, "search_per_second": 5, "daily_max": 625_000}


@pytest.mark.parametrize(("calls", "seconds"), [
    (0, 0.0), (195, 0.0),  # one full burst window and one second of searches at once
    (219, 1.0),  # 24 calls a second after that: 19 on the burst limit, 5 searches
    (435, 10.0), (2_595, 100.0),
])
def test_the_hubspot_floor_counts_every_call_at_the_best_rate_of_both_limits(calls: int, seconds: float) -> None:
    assert hubspot_floor_s(calls, burst_max=190, burst_window_s=10.0, search_per_s=5) == pytest.approx(seconds)


def test_the_hubspot_floor_follows_the_limits_it_is_given() -> None:
    # a Starter app: 100 per 10 s, no search: 10 calls a second after the first 100
    assert hubspot_floor_s(300, burst_max=100, burst_window_s=10.0, search_per_s=0) == pytest.approx(20.0)


def test_the_salesforce_floor_is_its_calls_one_after_another() -> None:
    assert salesforce_floor_s(13, 0.002) == pytest.approx(0.026)
    assert salesforce_floor_s(0, 0.002) == 0


def _log(message: str, level: str = "WARNING") -> str:
    return json.dumps({"ts": "2026-12-07T09:00:00.000+00:00", "level": level, "logger": "connector.systems.http",
                       "message": message})


def test_429s_are_counted_per_system_from_the_retry_warnings() -> None:
    lines = [
        _log("hubspot POST /crm/v3/objects/contacts/batch/update: 429 RATE_LIMIT; retry 1 of 5"),
        _log("hubspot POST /crm/v3/objects/contacts/batch/update: 429 RATE_LIMIT; retry 2 of 5"),
        _log("salesforce POST /services/data/v62.0/composite: 429 REQUEST_LIMIT_EXCEEDED; retry 1 of 5"),
        _log("hubspot GET /crm/v3/objects/contacts: 503 SERVICE_UNAVAILABLE; retry 1 of 5"),  # not a 429
        _log("rate limit: pausing 1.2 s (171 requests per 10 s)"),  # the pacer's own wait, not an answer
        _log("push: done in 4.2 s: wrote 429 updates; retry 1 of 5", level="INFO"),  # no system and endpoint
        "not json at all",
    ]
    assert retried_429s(lines) == {"hubspot": 2, "salesforce": 1}


def test_sign_ins_are_not_api_calls_and_addresses_are_folded() -> None:
    counted = api_calls({"POST /oauth/v1/token": 2, "GET /crm/v3/objects/contacts": 3,
                         "POST /communication-preferences/v4/statuses/someone@example.com/unsubscribe-all": 1,
                         "POST /communication-preferences/v4/statuses/other@example.org/unsubscribe-all": 1})
    assert counted["total"] == 5
    assert counted["by_endpoint"]["POST /communication-preferences/v4/statuses/{address}/unsubscribe-all"] == 2
    assert not any("@" in key for key in counted["by_endpoint"])


def _figures() -> dict[str, object]:
    calls = {"hubspot": {"reads": 300, "writes": 180, "total": 480},
             "salesforce": {"reads": 13, "writes": 7, "total": 20}}
    bound = {"pull": {"hubspot": 297, "salesforce": 6}, "push": {"hubspot": 138, "salesforce": 4}}
    return first_sync_figures(calls=calls, bound=bound, wall_s=30.0, limits=LIMITS, round_trip_s=0.01)


def test_first_sync_figures_are_ratios_to_the_bound_and_to_the_larger_floor() -> None:
    f = _figures()
    assert f["lower_bound"] == {"hubspot": {"reads": 297, "writes": 138, "total": 435},
                                "salesforce": {"reads": 6, "writes": 4, "total": 10}}
    assert f["calls_over_bound"] == {"hubspot": {"reads": 1.01, "writes": 1.3, "total": 1.1},
                                     "salesforce": {"reads": 2.17, "writes": 1.75, "total": 2.0}}
    assert f["floor_s"] == {"hubspot": 10.0, "salesforce": 0.1}  # (435 - 195) / 24 s; 10 x 10 ms
    assert f["wall_over_floor"] == 3.0


def test_the_table_has_a_row_per_size_with_its_ratios() -> None:
    result = {"people": 10_000, "first_sync": {**_figures(), "http_429": {"hubspot": 2, "salesforce": 0}},
              "peak_rss_mb": 259.4, "reconcile": {"people_per_s": 2_300},
              "idle": {"calls": {"hubspot": {"total": 11}, "salesforce": {"total": 1}}}}
    lines = table([result]).splitlines()
    assert len(lines) == 3
    row = lines[2]
    assert row.startswith("| 10,000 | 1.1x (480 / 435; reads 300 / 297, writes 180 / 138) | 2.0x (20 / 10;")
    assert "| 3.0x (30.0 s / 10.0 s) | 259.4 MB | 2,300 people/s | 2 / 0 | 11 / 1 |" in row


def test_the_pacers_long_pauses_are_added_up_from_the_log() -> None:
    lines = [_log("rate limit: pausing 1.2 s (171 requests per 10 s)"),
             _log("rate limit: pausing 8.5 s (171 requests per 10 s, as the server asked)"),
             _log("hubspot POST /crm/v3/objects/contacts/batch/update: 429 RATE_LIMIT; retry 1 of 5")]
    assert logged_pauses(lines) == {"count": 2, "seconds": 9.7}
    assert logged_pauses([]) == {"count": 0, "seconds": 0.0}


def test_a_failed_first_sync_is_a_row_that_says_so() -> None:
    failed = {"people": 10_000, "first_sync": {"ok": False, "code": 1, "wall_s": 6.6,
                                               "error": {"ok": False, "error": "TransientApiError"},
                                               "http_429": {"hubspot": 5, "salesforce": 0}}}
    row = table([failed]).splitlines()[2]
    assert row.startswith("| 10,000 | first sync failed after 6.6 s (TransientApiError); 429s 5 / 0 |")
