"""What the scorer writes (pure): the outputs, in each system's native form, only where they differ.

Outputs go to every live record of the person (the HubSpot contact, the Lead or Contact), as the same
values, so both tools show one score and one status. A value equal to what the record holds (numbers and
times compared as numbers and times, not as text) is no write. HubSpot's lifecycle stage moves forward
only (HubSpot refuses a step back through the API), and only where `scoring.toml` says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, UTC
from typing import Any

from ..reconcile.records import FieldChange
from ..reconcile.schema import LIFECYCLE_ORDER, SCORE_OUTPUTS
from .model import ScoringModel
from .signals import LinkedRecord, is_live_person_record, to_ms

__all__ = ["LIFECYCLE_OF", "REASON", "output_changes", "outputs_of"]

#: the reason every scorer write carries (the push's parking and `connector plan` show it)
REASON = "scoring"
#: HubSpot's lifecycle stage for each status (statuses not listed leave it alone)
LIFECYCLE_OF: Mapping[str, str] = {"MQL": "marketingqualifiedlead", "SAL": "marketingqualifiedlead",
                                   "SQL": "salesqualifiedlead", "Opportunity": "opportunity",
                                   "Customer": "customer"}
_NUMERIC = {"score", "touches_before_mql"}
_TIMES = {"mql_date", "sla_due"}


def outputs_of(score: int, grade: str | None, status: str, mql_at: int | None, status_reason: str | None,
               reason: str) -> dict[str, Any]:
    """The outputs as unified values (None: not written, never blanked)."""
    return {"score": score, "grade": grade, "status": status, "mql_date": mql_at, "status_reason": status_reason,
            "reason": reason}


def _iso(ms: int, system: str) -> str:
    text = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"
    return text + ("Z" if system == "hubspot" else "+0000")


def _native(output: str, value: Any, system: str) -> Any:
    if output in _TIMES:
        return _iso(int(value), system)
    if output in _NUMERIC:
        return str(int(value)) if system == "hubspot" else int(value)
    return str(value)


def _same(output: str, held: Any, value: Any) -> bool:
    if held is None or held == "":
        return False
    if output in _NUMERIC:
        try:
            return float(held) == float(value)
        except (TypeError, ValueError):
            return False
    if output in _TIMES:
        return to_ms(held) == int(value)
    return str(held) == str(value)


_new = tuple.__new__  # FieldChange(...) without its Python-level __new__ (several per person in a pass)


def output_changes(model: ScoringModel, person_id: str, outputs: Mapping[str, Any],
                   records: Sequence[LinkedRecord]) -> list[FieldChange]:
    """The writes that bring each live record of the person to `outputs` (and the lifecycle stage forward). A
    record with no id is one the people's plan creates: its writes join the create."""
    changes: list[FieldChange] = []
    wanted: list[tuple[str, Any, tuple[str, str], bool]] | None = None
    for r in records:
        if not is_live_person_record(r):
            continue
        if wanted is None:  # the outputs to write, their names in both systems, and whether they are text
            wanted = [(output, value, SCORE_OUTPUTS[output], output not in _NUMERIC and output not in _TIMES)
                      for output, value in outputs.items() if value is not None]
        system = r.system
        hubspot = system == "hubspot"
        held_of = r.data.get
        object_type, record_id = r.object_type, r.record_id or None
        for output, value, names, text in wanted:
            name = names[0] if hubspot else names[1]
            held = held_of(name)
            if text:  # `_same` and `_native` for a text output, inline
                if held is not None and held != "" and str(held) == str(value):
                    continue
                new = str(value)
            else:
                if held is not None and held != "" and _same(output, held, value):
                    continue
                new = _native(output, value, system)
            changes.append(_new(FieldChange, (system, object_type, record_id, name, held, new, REASON, person_id)))
        if hubspot and model.status.write_lifecycle_stage:
            target = LIFECYCLE_OF.get(str(outputs.get("status")))
            held = held_of("lifecyclestage")
            if target and _forward(held, target):
                changes.append(_new(FieldChange, ("hubspot", object_type, record_id, "lifecyclestage", held, target,
                                                  REASON, person_id)))
    return changes


def _forward(held: Any, target: str) -> bool:
    """Whether `target` is a step forward from the held lifecycle stage (blank counts as before all)."""
    if held in (None, ""):
        return True
    if held not in LIFECYCLE_ORDER:
        return False
    return LIFECYCLE_ORDER.index(target) > LIFECYCLE_ORDER.index(str(held))
