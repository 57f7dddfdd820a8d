"""Deals: HubSpot deals and Salesforce Opportunities, with their contact links, described once.

They run after the people, whose new records the links need. Creates are upserts on the cross-reference
ids (HubSpot ``salesforce_opportunity_id``, Salesforce ``HubSpot_Deal_Id__c``), so a replay finds the
record: no look-up is needed. Associations and contact roles are only ever added, after the creates;
what was added is recorded in the store so the next cycle does not add it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ..reconcile.deals import DEAL_ID_PROPERTY, OPPORTUNITY_DEAL_ID_FIELD, AssociationChange, reconcile_deals
from ..reconcile.mapping import Mappings
from ..reconcile.companies import companies_by_account
from ..store.companies import add_company_links, companies_and_accounts
from ..store.deals import add_contact_roles, add_deal_contacts, deal_inputs
from ..store.people import owner_directory
from ..systems.ports import Item
from .spec import IdFields, ObjectRun, ObjectSpec, Reconciled
from .streams import OPPORTUNITY_STREAMS

__all__ = ["DEALS", "deal_id_fields"]


def deal_id_fields(mappings: Mappings) -> IdFields:
    """The cross-reference fields deals and Opportunities are created on."""
    return {("hubspot", "deals"): (DEAL_ID_PROPERTY,), ("salesforce", "Opportunity"): (OPPORTUNITY_DEAL_ID_FIELD,)}


def reconcile(run: ObjectRun) -> Reconciled:
    """Deals with Opportunities (closed ones older than the configured days left out), from the store."""
    inputs = deal_inputs(run.engine, closed_within_ms=run.options.closed_opportunities_days * 86_400_000,
                         now_ms=run.clock())
    companies = run.mappings.companies
    linked = None
    if companies is not None and companies.associations.deals and (
            run.options.objects is None or "companies" in run.options.objects):
        linked = companies_by_account(*companies_and_accounts(run.engine), companies)
    result = reconcile_deals(inputs.deals, inputs.opportunities, inputs.contact_roles, inputs.people,
                             run.opportunities, owner_directory(run.engine),
                             salesforce_contacts=inputs.salesforce_contacts, company_of_account=linked)
    return Reconciled(result.changes, links=result.associations, issues=result.issues,
                      counts={"linked": result.linked, "planned_creates": dict(result.created)})


def add_links(run: ObjectRun, reconciled: Reconciled, created: Mapping[tuple[str, str, str], str]
              ) -> dict[str, int]:
    """Add deal-contact associations (HubSpot) and contact roles (Salesforce) for existing or new deals."""
    return _links(run, tuple(a for a in reconciled.links if isinstance(a, AssociationChange)), created)


def _links(run: ObjectRun, changes: tuple[AssociationChange, ...],
           created: Mapping[tuple[str, str, str], str]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    hs_pairs: dict[str, list[tuple[str, str]]] = {}
    sf_items: list[Item] = []
    for a in changes:
        object_type = "deals" if a.system == "hubspot" else "Opportunity"
        deal = a.deal_id or created.get((a.deal_group, a.system, object_type))
        if deal is None:
            counts["waiting_for_create"] += 1  # the create failed (and is parked): linked once it exists
            continue
        if a.system == "hubspot":
            hs_pairs.setdefault(a.to_type, []).append((deal, a.contact_id))
        else:
            sf_items.append(Item(f"{deal}:{a.contact_id}", None, {"OpportunityId": deal, "ContactId": a.contact_id,
                                                                  "Role": a.role, "IsPrimary": a.primary}))
    for to_type, pairs in sorted(hs_pairs.items()):
        outcomes = run.sinks["hubspot"].associate("deals", to_type, pairs)
        done = [p for p, o in outcomes.items() if o.ok]
        if to_type == "contacts":
            add_deal_contacts(run.engine, done)
            counts["hubspot"] += len(done)
        else:
            add_company_links(run.engine, [("deals", d, c) for d, c in done])
            counts[f"hubspot_{to_type}"] += len(done)
        counts["hubspot_failed"] += len(outcomes) - len(done)
    if sf_items:
        roles = run.sinks["salesforce"].create("OpportunityContactRole", sf_items)
        made = [(o.record_id, item.values) for item in sf_items if (o := roles[item.key]).ok and o.record_id]
        add_contact_roles(run.engine, made, run.clock())
        counts["salesforce"] += len(made)
        counts["salesforce_failed"] += len(sf_items) - len(made)
    return {k: v for k, v in counts.items() if v}


DEALS = ObjectSpec(name="deals", group="opportunities", streams=OPPORTUNITY_STREAMS, mapping="opportunities",
                   id_fields=deal_id_fields, reconcile=reconcile, after_push=add_links)
