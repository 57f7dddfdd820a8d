"""The typed results of a cycle give exactly the JSON the run summary always had (keys and their order),
and the run's status comes from their typed fields."""

from __future__ import annotations

from typing import Any

from connector.sync.results import (
    DealsResult,
    FieldHistory,
    PlanResult,
    PresenceCheck,
    PullResult,
    PullRun,
    PushResult,
    ReconcileRun,
    ReconcileStage,
    ReconcileSummary,
    RunResult,
)

STREAMS = {"hubspot:contacts": {"mode": "incremental", "new": 1, "changed": 2, "unchanged": 3}}
PUSHED = {"written": {"hubspot": {"contacts": {"created": 1, "updated": 2, "rejected": 0}}}, "rejected": 0,
          "rejections_sample": []}
LOOKUP = {"looked_up": 1, "created": 1, "adopted": 0, "linked": 0, "held": 0, "deferred_writes": 0}


def _summary(saved: bool = True) -> ReconcileSummary:
    return ReconcileSummary(
        people=3, linked_in_both=1, duplicates=0, conflicts=[{"field": "phone", "rule": "most_recent", "people": 1}],
        standing_conflicts=[], planned_writes={"hubspot": {"creates": 0, "updates": 1, "field_changes": 1},
                                               "salesforce": {"creates": 1, "updates": 0, "field_changes": 4}},
        issues=0, issue_kinds={}, unchanged=2, held_merges=0,
        fields_changed=5 if saved else None, conflicts_recorded=1 if saved else None)


def _ordered(d: dict[str, Any]) -> list[str]:
    return list(d)


def test_a_sync_run_has_the_summary_shape_of_the_readme() -> None:
    run = RunResult(run_id=7, dry_run=False, completed=True, api_calls={"hubspot": {"total": 4}}, parked=2,
                    seconds=1.5)
    run.pull = PullResult(seconds=0.5, streams=STREAMS, api_calls={"hubspot": 3, "salesforce": 2},
                          presence_check=PresenceCheck(checked=10, erased=1, archived=0))
    run.field_history = FieldHistory(records=2, with_times=1)
    run.reconcile = ReconcileStage(seconds=0.25, summary=_summary())
    run.deletions = {"erased": 0}
    run.push = PushResult(seconds=0.75, pushed=PUSHED, lookup=LOOKUP, write_calls={"hubspot": 1, "salesforce": 2})
    run.deals = DealsResult({"planned": {}, "push": {"rejected": 0}}, write_calls={"hubspot": 0, "salesforce": 1})
    out = run.to_json()
    assert _ordered(out) == ["ok", "run_id", "dry_run", "pull", "field_history", "reconcile", "deletions", "push",
                             "deals", "api_calls", "parked", "seconds"]
    assert out["ok"] is True and out["run_id"] == 7 and out["dry_run"] is False
    assert out["pull"] == {"seconds": 0.5, "streams": STREAMS, "api_calls": {"hubspot": 3, "salesforce": 2},
                           "presence_check": {"checked": 10, "erased": 1, "archived": 0}}
    assert out["field_history"] == {"records": 2, "with_times": 1}
    assert _ordered(out["reconcile"]) == ["seconds", "people", "linked_in_both", "duplicates", "conflicts",
                                          "standing_conflicts", "planned_writes", "issues", "issue_kinds",
                                          "unchanged", "held_merges", "fields_changed", "conflicts_recorded"]
    assert _ordered(out["push"]) == ["seconds", "written", "rejected", "rejections_sample", "lookup", "write_calls"]
    assert out["deals"] == {"planned": {}, "push": {"rejected": 0}, "write_calls": {"hubspot": 0, "salesforce": 1}}
    assert run.status == "ok"
    assert _ordered(run.stage_counts()) == ["pull", "field_history", "reconcile", "deletions", "push", "deals"]


def test_a_plan_has_its_plan_and_forecast_and_no_push() -> None:
    run = RunResult(run_id=8, dry_run=True, completed=True)
    run.reconcile = ReconcileStage(seconds=0.1, summary=_summary(saved=False))
    run.plan = PlanResult(described={"objects": {"hubspot:contacts": {"create": 1, "update": 0}}, "held_back": 0,
                                     "sample": [], "fields": {}}, lookup=LOOKUP, deletions={})
    run.forecast = {"hubspot": {"write_calls": 1, "remaining_today": None, "fits": True}}
    run.deals = DealsResult({"planned": {}, "links_to_add": {}})
    out = run.to_json()
    assert _ordered(out) == ["ok", "run_id", "dry_run", "reconcile", "plan", "forecast", "deals", "api_calls",
                             "parked", "seconds"]
    assert "fields_changed" not in out["reconcile"] and "conflicts_recorded" not in out["reconcile"]
    assert _ordered(out["plan"]) == ["objects", "held_back", "sample", "fields", "lookup", "deletions"]
    assert out["deals"] == {"planned": {}, "links_to_add": {}}  # a plan counts no deal write calls
    assert run.plan.objects == {"hubspot:contacts": {"create": 1, "update": 0}}
    assert "forecast" not in run.stage_counts()


def test_a_presence_check_not_due_shows_as_an_empty_object() -> None:
    pull = PullResult(seconds=0.1, streams={}, api_calls={}, presence_check=PresenceCheck(ran=False))
    assert pull.to_json()["presence_check"] == {}
    assert "presence_check" not in PullResult(seconds=0.1, streams={}, api_calls={}).to_json()  # a plan's pull


def test_status_is_partial_when_anything_was_parked_or_held() -> None:
    def run(**parts: Any) -> RunResult:
        return RunResult(run_id=1, dry_run=False, completed=True, **parts)

    assert run(push=PushResult(0, {**PUSHED, "rejected": 1}, LOOKUP, {})).status == "partial"
    assert run(push=PushResult(0, PUSHED, {**LOOKUP, "held": 2}, {})).status == "partial"
    assert run(push=PushResult(0, PUSHED, LOOKUP, {}),
               deals=DealsResult({"push": {"rejected": 3}})).status == "partial"
    assert run(push=PushResult(0, PUSHED, LOOKUP, {}), deals=DealsResult({})).status == "ok"
    assert RunResult(run_id=1, dry_run=False).status == "failed"  # it never reached its end


def test_a_failed_run_says_why() -> None:
    failed = RunResult(run_id=3, dry_run=False, error="TransientApiError", message="HubSpot kept answering 503")
    out = failed.to_json()
    assert _ordered(out) == ["ok", "run_id", "dry_run", "error", "message", "api_calls", "parked", "seconds"]
    assert out["ok"] is False and failed.status == "failed"


def test_a_pull_alone_and_a_reconciliation_alone_have_the_shapes_of_the_readme() -> None:
    pulled = PullRun(run_id=3, seconds=2.5, streams=STREAMS, api_calls={"hubspot": {"total": 4}})
    assert pulled.to_json() == {"ok": True, "run_id": 3, "seconds": 2.5, "streams": STREAMS,
                                "api_calls": {"hubspot": {"total": 4}}}
    reconciled = ReconcileRun(run_id=4, seconds=0.5, summary=_summary()).to_json()
    assert _ordered(reconciled) == ["ok", "run_id", "seconds", "people", "linked_in_both", "duplicates", "conflicts",
                                    "standing_conflicts", "planned_writes", "issues", "issue_kinds", "unchanged",
                                    "held_merges", "fields_changed", "conflicts_recorded"]
    assert (reconciled["ok"], reconciled["run_id"], reconciled["people"]) == (True, 4, 3)
