"""HubSpot CRM v3 emulator: a real HTTPS API the connector, tests and demo run against.

Public surface: `HubSpotState` (the account, stored in SQLite), `HubSpotLimits` (rate limits) and
`create_app` (the ASGI app). See docs/sandbox/hubspot.md for what is emulated and what is not.
"""

from .app import create_app
from .limits import HubSpotLimits
from .state import HubSpotState

__all__ = ["HubSpotState", "HubSpotLimits", "create_app"]
