"""Companies: HubSpot companies and Salesforce Accounts, with their people and deals, described once.

They run after the people (whose records their links need) and before the deals (a deal created from an
Opportunity is associated with its Account's company, which may be created in the same run). Creates are
upserts on the cross-reference ids (HubSpot ``salesforce_account_id``, Salesforce ``HubSpot_Company_Id__c``,
both named in companies.toml), so a replay finds the record. A Contact's or Opportunity's Account is a field
write (``AccountId``, set only while blank, read again before the write); HubSpot associations are added
after the creates and recorded in the store, so the next cycle does not add them again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ..reconcile.companies import CompanyLink, company_ref, reconcile_companies
from ..reconcile.deals import DEAL_REF
from ..reconcile.mapping import Mappings
from ..store.companies import add_company_links, company_inputs, note_parents
from ..store.people import owner_directory
from .spec import IdFields, ObjectRun, ObjectSpec, Reconciled
from .streams import COMPANY_STREAMS

__all__ = ["CHILD_TO_PARENT", "COMPANIES", "company_id_fields"]

#: HubSpot's HUBSPOT_DEFINED association type from a child company to its parent (changelog, 2018-09-11)
CHILD_TO_PARENT = 14


def company_id_fields(mappings: Mappings) -> IdFields:
    """The cross-reference fields companies and Accounts are created on."""
    if mappings.companies is None:
        return {}
    ref = company_ref(mappings.companies)
    return {("hubspot", "companies"): (ref.hubspot_field,), ("salesforce", "Account"): (ref.salesforce_field,)}


def reconcile(run: ObjectRun) -> Reconciled:
    """Companies with Accounts, and their contacts' and (when deals are synced) deals' links, from the store."""
    with_deals = run.mappings.opportunities is not None
    result = reconcile_companies(company_inputs(run.engine, with_deals), run.companies, owner_directory(run.engine),
                                 deal_ref=DEAL_REF if with_deals else None)
    return Reconciled(result.changes, links=result.links, issues=result.issues,
                      counts={"linked": result.linked, "linked_by_domain": result.matched_by_domain,
                              "name_suggestions": result.suggested_by_name,
                              "planned_creates": dict(result.created)})


def add_links(run: ObjectRun, reconciled: Reconciled, created: Mapping[tuple[str, str, str], str]
              ) -> dict[str, int]:
    """Associate HubSpot contacts and deals with their companies, and companies with their parent company
    (existing, or created by this push)."""
    counts: Counter[str] = Counter()
    by_type: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
    for link in reconciled.links:
        if not isinstance(link, CompanyLink):
            continue
        company = link.company_id or created.get((link.group, "hubspot", "companies"))
        if company is None:
            counts["waiting_for_create"] += 1  # the create failed (and is parked): linked once it exists
            continue
        by_type.setdefault((link.from_type, link.label), []).append((link.from_id, company))
    for (from_type, label), pairs in sorted(by_type.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        type_id = CHILD_TO_PARENT if label == "parent" else None
        outcomes = run.sinks["hubspot"].associate(from_type, "companies", pairs, type_id=type_id)
        done = [p for p, o in outcomes.items() if o.ok]
        if label == "parent":
            note_parents(run.engine, done)
            counts["hubspot_parents"] += len(done)
        else:
            add_company_links(run.engine, [(from_type, f, c) for f, c in done])
            counts[f"hubspot_{from_type}"] += len(done)
        counts["hubspot_failed"] += len(outcomes) - len(done)
    return {k: v for k, v in counts.items() if v}


COMPANIES = ObjectSpec(name="companies", group="companies", streams=COMPANY_STREAMS, mapping="companies",
                       id_fields=company_id_fields, reconcile=reconcile, after_push=add_links)
