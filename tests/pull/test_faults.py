"""Pulling through trouble, against the sandbox: rate limits, 503 storms, spent budgets, garbled bodies,
expiring OAuth tokens, records changing mid-pull and windows past the 10,000-result search cap."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import Session, func, select

from connector.pull.engine import Puller, PullSettings
from connector.objects.streams import PEOPLE_STREAMS
from connector.sandbox.dataset import SeedBatch
from connector.sandbox.faults import FaultRule
from connector.sandbox.runner import Sandbox
from connector.store import open_engine
from connector.store.cursors import Cursor, load_cursor
from connector.store.models import SourceRecord
from connector.systems.http import MalformedResponse, RetryPolicy
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.pacing import BudgetExhausted
from connector.systems.ports import Window

from ..systems.conftest import hubspot_config

CONTACTS = [s for s in PEOPLE_STREAMS if s.object_type == "contacts"]
T0 = 1_760_000_000_000


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(people=0, rate_limits=False) as sandbox:
        yield sandbox


@pytest.fixture
def fresh(sb: Sandbox) -> Sandbox:
    sb.hubspot.state.reset()
    sb.hubspot.faults.clear()
    sb.hubspot.counter.reset()
    return sb


def load(sb: Sandbox, n: int, *, start: int = 1, step: int = 1) -> None:
    sb.hubspot.state.load(SeedBatch(hubspot={"contacts": [
        {"id": str(i), "createdAt": T0, "updatedAt": T0 + i * step,
         "properties": {"email": f"c{i}@x.io", "lastname": f"L{i}"}} for i in range(start, start + n)]}))


def puller(sb: Sandbox, url: str, *, source: HubSpotSource, started: int) -> Puller:
    return Puller(open_engine(url), hubspot=source, salesforce=None,
                  settings=PullSettings(run_started_ms=started, lookback_ms=0, safety_lag_ms=0))


def stored(url: str) -> int:
    with Session(open_engine(url)) as s:
        return int(s.exec(select(func.count()).select_from(SourceRecord)).one())


def fast_retry() -> RetryPolicy:
    return RetryPolicy(attempts=4, initial=0.01, maximum=0.05)


def test_429_with_and_without_retry_after_are_ridden_out(fresh: Sandbox, tmp_path: Path) -> None:
    load(fresh, 450)
    fresh.hubspot.faults.add(FaultRule(kind="429-retry", path="/crm/v3/objects/contacts", count=1, after=1,
                                       retry_after=1))
    fresh.hubspot.faults.add(FaultRule(kind="429", path="/crm/v3/objects/contacts", count=2, after=3))
    ledger = CallLedger()
    slept: list[float] = []
    src = HubSpotSource(hubspot_config(fresh), ledger, retry=fast_retry(), sleep=slept.append)
    url = f"sqlite:///{tmp_path}/c.db"
    puller(fresh, url, source=src, started=T0 + 10_000).pull(CONTACTS)
    assert stored(url) == 450
    assert ledger.total() == 5 + 3 and 1.0 in slept  # five pages, three refused calls, Retry-After honoured


def test_budget_spent_mid_pull_stops_cleanly_and_the_next_run_resumes(fresh: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    first = HubSpotSource(hubspot_config(fresh), CallLedger())
    puller(fresh, url, source=first, started=T0 + 100).pull(CONTACTS)  # initial load of an empty account
    load(fresh, 950, start=10, step=10)  # then 950 records change after it
    # 3 calls allowed today: the change search runs out of budget part-way through its window
    tight = HubSpotSource(hubspot_config(fresh, daily_limit=6, daily_budget_share=0.5), CallLedger())
    with pytest.raises(BudgetExhausted):
        puller(fresh, url, source=tight, started=T0 + 100_000).pull(CONTACTS)
    with Session(open_engine(url)) as s:
        cursor = load_cursor(s, "hubspot:contacts")
    assert cursor.position is not None and T0 + 100 < cursor.position < T0 + 9_500  # kept what it had stored
    assert stored(url) == 200 + 199 + 199  # keyset pages overlap by the one record at their edge
    resumed = HubSpotSource(hubspot_config(fresh), CallLedger())
    puller(fresh, url, source=resumed, started=T0 + 100_000).pull(CONTACTS)
    assert stored(url) == 950


def test_malformed_body_fails_clearly_and_moves_no_cursor(fresh: Sandbox, tmp_path: Path) -> None:
    load(fresh, 50)
    url = f"sqlite:///{tmp_path}/c.db"
    fresh.hubspot.faults.add(FaultRule(kind="malformed", path="/crm/v3/objects/contacts", count=10))
    src = HubSpotSource(hubspot_config(fresh), CallLedger(), retry=fast_retry())
    with pytest.raises(MalformedResponse, match="no cursor moved"):
        puller(fresh, url, source=src, started=T0 + 10_000).pull(CONTACTS)
    with Session(open_engine(url)) as s:
        assert load_cursor(s, "hubspot:contacts") == Cursor()
    assert stored(url) == 0


def test_expired_oauth_token_mid_pull_is_refreshed(fresh: Sandbox, tmp_path: Path) -> None:
    load(fresh, 250)
    state = fresh.hubspot.state
    config = hubspot_config(fresh, auth="oauth", access_token=None, client_id=state.oauth_client_id,
                            client_secret=SecretStr(state.oauth_client_secret),
                            refresh_token=SecretStr(state.oauth_refresh_token))
    ledger = CallLedger()
    src = HubSpotSource(config, ledger)
    pages = src.list_pages("contacts", ["email"])
    first, _ = next(pages)
    fresh.clock.advance(31 * 60 * 1000)  # past the 30-minute access token
    rest = [r for page, _ in pages for r in page]
    assert len(first) + len(rest) == 250
    assert ledger.total() == 4  # three pages and the one refused with an expired token
    fresh.clock.advance(-31 * 60 * 1000)


def test_records_changing_during_a_pull_shift_nothing(fresh: Sandbox, tmp_path: Path) -> None:
    load(fresh, 600, step=10)
    src = HubSpotSource(hubspot_config(fresh), CallLedger())
    ctx = ssl.create_default_context(cafile=str(fresh.tls.ca_file))
    seen: list[str] = []
    with httpx.Client(verify=ctx, headers={"Authorization": f"Bearer {fresh.hubspot.state.access_token}"}) as c:
        for n, page in enumerate(src.changed_pages("contacts", Window(T0, T0 + 10_000), ["email"])):
            seen.extend(r["id"] for r in page)
            if n == 0:  # a record already read and one not yet read change: both move past the window's end
                for rid in ("5", "500"):
                    assert c.patch(f"{fresh.hubspot_url}/crm/v3/objects/contacts/{rid}",
                                   json={"properties": {"jobtitle": "moved"}}).status_code == 200
    expected = {str(i) for i in range(1, 601)} - {"500"}  # 500 now lies after the window: the next one reads it
    assert set(seen) == expected and len(seen) == len(expected)


def test_a_window_holding_more_than_10000_records_is_read_whole(fresh: Sandbox, tmp_path: Path) -> None:
    load(fresh, 10_450)
    ledger = CallLedger()
    src = HubSpotSource(hubspot_config(fresh), ledger)
    ids = [r["id"] for page in src.changed_pages("contacts", Window(T0, T0 + 20_000), ["email"]) for r in page]
    assert len(ids) == len(set(ids)) == 10_450
    assert ledger.total() <= 10_450 // 200 + 2  # keyset paging never asks past the cap, and wastes nothing


def test_pacing_keeps_a_steady_pull_under_the_burst_limit(fresh: Sandbox, tmp_path: Path) -> None:
    """The pacer's clock moves only when it waits (it really sleeps as long), as if every call took no time:
    how much it must wait is then the same on any machine, and real time, which also passes while calls
    run, can only spread the calls further apart than the pacer saw them."""
    import time

    from connector.sandbox.hubspot import HubSpotLimits
    from connector.sandbox.hubspot.limits import RateLimiter
    from connector.systems.pacing import WindowPacer

    load(fresh, 2_500)
    state = fresh.hubspot.state
    saved = (state.rate_limits, state.limits, state.limiter)
    state.rate_limits, state.limits = True, HubSpotLimits(burst_max=10, burst_window_ms=1_000)
    state.limiter = RateLimiter(state.limits, fresh.clock)
    waited = [0.0]

    def wait(seconds: float) -> None:
        time.sleep(seconds)
        waited[0] += seconds

    try:
        ledger = CallLedger()
        src = HubSpotSource(hubspot_config(fresh), ledger, retry=fast_retry())
        pacer = WindowPacer(10, 1.0, clock=lambda: waited[0], sleep=wait)  # this account's app: 10 calls per second
        src.http.pacers["default"] = pacer
        url = f"sqlite:///{tmp_path}/c.db"
        puller(fresh, url, source=src, started=T0 + 100_000).pull(CONTACTS)
    finally:
        state.rate_limits, state.limits, state.limiter = saved
    assert stored(url) == 2_500
    assert ledger.total() == 25  # 25 pages and not one 429 to retry
    # 9 calls a second (10% kept in reserve): at least a second's wait after the 9th and the 18th call, and
    # short pauses when HubSpot's own count says the window is nearly spent
    assert 2.0 <= pacer.waited <= 2.0 + 25 * 0.1
