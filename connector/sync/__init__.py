"""The sync cycle: the stages (pull, reconcile, push) wired to the store and both systems, as one recorded run.

- `cycle`: `run_once` (typed) and `run_cycle` (its JSON), with `CycleOptions`.
- `results`: each stage's typed result and the run's, each with the JSON `--json` prints.
- `reconciling`: the reconcile stage (store records through identity and the core, saved as people).
- `checks`: setup and presence checks against HubSpot.
- `planning`: what a dry run shows (the plan described, its API calls forecast).
- `systems`: `open_systems`, the one way to open both systems.
"""

from .checks import check_presence, check_setup, mark_setup_done
from .cycle import CycleOptions, log_pull, run_cycle, run_once
from .planning import describe_plan, forecast
from .reconciling import Reconciled, reconcile_store, reconcile_stored
from .results import RunResult
from .systems import Systems, open_systems

__all__ = ["CycleOptions", "Reconciled", "RunResult", "Systems", "check_presence", "check_setup", "describe_plan",
           "forecast", "log_pull", "mark_setup_done", "open_systems", "reconcile_store", "reconcile_stored",
           "run_cycle", "run_once"]
