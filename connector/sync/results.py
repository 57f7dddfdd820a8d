"""Typed results of each stage of a sync cycle and of the run, each giving the JSON `--json` prints.

The JSON shapes are a contract (the README documents them, scripts read them): every `to_json` here
builds exactly the keys, in the order, that the run summary has always had. The run's status is derived
from typed fields, not read back out of the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["DealsResult", "PlanResult", "PresenceCheck", "PullResult", "PullRun", "PushResult", "ReconcileRun",
           "ReconcileStage", "ReconcileSummary", "RunResult", "RunStatus", "FieldHistory"]

RunStatus = Literal["ok", "partial", "failed", "stopped"]

#: the parts of a run summary that are a stage's (kept with the run's record)
_STAGES = ("pull", "reconcile", "push", "plan", "deals", "deletions", "field_history")


@dataclass
class PresenceCheck:
    """What the check for HubSpot contacts erased at the source found (`ran` False: not due this run)."""

    ran: bool = True
    checked: int = 0
    erased: int = 0
    archived: int = 0

    def to_json(self) -> dict[str, int]:
        return {"checked": self.checked, "erased": self.erased, "archived": self.archived} if self.ran else {}


@dataclass
class PullResult:
    """The pull stage: its time, the streams' counts (as the puller reports them) and the calls so far."""

    seconds: float
    streams: dict[str, Any]
    api_calls: dict[str, int]
    presence_check: PresenceCheck | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seconds": self.seconds, "streams": self.streams, "api_calls": self.api_calls}
        if self.presence_check is not None:
            out["presence_check"] = self.presence_check.to_json()
        return out


@dataclass
class ReconcileSummary:
    """One reconciliation of the store: people, links, duplicates, conflicts, planned writes, issues, and
    (when it was saved) what saving changed."""

    people: int
    linked_in_both: int
    duplicates: int
    conflicts: list[dict[str, Any]]
    standing_conflicts: list[dict[str, Any]]
    planned_writes: dict[str, dict[str, int]]
    issues: int
    issue_kinds: dict[str, int]
    unchanged: int
    held_merges: int
    fields_changed: int | None = None
    conflicts_recorded: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "people": self.people, "linked_in_both": self.linked_in_both, "duplicates": self.duplicates,
            "conflicts": self.conflicts, "standing_conflicts": self.standing_conflicts,
            "planned_writes": self.planned_writes, "issues": self.issues, "issue_kinds": self.issue_kinds,
            "unchanged": self.unchanged, "held_merges": self.held_merges}
        if self.fields_changed is not None:
            out.update(fields_changed=self.fields_changed, conflicts_recorded=self.conflicts_recorded)
        return out


@dataclass
class ReconcileStage:
    """The reconcile stage of a cycle: its time and its summary."""

    seconds: float
    summary: ReconcileSummary

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, **self.summary.to_json()}


@dataclass
class FieldHistory:
    """HubSpot property history read during reconciliation: records asked about, records with times."""

    records: int = 0
    with_times: int = 0

    def to_json(self) -> dict[str, int]:
        return {"records": self.records, "with_times": self.with_times}


@dataclass
class PlanResult:
    """A dry run's plan: what would be written (`describe_plan`), looked up and deleted."""

    described: dict[str, Any]
    lookup: dict[str, Any]
    deletions: dict[str, int]

    @property
    def objects(self) -> dict[str, dict[str, int]]:
        return self.described["objects"]

    def to_json(self) -> dict[str, Any]:
        return {**self.described, "lookup": self.lookup, "deletions": self.deletions}


@dataclass
class PushResult:
    """The push stage: its time, what the pusher wrote and parked, the look-up before creates, and the
    write calls per system (deal writes added in)."""

    seconds: float
    pushed: dict[str, Any]
    lookup: dict[str, Any]
    write_calls: dict[str, int]

    @property
    def rejected(self) -> int:
        return int(self.pushed.get("rejected") or 0)

    @property
    def held(self) -> int:
        return int(self.lookup.get("held") or 0)

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, **self.pushed, "lookup": self.lookup, "write_calls": self.write_calls}


@dataclass
class DealsResult:
    """An object other than people (deals and Opportunities first): what its sync reported, and (unless a
    dry run) its write calls."""

    report: dict[str, Any]
    write_calls: dict[str, int] | None = None

    @property
    def rejected(self) -> int:
        return int((self.report.get("push") or {}).get("rejected") or 0)

    def to_json(self) -> dict[str, Any]:
        return self.report if self.write_calls is None else {**self.report, "write_calls": self.write_calls}


@dataclass
class RunResult:
    """One recorded run of the cycle: each stage's result, the run's calls, parked records and time."""

    run_id: int
    dry_run: bool
    pull: PullResult | None = None
    field_history: FieldHistory | None = None
    reconcile: ReconcileStage | None = None
    plan: PlanResult | None = None
    forecast: dict[str, Any] | None = None
    deletions: dict[str, Any] | None = None
    push: PushResult | None = None
    deals: DealsResult | None = None
    #: the parts of objects other than people and deals, by name, in the order they ran
    objects: dict[str, DealsResult] = field(default_factory=dict)
    error: str | None = None
    message: str | None = None
    api_calls: dict[str, Any] = field(default_factory=dict)
    parked: int = 0
    seconds: float = 0.0
    #: every stage ran to its end (a run that raised did not)
    completed: bool = False

    @property
    def status(self) -> RunStatus:
        """"failed" unless every stage finished ("stopped" when a stop request ended it at a batch boundary);
        then "partial" when a record was rejected and parked or held back by the look-up, else "ok"."""
        if not self.completed:
            return "stopped" if self.error == "Stopped" else "failed"
        if ((self.push is not None and (self.push.rejected or self.push.held))
                or any(part.rejected for part in self._object_parts().values())):
            return "partial"
        return "ok"

    def add_object(self, name: str, part: DealsResult) -> None:
        """An object's part of the run: deals keep their key of the summary, others go under their name."""
        if name == "deals":
            self.deals = part
        else:
            self.objects[name] = part

    def _object_parts(self) -> dict[str, DealsResult]:
        return {**({"deals": self.deals} if self.deals is not None else {}), **self.objects}

    def stage_counts(self) -> dict[str, Any]:
        """What the run's record keeps of each stage (`SyncRun.counts`)."""
        return {k: v for k, v in self.to_json().items() if k in _STAGES or k in self.objects}

    def to_json(self) -> dict[str, Any]:
        """The run's summary as `connector sync --json` and `connector plan --json` print it."""
        out: dict[str, Any] = {"ok": self.error is None, "run_id": self.run_id, "dry_run": self.dry_run}
        for key, part in (("pull", self.pull), ("field_history", self.field_history), ("reconcile", self.reconcile),
                          ("plan", self.plan), ("forecast", self.forecast), ("deletions", self.deletions),
                          ("push", self.push)):
            if part is not None:
                out[key] = part if isinstance(part, dict) else part.to_json()
        out.update((name, part.to_json()) for name, part in self._object_parts().items())
        if self.error is not None:
            out.update(error=self.error, message=self.message)
        out.update(api_calls=self.api_calls, parked=self.parked, seconds=self.seconds)
        return out


@dataclass
class PullRun:
    """A recorded run of the pull alone (`connector pull`): its streams' counts and every call it made."""

    run_id: int
    seconds: float
    streams: dict[str, Any]
    api_calls: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """What `connector pull --json` prints."""
        return {"ok": True, "run_id": self.run_id, "seconds": self.seconds, "streams": self.streams,
                "api_calls": self.api_calls}


@dataclass
class ReconcileRun:
    """A recorded run of the reconcile stage alone (`connector reconcile`, no API calls)."""

    run_id: int
    seconds: float
    summary: ReconcileSummary

    def to_json(self) -> dict[str, Any]:
        """What `connector reconcile --json` prints (and the run's record keeps as its counts)."""
        return {"ok": True, "run_id": self.run_id, "seconds": self.seconds, **self.summary.to_json()}
