"""Benchmark of the sandbox's SOQL engine: parse and bind one incremental query, and match 100,000 records.

Run: ``python bench/bench_soql.py``. Speed is measured here, not asserted in tests (a test must not
depend on the machine being idle); the figures of one run go to docs/sandbox/soql.md.
"""

from __future__ import annotations

import time

from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.soql import bind_query, parse_soql, sample_schema

SCHEMA = sample_schema()
NOW = 1_704_240_000_000  # 2024-01-03T00:00:00Z, as in tests/sandbox/test_soql_eval.py
QUERY = ("SELECT Id, Email, FirstName, LastName, Status, Owner.Email, LastModifiedDate FROM Lead "
         "WHERE LastModifiedDate > 2024-01-01T00:00:00Z AND IsDeleted = false ORDER BY LastModifiedDate, Id "
         "LIMIT 2000")


def bind(text: str):  # type: ignore[no-untyped-def]
    return bind_query(parse_soql(text), SCHEMA, NOW)


def main() -> None:
    bind(QUERY)
    rounds = 2_000
    start = time.perf_counter()
    for _ in range(rounds):
        bind(QUERY)
    print(f"parse and bind: {(time.perf_counter() - start) / rounds * 1e6:.0f} µs per query")
    statuses = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted"]
    recs = [{"Id": make_id("Lead", i), "Email": f"u{i}@x.com", "LastModifiedDate": 1704067200000 + i * 1000,
             "IsDeleted": i % 7 == 0, "Status": statuses[i % 3]} for i in range(100_000)]
    bound = bind("SELECT Id FROM Lead WHERE LastModifiedDate > 2024-01-01T01:00:00Z AND IsDeleted = false "
                       "AND Status = 'working - contacted'")
    start = time.perf_counter()
    hits = sum(1 for r in recs if bound.matches(r, lambda _sobject, _record_id: None))
    print(f"match 100,000 records: {time.perf_counter() - start:.3f} s ({hits:,} hits)")


if __name__ == "__main__":
    main()
