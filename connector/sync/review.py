"""What an operator reviews between runs, read from the store alone (no credentials): `connector status`,
`connector duplicates` and `connector explain`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from ..errors import ConnectorError
from ..reconcile.companies import company_provenance
from ..reconcile.mapping import CompanyMapping, ContactMapping
from ..reconcile.issues import fix_for
from ..store.disagreements import standing_conflicts
from ..store.issues import value_issue_count, value_issues
from ..store.explain import creation_and_reconciliation
from ..store.companies import person_companies
from ..store.people import duplicate_links, explain_person, owner_directory
from ..store.pushes import parked_causes, parked_rows
from ..store.runs import recent_runs
from ..store.scores import score_of

__all__ = ["duplicates", "explain", "status", "value_issue_rows"]

#: how identity chooses the record a person keeps in one system (connector.reconcile.identity)
_KEPT_BY = ("Contact over Lead, then a record cross-referenced by the other system, then one with a stored link, "
            "the most recently modified, the lowest id")


def status(engine: Engine, mapping: ContactMapping | None, *, include_resolved: bool) -> dict[str, Any]:
    """`connector status --json`: the last runs, the disagreements the mapping rules keep standing (none
    without a `mapping`), the parked records grouped by cause with a count and an example each, and the
    parked records themselves (the resolved ones too with `include_resolved`)."""
    return {"ok": True, "runs": recent_runs(engine, limit=10),
            "standing_conflicts": standing_conflicts(engine, mapping),
            "value_issues": value_issue_count(engine),
            "parked_by_cause": parked_causes(engine),
            "parked": parked_rows(engine, include_resolved=include_resolved)}


def duplicates(engine: Engine) -> list[dict[str, Any]]:
    """The records listed as duplicates by the last reconciliation, each with its whole reason."""
    return [{**r, "reason": _duplicate_reason(r)} for r in duplicate_links(engine)]


def explain(engine: Engine, who: str, mapping: ContactMapping | None, companies: CompanyMapping | None = None
            ) -> dict[str, Any]:
    """`connector explain --json` without its "ok": the person `who` names (a person id, any e-mail address of
    theirs, or the id of any record that is or was theirs), every field's value, source and rule, what was
    not created and why (`mapping` None: the files did not load), the run that reconciled them last, and (with
    companies.toml) their company: its records and each value with where it came from. Raises ConnectorError
    when no person matches."""
    found = explain_person(engine, who)
    if found is None:
        what = "that e-mail address" if "@" in who else repr(who)  # (an address is personal data: not echoed)
        raise ConnectorError(f"no person matches {what}: run `connector pull` and `connector reconcile` first, "
                             "or check the address or id")
    found.update(creation_and_reconciliation(engine, found["person_id"], mapping))
    found["score"] = score_of(engine, found["person_id"])
    found["issues"] = value_issue_rows(engine, person_id=found["person_id"])
    found["company"] = _company(engine, found["person_id"], companies)
    return found


def _company(engine: Engine, person_id: str, mapping: CompanyMapping | None) -> dict[str, Any] | None:
    """The person's company as `explain` shows it (None: no companies.toml, or no company)."""
    if mapping is None:
        return None
    held = person_companies(engine, [person_id], mapping.identity.hubspot_account_id_property).get(person_id)
    if held is None:
        return None
    company, account = held
    values = company_provenance(mapping, company, account, owner_directory(engine))
    return {"hubspot_company_id": company.id if company else None, "account_id": account.id if account else None,
            "fields": {name: {"value": _shown(p.value), "system": p.system, "record_id": p.source_id, "rule": p.rule}
                       for name, p in values.items()}}


def _shown(value: Any) -> Any:
    """A unified value as JSON holds it (a web address's own text, a number as itself)."""
    return value if value is None or isinstance(value, (bool, int, float)) else str(value)


def value_issue_rows(engine: Engine, *, field: str | None = None, kind: str | None = None,
                     person_id: str | None = None, mapping_file: str = "mappings/contacts.toml"
                     ) -> list[dict[str, Any]]:
    """`connector issues`: the values the connector cannot carry, each with its fix."""
    return [{"person_id": i.person_id, "system": i.system, "record_id": i.record_id, "field": i.field,
             "unified_field": i.unified_field, "kind": i.kind, "value": i.value, "reason": i.reason,
             "fix": fix_for(i.kind, i.unified_field, i.system, i.record_id, i.reason, mapping_file),
             "seen_at": i.seen_at} for i in value_issues(engine, field=field, kind=kind, person_id=person_id)]


def _duplicate_reason(row: dict[str, Any]) -> str:
    """The stored reason (a link keeps 32 characters) with what it leaves out: which record was kept, and why."""
    reason = str(row.get("reason") or "")
    words = reason.split()
    if len(words) == 4 and words[0].isdigit() and words[1] == "active" and words[3] == "records":
        kept = row.get("kept") or "the person's primary record"
        return f"{reason} for one person; kept {kept} (chosen by: {_KEPT_BY})"
    return reason
