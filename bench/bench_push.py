"""Push benchmark (issue #6): write every person as changed to both systems through the push stage.

API calls against the batch lower bound, wall time and peak RSS, against the sandbox.

    python bench/bench_push.py [--people 100000] [--quick] [--hubspot-per-10s 190] [--json out.json]

The sandbox runs in its own process (`connector sandbox --rate-limits off`), so the RSS measured here is
the connector's (the sandbox's own high-water mark is reported beside it). The connector is wired as
`connector sync` wires it: config written by the sandbox, `open_systems`, a fresh SQLite store, the
contact mapping from `mappings/`, `Pusher(...).push(plan)`.

Every writable HubSpot contact and Salesforce Lead/Contact gets one or two changed standard fields
(HubSpot `jobtitle` + `city`; Lead `Title` + `City`; Contact `Title` + `MailingCity`), as
`RecordWrite` updates in one `WritePlan`. The plan is pushed twice, each time with fresh values:

1. `collections`: bulk threshold out of reach, so Salesforce goes through sObject Collections packed
   five to a Composite call (1,000 records per call); HubSpot batch update (100 per call).
2. `bulk`: the default threshold (10,000), so each Salesforce object above it is one Bulk API 2.0
   ingest job; HubSpot as before.

Listing the record ids, and reading a sample back to check the values really landed, use separate
adapters with their own ledger: they are not in the push figures. The push figures are the push
adapters' ledger, cross-checked against the sandbox's own per-endpoint counters.

Lower bound per system, object and operation: ceil(n / 100) HubSpot calls; ceil(n / 1,000) Salesforce
calls through Collections; 6 calls per Bulk 2.0 job (create, upload, close, one status poll, successful
and failed results: `connector.systems.salesforce.salesforce_calls`).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import connector.push.engine as push_engine  # noqa: E402
from connector.config import ConnectorConfig, load_config  # noqa: E402
from connector.push.engine import Pusher  # noqa: E402
from connector.reconcile.writes import RecordWrite, WritePlan  # noqa: E402
from connector.reconcile import load_mappings  # noqa: E402
from connector.store import open_engine  # noqa: E402
from connector.sync import Systems, open_systems  # noqa: E402
from connector.systems.hubspot import HUBSPOT_BATCH, HubSpotSink  # noqa: E402
from connector.systems.salesforce import SalesforceSink, salesforce_calls  # noqa: E402
from bench.sandbox_process import SandboxCounters, proc_hwm_mb, start_sandbox, stop_sandbox  # noqa: E402

DEFAULT_BULK_THRESHOLD = 10_000
NO_BULK = 10**12
SAMPLE = 20

# the fields each object gets changed (native names): (title-like field, city-like field)
FIELDS = {("hubspot", "contacts"): ("jobtitle", "city"),
          ("salesforce", "Lead"): ("Title", "City"),
          ("salesforce", "Contact"): ("Title", "MailingCity")}


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def systems_for(cfg: ConnectorConfig, url: str, *, hubspot_per_10s: int, daily_limit: int | None = None,
                bulk_threshold: int | None = None) -> Systems:
    """`open_systems` on the sandbox's config, with HubSpot's burst allowance (tier) and Salesforce's Bulk
    threshold set as asked (the threshold is read twice: by `Pusher` to size batches, by the adapter to
    choose Bulk; `connector sync` gives both `[salesforce].bulk_threshold`, and so does the bench)."""
    assert cfg.hubspot is not None and cfg.salesforce is not None
    update: dict[str, Any] = {"requests_per_10s": hubspot_per_10s}
    if daily_limit is not None:
        update.update(daily_limit=daily_limit, daily_budget_share=1.0)
    sf_update = {} if bulk_threshold is None else {"bulk_threshold": bulk_threshold}
    cfg = cfg.model_copy(update={"hubspot": cfg.hubspot.model_copy(update=update),
                                 "salesforce": cfg.salesforce.model_copy(update=sf_update)})
    return open_systems(cfg, open_engine(url), int(time.time() * 1000))


def list_ids(setup: Systems) -> dict[tuple[str, str], list[str]]:
    """Every writable record id: HubSpot contacts (list, 100 per call) and Salesforce Leads that can be
    updated (not converted; the org's validation rule wants an Email or a Phone) and Contacts (Bulk query)."""
    ids: dict[tuple[str, str], list[str]] = {}
    ids[("hubspot", "contacts")] = [str(r["id"]) for page, _ in setup.hubspot.list_pages("contacts", ["hs_object_id"])
                                    for r in page]
    queries = {"Lead": "SELECT Id FROM Lead WHERE IsConverted = false AND (Email != null OR Phone != null)",
               "Contact": "SELECT Id FROM Contact"}
    for sobject, soql in queries.items():
        ids[("salesforce", sobject)] = [str(r["Id"]) for page in setup.salesforce.bulk_query_pages(
            soql, object_type=sobject, all_rows=False) for r in page]
    return ids


def make_plan(ids: dict[tuple[str, str], list[str]], tag: str) -> WritePlan:
    """One update per record, changing its title and city fields to values no record has yet."""
    updates: list[RecordWrite] = []
    for (system, object_type), record_ids in ids.items():
        title, city = FIELDS[(system, object_type)]
        for n, record_id in enumerate(record_ids):
            values = {title: f"Bench {tag} title {n}", city: f"Bench {tag} {n % 9973}"}
            updates.append(RecordWrite(system, object_type, record_id,  # type: ignore[arg-type]
                                       f"bench:{system}:{record_id}", values,
                                       reasons={k: "bench" for k in values}))
    return WritePlan(creates=(), updates=tuple(updates), held=())


def lower_bound(ids: dict[tuple[str, str], list[str]], bulk_threshold: int) -> dict[str, int]:
    bound = {"hubspot": 0, "salesforce": 0}
    for (system, _), record_ids in ids.items():
        n = len(record_ids)
        if system == "hubspot":
            bound[system] += math.ceil(n / HUBSPOT_BATCH)
        else:
            bound[system] += salesforce_calls(n, bulk_threshold)
    return bound


def totals(systems: Systems) -> dict[str, int]:
    snap = systems.ledger.snapshot()
    return {s: int(snap.get(s, {}).get("total", 0)) for s in ("hubspot", "salesforce")}  # type: ignore[call-overload]


def timed_sinks(systems: Systems, seconds: dict[str, float]) -> dict[str, Any]:
    """The push's sinks, timing the time spent inside each system's adapter (requests and waits)."""
    def wrap(system: str, sink: Any) -> Any:
        real = sink.write

        def write(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                seconds[system] = seconds.get(system, 0.0) + time.perf_counter() - t
        sink.write = write
        return sink
    return {"hubspot": wrap("hubspot", HubSpotSink(systems.hubspot)),
            "salesforce": wrap("salesforce", SalesforceSink(systems.salesforce))}


def timed_store(seconds: dict[str, float]) -> Any:
    """Time the push's store bookkeeping (`record_batch`, committed after each batch)."""
    original = push_engine.record_batch

    def record_batch(*args: Any, **kwargs: Any) -> None:
        t = time.perf_counter()
        try:
            original(*args, **kwargs)
        finally:
            seconds["store"] = seconds.get("store", 0.0) + time.perf_counter() - t
    return original, record_batch


def verify(setup: Systems, ids: dict[tuple[str, str], list[str]], tag: str, seed: int) -> int:
    """Read SAMPLE records of each object back through the APIs and check the pushed values are there."""
    rng = random.Random(seed)
    checked = 0
    for (system, object_type), record_ids in ids.items():
        title, city = FIELDS[(system, object_type)]
        picks = sorted(rng.sample(range(len(record_ids)), min(SAMPLE, len(record_ids))))
        wanted = {record_ids[n]: (f"Bench {tag} title {n}", f"Bench {tag} {n % 9973}") for n in picks}
        if system == "hubspot":
            body = setup.hubspot.http.json("POST", f"/crm/v3/objects/{object_type}/batch/read", object_type=object_type,
                                           json_body={"inputs": [{"id": i} for i in wanted],
                                                      "properties": [title, city]})
            got = {str(r["id"]): (r["properties"].get(title), r["properties"].get(city)) for r in body["results"]}
        else:
            soql = (f"SELECT Id, {title}, {city} FROM {object_type} WHERE Id IN ("
                    + ", ".join(f"'{i}'" for i in wanted) + ")")
            got = {str(r["Id"]): (r.get(title), r.get(city)) for page in
                   setup.salesforce.query_pages(soql, object_type=object_type, all_rows=False) for r in page}
        for record_id, values in wanted.items():
            if got.get(record_id) != values:
                raise AssertionError(f"{system} {object_type} {record_id}: read back {got.get(record_id)}, "
                                     f"pushed {values}")
            checked += 1
    return checked


def push_once(spec: dict[str, Any]) -> dict[str, Any]:
    """One push of every record (run in a fresh process, so that its peak RSS is its own)."""
    rss_start = rss_mb()
    path, tag, bulk_threshold = spec["path"], spec["tag"], spec["bulk_threshold"]
    cfg = load_config(Path(spec["config"]))
    store_url = spec["store_url"]
    ids = {(s, o): v for s, o, v in json.loads(Path(spec["ids"]).read_text())}
    plan = make_plan(ids, tag)
    rss_plan = rss_mb()
    records = {f"{s}:{o}": len(v) for (s, o), v in ids.items()}
    mapping = load_mappings(cfg.mappings.directory).contacts
    engine = open_engine(store_url)
    systems = systems_for(cfg, store_url, hubspot_per_10s=spec["hubspot_per_10s"], bulk_threshold=bulk_threshold)
    assert systems.salesforce.bulk_threshold == bulk_threshold
    counters = SandboxCounters(spec["info"])
    rss_before = rss_mb()
    writer_seconds: dict[str, float] = {}
    original, push_engine.record_batch = timed_store(writer_seconds)
    try:
        pusher = Pusher(engine, sinks=timed_sinks(systems, writer_seconds), mapping=mapping,
                        now_ms=lambda: int(time.time() * 1000), bulk_threshold=bulk_threshold)
        counters.reset()
        before = totals(systems)
        started = time.perf_counter()
        result = pusher.push(plan)
        seconds = time.perf_counter() - started
        rss_after = rss_mb()
        after = totals(systems)
        server = counters.read()
        calls = {s: after[s] - before[s] for s in after}
        pacer_wait = systems.hubspot.http.pacers["default"].waited
        by_object = systems.ledger.snapshot()
    finally:
        push_engine.record_batch = original
        systems.close()
        counters.client.close()
    pushed = result.to_json()
    if pushed["rejected"]:
        raise AssertionError(f"{path}: {pushed['rejected']} records rejected: {pushed['rejections_sample'][:3]}")
    updated = sum(o["updated"] for per in pushed["written"].values() for o in per.values())
    if updated != len(plan.updates):
        raise AssertionError(f"{path}: {updated} of {len(plan.updates)} records reported written")
    for system in calls:
        if calls[system] != server[system]["total"]:
            raise AssertionError(f"{path}: the ledger counted {calls[system]} {system} calls, the sandbox "
                                 f"{server[system]['total']}: {server[system]['by_endpoint']}")
    # read-back: adapters and a ledger of their own, unpaced (the sandbox's rate limits are off)
    setup = systems_for(cfg, store_url, hubspot_per_10s=1_000_000, daily_limit=10_000_000)
    try:
        checked = verify(setup, ids, tag, seed=len(tag))
    finally:
        setup.close()
    bound = lower_bound(ids, bulk_threshold)
    total_calls, total_bound = sum(calls.values()), sum(bound.values())
    return {
        "path": path, "bulk_threshold": bulk_threshold if bulk_threshold < NO_BULK else None,
        "records": records,
        "records_per_system": {"hubspot": sum(v for k, v in records.items() if k.startswith("hubspot")),
                               "salesforce": sum(v for k, v in records.items() if k.startswith("salesforce"))},
        "fields_written": sum(o["fields_written"] for per in pushed["written"].values() for o in per.values()),
        "calls": calls, "calls_by_object": {s: v["by_object"] for s, v in by_object.items()},
        "sandbox_counted": {s: v["by_endpoint"] for s, v in server.items()},
        "lower_bound": bound,
        "ratio": {s: round(calls[s] / bound[s], 3) if bound[s] else None for s in calls},
        "ratio_total": round(total_calls / total_bound, 3),
        "seconds": round(seconds, 1),
        "seconds_in": {s: round(v, 1) for s, v in writer_seconds.items()},
        "hubspot_pacer_wait_s": round(pacer_wait, 1),
        "records_per_s": round(len(plan.updates) / seconds),
        "rejected": pushed["rejected"], "verified_read_back": checked,
        "rss_mb": {"after_imports": rss_start, "plan_built": rss_plan, "before_push": rss_before,
                   "peak_after_push": rss_after},
        "peak_rss_mb": rss_after,
        "sandbox_peak_rss_mb": proc_hwm_mb(spec["sandbox_pid"]),
    }


def run(people: int, seed: int, hubspot_per_10s: int, bulk_threshold: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        config = Path(tmp) / "sandbox.toml"
        proc, info, boot_s = start_sandbox(people, seed, "--rate-limits", "off", "--search-lag", "0",
                                           "--bulk-jobs", "instant", config_out=config)
        try:
            cfg = load_config(config)
            store_url = f"sqlite:///{tmp}/bench.db"
            # id listing: adapters and a ledger of their own, unpaced (the sandbox's rate limits are off)
            setup = systems_for(cfg, store_url, hubspot_per_10s=1_000_000, daily_limit=10_000_000)
            t = time.perf_counter()
            try:
                ids = list_ids(setup)
            finally:
                setup.close()
            listing = {"seconds": round(time.perf_counter() - t, 1), "calls": totals(setup)}
            ids_file = Path(tmp) / "ids.json"
            ids_file.write_text(json.dumps([[s, o, v] for (s, o), v in ids.items()]))
            del ids
            runs = []
            for path, tag, threshold in (("collections", "A", NO_BULK), ("bulk", "B", bulk_threshold)):
                spec = {"path": path, "tag": tag, "bulk_threshold": threshold, "config": str(config),
                        "store_url": store_url, "ids": str(ids_file), "hubspot_per_10s": hubspot_per_10s,
                        "info": info, "sandbox_pid": proc.pid}
                out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True,
                                     text=True, cwd=ROOT)
                if out.returncode:
                    raise SystemExit(f"the {path} run failed:\n{out.stderr}")
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        finally:
            stop_sandbox(proc)
    return {"people": people, "seed": seed, "rate_limits": "off", "hubspot_requests_per_10s": hubspot_per_10s,
            "sandbox_boot_and_seed_s": round(boot_s, 1), "id_listing_not_counted": listing, "runs": runs}


def table(result: dict[str, Any]) -> str:
    rows = ["| path | records (HubSpot / Salesforce) | calls (HubSpot / Salesforce) | lower bound | ratio | time | "
            "records/s | peak RSS |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["runs"]:
        rec, calls, bound = r["records_per_system"], r["calls"], r["lower_bound"]
        rows.append(f"| {r['path']} | {rec['hubspot']:,} / {rec['salesforce']:,} | {calls['hubspot']:,} / "
                    f"{calls['salesforce']:,} | {bound['hubspot']:,} / {bound['salesforce']:,} | "
                    f"{r['ratio']['hubspot']} / {r['ratio']['salesforce']} ({r['ratio_total']}) | {r['seconds']} s | "
                    f"{r['records_per_s']:,} | {r['peak_rss_mb']} MB |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000, help="population size of the sandbox")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5,000 people")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--hubspot-per-10s", type=int, default=190,
                        help="HubSpot burst allowance the connector paces itself to (190: Professional)")
    parser.add_argument("--bulk-threshold", type=int, default=None,
                        help="Salesforce records above which the second run uses Bulk 2.0 (default 10,000; 1,000 "
                             "with --quick, so that the smoke run takes the Bulk path too)")
    parser.add_argument("--json", type=Path, help="where to write the results (default bench/results/push*.json)")
    args = parser.parse_args(argv)
    people = 5_000 if args.quick else args.people
    bulk_threshold = args.bulk_threshold if args.bulk_threshold is not None else (
        1_000 if args.quick else DEFAULT_BULK_THRESHOLD)
    result = run(people, args.seed, args.hubspot_per_10s, bulk_threshold)
    out = args.json or ROOT / "bench" / "results" / ("push-quick.json" if args.quick else "push.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(table(result))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(push_once(json.loads(sys.argv[2]))))
    else:
        main()
