"""Whole sync cycles (issue #20): a first sync and the idle cycle right after, with the shipped defaults,
against a sandbox in a process of its own; figures as ratios to what any client would need.

    python bench/run.py [--people 10000 ...] [--seed 1] [--rate-limits real|off] [--burst-share F]
                        [--connector-root PATH] [--settle S] [--search-lag S] [--bulk-jobs realistic|instant]
                        [--json PATH]

For each size: `connector sandbox --people N --seed S --config-out PATH` (this checkout's sandbox, real rate
limits by default), then the connector under test (`--connector-root`: this checkout, or another one with
its own `.venv`) as the commands a user runs, each a process of its own: `connector setup --apply`, then,
once setup's calls have left HubSpot's burst window (`--settle`), `connector sync --once --json` twice. The
connector keeps every shipped default (`[sync]` safety lag, lookback, field history, objects); only the
account's tier comes from the sandbox (`requests_per_10s` and `daily_limit` as it emulates them, as an
admin would set them), and `[hubspot] burst_share` when `--burst-share` is given.

Figures, per size:
- calls per system, counted by the sandbox (sign-ins are not API calls), split at the moment the connector
  logs the start of its scoring stage: reads before (the pull, property history while reconciling),
  writes (look-ups, opt-outs and deal links included) after; against the lower bound of
  `connector/bounds.py` from record counts only (the records the store holds after the pull, the records
  the sync created and updated: as `connector demo` does);
- wall time of the `connector sync` process against the time the rate limits impose on the bound's calls
  (`hubspot_floor_s`, `salesforce_floor_s`; the larger of the two, as the systems' limits are separate);
- the connector process's peak RSS (its rusage), the reconcile stage's people per second (its summary);
- 429 answers, from the connector's retry warnings (the sandbox counts requests by endpoint, not by status);
- the idle cycle right after: calls per system.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from bench.sandbox_process import SandboxCounters, start_sandbox, stop_sandbox  # noqa: E402
from connector.demo import _lower_bound  # noqa: E402  (the demo's bound of a sync: one definition, not a copy)
from connector.store.census import engagement_counts, live_record_counts  # noqa: E402

SYSTEMS = ("hubspot", "salesforce")
#: minimal Salesforce calls timed before the run: their median is the round trip of the floor
ROUND_TRIPS = 21
#: the log lines after the reads (the pull, then property history while reconciling) and before the first write
#: call (the look-up before creates): the scoring stage's first line, else the push's
_WRITES_START = ("score:", "push:")
#: a retried 429, as the connector's HTTP layer logs it ("hubspot POST /crm/...: 429 RATE_LIMIT; retry 1 of 5")
_RETRIED_429 = re.compile(r"^(hubspot|salesforce) .*: 429\b.*; retry \d+ of \d+$")
#: a pacer's pause of a second or more (shorter ones are DEBUG lines, not seen at the shipped INFO level)
_PAUSE = re.compile(r"^rate limit: pausing (\d+(?:\.\d+)?) s")


# ---------------------------------------------------------------- pure figures

def hubspot_floor_s(calls: int, *, burst_max: int, burst_window_s: float, search_per_s: float) -> float:
    """The least time `calls` HubSpot calls can take under the account's limits, starting with unused windows.

    Every call counts against the burst limit (`burst_max` per rolling `burst_window_s`) except searches,
    which have their own limit (`search_per_s` per rolling second) instead. So in any time T at most
    ``burst_max x (1 + T / burst_window_s) + search_per_s x (1 + T)`` calls can be made (the windows start
    empty: a full window at once), whatever mix of endpoints a client chooses, and

        T >= (calls - burst_max - search_per_s) / (burst_max / burst_window_s + search_per_s)

    A floor for any client: the bound's calls are the fewest any client needs, and each is counted at the
    best rate either limit allows (190 per 10 s and 5 searches per second: 24 calls a second)."""
    rate = burst_max / burst_window_s + search_per_s
    return max(0.0, (calls - burst_max - search_per_s) / rate)


def salesforce_floor_s(calls: int, round_trip_s: float) -> float:
    """Salesforce has no burst limit (only a daily allowance): its floor is its calls one after another at the
    round trip of a minimal call to the sandbox (each page's query-more needs the previous locator, each write
    the plan of the reads)."""
    return calls * round_trip_s


def retried_429s(log_lines: Iterable[str]) -> dict[str, int]:
    """429 answers per system, from the connector's JSON log lines (each retry of a 429 is one WARNING line;
    a 429 that outlasts every retry ends the run, which the run's status shows)."""
    counts = dict.fromkeys(SYSTEMS, 0)
    for line in log_lines:
        try:
            message = str(json.loads(line).get("message", ""))
        except (json.JSONDecodeError, AttributeError):
            continue
        match = _RETRIED_429.match(message)
        if match:
            counts[match.group(1)] += 1
    return counts


def logged_pauses(log_lines: Iterable[str]) -> dict[str, float]:
    """The HubSpot pacer's pauses of a second or more (their count and seconds), from the connector's log: the
    waits the burst limit (and the share of it left unused) cost a run, but for the shorter ones."""
    count, seconds = 0, 0.0
    for line in log_lines:
        try:
            match = _PAUSE.match(str(json.loads(line).get("message", "")))
        except (json.JSONDecodeError, AttributeError):
            continue
        if match:
            count, seconds = count + 1, seconds + float(match.group(1))
    return {"count": count, "seconds": round(seconds, 1)}


def ratio(value: float, bound: float) -> float | None:
    return round(value / bound, 2) if bound > 0 else None


def first_sync_figures(*, calls: dict[str, dict[str, int]], bound: dict[str, dict[str, int]], wall_s: float,
                       limits: dict[str, Any], round_trip_s: float) -> dict[str, Any]:
    """Calls against the bound per system, and the wall time against the floor the limits impose on the bound."""
    bound_total = {s: bound["pull"][s] + bound["push"][s] for s in SYSTEMS}
    floors = {"hubspot": hubspot_floor_s(bound_total["hubspot"], burst_max=int(limits["burst_max"]),
                                         burst_window_s=int(limits["burst_window_ms"]) / 1000,
                                         search_per_s=float(limits["search_per_second"])),
              "salesforce": salesforce_floor_s(bound_total["salesforce"], round_trip_s)}
    floor = max(floors.values())
    return {
        "calls": calls,
        "lower_bound": {s: {"reads": bound["pull"][s], "writes": bound["push"][s], "total": bound_total[s]}
                        for s in SYSTEMS},
        "calls_over_bound": {s: {"reads": ratio(calls[s]["reads"], bound["pull"][s]),
                                 "writes": ratio(calls[s]["writes"], bound["push"][s]),
                                 "total": ratio(calls[s]["total"], bound_total[s])} for s in SYSTEMS},
        "floor_s": {s: round(v, 2) for s, v in floors.items()},
        "wall_s": round(wall_s, 1),
        "wall_over_floor": ratio(wall_s, floor),
    }


def table(results: Sequence[dict[str, Any]]) -> str:
    """One row per size: the ratios first, then what they are ratios of."""
    rows = ["| people | HubSpot calls / bound | Salesforce calls / bound | first sync / rate-limit floor | "
            "peak RSS | reconcile | 429s | idle cycle calls (HubSpot / Salesforce) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        f = r["first_sync"]
        if not f.get("ok", True):
            rows.append(f"| {r['people']:,} | first sync failed after {f['wall_s']} s "
                        f"({f['error'].get('error', 'exit ' + str(f['code']))}); "
                        f"429s {f['http_429']['hubspot']} / {f['http_429']['salesforce']} | | | | | | |")
            continue
        hs, sf = f["calls"]["hubspot"], f["calls"]["salesforce"]
        bh, bs = f["lower_bound"]["hubspot"], f["lower_bound"]["salesforce"]
        floor = max(f["floor_s"].values())
        rows.append(
            f"| {r['people']:,} | {f['calls_over_bound']['hubspot']['total']}x ({hs['total']:,} / {bh['total']:,}; "
            f"reads {hs['reads']:,} / {bh['reads']:,}, writes {hs['writes']:,} / {bh['writes']:,}) | "
            f"{f['calls_over_bound']['salesforce']['total']}x ({sf['total']:,} / {bs['total']:,}; "
            f"reads {sf['reads']:,} / {bs['reads']:,}, writes {sf['writes']:,} / {bs['writes']:,}) | "
            f"{f['wall_over_floor']}x ({f['wall_s']:,} s / {floor:,} s) | {r['peak_rss_mb']:,} MB | "
            f"{r['reconcile']['people_per_s']:,} people/s | "
            f"{f['http_429']['hubspot']} / {f['http_429']['salesforce']} | "
            f"{r['idle']['calls']['hubspot']['total']} / {r['idle']['calls']['salesforce']['total']} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- the connector under test

@dataclass
class Finished:
    """One connector command as it ended: its JSON summary, its log lines, wall time and peak RSS."""

    code: int
    summary: dict[str, Any]
    log: list[str]
    wall_s: float
    peak_rss_mb: float


@dataclass
class ConnectorUnderTest:
    """A checkout of the connector and the Python that runs it (its own `.venv`, or this one for this checkout)."""

    root: Path
    python: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def at(cls, root: Path) -> ConnectorUnderTest:
        venv = root / ".venv" / "bin" / "python"
        if venv.exists():
            return cls(root.resolve(), str(venv))
        if root.resolve() == ROOT:
            return cls(ROOT, sys.executable)
        raise SystemExit(f"{root} has no .venv: make one there (python3 -m venv .venv && .venv/bin/pip install -e .)")

    def revision(self) -> dict[str, Any]:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, text=True).stdout.strip()

        return {"root": str(self.root), "commit": git("rev-parse", "--short", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}

    def run(self, *args: str, on_log: Callable[[str], None] | None = None) -> Finished:
        """`python -m connector ARGS` in a process of its own (its stderr read line by line as it comes, for
        `on_log`); its peak RSS is its own rusage."""
        started = time.perf_counter()
        proc = subprocess.Popen([self.python, "-m", "connector", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.root, env=self.env)
        assert proc.stdout is not None and proc.stderr is not None
        log: list[str] = []
        out: list[str] = []

        def read_log(stream: Any) -> None:
            for line in stream:
                log.append(line.rstrip("\n"))
                if on_log is not None:
                    on_log(log[-1])

        def read_out(stream: Any) -> None:
            out.append(stream.read())

        readers = [threading.Thread(target=read_log, args=(proc.stderr,)),
                   threading.Thread(target=read_out, args=(proc.stdout,))]
        for t in readers:
            t.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        for t in readers:
            t.join()
        text = "".join(out).strip()
        try:
            summary = json.loads(text.splitlines()[-1]) if text else {}
        except json.JSONDecodeError:
            summary = {}
        return Finished(proc.returncode, summary, log, wall, round(usage.ru_maxrss / 1024, 1))

    def must(self, *args: str) -> Finished:
        """`run`, and stop the benchmark if the command failed (setup: nothing to measure without it)."""
        done = self.run(*args)
        if done.code != 0:
            tail = "\n".join(done.log[-10:])
            raise SystemExit(f"connector {' '.join(args[:2])} exited {done.code}: {done.summary}\n{tail}")
        return done


def connector_env(store_url: str, limits: dict[str, Any], burst_share: float | None) -> dict[str, str]:
    """The environment of the connector under test: none of this shell's CONNECTOR_* settings, the store, and
    the account's tier as the sandbox emulates it (as an admin sets it in [hubspot])."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env.update(CONNECTOR_STORE_URL=store_url, CONNECTOR_HUBSPOT_REQUESTS_PER_10S=str(limits["burst_max"]),
               CONNECTOR_HUBSPOT_DAILY_LIMIT=str(limits["daily_max"]))
    if burst_share is not None:
        env["CONNECTOR_HUBSPOT_BURST_SHARE"] = repr(burst_share)
    return env


# ---------------------------------------------------------------- the run

def sandbox_facts(info: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """HubSpot's limits as the sandbox emulates them (control route), and the median round trip of a minimal
    Salesforce call (`GET /limits`; made before the counters are reset, so not in any figure)."""
    ctx = ssl.create_default_context(cafile=info["ca_file"])
    with httpx.Client(verify=ctx, timeout=60, trust_env=False) as client:
        limits = client.get(info["hubspot"]["base_url"] + "/_sandbox/hubspot/limits").raise_for_status().json()
        url = f"{info['salesforce']['instance_url']}/services/data/v{info['salesforce']['api_version']}/limits"
        headers = {"Authorization": f"Bearer {info['salesforce']['access_token']}"}
        client.get(url, headers=headers).raise_for_status()  # the connection made (TLS), as a client keeps it
        times = []
        for _ in range(ROUND_TRIPS):
            started = time.perf_counter()
            client.get(url, headers=headers).raise_for_status()
            times.append(time.perf_counter() - started)
    return limits, statistics.median(times)


def cycle_calls(counters: SandboxCounters, connector: ConnectorUnderTest, config: Path
                ) -> tuple[Finished, dict[str, dict[str, int]], dict[str, Any]]:
    """One `connector sync --once`, its calls counted by the sandbox and split into reads and writes where the
    scoring stage starts (no call is made while scoring: the count taken a moment later is the same)."""
    split: dict[str, dict[str, Any]] = {}

    def on_log(line: str) -> None:
        if not split and any(marker in line for marker in _WRITES_START):
            try:
                message = str(json.loads(line).get("message", ""))
            except json.JSONDecodeError:
                return
            if message.startswith(_WRITES_START):
                split.update(counters.read())

    counters.reset()
    done = connector.run("sync", "--once", "--config", str(config), "--json", on_log=on_log)
    after = counters.read()
    calls = {}
    for s in SYSTEMS:
        reads = split[s]["total"] if split else after[s]["total"]
        calls[s] = {"reads": reads, "writes": after[s]["total"] - reads, "total": after[s]["total"]}
    return done, calls, {s: after[s]["by_endpoint"] for s in SYSTEMS}


def measure(people: int, args: argparse.Namespace, connector: ConnectorUnderTest) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        work = Path(tmp)
        config = work / "sandbox.toml"
        options = ["--rate-limits", args.rate_limits, "--search-lag", str(args.search_lag),
                   "--bulk-jobs", args.bulk_jobs]
        # started in the empty work directory: the config it writes names no mappings directory, so each
        # connector under test uses the mappings shipped with it
        proc, info, boot_s = start_sandbox(people, args.seed, *options, config_out=config, cwd=work)
        counters = SandboxCounters(info)
        try:
            limits, round_trip = sandbox_facts(info)
            store_url = f"sqlite:///{work / 'store.db'}"
            connector.env = connector_env(store_url, limits, args.burst_share)
            setup = connector.must("setup", "--apply", "--config", str(config), "--json")
            print(f"  {people:,} people: sandbox up in {boot_s:.1f} s, setup in {setup.wall_s:.1f} s; first sync...",
                  flush=True)
            # setup's calls leave the burst window only after it has rolled by: a process of the same app the
            # sync's pacer knows nothing of (the floor assumes an unused window; --settle 0 shows the difference)
            time.sleep(args.settle if args.settle is not None else int(limits["burst_window_ms"]) / 1000 + 1)
            first, calls, endpoints = cycle_calls(counters, connector, config)
            summary = first.summary
            if first.code != 0:
                print(f"  first sync FAILED after {first.wall_s:.1f} s: {summary}", flush=True)
                return {"people": people, "first_sync": {
                    "ok": False, "code": first.code, "error": summary, "wall_s": round(first.wall_s, 1),
                    "calls": calls, "http_429": retried_429s(first.log), "sandbox_counted": endpoints,
                    "log_warnings": [line for line in first.log if '"WARNING"' in line or '"ERROR"' in line][-20:]},
                    "sandbox": {"boot_and_seed_s": round(boot_s, 1), "hubspot_limits": limits, "options": options}}
            engine = create_engine(store_url)
            try:
                world = {"records": live_record_counts(engine), "marketing_events": engagement_counts(engine)}
            finally:
                engine.dispose()
            bound = _lower_bound(world, summary)
            print(f"  first sync {first.wall_s:.1f} s; idle cycle...", flush=True)
            idle, idle_calls, idle_endpoints = cycle_calls(counters, connector, config)
            if idle.code != 0:
                raise SystemExit(f"the idle cycle failed: {idle.summary}")
        finally:
            counters.close()
            stop_sandbox(proc)
    figures = first_sync_figures(calls=calls, bound=bound, wall_s=first.wall_s, limits=limits, round_trip_s=round_trip)
    rec = summary["reconcile"]
    ledger = summary.get("api_calls") or {}
    return {
        "people": people,
        "first_sync": {"ok": True, **figures, "http_429": retried_429s(first.log),
                       "pacer_pauses_1s_or_more": logged_pauses(first.log), "summary_seconds": summary.get("seconds"),
                       "stages_s": {k: (summary.get(k) or {}).get("seconds") for k in ("pull", "reconcile", "push")},
                       "connector_counted": {s: (ledger.get(s) or {}).get("total") for s in SYSTEMS},
                       "sandbox_counted": endpoints, "records": world},
        "peak_rss_mb": first.peak_rss_mb,
        "reconcile": {"people": rec["people"], "seconds": rec["seconds"],
                      "people_per_s": round(rec["people"] / rec["seconds"]) if rec["seconds"] else None},
        "idle": {"wall_s": round(idle.wall_s, 1), "calls": idle_calls, "http_429": retried_429s(idle.log),
                 "sandbox_counted": idle_endpoints, "peak_rss_mb": idle.peak_rss_mb},
        "sandbox": {"boot_and_seed_s": round(boot_s, 1), "hubspot_limits": limits,
                    "salesforce_round_trip_ms": round(round_trip * 1000, 2), "options": options},
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, action="append", help="population size (repeatable; default 10,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate-limits", choices=["real", "off"], default="real")
    parser.add_argument("--burst-share", type=float, default=None,
                        help="[hubspot] burst_share for the connector under test (default: its own default)")
    parser.add_argument("--connector-root", type=Path, default=ROOT,
                        help="the checkout whose connector runs (its .venv's Python); the sandbox is this one's")
    parser.add_argument("--search-lag", type=float, default=5.0, help="the sandbox's HubSpot search lag (its default)")
    parser.add_argument("--bulk-jobs", choices=["realistic", "instant"], default="realistic",
                        help="the sandbox's Bulk 2.0 job timing (its default)")
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds between setup and the first sync (default: HubSpot's burst window + 1 s)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    connector = ConnectorUnderTest.at(args.connector_root)
    load = os.getloadavg()
    print(f"connector {connector.revision()}, rate limits {args.rate_limits}, load average {load[0]:.2f}", flush=True)
    results = [measure(people, args, connector) for people in args.people or [10_000]]
    report = {"connector": connector.revision(), "rate_limits": args.rate_limits, "burst_share": args.burst_share,
              "seed": args.seed, "settle_s": args.settle,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average_at_start": [round(x, 2) for x in load],
                          "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
              "results": results}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
