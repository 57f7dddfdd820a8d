"""The shared furniture of the seeded world: sales reps, campaigns, marketing content and companies."""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from connector.sandbox.salesforce.ids import make_id

from . import _words as W
from ._profile import SeedProfile
from ._rng import Weighted, below, between, one_of
from ._time import DAY, day_str
from ._vocab import ACCOUNT_TYPES, CAMPAIGN_TYPES

__all__ = ["ORG_DOMAIN", "Rep", "Company", "MarketingContent", "make_reps", "make_campaigns", "CompanyStream"]

ORG_DOMAIN = "sellwell.example"
HUBSPOT_OWNER_BASE = 70_000_000
HUBSPOT_USER_BASE = 9_100_000


_SLUGS: dict[str, str] = {}


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only (for email local parts and domains); cached, names recur."""
    slug = _SLUGS.get(text)
    if slug is None:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        slug = "".join(ch for ch in plain.lower() if ch.isalnum())
        if len(_SLUGS) < 100_000:
            _SLUGS[text] = slug
    return slug


@dataclass(frozen=True, slots=True)
class Rep:
    """One sales rep, known to Salesforce as a User and to HubSpot as an owner with the same email."""

    first: str
    last: str
    email: str
    hs_owner_id: str
    hs_user_id: int
    sf_user_id: str
    active: bool


def make_reps(
    profile: SeedProfile, rng: random.Random, created_ms: int
) -> tuple[list[Rep], list[dict[str, Any]], list[dict[str, Any]]]:
    """The reps plus their HubSpot owner records and Salesforce User records."""
    ascii_first = [n for n in W.FIRST_NAMES if ascii_slug(n) == n.lower()]
    ascii_last = [n for n in W.LAST_NAMES if ascii_slug(n) == n.lower()]
    reps: list[Rep] = []
    seen: set[str] = set()
    while len(reps) < profile.reps:
        first, last = one_of(rng, ascii_first), one_of(rng, ascii_last)
        email = f"{first.lower()}.{last.lower()}@{ORG_DOMAIN}"
        if email in seen:
            continue
        seen.add(email)
        n = len(reps) + 1
        active = n <= profile.reps - profile.inactive_reps
        reps.append(
            Rep(first, last, email, str(HUBSPOT_OWNER_BASE + n), HUBSPOT_USER_BASE + n, make_id("User", n), active)
        )
    owners = [
        {"id": r.hs_owner_id, "email": r.email, "firstName": r.first, "lastName": r.last, "userId": r.hs_user_id}
        for r in reps
    ]
    users = [
        {
            "Id": r.sf_user_id,
            "Username": r.email,
            "Email": r.email,
            "FirstName": r.first,
            "LastName": r.last,
            "Name": f"{r.first} {r.last}",
            "Alias": (r.first[0] + r.last)[:8].lower(),
            "IsActive": r.active,
            "CreatedDate": created_ms,
            "LastModifiedDate": created_ms,
            "SystemModstamp": created_ms,
        }
        for r in reps
    ]
    return reps, owners, users


def make_campaigns(profile: SeedProfile, rng: random.Random, now_ms: int) -> list[dict[str, Any]]:
    """A few Salesforce campaigns spread over the engagement window (some finished, some running)."""
    campaigns = []
    span = profile.history_days * DAY
    for n in range(1, profile.campaigns + 1):
        start = now_ms - span + (span * n) // (profile.campaigns + 1) - below(rng, 7 * DAY)
        created = start - between(rng, 3 * DAY, 20 * DAY - 1)
        created -= created % 1000  # Salesforce datetimes are whole seconds
        kind = one_of(rng, CAMPAIGN_TYPES)
        ended = start + 45 * DAY < now_ms
        modified = min(now_ms, start + 50 * DAY) // 1000 * 1000
        campaigns.append(
            {
                "Id": make_id("Campaign", n),
                "Name": f"{day_str(start)[:7]} {kind}: {one_of(rng, W.CAMPAIGN_THEMES)}",
                "Type": kind,
                "Status": "Completed" if ended else "In Progress",
                "IsActive": not ended,
                "StartDate": day_str(start),
                "CreatedDate": created,
                "LastModifiedDate": modified if ended else created,
                "SystemModstamp": modified if ended else created,
            }
        )
    return campaigns


@dataclass(frozen=True, slots=True)
class MarketingContent:
    """Pages, forms and marketing emails that marketing events point at."""

    pages: tuple[tuple[str, str], ...]
    forms: tuple[tuple[str, str, str], ...]
    emails: tuple[tuple[str, str], ...]

    @classmethod
    def build(cls, rng: random.Random) -> MarketingContent:
        pages = tuple((f"https://www.{ORG_DOMAIN}{path}", title) for path, title in W.PAGES)
        forms = tuple(
            (str(uuid.UUID(int=rng.getrandbits(128), version=4)), title, f"https://www.{ORG_DOMAIN}{path}")
            for title, path in W.FORMS
        )
        emails = tuple((str(1_100_000 + 17 * i + below(rng, 17)), s) for i, s in enumerate(W.EMAIL_SUBJECTS))
        return cls(pages, forms, emails)


@dataclass(slots=True)
class Company:
    """An employer; people of one company are generated consecutively, so only one is held at a time."""

    name: str
    domain: str
    industry: str
    employees: int
    revenue: int
    country: str
    city: str
    state: str | None
    owner: int
    account_type: str
    size: int
    base_name: str = ""  # "Zenith Hotels": the name is base, suffix and numbered, for name variants
    suffix: str = ""  # "Ltd", "" when none
    numbered: str = ""  # " 2" once all name combinations are used, else ""
    account_id: str | None = None
    account_created: int = 0
    used_locals: set[str] = field(default_factory=set)
    # how each system records the company (seed/_companies.CompanyVariants draws these)
    scope: str = "both"  # "both" | "salesforce" | "hubspot": its people are all only in that system
    sf_website: str = ""  # the Account's Website as a user typed it
    hs_name: str = ""
    hs_domain: str = ""  # bare host; differs from `domain` after a rebrand
    hs_duplicate_name: str | None = None  # a second HubSpot company with the same domain, under this name
    parent_account_id: str | None = None  # its parent's Account and HubSpot company (a subsidiary)
    parent_hubspot_id: str | None = None
    hubspot_id: str | None = None  # set when its HubSpot company is rendered
    hubspot_duplicate_id: str | None = None


_SIZE = Weighted([(1, 0.40), (2, 0.18), (3, 0.12), (4, 0.07), (6, 0.08), (9, 0.07), (15, 0.05), (30, 0.03)])
_COUNTRY = Weighted([(key, spec[0]) for key, spec in W.COUNTRIES.items()])
_NAME_SPACE = len(W.COMPANY_HEADS) * len(W.COMPANY_TAILS) * len(W.COMPANY_SUFFIXES)
_NAME_STRIDE = 1_000_003  # a prime larger than the name space: k -> k*stride mod space is a bijection


class CompanyStream:
    """Yields distinct companies (unique names and domains) with long-tailed head counts."""

    def __init__(self, rng: random.Random, reps: int) -> None:
        self._rng = rng
        self._reps = reps
        self._offset = below(rng, _NAME_SPACE)
        self._count = 0

    def next(self) -> Company:
        rng = self._rng
        k = self._count
        self._count += 1
        j = (k * _NAME_STRIDE + self._offset) % _NAME_SPACE
        j, h = divmod(j, len(W.COMPANY_HEADS))
        s, t = divmod(j, len(W.COMPANY_TAILS))
        head, tail = W.COMPANY_HEADS[h], W.COMPANY_TAILS[t]
        suffix, tld = W.COMPANY_SUFFIXES[s]
        lap = k // _NAME_SPACE
        numbered = f" {lap + 1}" if lap else ""
        name = f"{head} {tail}" + (f" {suffix}" if suffix else "") + numbered
        domain = ascii_slug(head + tail) + (str(lap + 1) if lap else "") + tld
        size = _SIZE.pick(rng)
        if size > 3:
            size = between(rng, size - size // 3, size + size // 3)
        employees = min(int(rng.paretovariate(0.8) * 4) + 1, 60_000)
        country = _COUNTRY.pick(rng)
        city, state = one_of(rng, W.COUNTRIES[country][2])
        return Company(
            name=name,
            domain=domain,
            industry=one_of(rng, W.INDUSTRIES),
            employees=employees,
            revenue=employees * between(rng, 60, 300 - 1) * 1000,
            country=country,
            city=city,
            state=state,
            owner=below(rng, self._reps),
            account_type=one_of(rng, ACCOUNT_TYPES[:2]),
            size=size,
            base_name=f"{head} {tail}",
            suffix=suffix,
            numbered=numbered,
        )
