"""HubSpot CRM v3 emulator: a real HTTPS API the connector, tests and demo run against.

Public surface: `HubSpotState` (the account, stored in SQLite), `HubSpotLimits` (rate limits) and
`AccountSettings` (per-account behaviour: merge ids, search lag, tier, undocumented batch cases) and
`create_app` (the ASGI app). See docs/sandbox/hubspot.md for what is emulated and what is not.
"""

from .account import DEFAULT_SEARCH_LAG_MS, AccountSettings
from .app import create_app
from .limits import HubSpotLimits
from .state import HubSpotState

__all__ = ["AccountSettings", "DEFAULT_SEARCH_LAG_MS", "HubSpotLimits", "HubSpotState", "create_app"]
