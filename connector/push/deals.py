"""The deal stage of a sync: Opportunities and deals reconciled (after the people, whose new records
the contact links need), their fields written like people's, then the deal-contact links added.

Creates are upserts on the cross-reference ids (HubSpot ``salesforce_opportunity_id``, Salesforce
``HubSpot_Deal_Id__c``), so a replay finds the record. Associations and contact roles are only ever
added; what was added is recorded in the store so the next cycle does not add it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from ..reconcile.deals import DEAL_ID_PROPERTY, OPPORTUNITY_DEAL_ID_FIELD, AssociationChange, reconcile_deals
from ..reconcile.mapping import ContactMapping, OpportunityMapping
from ..store.deals import add_contact_roles, add_deal_contacts, deal_inputs
from ..store.people import owner_directory
from ..systems.ports import Item, Sink
from .engine import Pusher
from ..reconcile.writes import plan_writes

__all__ = ["sync_deals", "DEAL_ID_FIELDS"]

DEAL_ID_FIELDS = {("hubspot", "deals"): (DEAL_ID_PROPERTY,), ("salesforce", "Opportunity"): (OPPORTUNITY_DEAL_ID_FIELD,)}


def sync_deals(engine: Engine, *, sinks: Mapping[str, Sink],
               contacts: ContactMapping, mapping: OpportunityMapping, now_ms: Any, run_id: int | None,
               bulk_threshold: int, closed_within_days: int, dry_run: bool = False) -> dict[str, Any]:
    """Reconcile deals with Opportunities and (unless `dry_run`) write the result; returns the summary."""
    inputs = deal_inputs(engine, closed_within_ms=closed_within_days * 86_400_000, now_ms=now_ms())
    result = reconcile_deals(inputs.deals, inputs.opportunities, inputs.contact_roles, inputs.people, mapping,
                             owner_directory(engine), salesforce_contacts=inputs.salesforce_contacts)
    plan = plan_writes(result.changes)
    summary: dict[str, Any] = {
        "linked": result.linked, "planned_creates": dict(result.created),
        "planned": plan.counts(), "links_to_add": dict(Counter(a.system for a in result.associations)),
        "issues": len(result.issues),
        "issue_kinds": dict(Counter(i.message.split(":")[0][:80] for i in result.issues).most_common(5))}
    if dry_run:
        return summary
    pusher = Pusher(engine, sinks=sinks, mapping=contacts, now_ms=now_ms, run_id=run_id,
                    bulk_threshold=bulk_threshold, id_fields=DEAL_ID_FIELDS)
    summary["push"] = pusher.push(plan).to_json()
    summary["links_added"] = _links(engine, sinks, result.associations, pusher.created, now_ms())
    return summary


def _links(engine: Engine, sinks: Mapping[str, Sink], changes: tuple[AssociationChange, ...],
           created: dict[tuple[str, str, str], str], now_ms: int) -> dict[str, int]:
    """Add deal-contact associations (HubSpot) and contact roles (Salesforce) for existing or new deals."""
    counts: Counter[str] = Counter()
    hs_pairs: list[tuple[str, str]] = []
    sf_items: list[Item] = []
    for a in changes:
        object_type = "deals" if a.system == "hubspot" else "Opportunity"
        deal = a.deal_id or created.get((a.deal_group, a.system, object_type))
        if deal is None:
            counts["waiting_for_create"] += 1  # the create failed (and is parked): linked once it exists
            continue
        if a.system == "hubspot":
            hs_pairs.append((deal, a.contact_id))
        else:
            sf_items.append(Item(f"{deal}:{a.contact_id}", None, {"OpportunityId": deal, "ContactId": a.contact_id,
                                                                  "Role": a.role, "IsPrimary": a.primary}))
    if hs_pairs:
        outcomes = sinks["hubspot"].associate("deals", "contacts", hs_pairs)
        done = [p for p, o in outcomes.items() if o.ok]
        add_deal_contacts(engine, done)
        counts["hubspot"] += len(done)
        counts["hubspot_failed"] += len(outcomes) - len(done)
    if sf_items:
        roles = sinks["salesforce"].create("OpportunityContactRole", sf_items)
        made = [(o.record_id, item.values) for item in sf_items if (o := roles[item.key]).ok and o.record_id]
        add_contact_roles(engine, made, now_ms)
        counts["salesforce"] += len(made)
        counts["salesforce_failed"] += len(sf_items) - len(made)
    return {k: v for k, v in counts.items() if v}
