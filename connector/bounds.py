"""Lower bounds of API calls: the fewest calls any client could need to move a number of records.

Computed from record counts and the vendors' page sizes alone, never from what the connector did, so a
bound can never exceed a correct count of calls. Where a vendor offers several ways (Salesforce: REST
queries in Composite calls, or Bulk API 2.0 jobs), the bound takes the cheapest mix. The formulas are
stated in docs/benchmarks.md.

Page sizes (each the largest the vendor serves):
- HubSpot: CRM search returns 200 records a call (list and batch read: 100); owners 500; marketing
  events 1,000; batch create and update take 100 inputs.
- Salesforce: a query returns at most 2,000 rows; one Composite call carries at most 5 query, queryAll
  or query-more subrequests (or 5 sObject Collections of 200 records); a Bulk API 2.0 query job costs at
  least 2 calls (create it, read its results: a result set has no documented row cap) and an ingest job
  at least 4 (create, upload, close, read the failed records).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["hubspot_read_calls", "hubspot_write_calls", "salesforce_read_calls", "salesforce_write_calls"]

HUBSPOT_RECORDS_PER_READ = 200  # CRM search
HUBSPOT_PAGES = {"owners": 500}
HUBSPOT_EVENTS_PER_READ = 1_000
HUBSPOT_BATCH = 100
SALESFORCE_QUERY_ROWS = 2_000
SALESFORCE_COLLECTION = 200
COMPOSITE_SUBREQUESTS = 5  # queries (query, queryAll, query-more) or Collections per Composite call
BULK_QUERY_CALLS = 2  # create the job, read its results
BULK_INGEST_CALLS = 4  # create the job, upload, close, read the failed records


def _ceil(n: int, per: int) -> int:
    return -(-n // per)


def _composite_or_bulk(counts: Iterable[int], per_subrequest: int, bulk_calls: int) -> int:
    """Fewest calls when each count (one object's rows, or one object's records for one operation) goes
    either in Composite subrequests of `per_subrequest`, five a call across objects, or as one Bulk job.

    For k jobs, the cheapest choice sends the k largest counts to Bulk; the bound is the minimum over k."""
    subrequests = sorted((_ceil(n, per_subrequest) for n in counts if n > 0), reverse=True)
    best = _ceil(sum(subrequests), COMPOSITE_SUBREQUESTS)
    for k in range(1, len(subrequests) + 1):
        best = min(best, k * bulk_calls + _ceil(sum(subrequests[k:]), COMPOSITE_SUBREQUESTS))
    return best


def salesforce_read_calls(rows: Mapping[str, int]) -> int:
    """Fewest calls to read `rows` (object -> rows): queries five to a Composite call, or Bulk query jobs."""
    return _composite_or_bulk(rows.values(), SALESFORCE_QUERY_ROWS, BULK_QUERY_CALLS)


def salesforce_write_calls(records: Iterable[int]) -> int:
    """Fewest calls to write `records` (one count per object and operation): Collections of 200, five to a
    Composite call, or Bulk ingest jobs."""
    return _composite_or_bulk(records, SALESFORCE_COLLECTION, BULK_INGEST_CALLS)


def hubspot_read_calls(records: Mapping[str, int], events: int = 0) -> int:
    """Fewest calls to read `records` (object -> records) and `events` marketing events."""
    return (sum(_ceil(n, HUBSPOT_PAGES.get(o, HUBSPOT_RECORDS_PER_READ)) for o, n in records.items())
            + _ceil(events, HUBSPOT_EVENTS_PER_READ))


def hubspot_write_calls(records: Iterable[int]) -> int:
    """Fewest calls to write `records` (one count per object and operation), 100 inputs a batch call."""
    return sum(_ceil(n, HUBSPOT_BATCH) for n in records)
