"""A sandbox per test module for the adapters (rate limits off unless a test turns them on)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from connector.config import HubSpotConfig
from connector.sandbox.runner import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # the adapters' tests read right after writing, windows ending "now": not about the systems' lag
    with Sandbox(people=0, rate_limits=False, search_lag_ms=0, soql_datetime_millis="honour") as sb:
        yield sb


@pytest.fixture
def empty_sandbox(sandbox: Sandbox) -> Sandbox:
    sandbox.hubspot.state.reset()
    sandbox.salesforce.state.reset()
    sandbox.hubspot.counter.reset()
    sandbox.salesforce.counter.reset()
    return sandbox


def hubspot_config(sb: Sandbox, **overrides: object) -> HubSpotConfig:
    info = sb.info()
    values: dict[str, object] = {"base_url": info.hubspot_base_url,
                                 "access_token": SecretStr(info.hubspot_access_token), "ca_bundle": info.ca_file,
                                 "requests_per_10s": 190, "daily_limit": 1_000_000}
    values.update(overrides)
    return HubSpotConfig.model_validate(values)
