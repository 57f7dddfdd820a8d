"""Lower bounds of API calls: the fewest calls any client could need to move a number of records.

Computed from record counts and the vendors' page sizes alone, never from what the connector did, so a
bound can never exceed a correct count of calls. Where a vendor offers several ways (Salesforce: REST
queries in Composite calls, or Bulk API 2.0 jobs), the bound takes the cheapest mix. The formulas are
stated in docs/benchmarks.md.

Page sizes (each the largest the vendor serves):
- HubSpot: CRM search returns 200 records a call (list and batch read: 100); owners 500; marketing
  events 1,000; batch create and update take 100 inputs; an opt-out (``hs_email_optout`` is read-only)
  goes through communication preferences v4, 100 addresses a batch unsubscribe-all call on Marketing Hub
  Enterprise accounts (the batch scope needs it), one address a call on the others.
- Salesforce: a query returns at most 2,000 rows; one Composite call carries at most 5 query, queryAll
  or query-more subrequests (or 5 sObject Collections of 200 records); a Bulk API 2.0 query job costs at
  least 2 calls (create it, read its results: a result set has no documented row cap) and an ingest job
  at least 4 (create, upload, close, read the failed records). A create is looked up first (by e-mail or
  cross-reference, 200 keys a query, in Lead and in Contact; HubSpot: a batch read of 100 addresses).
- An update must not overwrite an edit made since the records were read, and neither vendor's batch writes
  are conditional (HubSpot's batch update has no precondition; Salesforce's If-Unmodified-Since applies to
  one record's row, not to Collections), so a safe client reads the fields again first: HubSpot's batch
  read of 100 ids (search is indexed late, so it cannot prove a record unchanged), Salesforce queries of
  at most 2,000 rows, five to a Composite call or a Bulk query job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations

__all__ = ["hubspot_read_calls", "hubspot_write_calls", "salesforce_read_calls", "salesforce_write_calls"]

HUBSPOT_RECORDS_PER_READ = 200  # CRM search
HUBSPOT_PAGES = {"owners": 500}
HUBSPOT_EVENTS_PER_READ = 1_000
HUBSPOT_BATCH = 100
HUBSPOT_OPT_OUT_BATCH = 100  # batch unsubscribe-all: the spec states no cap; 100 as HubSpot's batches (⚠)
SALESFORCE_QUERY_ROWS = 2_000
SALESFORCE_COLLECTION = 200
COMPOSITE_SUBREQUESTS = 5  # queries (query, queryAll, query-more) or Collections per Composite call
BULK_QUERY_CALLS = 2  # create the job, read its results
BULK_INGEST_CALLS = 4  # create the job, upload, close, read the failed records
LOOKUP_KEYS_PER_QUERY = 200  # e-mail addresses or ids in one look-up query's IN list


def _ceil(n: int, per: int) -> int:
    return -(-n // per)


def _cheapest(pieces: Iterable[tuple[int, int]]) -> int:
    """Fewest calls for `pieces` of (Composite subrequests, calls as Bulk jobs instead): each piece goes
    either in Composite calls, five subrequests a call shared by every piece, or as its Bulk jobs.
    Exact: every choice of pieces for Bulk is tried (a sync has a handful of pieces)."""
    kept = [p for p in pieces if p[0] > 0]
    best = _ceil(sum(n for n, _ in kept), COMPOSITE_SUBREQUESTS)
    for k in range(1, len(kept) + 1):
        for bulk in combinations(range(len(kept)), k):
            rest = sum(n for i, (n, _) in enumerate(kept) if i not in bulk)
            best = min(best, sum(kept[i][1] for i in bulk) + _ceil(rest, COMPOSITE_SUBREQUESTS))
    return best


def salesforce_read_calls(rows: Mapping[str, int]) -> int:
    """Fewest calls to read `rows` (object -> rows): queries five to a Composite call, or Bulk query jobs."""
    return _cheapest((_ceil(n, SALESFORCE_QUERY_ROWS), BULK_QUERY_CALLS) for n in rows.values())


def salesforce_write_calls(records: Iterable[int], lookups: int = 0, checks: int = 0) -> int:
    """Fewest calls to write `records` (one count per object and operation): Collections of 200, five to a
    Composite call, or Bulk ingest jobs; with `lookups` creates looked up first in Lead and Contact (a query
    of 200 keys per object, in the same Composite calls, or two Bulk query jobs) and `checks` records read
    again before their update (queries of 2,000 rows in the same Composite calls, or a Bulk query job)."""
    pieces = [(_ceil(n, SALESFORCE_COLLECTION), BULK_INGEST_CALLS) for n in records]
    pieces.append((2 * _ceil(lookups, LOOKUP_KEYS_PER_QUERY), 2 * BULK_QUERY_CALLS))
    pieces.append((_ceil(checks, SALESFORCE_QUERY_ROWS), BULK_QUERY_CALLS))
    return _cheapest(pieces)


def hubspot_read_calls(records: Mapping[str, int], events: int = 0) -> int:
    """Fewest calls to read `records` (object -> records) and `events` marketing events."""
    return (sum(_ceil(n, HUBSPOT_PAGES.get(o, HUBSPOT_RECORDS_PER_READ)) for o, n in records.items())
            + _ceil(events, HUBSPOT_EVENTS_PER_READ))


def hubspot_write_calls(records: Iterable[int], lookups: int = 0, checks: int = 0, *, opt_outs: int = 0,
                        batched_opt_outs: bool = True) -> int:
    """Fewest calls to write `records` (one count per object and operation), 100 inputs a batch call, with
    `lookups` e-mail addresses looked up first and `checks` records read again before their update (batch
    reads of 100), and `opt_outs` addresses opted out of all e-mail: 100 a batch call, or with
    `batched_opt_outs` False (an account below Marketing Hub Enterprise, which HubSpot grants no batch
    scope) one a call."""
    per_opt_out = HUBSPOT_OPT_OUT_BATCH if batched_opt_outs else 1
    return (sum(_ceil(n, HUBSPOT_BATCH) for n in records) + _ceil(lookups, HUBSPOT_BATCH)
            + _ceil(checks, HUBSPOT_BATCH) + _ceil(opt_outs, per_opt_out))
