"""The Salesforce adapter: a `SalesforceSource` (read port) and a `SalesforceSink` (write port) over one
connection.

Everything Salesforce-specific lives in this package: auth and answer classification (`_client`),
Composite packing and change probes (`composite`), Bulk API 2.0 query and ingest jobs (`bulk`),
record staging (`records`), look-ups (`lookups`), the Collections writes (`sink`) and the sandbox's
custom-field route (`metadata`).
"""

from ._client import QUERY_PAGE, SalesforceAuth, sf_to_ms, soql_datetime
from .lookups import LOOKUP_KEYS_PER_QUERY, LOOKUP_QUERIES_PER_CALL, lookup_soql, salesforce_lookup_calls
from .sink import COLLECTION_SIZE, COLLECTIONS_PER_CALL, SalesforceSink, salesforce_calls
from .source import SalesforceSource

__all__ = [
    "COLLECTIONS_PER_CALL",
    "COLLECTION_SIZE",
    "LOOKUP_KEYS_PER_QUERY",
    "LOOKUP_QUERIES_PER_CALL",
    "QUERY_PAGE",
    "SalesforceAuth",
    "SalesforceSink",
    "SalesforceSource",
    "lookup_soql",
    "salesforce_calls",
    "salesforce_lookup_calls",
    "sf_to_ms",
    "soql_datetime",
]
