"""The contract between the seed generator and the two emulators.

The generator (``seed.py``) yields ``SeedBatch`` objects; each emulator's ``load(batch)`` stores its
part. Records are in each system's own vocabulary, with times as epoch milliseconds (the emulators
render them in their API's format) and dates as ``YYYY-MM-DD`` strings.

HubSpot records: ``{"id": "123", "properties": {name: str | None}, "createdAt": ms, "updatedAt": ms,
"history": {name: [{"value": str, "timestamp": ms, "sourceType": str}, ...]}}`` ("history" optional,
newest first; the emulator derives one entry from the current value where it is missing).
Object types: companies, contacts, deals, calls, meetings, emails, notes, tasks (and "owners": ``{"id",
"email", "firstName", "lastName", "userId"}``).

HubSpot associations come in two lists. ``hubspot_associations`` holds ``Association`` tuples whose type is
the default one of the pair of object types (contact->deal, contact->engagement). ``hubspot_labeled_associations``
holds ``LabeledAssociation`` tuples that carry their HUBSPOT_DEFINED type ids both ways, for the company
associations where the pair alone does not say which type: contact->company primary (1, inverse 2),
deal->company primary (5, inverse 6), child company->parent company (14, inverse 13).

Salesforce records: ``{"Id": "00Q...", field: value, ...}`` with ``CreatedDate``, ``LastModifiedDate``
and ``SystemModstamp`` as ms and dates as strings; Ids come from ``salesforce.ids.make_id``.
sObjects: User, Account, Campaign, Lead, Contact, Opportunity, OpportunityContactRole, Task, Event,
CampaignMember.

HubSpot records may carry ``"archived": True`` and ``"archivedAt"`` (ms); Salesforce records
``IsDeleted`` with ``_DeletedDate`` (ms) and ``MasterRecordId`` (merge losers). The first batch also
holds the account's custom schema (``hubspot_properties``, ``salesforce_fields``).

Marketing events are system-neutral so the HubSpot emulator decides how the public APIs expose them
(events API for page views and form submissions, email events API for opens and clicks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

__all__ = ["SeedBatch", "MarketingEvent", "MarketingEventKind", "Association", "LabeledAssociation"]

MarketingEventKind = Literal["page_view", "form_submission", "email_open", "email_click", "email_delivered",
                             "email_bounce", "unsubscribe"]


class MarketingEvent(TypedDict):
    """One timestamped marketing engagement of one HubSpot contact."""

    id: str
    kind: MarketingEventKind
    contact_id: str
    email: str
    occurred_at: int
    properties: dict[str, str]


# (from_object_type, from_id, to_object_type, to_id), e.g. ("contacts", "51", "deals", "9001")
Association = tuple[str, str, str, str]
# (from_object_type, from_id, to_object_type, to_id, type_id, inverse_type_id), all HUBSPOT_DEFINED, e.g.
# ("contacts", "51", "companies", "700000003", 1, 2): the contact's primary company, stored both ways
LabeledAssociation = tuple[str, str, str, str, int, int]


@dataclass
class SeedBatch:
    """A slice of the seeded world; records referenced across batches are always in earlier batches."""

    hubspot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hubspot_associations: list[Association] = field(default_factory=list)
    hubspot_labeled_associations: list[LabeledAssociation] = field(default_factory=list)
    marketing_events: list[MarketingEvent] = field(default_factory=list)
    salesforce: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (object type, merged-away id, survivor id): HubSpot ids that now read as another record
    hubspot_merged: list[tuple[str, str, str]] = field(default_factory=list)
    #: custom HubSpot property definitions by object type (Properties API bodies); first batch only
    hubspot_properties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: custom Salesforce field definitions (``CustomField`` keyword arguments); first batch only
    salesforce_fields: list[dict[str, Any]] = field(default_factory=list)

    def size(self) -> int:
        return (
            sum(len(v) for v in self.hubspot.values())
            + sum(len(v) for v in self.salesforce.values())
            + len(self.hubspot_associations)
            + len(self.hubspot_labeled_associations)
            + len(self.marketing_events)
        )
