"""What ``connector setup`` found and did: the report it prints as text or as ``--json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigProblem


@dataclass
class SystemReport:
    """What setup found and did in one system."""

    created: list[dict[str, Any]] = field(default_factory=list)
    present: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"created": list(self.created), "present": list(self.present), "missing": list(self.missing),
                "problems": list(self.problems)}


@dataclass
class SetupReport:
    """The outcome of ``run_setup``; ``to_json()`` is what ``connector setup --json`` prints.

    ``missing`` lists what still has to be created: in HubSpot only on a dry run; in Salesforce whenever
    the connector may not create fields (a real org: an admin adds them, see docs/setup.md).
    """

    applied: bool
    hubspot: SystemReport = field(default_factory=SystemReport)
    salesforce: SystemReport = field(default_factory=SystemReport)
    api_calls: dict[str, int] = field(default_factory=dict)
    #: changes to the mapping files the live metadata suggests (a truncate for a field of limited length):
    #: {"source", "key", "message", "hint"}; they never make the report not ok
    suggestions: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing clashes and nothing is left to create."""
        return not (self.hubspot.problems or self.salesforce.problems or self.hubspot.missing
                    or self.salesforce.missing)

    def to_json(self) -> dict[str, Any]:
        return {"applied": self.applied, "ok": self.ok, "hubspot": self.hubspot.to_json(),
                "salesforce": self.salesforce.to_json(), "api_calls": dict(self.api_calls),
                "suggestions": list(self.suggestions)}

    def lines(self) -> list[str]:
        """A plain-text summary for the terminal."""
        out: list[str] = []
        for system, rep in (("HubSpot", self.hubspot), ("Salesforce", self.salesforce)):
            for e in rep.created:
                out.append(f"{system}: created {_ref(e)}")
            for e in rep.missing:
                out.append(f"{system}: missing {_ref(e)}" + (f" ({_sf_type(e)})" if "api_name" in e else ""))
            for e in rep.problems:
                out.append(f"{system}: PROBLEM {_ref(e)}: {e['message']}"
                           + (f" (fix: {e['hint']})" if e.get("hint") else ""))
            out.append(f"{system}: {len(rep.present)} present, {len(rep.created)} created, {len(rep.missing)} missing, "
                       f"{len(rep.problems)} problem(s)")
        for e in self.suggestions:
            out.append(f"suggestion: {e['source']}: {e['key']}: {e['message']} ({e['hint']})")
        out.append("api calls: " + ", ".join(f"{k} {v}" for k, v in self.api_calls.items()))
        return out


def problem_json(p: ConfigProblem) -> dict[str, str]:
    """A problem or suggestion as the CLI prints it in --json."""
    return {"source": p.source, "key": p.key, "message": p.message, "hint": p.hint}


def _ref(e: Mapping[str, Any]) -> str:
    name = e.get("api_name") or e.get("name")
    return f"{e.get('kind', 'field')} {e['object']}.{name}" if "kind" in e else f"{e['object']}.{name}"


def _sf_type(e: Mapping[str, Any]) -> str:
    t = str(e["type"])
    if "length" in e:
        t += f"({e['length']})"
    if "precision" in e:
        t += f"({e['precision']},{e.get('scale', 0)})"
    if e.get("picklist_values"):
        t += ": " + ", ".join(e["picklist_values"])
    flags = [n for n, on in (("External ID", e.get("external_id")), ("Unique", e.get("unique"))) if on]
    return t + (", " + ", ".join(flags) if flags else "")
