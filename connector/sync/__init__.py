"""The sync cycle: the stages (pull, reconcile, push) wired to the store and both systems, as one recorded run.

- `cycle`: `run_once` (typed) and `run_cycle` (its JSON), with `CycleOptions`.
- `stage_runs`: one stage alone, recorded like a cycle: `run_pull`, `run_reconcile`.
- `recording`: `recorded_run`, the recorded-run machinery all of them share (run lock, calls, finish).
- `admin`: what an admin runs against both systems outside a run (`validate_live`, `set_up`).
- `review`: what an operator reads from the store between runs (`status`, `duplicates`, `explain`).
- `results`: each stage's typed result and the run's, each with the JSON `--json` prints.
- `reconciling`: the reconcile stage (store records through identity and the core, saved as people).
- `checks`: setup and presence checks against HubSpot.
- `planning`: what a dry run shows (the plan described, its API calls forecast).
- `systems`: `open_systems`, the one way to open both systems.
- `revert`: `run_revert`, a recorded run that writes back what an earlier run replaced (`connector revert`).
- `mapping_history`: the mapping files the last sync ran with, for a dry run's "since the last sync".
"""

from .checks import check_presence, check_setup, mark_setup_done
from .cycle import CycleOptions, run_cycle, run_once
from .planning import describe_plan, forecast
from .reconciling import Reconciled, reconcile_store
from .recording import Recording, recorded_run
from .results import PullRun, ReconcileRun, RunResult
from .revert import run_revert
from .stage_runs import run_pull, run_reconcile
from .systems import Systems, open_systems

__all__ = ["run_revert", "CycleOptions", "PullRun", "ReconcileRun", "Reconciled", "Recording", "RunResult", "Systems",
           "check_presence", "check_setup", "describe_plan", "forecast", "mark_setup_done", "open_systems",
           "recorded_run", "reconcile_store", "run_cycle", "run_once", "run_pull", "run_reconcile"]
