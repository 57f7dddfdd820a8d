"""Companies as each system records them: how the forms differ, the hierarchy, and the HubSpot company records.

Salesforce renders a company as its Account (seed/_salesforce.py, with its first Contact); HubSpot as a
`companies` record with its first associated contact. `CompanyVariants` decides per company, before any of
its people are drawn, how the two records will differ; `HubSpotCompanyRenderer` writes the HubSpot side.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from connector.sandbox.dataset import LabeledAssociation
from connector.sandbox.hubspot.industries import SALESFORCE_TO_HUBSPOT

from . import _words as W
from ._ids import Ids
from ._person import Person
from ._profile import SeedProfile
from ._rng import below, between, capped
from ._time import DAY, MINUTE
from ._world import Company, ascii_slug

__all__ = [
    "CompanyVariants",
    "HubSpotCompanyRenderer",
    "CONTACT_TO_COMPANY",
    "DEAL_TO_COMPANY",
    "CHILD_TO_PARENT",
    "REBRAND_TLD",
]

# HUBSPOT_DEFINED association type ids (type, inverse): primary company of a contact and of a deal, and a
# child company's parent. HubSpot's changelog of 2018-09-11 gives 13 (parent -> child) and 14 (child ->
# parent); 1/2 and 5/6 are the primary company types of the v4 associations guide.
CONTACT_TO_COMPANY = (1, 2)
DEAL_TO_COMPANY = (5, 6)
CHILD_TO_PARENT = (14, 13)
#: the top-level domain a rebranded company moved to in HubSpot; no seeded domain uses it, so it never clashes
REBRAND_TLD = ".ai"
_PARENT_POOL = 256  # recent companies present in both systems that a new subsidiary can belong to
_DUPLICATE_TAKES = 0.5  # of a duplicated company's later contacts, those associated to the duplicate


def website_forms(domain: str) -> tuple[str, ...]:
    """What users type into Salesforce's Website for `domain`, other than the usual "www.<domain>"."""
    shouted = domain[:1].upper() + domain[1:]
    return (f"https://{domain}/", f"http://www.{shouted}", domain, f"https://www.{domain}")


def name_variants(company: Company) -> list[str]:
    """The company's name written another way ("Acme Inc." -> "Acme, Inc.", "Acme Inc", "ACME INC.", "Acme")."""
    base, suffix, numbered = company.base_name, company.suffix, company.numbered
    if suffix:
        forms = [
            f"{base}, {suffix}{numbered}",
            f"{base} {suffix.rstrip('.')}{numbered}",
            f"{base}{numbered}",
            company.name.upper(),
        ]
    else:
        forms = [f"{base} Inc{numbered}", company.name.upper(), f"{base}, Inc.{numbered}"]
    return [f for f in dict.fromkeys(forms) if f != company.name]


class CompanyVariants:
    """Draws, per company, its scope, Website form, HubSpot name and domain, duplicate and parent."""

    def __init__(self, rng: random.Random, profile: SeedProfile) -> None:
        self.rng = rng
        self.p = profile
        self.sf_only, self.hs_only = profile.one_system_company_shares
        self._parents: deque[tuple[str, str]] = deque(maxlen=_PARENT_POOL)

    def apply(self, company: Company) -> None:
        """Fill in how each system records `company` (called before any of its people are drawn)."""
        rng, p = self.rng, self.p
        # a fixed number of draws per company whatever the outcome, so one knob leaves the other decisions
        # (and the people, through the scope) unchanged
        u = [rng.random() for _ in range(11)]
        sf_only, hs_only = self.sf_only, self.hs_only
        company.scope = "salesforce" if u[0] < sf_only else "hubspot" if u[0] < sf_only + hs_only else "both"
        forms = website_forms(company.domain)
        typed = u[2] < p.website_variant_share
        company.sf_website = forms[int(u[1] * len(forms))] if typed else f"www.{company.domain}"
        if u[3] < p.rebranded_domain_share:
            lap = company.numbered.strip()
            company.hs_domain = ascii_slug(company.base_name + company.suffix) + lap + REBRAND_TLD
        else:
            company.hs_domain = company.domain
        variants = name_variants(company)
        varied = bool(variants) and u[5] < p.company_name_variant_share
        company.hs_name = variants[int(u[4] * len(variants))] if varied else company.name
        if u[6] < p.hubspot_duplicate_company_share:  # the same name again, or another form of it
            other = variants[int(u[8] * len(variants))] if variants and u[7] >= 0.5 else company.hs_name
            company.hs_duplicate_name = other
        if self._parents and u[9] < p.subsidiary_share:
            company.parent_account_id, company.parent_hubspot_id = self._parents[int(u[10] * len(self._parents))]

    def finished(self, company: Company) -> None:
        """`company` has all its people: when it is in both systems, later companies may be its subsidiaries."""
        if company.account_id is not None and company.hubspot_id is not None:
            self._parents.append((company.account_id, company.hubspot_id))


class HubSpotCompanyRenderer:
    """Adds the HubSpot company of a person's company (with their first association) and the associations."""

    def __init__(self, rng: random.Random, now_ms: int, max_age_days: int, owners: list[str], ids: Ids,
                 unassociated_share: float) -> None:
        self.rng = rng
        self.now = now_ms
        self.oldest = now_ms - max_age_days * DAY - 365 * DAY  # as old as the oldest Account
        self.owners = owners
        self.ids = ids
        self.unassociated = unassociated_share

    def render(self, person: Person, contact_id: str, deal_ids: list[str], out: dict[str, list[dict[str, Any]]],
               labeled: list[LabeledAssociation]) -> None:
        """Associate the person's HubSpot contact and deals to their company, creating the company first."""
        rng, company = self.rng, person.company
        if rng.random() < self.unassociated:
            return
        target = company.hubspot_id
        if target is None:
            target = self._create(company, person.hs_created, out, labeled)
        elif company.hubspot_duplicate_id is not None and rng.random() < _DUPLICATE_TAKES:
            target = company.hubspot_duplicate_id
        labeled.append(("contacts", contact_id, "companies", target, *CONTACT_TO_COMPANY))
        labeled.extend(("deals", did, "companies", target, *DEAL_TO_COMPANY) for did in deal_ids)

    def _create(self, company: Company, first_contact_ms: int, out: dict[str, list[dict[str, Any]]],
                labeled: list[LabeledAssociation]) -> str:
        rng, now = self.rng, self.now
        if rng.random() < 0.6:  # made from the contact (by hand or by HubSpot's domain auto-association)
            created = capped(rng, first_contact_ms + below(rng, 10 * MINUTE), first_contact_ms, now)
        else:  # imported before the contact existed
            created = max(self.oldest, first_contact_ms - between(rng, DAY, 365 * DAY))
        modified = created if rng.random() < 0.3 else between(rng, created, now)
        company.hubspot_id = self.ids.hubspot("companies")
        props: dict[str, str] = {
            "name": company.hs_name,
            "domain": company.hs_domain,
            "website": f"https://www.{company.hs_domain}",
            "industry": SALESFORCE_TO_HUBSPOT[company.industry],
            "numberofemployees": str(company.employees),
            "annualrevenue": str(company.revenue),
            "city": company.city,
            "country": W.COUNTRIES[company.country][1][0],
            "hubspot_owner_id": self.owners[company.owner],
            "createdate": str(created),
            "hs_lastmodifieddate": str(modified),
        }
        if company.state is not None:
            props["state"] = company.state
        out["companies"].append(
            {"id": company.hubspot_id, "properties": props, "createdAt": created, "updatedAt": modified}
        )
        if company.parent_hubspot_id is not None:
            labeled.append(("companies", company.hubspot_id, "companies", company.parent_hubspot_id, *CHILD_TO_PARENT))
        if company.hs_duplicate_name is not None:  # a later import or a hand-made second record, less complete
            dup_created = between(rng, created, now)
            dup_modified = between(rng, dup_created, now)
            company.hubspot_duplicate_id = self.ids.hubspot("companies")
            out["companies"].append(
                {
                    "id": company.hubspot_duplicate_id,
                    "properties": {
                        "name": company.hs_duplicate_name,
                        "domain": company.hs_domain,
                        "city": company.city,
                        "createdate": str(dup_created),
                        "hs_lastmodifieddate": str(dup_modified),
                    },
                    "createdAt": dup_created,
                    "updatedAt": dup_modified,
                }
            )
        return company.hubspot_id
