"""`connector revert RUN_ID`: put back the values one run replaced, as a recorded run of its own.

The run pulls first (what changed since is the store's to know before anything is put back), plans with
the pure planner (`reconcile/revert.py`) from the run's write journal and the stored records, shows the
plan (`on_plan`), and unless it is a dry run writes it through the same `Pusher` as every sync: batched,
one write per record, rejections parked with reasons, snapshots patched and hashes kept so the writes
come back as the connector's own echo, and journaled (a revert can be reverted in turn).

After a revert the store's snapshots hold the restored values with the content times they had before the
bad run (echoes do not count as edits), so the next sync's rules decide as they did before it: with the
mapping fixed, they write nothing over the restored values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ..errors import EXIT_CONFIG, ConnectorError
from ..push.engine import Pusher, PushResult
from ..reconcile.deals import DEAL_ID_PROPERTY, OPPORTUNITY_DEAL_ID_FIELD
from ..reconcile.mapping import ContactMapping
from ..reconcile.revert import FieldKey, RevertPlan, plan_revert
from ..reconcile.writes import OPT_OUT
from ..store.journal import JournaledRun, forget_settled, journaled_run, records_now, run_entries
from ..store.pushes import parked_count
from ..systems.hubspot import HubSpotSink
from ..systems.ports import Sink
from ..systems.salesforce import SalesforceSink
from .cycle import CycleOptions, pull_stage
from .recording import recorded_run
from .results import PullResult
from .systems import Systems

__all__ = ["RevertRefused", "RevertResult", "chosen_fields", "kept_fields", "run_revert"]

#: the runs' INFO lines are the package's (`progress.py` listens to "connector.sync")
log = logging.getLogger("connector.sync")

#: the outcomes a value can have, in the order the plan lists them
OUTCOMES = ("restore", "changed_since", "gone", "created", "kept", "already")


class RevertRefused(ConnectorError):
    """The command line names a run the store does not know, or a field the run did not write: nothing was
    started (exit 2)."""

    exit_code = EXIT_CONFIG


@dataclass
class RevertResult:
    """A revert run: the plan per field, and what the push wrote (None for a dry run or an empty plan)."""

    run_id: int
    reverted_run: int
    dry_run: bool
    plan: RevertPlan
    pull: PullResult | None = None
    push: PushResult | None = None
    api_calls: dict[str, Any] = field(default_factory=dict)
    parked: int = 0
    seconds: float = 0.0

    def fields_json(self) -> list[dict[str, Any]]:
        out = []
        for (system, object_type, name), tally in sorted(self.plan.fields.items()):
            row: dict[str, Any] = {"system": system, "object_type": object_type, "field": name,
                                   "restore": tally.restore}
            row.update({o: tally.skipped.get(o, 0) for o in OUTCOMES[1:]})
            row["sample"] = {o: people for o, people in tally.sample.items() if o in ("restore", "changed_since")}
            out.append(row)
        return out

    def to_json(self) -> dict[str, Any]:
        """What `connector revert --json` prints (person ids only: no value is ever shown)."""
        return {"ok": True, "run_id": self.run_id, "reverted_run": self.reverted_run, "dry_run": self.dry_run,
                "restore": self.plan.restore, "people": len(self.plan.people),
                "left_alone": {o: self.plan.skipped(o) for o in OUTCOMES[1:]},  # type: ignore[arg-type]
                "fields": self.fields_json(),
                "pull": None if self.pull is None else self.pull.to_json(),
                "push": None if self.push is None else self.push.to_json(),
                "api_calls": self.api_calls, "parked": self.parked, "seconds": self.seconds}

    def counts(self) -> dict[str, Any]:
        """The run's record (`connector status`): totals, no sample."""
        out = self.to_json()
        return {"reverted_run": self.reverted_run, "dry_run": self.dry_run, "restore": out["restore"],
                "left_alone": out["left_alone"], "push": out["push"]}


def kept_fields(mapping: ContactMapping) -> frozenset[str]:
    """Fields a revert never puts back: the cross-reference ids that link each person's records (and each
    deal's), and HubSpot's e-mail opt-out (the connector never opts anyone back in)."""
    ident = mapping.identity
    return frozenset({ident.salesforce_hubspot_id_field, ident.hubspot_contact_id_property,
                      ident.hubspot_lead_id_property, DEAL_ID_PROPERTY, OPPORTUNITY_DEAL_ID_FIELD, OPT_OUT})


def chosen_fields(run: JournaledRun, names: Iterable[str], mapping: ContactMapping | None) -> set[FieldKey]:
    """The written fields `names` pick: a native name (`jobtitle`, `Title`; Salesforce's in any case) or a
    unified field of the mapping (`job_title`: its native fields in both systems). Raises RevertRefused,
    naming the fields the run wrote, when one picks none."""
    written = set(run.fields) | set(run.created)
    unified = {f.name: {f.hubspot, *f.salesforce.values()} - {None} for f in (mapping.fields if mapping else ())}
    out: set[FieldKey] = set()
    for name in names:
        natives = {n.casefold() for n in unified.get(name, {name})}  # type: ignore[union-attr]
        picked = {k for k in written if k[2].casefold() in natives}
        if not picked:
            raise RevertRefused(_not_written(run, name, unified))
        out |= picked
    return out


def _not_written(run: JournaledRun, name: str, unified: dict[str, set[str | None]]) -> str:
    written = sorted({k[2] for k in set(run.fields) | set(run.created)})
    if not written:
        return (f"run {run.run_id} ({run.command}) wrote no value the write journal kept, so it has no field "
                f"{name!r} to revert")
    names = sorted({u for u, natives in unified.items() if natives & set(written)} | set(written))
    shown = ", ".join(names[:30]) + (f" and {len(names) - 30} more" if len(names) > 30 else "")
    return (f"run {run.run_id} ({run.command}) did not write {name!r}; it wrote: {shown} (pass one of these to "
            f"--field, or leave --field out to revert every field it wrote)")


def known_run(engine: Engine, run_id: int) -> JournaledRun:
    """The run to revert; raises RevertRefused when the store has no run of that id."""
    run = journaled_run(engine, run_id)
    if run is None:
        raise RevertRefused(f"the store has no run {run_id} (`connector status` lists the last runs and their ids)")
    return run


def run_revert(engine: Engine, systems: Systems | Callable[[], Systems], options: CycleOptions, reverted_run: int,
               *, fields: Iterable[str] = (), dry_run: bool = False,
               on_plan: Callable[[RevertResult], None] | None = None) -> RevertResult:
    """Revert run `reverted_run` (all it wrote, or the `fields` named: see `chosen_fields`) as a recorded run
    named `options.command` ("revert"): pull, plan, `on_plan` (the plan, before anything is written), then,
    unless `dry_run`, push. Raises RevertRefused (nothing started) for an unknown run or field; otherwise
    what a sync raises (StoreBusy, refused credentials, ...)."""
    started = time.perf_counter()
    target = known_run(engine, reverted_run)
    names = list(fields)
    picked = chosen_fields(target, names, options.mapping) if names else None
    with recorded_run(engine, options.command, options.clock, systems) as recording:
        opened = recording.systems
        assert opened is not None
        pull = pull_stage(engine, recording, options) if options.pull else None
        entries = run_entries(engine, reverted_run, picked)
        now = records_now(engine, {(e.system, e.object_type, e.record_id) for e in entries})
        created = {k: n for k, n in target.created.items() if picked is None or k in picked}
        plan = plan_revert(reverted_run, entries, now, kept_fields=kept_fields(options.mapping), created=created)
        log.info("revert of run %d: %d values to put back for %d people; %d changed since and left alone",
                 reverted_run, plan.restore, len(plan.people), plan.skipped("changed_since"))
        result = RevertResult(recording.run_id, reverted_run, dry_run, plan, pull)
        if on_plan is not None:
            on_plan(result)
        try:
            if not dry_run and plan.changes:
                bulk = opened.salesforce.bulk_threshold if options.bulk_threshold is None else options.bulk_threshold
                sinks: dict[str, Sink] = {"hubspot": HubSpotSink(opened.hubspot),
                                          "salesforce": SalesforceSink(opened.salesforce, bulk)}
                pusher = Pusher(engine, sinks=sinks, mapping=options.mapping, now_ms=options.clock,
                                run_id=recording.run_id, bulk_threshold=bulk)
                result.push = pusher.push(plan.writes)
                forget_settled(engine, plan.people)
            recording.status = "ok"
        finally:
            result.api_calls = recording.api_calls()
            result.parked = parked_count(engine)
            result.seconds = round(time.perf_counter() - started, 3)
            recording.counts = result.counts()
    return result

