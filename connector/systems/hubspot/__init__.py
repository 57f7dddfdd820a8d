"""The HubSpot adapter: a `HubSpotSource` (read port) and a `HubSpotSink` (write port) over one connection.

Everything HubSpot-specific lives in this package: auth and answer classification (`_client`), keyset
search windows (`search`), events (`events`), record staging (`records`), look-ups (`lookups`), the
batch writes (`sink`) and properties and property groups (`metadata`).
"""

from ._client import MODIFIED_PROPERTY, HubSpotOAuth, to_ms
from .lookups import HUBSPOT_LOOKUP_BATCH, hubspot_lookup_calls
from .search import SEARCH_PAGE
from .sink import HUBSPOT_BATCH, HubSpotSink, hubspot_calls
from .source import LIST_PAGE, HubSpotSource

__all__ = [
    "HUBSPOT_BATCH",
    "HUBSPOT_LOOKUP_BATCH",
    "LIST_PAGE",
    "MODIFIED_PROPERTY",
    "SEARCH_PAGE",
    "HubSpotOAuth",
    "HubSpotSink",
    "HubSpotSource",
    "hubspot_calls",
    "hubspot_lookup_calls",
    "to_ms",
]
