"""The streaming generator: world furniture first, then people in batches, holding one company at a time."""

from __future__ import annotations

from collections.abc import Iterator

from connector.sandbox.dataset import SeedBatch

from ._companies import CompanyVariants, HubSpotCompanyRenderer
from ._hubspot import HubSpotRenderer
from ._ids import Ids
from ._marketing import MarketingRenderer, NegativeSignals
from ._person import PersonFactory
from ._profile import SeedProfile
from ._rng import between, stream
from ._salesforce import SalesforceRenderer
from ._schema import CustomSchema
from ._time import DAY, day_str
from ._world import CompanyStream, MarketingContent, make_campaigns, make_reps

__all__ = ["generate", "HUBSPOT_TYPES", "SALESFORCE_TYPES"]

HUBSPOT_TYPES = ("owners", "companies", "contacts", "deals", "calls", "meetings", "emails", "notes", "tasks")
# dependency order: a record only references types listed before it (converted Leads point forward to
# Contacts of the same batch)
SALESFORCE_TYPES = (
    "User",
    "Campaign",
    "Account",
    "Lead",
    "Contact",
    "Opportunity",
    "OpportunityContactRole",
    "Task",
    "Event",
    "CampaignMember",
)
_MIN_NOW_MS = 1_000_000_000_000  # 2001-09-09: anything earlier is almost surely seconds, not milliseconds


def generate(
    people: int, seed: int, *, now_ms: int, profile: SeedProfile | None = None, batch_people: int = 1000
) -> Iterator[SeedBatch]:
    """Yield the seeded world in batches of `batch_people` people; the first batch also holds reps and campaigns.

    The same arguments give byte-identical batches, and the records themselves do not depend on
    `batch_people`. Raises ValueError for a negative `people`, a `batch_people` below 1 or a `now_ms`
    that is not epoch milliseconds.
    """
    if isinstance(people, bool) or not isinstance(people, int) or people < 0:
        raise ValueError(f"people must be an int >= 0, got {people!r}")
    if isinstance(batch_people, bool) or not isinstance(batch_people, int) or batch_people < 1:
        raise ValueError(f"batch_people must be an int >= 1, got {batch_people!r}")
    if isinstance(now_ms, bool) or not isinstance(now_ms, int) or now_ms < _MIN_NOW_MS:
        raise ValueError(f"now_ms must be epoch milliseconds (an int >= {_MIN_NOW_MS}), got {now_ms!r}")
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    return _generate(people, seed, now_ms, profile or SeedProfile(), batch_people)


def _new_batch() -> SeedBatch:
    return SeedBatch(
        hubspot={t: [] for t in HUBSPOT_TYPES},
        hubspot_associations=[],
        hubspot_labeled_associations=[],
        marketing_events=[],
        salesforce={t: [] for t in SALESFORCE_TYPES},
    )


def _generate(people: int, seed: int, now_ms: int, profile: SeedProfile, batch_people: int) -> Iterator[SeedBatch]:
    world_rng = stream(seed, "world")
    max_age = profile.max_age_days * DAY
    reps, owners, users = make_reps(profile, world_rng, (now_ms - max_age - 400 * DAY) // 1000 * 1000)
    campaigns = make_campaigns(profile, world_rng, now_ms)
    content = MarketingContent.build(world_rng)
    ids = Ids({"User": len(users), "Campaign": len(campaigns)})
    factory = PersonFactory(seed, now_ms, profile, reps)
    companies = CompanyStream(stream(seed, "company"), len(reps))
    variants = CompanyVariants(stream(seed, "company-variants"), profile)
    hubspot_companies = HubSpotCompanyRenderer(
        stream(seed, "hubspot-companies"), now_ms, profile.max_age_days, [r.hs_owner_id for r in reps], ids,
        profile.unassociated_contact_share,
    )
    schema = CustomSchema(stream(seed, "schema"), profile.hubspot_custom_properties, profile.salesforce_custom_fields,
                          day_str(now_ms - 30 * DAY))
    hubspot = HubSpotRenderer(
        stream(seed, "hubspot-sales"), now_ms, profile.history_days, profile.sales_activity_scale, ids, schema
    )
    marketing = MarketingRenderer(
        stream(seed, "marketing"), now_ms, profile.history_days, profile.marketing_events_per_person, content, ids
    )
    negative = NegativeSignals(stream(seed, "marketing-negative"), now_ms)
    salesforce = SalesforceRenderer(
        stream(seed, "salesforce-sales"),
        stream(seed, "campaign"),
        now_ms,
        (profile.history_days, profile.max_age_days),
        profile.sales_activity_scale,
        profile.campaign_member_share,
        campaigns,
        [r.sf_user_id for r in reps],
        ids,
        schema,
    )
    bulk_rng = stream(seed, "bulk")
    bulk_start_p = profile.bulk_import_share / 20.0  # groups of 10..30 people
    bulk_left, bulk_ms = 0, 0

    batch = _new_batch()
    batch.hubspot["owners"].extend(owners)
    batch.salesforce["User"].extend(users)
    batch.salesforce["Campaign"].extend(campaigns)
    batch.hubspot_properties = schema.hubspot_definitions()
    batch.salesforce_fields = schema.salesforce_definitions()
    company = companies.next()
    variants.apply(company)
    company_left = company.size
    in_batch = 0
    for index in range(people):
        if company_left == 0:
            variants.finished(company)
            company = companies.next()
            variants.apply(company)
            company_left = company.size
        company_left -= 1
        if bulk_left == 0 and bulk_rng.random() < bulk_start_p:
            bulk_left = between(bulk_rng, 10, 30)
            bulk_ms = now_ms - between(bulk_rng, DAY, max_age - 1)
        person = factory.draw(index, company, bulk_ms if bulk_left else None)
        if bulk_left:
            bulk_left -= 1
        if person.presence != "salesforce":
            deals_before = len(batch.hubspot["deals"])
            contact_id = hubspot.render(person, batch.hubspot, batch.hubspot_associations, batch.hubspot_merged)
            deal_ids = [d["id"] for d in batch.hubspot["deals"][deals_before:]]
            hubspot_companies.render(person, contact_id, deal_ids, batch.hubspot, batch.hubspot_labeled_associations)
            start = len(batch.marketing_events)
            marketing.render(person, contact_id, batch.marketing_events)
            mine = batch.marketing_events[start:]
            negative.render(contact_id, mine)
            batch.marketing_events[start:] = mine
        salesforce.render(person, batch.salesforce)
        in_batch += 1
        if in_batch == batch_people:
            yield batch
            batch = _new_batch()
            in_batch = 0
    if in_batch or people == 0:
        yield batch
