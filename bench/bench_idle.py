"""Idle sync cycles (issue #20): what a cycle costs when nothing changed, after a first sync and after a
burst of writes, with the shipped [sync] timing (look-back 120 s, safety lag 60 s, property history on).

    python bench/bench_idle.py [--people 2000] [--seed 42] [--cycles 4] [--json out.json]

An in-process sandbox (rate limits off: they change waits, not calls), set up as `connector setup` does,
then cycles as `connector sync` runs them (`CycleOptions.from_config`, fresh adapters each cycle; the live
check reads the mapped objects' metadata in the first cycle and once `[sync] metadata_check_minutes` passed).
Calls are the sandbox's own per-endpoint counters, split into the pull's reads, property history, the live
check's metadata, the push's reads before updates ("check") and writes.

1. `interval`: the first sync, then `--cycles` cycles at the shipped interval (15 min of sandbox time).
2. `burst`: every Salesforce Lead and Contact gets a new Title (someone else's burst, one Collections call
   per 200), the next cycle copies it to HubSpot, then `--cycles` + 2 cycles 61 s apart (the safety lag
   and a second: closer than the look-back, as a busy daemon or repeated `connector sync` runs them).

Run it against another tree with `PYTHONPATH=<tree> python bench/bench_idle.py` to compare.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from connector.config import load_config
from connector.reconcile import load_mappings
from connector.sandbox.runner import Sandbox
from connector.setup import run_setup
from connector.store import open_engine
from connector.sync import CycleOptions, open_systems, run_once

ROOT = Path(__file__).resolve().parent.parent
INTERVAL_MS = 15 * 60_000
BACK_TO_BACK_MS = 61_000


def kind(system: str, endpoint: str) -> str:
    """Which part of a cycle an endpoint serves."""
    if system == "hubspot":
        if "/properties/" in endpoint:
            return "metadata"
        if endpoint.endswith("/contacts/batch/read"):
            return "history"  # (the look-up before creates reads by e-mail too: only when creating)
        if endpoint.endswith("/search") or "/events" in endpoint or "/associations/" in endpoint \
                or endpoint.startswith("GET /crm/v3/owners"):
            return "pull"
        return "write"
    if endpoint.endswith("/describe"):
        return "metadata"
    if endpoint.endswith("/composite") or "/query" in endpoint:
        return "pull"  # (a cycle that writes sends its Collections in Composite calls too)
    return "write"


def cycle(sb: Sandbox, cfg: Any, engine: Any, mappings: Any) -> dict[str, Any]:
    sb.hubspot.counter.reset()
    sb.salesforce.counter.reset()
    systems = open_systems(cfg, engine, sb.clock.now_ms())
    try:
        summary = run_once(engine, systems, CycleOptions.from_config(cfg, mappings, clock=sb.clock.now_ms)).to_json()
    finally:
        systems.close()
    out: dict[str, Any] = {}
    for system, counter in (("hubspot", sb.hubspot.counter), ("salesforce", sb.salesforce.counter)):
        parts: dict[str, int] = {}
        for endpoint, n in counter.snapshot().items():
            if endpoint != "POST /services/oauth2/token":
                parts[kind(system, endpoint)] = parts.get(kind(system, endpoint), 0) + n
        out[system] = {"total": sum(parts.values()), **parts}
    # the push reads updated records again before writing (never blind), 100 a call in HubSpot (contacts through
    # the batch read property history uses, deals through theirs) and 1,000 a Composite call in Salesforce
    pushes = [summary.get("push") or {}, (summary.get("deals") or {}).get("push") or {}]
    for push in pushes:
        for key, n in (push.get("checked") or {}).items():
            system, object_type = key.split(":", 1)
            calls = -(-n // (100 if system == "hubspot" else 1_000))
            moved_from = {"hubspot": "history" if object_type == "contacts" else "write"}.get(system, "pull")
            out[system][moved_from] -= calls
            out[system]["check"] = out[system].get("check", 0) + calls
    streams = summary["pull"]["streams"]
    written = summary.get("push", {}).get("written", {})
    planned = summary["reconcile"]["planned_writes"]
    out["pulled"] = {"changed": sum(s["changed"] for s in streams.values()),
                     "echoes": sum(s["echoes"] for s in streams.values()),
                     "deals changed/echoes": [streams.get("hubspot:deals", {}).get(k, 0)
                                              for k in ("changed", "echoes")]}
    out["planned_updates"] = {s: planned[s]["updates"] for s in planned}
    out["written_updates"] = {s: sum(n["updated"] for n in written.get(s, {}).values()) for s in planned}
    return out


def burst(sb: Sandbox) -> int:
    """A new Title on every Salesforce Lead and Contact, by simple-salesforce as any other client would."""
    sys.path.insert(0, str(ROOT))
    from tests.push.conftest import salesforce_sdk  # the SDK signed in to the sandbox
    sf = salesforce_sdk(sb)
    n = 0
    for obj, where in (("Lead", " WHERE IsConverted = false"), ("Contact", "")):
        ids = [r["Id"] for r in sf.query_all(f"SELECT Id FROM {obj}{where}")["records"]]
        for start in range(0, len(ids), 200):
            sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [
                {"attributes": {"type": obj}, "id": i, "Title": f"Burst {k}"}
                for k, i in enumerate(ids[start:start + 200])]})
        n += len(ids)
    return n


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    with Sandbox(people=args.people, seed=args.seed, rate_limits=False) as sb:
        text = sb.connector_config(f"sqlite:///{tmp}/state.db")
        if "[mappings]" not in text:
            text += f'\n[mappings]\ndirectory = "{ROOT / "mappings"}"\n'
        (tmp / "connector.toml").write_text(text)
        cfg = load_config(tmp / "connector.toml")
        mappings = load_mappings(ROOT / "mappings")
        engine = open_engine(cfg.store.url)
        systems = open_systems(cfg, engine, sb.clock.now_ms())
        try:
            assert run_setup(systems.hubspot, systems.salesforce, mappings, apply=True,
                             create_salesforce_fields=True).ok
        finally:
            systems.close()
        result: dict[str, Any] = {"people": args.people, "seed": args.seed,
                                  "first_sync": cycle(sb, cfg, engine, mappings)}
        result["interval"] = []
        for _ in range(args.cycles):
            sb.clock.advance(INTERVAL_MS)
            result["interval"].append(cycle(sb, cfg, engine, mappings))
        result["burst_records"] = burst(sb)
        result["burst"] = []
        for _ in range(args.cycles + 3):
            sb.clock.advance(BACK_TO_BACK_MS)
            result["burst"].append(cycle(sb, cfg, engine, mappings))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args)
    for scenario in ("interval", "burst"):
        print(f"{scenario}:")
        for i, c in enumerate(result[scenario]):
            hs, sf = c["hubspot"], c["salesforce"]
            parts = {s: ", ".join(f"{k} {v}" for k, v in c[s].items() if k != "total")
                     for s in ("hubspot", "salesforce")}
            print(f"  cycle {i + 1}: HubSpot {hs['total']:>3} ({parts['hubspot']})  Salesforce {sf['total']:>2} "
                  f"({parts['salesforce']})  pulled {c['pulled']}  planned {c['planned_updates']} "
                  f"written {c['written_updates']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
