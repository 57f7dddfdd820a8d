"""One person's truth and how each system sees it: presence, funnel stage, timeline, conflicts and dirt."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import _words as W
from ._dirt import Dirt, phone_number
from ._lifecycle import Fates
from ._profile import SeedProfile
from ._rng import Weighted, below, between, capped, one_of, stream
from ._time import DAY, HOUR, MINUTE
from ._vocab import (
    ANALYTICS_SOURCES,
    LEAD_STATUS_TO_SF,
    LEAD_STATUS_WEIGHTS,
    OPEN_OPP_STAGES,
    SF_ONLY_LEAD_SOURCES,
    SOURCE_TO_LEAD_SOURCE,
    SOURCE_TYPES_CREATE,
    SOURCE_TYPES_UPDATE,
    STAGE_RANK,
    STAGE_WEIGHTS,
)
from ._world import Company, Rep, ascii_slug

__all__ = ["Person", "Opp", "PersonFactory"]

History = list[tuple[str, int, str]]  # (value, ms, sourceType), oldest first


@dataclass(slots=True)
class Opp:
    """A sales opportunity: a Salesforce Opportunity and/or a HubSpot deal with the same name and amount."""

    name: str
    amount: int
    stage: str
    created: int
    modified: int
    close_ms: int
    prior_stage: str | None
    in_salesforce: bool
    in_hubspot: bool


@dataclass(slots=True)
class Person:
    """Everything both renderers need; fields prefixed hs_/sf_ are that system's (possibly diverging) view."""

    index: int
    presence: str  # "both" | "hubspot" | "salesforce"
    stage: str
    company: Company
    owner: Rep
    first: str
    last: str
    email: str
    title: str
    department: str
    mobile: str | None
    country: str
    city: str
    state: str | None
    hs_phone: str | None
    sf_phone: str | None
    hs_title: str
    sf_title: str
    hs_company: str
    sf_company: str
    hs_lastname: str | None
    hs_country: str
    sf_country: str
    sf_email: str
    hs_source: str
    sf_lead_source: str
    lead_status: str | None
    sf_lead_status: str
    rating: str
    legal_basis: str | None
    hs_owned: bool
    optout_hs: bool
    optout_sf: bool
    sf_kind: str | None  # "lead" | "contact" | None
    created: int
    hs_created: int
    sf_created: int
    converted_at: int  # 0 unless the Contact came from a converted Lead
    hs_modified: int
    sf_modified: int
    sf_modstamp: int
    bulk: bool
    history: dict[str, History] = field(default_factory=dict)
    opp: Opp | None = None
    duplicate_at: int = 0  # creation time of a duplicate Salesforce Lead, 0 when none
    duplicate_email: str = ""
    hs_optout_unset: bool = False  # hs_email_optout never set: null, not "false"
    # later events (_lifecycle.Fates); 0 = did not happen
    hs_archived_at: int = 0
    hs_absorbed: int = 0  # how many duplicates the HubSpot contact absorbed by merges
    hs_merged_at: int = 0
    sf_deleted_at: int = 0
    sf_merged_at: int = 0  # the Salesforce person record absorbed a duplicate (a loser with MasterRecordId)
    sf_restored_at: int = 0
    dup_converted_at: int = 0  # the duplicate Lead was converted into this person's existing Contact


_LEAD_STATUS = {stage: Weighted(pairs) for stage, pairs in LEAD_STATUS_WEIGHTS.items()}
_STAGES = {presence: Weighted(pairs) for presence, pairs in STAGE_WEIGHTS.items()}
_SOURCES = Weighted([(name, w) for name, w, _ in ANALYTICS_SOURCES])
_SF_SOURCES = Weighted(SF_ONLY_LEAD_SOURCES)
_CREATE_SRC = Weighted(SOURCE_TYPES_CREATE)
_UPDATE_SRC = Weighted(SOURCE_TYPES_UPDATE)
_OPEN_STAGES = Weighted([(name, w) for name, _, w in OPEN_OPP_STAGES])
_LEAD_SOURCE_TO_HS = {
    "Web": "DIRECT_TRAFFIC",
    "Partner Referral": "REFERRALS",
    "Purchased List": "OFFLINE",
    "Other": "OTHER_CAMPAIGNS",
}
_COUNTRY_KEYS = tuple(W.COUNTRIES)
_LADDER = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)


class PersonFactory:
    """Draws people one at a time from per-concern random streams; holds no per-person state."""

    def __init__(self, seed: int, now_ms: int, profile: SeedProfile, reps: list[Rep]) -> None:
        self.now = now_ms
        self.p = profile
        self.reps = reps
        self.r_presence = stream(seed, "presence")
        self.r_identity = stream(seed, "identity")
        self.r_time = stream(seed, "time")
        self.r_quality = stream(seed, "quality")
        self.r_deal = stream(seed, "deal")
        self.dirt = Dirt(profile, now_ms, self.r_quality)
        self.fates = Fates(profile, now_ms, stream(seed, "lifecycle"))
        self.max_age = profile.max_age_days * DAY
        # people of one-system companies are one-system people; the others are drawn with shares that keep
        # the profile's presence shares over all people (a company's scope does not depend on its size)
        sf_co, hs_co = profile.one_system_company_shares
        rest = 1.0 - sf_co - hs_co
        self.both_cut = profile.both_share / rest if rest > 0 else 1.0
        self.hubspot_cut = (profile.both_share + profile.hubspot_only_share - hs_co) / rest if rest > 0 else 1.0

    def draw(self, index: int, company: Company, bulk_ms: int | None) -> Person:
        """The `index`-th person, working at `company`; `bulk_ms` pins all their record times (a bulk import)."""
        p, now = self.p, self.now
        rp = self.r_presence
        u = rp.random()
        if company.scope != "both":
            presence = company.scope
        else:
            presence = "both" if u < self.both_cut else "hubspot" if u < self.hubspot_cut else "salesforce"
        stage = _STAGES[presence].pick(rp)
        sf_kind: str | None = None
        if presence != "hubspot":
            if STAGE_RANK[stage] >= 4:
                sf_kind = "contact"
            elif stage == "salesqualifiedlead":
                sf_kind = "contact" if rp.random() < 0.4 else "lead"
            elif stage == "other":
                sf_kind = "contact" if rp.random() < 0.3 else "lead"
            else:
                sf_kind = "lead"
        converted = sf_kind == "contact" and rp.random() < p.converted_lead_share
        origin = "hubspot" if presence == "hubspot" or (presence == "both" and rp.random() < 0.8) else "salesforce"
        lead_status = _LEAD_STATUS[stage].pick(rp)
        owner_index = company.owner if rp.random() < 0.8 else below(rp, len(self.reps))
        rank = STAGE_RANK[stage]
        hs_owned = rp.random() < (0.1 if rank == 0 else 0.75 if stage in ("lead", "other") else 0.95)
        if origin == "hubspot":
            hs_source = _SOURCES.pick(rp)
            lead_source = SOURCE_TO_LEAD_SOURCE[hs_source]
        else:
            lead_source = _SF_SOURCES.pick(rp)
            if presence == "both" and lead_source == "Phone Inquiry":
                lead_source = "Other"
            hs_source = _LEAD_SOURCE_TO_HS.get(lead_source, "OFFLINE")

        # identity
        ri = self.r_identity
        first, last = one_of(ri, W.FIRST_NAMES), one_of(ri, W.LAST_NAMES)
        title, department = one_of(ri, W.TITLES)
        if ri.random() < p.personal_email_share:
            local = f"{ascii_slug(first)}.{ascii_slug(last)}{index}"
            email = f"{local}@{one_of(ri, W.PERSONAL_DOMAINS)}"
        else:
            f, l_ = ascii_slug(first) or "x", ascii_slug(last) or "x"
            local = (f"{f}.{l_}", f"{f[0]}{l_}", f"{f}", f"{f}_{l_}")[below(ri, 4)]
            if local in company.used_locals:
                local = f"{f}.{l_}{len(company.used_locals) + 1}"
            company.used_locals.add(local)
            email = f"{local}@{company.domain}"
        phone = phone_number(ri, company.country) if ri.random() < 0.85 else None
        mobile = phone_number(ri, company.country) if ri.random() < 0.35 else None
        if ri.random() < 0.9:
            country, city, state = company.country, company.city, company.state
        else:
            country = one_of(ri, _COUNTRY_KEYS)
            city, state = one_of(ri, W.COUNTRIES[country][2])
        spellings = W.COUNTRIES[country][1]
        hs_country = spellings[0] if ri.random() < 0.7 else one_of(ri, spellings)
        sf_country = spellings[0] if ri.random() < 0.6 else one_of(ri, spellings)

        # timeline
        rt = self.r_time
        if bulk_ms is not None:
            created = hs_created = sf_created = bulk_ms
        else:
            created = now - max(MINUTE, int(self.max_age * rt.random() ** 1.8))
            hs_created = created if origin == "hubspot" else capped(rt, created + between(rt, MINUTE, 3 * DAY - 1),
                                                                    created, now)
            sf_created = created
        path = self._path(rt, stage, hs_created, bulk_ms)
        if bulk_ms is None and presence == "both" and origin == "hubspot":
            handover = next((t for s, t in path if STAGE_RANK[s] >= 2 and s != "other"), 0)
            sf_created = capped(
                rt,
                handover + between(rt, MINUTE, 2 * HOUR - 1) if handover else created + between(rt, HOUR, 7 * DAY - 1),
                handover or created,
                now,
            )
        converted_at = 0
        if converted:
            if bulk_ms is not None:
                converted_at = bulk_ms
            else:
                sql_at = next((t for s, t in path if STAGE_RANK[s] >= 3 and s != "other"), 0)
                converted_at = (sql_at if sql_at > sf_created
                                else capped(rt, sf_created + between(rt, HOUR, 30 * DAY - 1), sf_created, now))
        last_change = path[-1][1]
        history: dict[str, History] = {}
        create_src = _CREATE_SRC.pick(rt)
        if len(path) > 1:
            history["lifecyclestage"] = [
                (s, t, create_src if k == 0 else _UPDATE_SRC.pick(rt)) for k, (s, t) in enumerate(path)
            ]
        if lead_status is not None and rank >= 2 and len(path) > 1 and lead_status != "NEW" and rt.random() < 0.6:
            history["hs_lead_status"] = [
                ("NEW", path[0][1], create_src),
                (lead_status, last_change, _UPDATE_SRC.pick(rt)),
            ]
        hs_modified = max(last_change, hs_created)
        sf_base = max(converted_at or sf_created, last_change if sf_kind == "lead" and last_change >= sf_created else 0)
        sf_modified = sf_base
        if bulk_ms is None:
            if rt.random() < 0.25:
                hs_modified = between(rt, hs_modified, now)
            if rt.random() < 0.35:
                sf_modified = between(rt, sf_base, now)

        sf_status = LEAD_STATUS_TO_SF.get(lead_status or "", None) or _sf_status_for(stage)
        person = Person(
            index=index,
            presence=presence,
            stage=stage,
            company=company,
            owner=self.reps[owner_index],
            first=first,
            last=last,
            email=email,
            title=title,
            department=department,
            mobile=mobile,
            country=country,
            city=city,
            state=state,
            hs_phone=phone,
            sf_phone=phone,
            hs_title=title,
            sf_title=title,
            hs_company=company.name,
            sf_company=company.name,
            hs_lastname=last,
            hs_country=hs_country,
            sf_country=sf_country,
            sf_email=email,
            hs_source=hs_source,
            sf_lead_source=lead_source,
            lead_status=lead_status,
            sf_lead_status=sf_status,
            rating=_rating(stage),
            legal_basis=None,
            hs_owned=hs_owned,
            optout_hs=False,
            optout_sf=False,
            sf_kind=sf_kind,
            created=created,
            hs_created=hs_created,
            sf_created=sf_created,
            converted_at=converted_at,
            hs_modified=hs_modified,
            sf_modified=sf_modified,
            sf_modstamp=sf_modified,
            bulk=bulk_ms is not None,
            history=history,
        )
        self.dirt.apply(person, create_src)
        if bulk_ms is None and self.r_time.random() < 0.10:
            person.sf_modstamp = capped(self.r_time, person.sf_modified + between(self.r_time, 1000, DAY - 1),
                                        person.sf_modified, now)
        person.opp = self._opp(person, path)
        self.fates.apply(person)
        return person

    def _path(self, rt: random.Random, stage: str, start: int, bulk_ms: int | None) -> list[tuple[str, int]]:
        """Lifecycle stages the person went through, oldest first, with entry times."""
        if stage == "other":
            stages = ["lead", "other"] if rt.random() < 0.7 else ["subscriber", "lead", "other"]
        else:
            top = _LADDER.index(stage)
            first = 0 if stage == "subscriber" or rt.random() < 0.4 else 1
            stages = list(_LADDER[first : top + 1])
        if bulk_ms is not None:
            return [(stage, bulk_ms)]
        now = self.now
        times = sorted(between(rt, start, now) for _ in range(len(stages) - 1))
        if stage == "marketingqualifiedlead" and times:
            times[-1] = max(times[-2] if len(times) > 1 else start, now - below(rt, 45 * DAY))
        return list(zip(stages, [start, *times], strict=True))

    def _opp(self, person: Person, path: list[tuple[str, int]]) -> Opp | None:
        """The person's opportunity, consistent with the funnel stage (customers have Closed Won)."""
        rd, stage, now = self.r_deal, person.stage, self.now
        rank = STAGE_RANK[stage]
        hubspot_only = False
        if stage == "other":
            if person.sf_kind != "contact":
                return None
            opp_stage = "Closed Lost"
        elif rank >= 5:
            opp_stage = "Closed Won"
        elif rank == 4:  # a lost deal leaves the lifecycle stage at opportunity (it only moves forward)
            opp_stage = "Closed Lost" if rd.random() < 0.3 else _OPEN_STAGES.pick(rd)
        elif rank == 3 and person.sf_kind == "contact" and rd.random() < 0.3:
            opp_stage = "Closed Lost" if rd.random() < 0.4 else one_of(rd, ("Prospecting", "Qualification"))
        elif rank == 3 and person.sf_kind != "contact" and rd.random() < 0.5:
            opp_stage = one_of(rd, ("Prospecting", "Qualification"))  # a HubSpot deal opened before conversion
            hubspot_only = True
        else:
            return None
        start = person.converted_at or (person.sf_created if person.sf_kind else person.hs_created)
        closed = opp_stage.startswith("Closed")
        if person.bulk:
            created = modified = close_ms = start
            if not closed:
                close_ms = now + between(rd, 7 * DAY, 120 * DAY - 1)
        else:
            won_at = next((t for s, t in path if s == "customer"), 0)
            close_ms = (
                won_at if won_at >= start and opp_stage == "Closed Won" else (between(rd, start, now) if closed else 0)
            )
            created = between(rd, start, close_ms) if closed else between(rd, start, now)
            if not closed:
                close_ms = now + between(rd, 7 * DAY, 120 * DAY - 1)
            modified = close_ms if closed else between(rd, created, now)
        prior = one_of(rd, ("Proposal/Price Quote", "Negotiation/Review", "Value Proposition")) if closed else None
        in_sf = person.sf_kind == "contact"
        in_hs = person.presence != "salesforce" and (hubspot_only or person.presence == "hubspot" or rd.random() < 0.6)
        if not (in_sf or in_hs):
            return None
        return Opp(
            name=f"{person.company.name} - {one_of(rd, W.PRODUCTS)}",
            amount=int(round(rd.lognormvariate(10.2, 0.8), -2)) + 500,
            stage=opp_stage,
            created=created,
            modified=modified,
            close_ms=close_ms,
            prior_stage=prior,
            in_salesforce=in_sf,
            in_hubspot=in_hs,
        )


def _sf_status_for(stage: str) -> str:
    if stage == "other":
        return "Closed - Not Converted"
    return "Working - Contacted" if STAGE_RANK[stage] >= 2 else "Open - Not Contacted"


def _rating(stage: str) -> str:
    rank = STAGE_RANK[stage]
    return "Hot" if rank >= 3 and stage != "other" else "Warm" if rank == 2 else "Cold"
