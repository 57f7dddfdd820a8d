"""The burst pacer's share of the limit ([hubspot] burst_share): how many requests it lets through in a window,
when HubSpot's own count makes it pause, and that the config refuses a share outside (0, 1] by name."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connector.config import HubSpotConfig, load_config
from connector.errors import ConfigError
from connector.systems.hubspot._client import connect
from connector.systems.ledger import CallLedger
from connector.systems.pacing import DEFAULT_HEADROOM, WindowPacer, usable


class FakeClock:
    """Time that moves only when the pacer sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def headers(remaining: int, cap: int = 190) -> dict[str, str]:
    return {"x-hubspot-ratelimit-max": str(cap), "x-hubspot-ratelimit-remaining": str(remaining),
            "x-hubspot-ratelimit-interval-milliseconds": "10000"}


@pytest.mark.parametrize(("limit", "share", "expected"), [
    (190, 0.9, 171), (190, 0.98, 186), (190, 1.0, 190), (100, 0.9, 90), (100, 0.29, 29), (10, 0.05, 1), (3, 0.5, 1),
])
def test_usable_is_the_share_rounded_down_and_at_least_one(limit: int, share: float, expected: int) -> None:
    assert usable(limit, share) == expected


@pytest.mark.parametrize(("share", "burst"), [(0.9, 171), (0.98, 186), (1.0, 190)])
def test_the_pacer_sends_its_share_of_the_window_at_once_then_waits_for_the_window(share: float, burst: int) -> None:
    clock = FakeClock()
    pacer = WindowPacer(190, 10.0, headroom=share, clock=clock, sleep=clock.sleep)
    for _ in range(burst):
        pacer.acquire()
    assert clock.now == 1000.0 and pacer.waited == 0
    pacer.acquire()  # one more: only when the first has left the rolling window
    assert clock.now == pytest.approx(1010.0)


@pytest.mark.parametrize(("share", "pauses_at"), [(0.9, 19), (0.98, 4), (1.0, 0)])
def test_hubspots_count_pauses_the_pacer_only_within_the_unused_share(share: float, pauses_at: int) -> None:
    clock = FakeClock()
    pacer = WindowPacer(190, 10.0, headroom=share, clock=clock, sleep=clock.sleep)
    pacer.observe(headers(pauses_at + 1))
    assert pacer.delay() == 0
    pacer.observe(headers(pauses_at))
    assert pacer.delay() == pytest.approx(10.0 / 190)  # one slot's worth of the rolling window


def test_a_cap_of_zero_in_the_headers_is_ignored() -> None:
    pacer = WindowPacer(190, 10.0, clock=FakeClock())
    pacer.observe(headers(0, cap=0))
    assert pacer.delay() == 0


@pytest.mark.parametrize("share", [0.0, -0.5, 1.01])
def test_the_pacer_refuses_a_share_outside_zero_to_one(share: float) -> None:
    with pytest.raises(ValueError, match="not within"):
        WindowPacer(190, 10.0, headroom=share)


def test_the_hubspot_client_paces_to_the_configured_share() -> None:
    def transport(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request is sent")

    layer = connect(HubSpotConfig(access_token=SecretStr("t"), requests_per_10s=190, burst_share=0.98), CallLedger(),
                    transport=httpx.MockTransport(transport))
    try:
        assert layer.pacers["default"].limit == 186
        assert layer.pacers["search"].limit == 4  # search's own limit is never shared out
    finally:
        layer.close()
    assert HubSpotConfig(access_token=SecretStr("t")).burst_share == DEFAULT_HEADROOM


def _config(tmp_path: Path, share: str) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(f"[sandbox]\nenabled = true\n\n[hubspot]\nburst_share = {share}\n")
    return path


@pytest.mark.parametrize("share", ["0", "1.5", "-0.1"])
def test_a_share_outside_the_range_is_a_config_error_naming_the_key_and_range(tmp_path: Path, share: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, share), environ={})
    [problem] = caught.value.problems
    assert problem.key == "[hubspot].burst_share"
    assert "more than 0 and at most 1" in problem.message and problem.message.endswith(f"(got {share})")


def test_the_share_can_come_from_the_environment(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "0.9"), environ={"CONNECTOR_HUBSPOT_BURST_SHARE": "1.0"})
    assert config.hubspot is not None and config.hubspot.burst_share == 1.0
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, "0.9"), environ={"CONNECTOR_HUBSPOT_BURST_SHARE": "2"})
    [problem] = caught.value.problems
    assert problem.source == "CONNECTOR_HUBSPOT_BURST_SHARE" and problem.key == "[hubspot].burst_share"
