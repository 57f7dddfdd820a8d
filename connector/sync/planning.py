"""What a dry run shows: the planned writes described per system and field, and the API calls they would cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ..reconcile.records import NewRecordId
from ..reconcile.writes import OPT_OUT, RecordWrite, WritePlan, is_true, read_again
from ..systems.hubspot import hubspot_calls, hubspot_lookup_calls
from ..systems.salesforce import salesforce_calls, salesforce_lookup_calls
from ..systems.hubspot.sink import HUBSPOT_BATCH
from ..systems.salesforce.sink import COLLECTION_SIZE, COLLECTIONS_PER_CALL
from .systems import Systems

SALESFORCE_BATCH = COLLECTION_SIZE * COLLECTIONS_PER_CALL

__all__ = ["add_deal_forecast", "check_calls", "describe_plan", "forecast", "only_field", "planned_writes"]


def planned_writes(plan: WritePlan) -> dict[str, dict[str, int]]:
    """Creates, updates and field values per system as the push is handed them (`ReconcileSummary`'s
    ``planned_writes``), and ``held``: records the parking lot holds back until their retry is due.

    Counted from the plan, not from reconciliation's changes: those also hold what the plan drops (parked
    records, no-op opt-outs, the changes of people being deleted) and lack what it adds (scores), so an
    idle cycle with parked records reported them as planned every cycle while writing nothing."""
    out = {s: {"creates": 0, "updates": 0, "field_changes": 0, "held": 0} for s in ("hubspot", "salesforce")}
    for label, writes in (("creates", plan.creates), ("updates", plan.updates), ("held", plan.held)):
        for w in writes:
            counts = out[w.system]
            counts[label] += 1
            if label != "held":
                counts["field_changes"] += len(w.values)
    return out


def describe_plan(plan: WritePlan, *, sample: int = 10, full: bool = False,
                  adopted: Mapping[tuple[str, str, str], str] | None = None) -> dict[str, Any]:
    """Creates and updates per system and object, the values planned per field, up to `sample` per-field
    diffs per system (old -> new, and why: updates first, they show what changes), and with `full` every
    planned field value. A cross-reference to a create the look-up found already done shows the found id."""
    updates = [_with_ids(w, adopted or {}) for w in plan.updates]
    out: dict[str, Any] = {"objects": plan.counts(), "held_back": len(plan.held), "sample": [],
                           "fields": _field_counts(plan), "changes": _value_changes(updates)}
    for system in ("hubspot", "salesforce"):
        rows: list[dict[str, Any]] = []
        for write in (*updates, *plan.creates):
            if write.system == system:
                rows.extend(_diff_rows(write))
                if len(rows) >= sample:
                    break
        out["sample"].extend(rows[:sample])
    if full:
        out["diffs"] = [row for write in (*plan.creates, *updates) for row in _diff_rows(write)]
    return out


def _field_counts(plan: WritePlan) -> dict[str, dict[str, int]]:
    """Planned values per "system:object" and field, most first: a rule change shows here without --json."""
    counts: dict[str, Counter[str]] = {}
    for write in (*plan.creates, *plan.updates):
        counts.setdefault(f"{write.system}:{write.object_type}", Counter()).update(write.values.keys())
    return {key: dict(c.most_common()) for key, c in sorted(counts.items())}


#: a field's old -> new pairs shown: those planned for at least this many records (a rule's effect, not one
#: person's value), at most MAX_PAIRS per field
MIN_PAIR_COUNT, MAX_PAIRS = 2, 5


def _value_changes(updates: list[RecordWrite]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per "system:object" and field, the old -> new pairs the updates would make for several records, most
    first: "lead_status: Open -> Working for 12" is what a changed rule or value map looks like."""
    pairs: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    for w in updates:
        for name, value in w.values.items():
            if isinstance(value, NewRecordId):
                continue
            old = w.old.get(name)
            pairs.setdefault((f"{w.system}:{w.object_type}", name), Counter())[
                ("" if old is None else str(old), "" if value is None else str(value))] += 1
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for (key, name), counter in sorted(pairs.items()):
        common = [{"old": o, "new": n, "records": c} for (o, n), c in counter.most_common(MAX_PAIRS)
                  if c >= MIN_PAIR_COUNT]
        if common:
            out.setdefault(key, {})[name] = common
    return out


def only_field(summary: dict[str, Any], name: str) -> dict[str, Any]:
    """The plan's summary narrowed to one field (`connector plan --field`): its native name in either system,
    case-insensitive; the totals per object count that field's values only."""
    plan = dict(summary["plan"])
    wanted = name.casefold()
    plan["fields"] = {k: {f: n for f, n in per.items() if f.casefold() == wanted} for k, per in plan["fields"].items()}
    plan["fields"] = {k: v for k, v in plan["fields"].items() if v}
    plan["changes"] = {k: {f: v for f, v in per.items() if f.casefold() == wanted}
                       for k, per in plan.get("changes", {}).items()}
    plan["changes"] = {k: v for k, v in plan["changes"].items() if v}
    plan["sample"] = [r for r in plan["sample"] if str(r["field"]).casefold() == wanted]
    if "diffs" in plan:
        plan["diffs"] = [r for r in plan["diffs"] if str(r["field"]).casefold() == wanted]
    plan["field"] = name
    return {**summary, "plan": plan}


def _with_ids(write: RecordWrite, adopted: Mapping[tuple[str, str, str], str]) -> RecordWrite:
    """The write with each NewRecordId the look-up resolved (a record found, adopted as the create) filled in."""
    if not adopted or not write.waits_for_ids:
        return write
    values = {k: adopted.get((write.person_id, v.system, v.object_type), v) if isinstance(v, NewRecordId) else v
              for k, v in write.values.items()}
    return replace(write, values=values)


def _diff_rows(write: RecordWrite) -> list[dict[str, Any]]:
    email = None if write.record_id is not None else (write.values.get("email") or write.values.get("Email"))
    return [{"system": write.system, "object_type": write.object_type, "record": write.parked_id,
             **({"new_record_email": str(email)} if email else {}), "field": name,
             "old": write.old.get(name), "new": str(value) if not isinstance(value, (str, int, float, bool, type(None)))
             else value, "reason": write.reasons.get(name, "")} for name, value in sorted(write.values.items())]


def check_calls(updates: Iterable[RecordWrite], checked: Mapping[tuple[str, str], frozenset[str]]
                ) -> dict[str, int]:
    """The calls reading records again before their update (`Pusher._unchanged_since_read`): the push sends an
    object's updates that set a checked field first, together, so they take `ceil(k / per call)` reads (HubSpot
    100 a call, Salesforce 1,000, also for a Bulk job's records)."""
    counts: Counter[tuple[str, str]] = Counter()
    for w in updates:
        if read_again(w, checked.get((w.system, w.object_type), frozenset())):
            counts[(w.system, w.object_type)] += 1
    calls = {"hubspot": 0, "salesforce": 0}
    for (system, _), k in counts.items():
        calls[system] += -(-k // (HUBSPOT_BATCH if system == "hubspot" else SALESFORCE_BATCH))
    return calls


def forecast(plan: WritePlan, systems: Systems, bulk_threshold: int, looked_up: WritePlan | None = None,
             checked: Mapping[tuple[str, str], frozenset[str]] | None = None) -> dict[str, Any]:
    """API calls the plan would cost per system, against what remains of the connector's daily share
    (`DailyBudget.remaining`: the same figure before and after a pull, never above share x configured limit).
    `looked_up`: the plan whose creates are looked up first (default: `plan`); `checked`: the fields read
    again before an update sets them (default: none)."""
    groups: dict[tuple[str, str, str], int] = {}
    for write in (*plan.creates, *plan.updates):
        # creates travel per external id they are upserted on (a HubSpot contact from a Lead or a Contact)
        op = "update" if write.record_id is not None else "create:" + ",".join(
            k for k in write.values if k.startswith("salesforce_") or k.startswith("HubSpot_"))
        groups[(write.system, write.object_type, op)] = groups.get((write.system, write.object_type, op), 0) + 1
    calls = {"hubspot": 0, "salesforce": 0}
    for (system, _obj, _op), n in groups.items():
        calls[system] += hubspot_calls(n) if system == "hubspot" else salesforce_calls(n, bulk_threshold)
    # every create is looked up in its target system first (connector/push/lookup.py)
    creates = (looked_up or plan).creates
    calls["salesforce"] += salesforce_lookup_calls(sum(1 for w in creates if w.system == "salesforce"))
    calls["hubspot"] += hubspot_lookup_calls(len({str(w.values["email"]).strip().casefold() for w in creates
                                                   if w.system == "hubspot" and w.values.get("email")}))
    # an opt-out reaches HubSpot through the subscription API, one call per person
    calls["hubspot"] += sum(1 for w in (*plan.creates, *plan.updates) if w.system == "hubspot"
                            and is_true(w.values.get(OPT_OUT)))
    for system, n in check_calls(plan.updates, checked or {}).items():
        calls[system] += n
    out: dict[str, Any] = {}
    systems.salesforce.learn_limits()  # the org's limit, if no response of this run has reported it yet
    for system, source in (("hubspot", systems.hubspot), ("salesforce", systems.salesforce)):
        budget = source.http.budget
        remaining = budget.remaining() if budget is not None else None  # DailyBudget's one definition
        out[system] = {"write_calls": calls[system], "remaining_today": remaining,
                       "fits": remaining is None or calls[system] <= remaining}
    return out


def add_deal_forecast(out: dict[str, Any], deals: dict[str, Any], bulk_threshold: int,
                      checks: Mapping[str, int] | None = None) -> None:
    """Deal writes and deal-contact links (and `checks`, the calls reading deals again before their update),
    added to a plan's forecast."""
    for system, n in (checks or {}).items():
        out[system]["write_calls"] += n
    for key, n in deals["planned"].items():
        system = key.split(":", 1)[0]
        for op in ("create", "update"):
            if n[op]:
                out[system]["write_calls"] += (hubspot_calls(n[op]) if system == "hubspot"
                                               else salesforce_calls(n[op], bulk_threshold))
    for batch, n in deals.get("link_batches", {}).items():  # associations: 100 a call per pair of object types
        system = batch.split(":", 1)[0]
        out[system]["write_calls"] += hubspot_calls(n) if system == "hubspot" else salesforce_calls(n, 10**9)
    for system in ("hubspot", "salesforce"):
        remaining = out[system]["remaining_today"]
        out[system]["fits"] = remaining is None or out[system]["write_calls"] <= remaining
