"""Dirt of real CRMs: conflicting values, invalid values, email variants, opt-outs, missing legal basis, duplicates."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from . import _words as W
from ._profile import SeedProfile
from ._rng import Weighted, below, between, one_of
from ._vocab import ANALYTICS_SOURCES, LEAD_SOURCES, LEGAL_BASES, SOURCE_TO_LEAD_SOURCE

if TYPE_CHECKING:
    from ._person import Person

__all__ = ["Dirt", "local_phone", "phone_number"]

_CONFLICT_FIELDS = Weighted([("phone", 0.30), ("title", 0.30), ("company", 0.20), ("lead_source", 0.20)])
_LEGAL = Weighted(LEGAL_BASES)


class Dirt:
    """Applies the profile's dirt shares to a freshly drawn person, from the quality stream."""

    def __init__(self, profile: SeedProfile, now_ms: int, quality: random.Random) -> None:
        self.p = profile
        self.now = now_ms
        self.rq = quality

    def apply(self, person: Person, create_src: str) -> None:
        """Conflicts, invalid values, email variants, opt-outs, legal basis and duplicates."""
        p, rq, now = self.p, self.rq, self.now
        both = person.presence == "both"
        in_sf = person.presence != "hubspot"
        in_hs = person.presence != "salesforce"
        if in_hs:
            person.legal_basis = None if rq.random() < p.missing_legal_basis_share else _LEGAL.pick(rq)
        if rq.random() < p.optout_share:
            if both and rq.random() < p.optout_one_side_share:
                if rq.random() < 0.5:
                    person.optout_hs = True
                else:
                    person.optout_sf = True
            else:
                person.optout_hs, person.optout_sf = in_hs, in_sf
        if both and rq.random() < p.email_case_variant_share:
            person.sf_email = _case_variant(rq, person.email)
        if in_sf and rq.random() < p.email_whitespace_share:
            person.sf_email = one_of(rq, (" {}", "{} ", " {} ", "{}\t")).format(person.sf_email)
        if in_hs and rq.random() < p.blank_lastname_share:
            person.hs_lastname = "" if rq.random() < 0.33 else None
        if in_hs and rq.random() < p.long_title_share:
            person.hs_title = _long_title(rq, person.title, person.company.name)
        # as typed: before conflicts, whose later change is recorded in the history with its own format
        if in_hs and not person.optout_hs and rq.random() < p.null_optout_share:
            person.hs_optout_unset = True
        if person.hs_phone and rq.random() < p.local_phone_share:
            person.hs_phone = local_phone(person.hs_phone)
        if person.sf_phone and rq.random() < p.local_phone_share:
            person.sf_phone = local_phone(person.sf_phone)
        if rq.random() < p.messy_country_share:
            person.hs_country = _messy_country(rq, person.hs_country, person.city)
        if rq.random() < p.messy_country_share:
            person.sf_country = _messy_country(rq, person.sf_country, person.city)
        if rq.random() < p.invalid_phone_share:
            bad = _bad_phone(rq, person.hs_phone or person.sf_phone)
            if in_hs and (not in_sf or rq.random() < 0.5):
                person.hs_phone = bad
            else:
                person.sf_phone = bad
        if both and rq.random() < p.conflict_share:
            self._conflict(person, rq, create_src)
            if rq.random() < 0.2:
                self._conflict(person, rq, create_src)
        if in_sf and rq.random() < p.duplicate_share:
            person.duplicate_at = between(rq, person.sf_created, now)
            person.duplicate_email = person.email if rq.random() < 0.5 else _case_variant(rq, person.email)

    def _conflict(self, person: Person, rq: random.Random, create_src: str) -> None:
        """One field that differs between the systems, changed later on one side (the winner by time)."""
        field_name = _CONFLICT_FIELDS.pick(rq)
        if field_name == "phone" and not (person.hs_phone and person.sf_phone):
            field_name = "title"
        hubspot_later = rq.random() < 0.5 or (field_name == "company" and person.sf_kind == "contact")
        if person.bulk:
            at = person.hs_modified
        else:
            at = between(rq, max(person.hs_modified, person.sf_modified), self.now)
        if field_name == "phone":
            old, new = person.hs_phone if hubspot_later else person.sf_phone, phone_number(rq, person.company.country)
            prop = "phone"
        elif field_name == "title":
            old, new = person.hs_title if hubspot_later else person.sf_title, one_of(rq, W.TITLES)[0]
            if new == old:
                new = f"Senior {old}"
            prop = "jobtitle"
        elif field_name == "company":
            old = person.hs_company if hubspot_later else person.sf_company
            new = (
                old.rsplit(" ", 1)[0]
                if " " in old and rq.random() < 0.5
                else f"{one_of(rq, W.COMPANY_HEADS)} {one_of(rq, W.COMPANY_TAILS)}"
            )
            prop = "company"
        else:
            prop = "hs_analytics_source"
            if hubspot_later:
                old = person.hs_source
                mapped = SOURCE_TO_LEAD_SOURCE[old]
                new = one_of(rq, [s for s, _, ls in ANALYTICS_SOURCES if ls != mapped])
            else:
                old = person.sf_lead_source
                new = one_of(rq, [s for s in LEAD_SOURCES if s != SOURCE_TO_LEAD_SOURCE[person.hs_source]])
        if hubspot_later:
            if prop == "phone":
                person.hs_phone = new
            elif prop == "jobtitle":
                person.hs_title = new
            elif prop == "company":
                person.hs_company = new
            else:
                person.hs_source = new
            person.history[prop] = [(old or "", person.hs_created, create_src), (new, at, "CRM_UI")]
            person.hs_modified = at
        else:
            if prop == "phone":
                person.sf_phone = new
            elif prop == "jobtitle":
                person.sf_title = new
            elif prop == "company":
                person.sf_company = new
            else:
                person.sf_lead_source = new
            person.sf_modified = person.sf_modstamp = at


def phone_number(ri: random.Random, country: str) -> str:
    """A well-formed international number for the country (the clean format the dirty ones deviate from)."""
    code = W.PHONE_CODES[country]
    if code == "1":
        return f"+1 {between(ri, 201, 989)} 555 {between(ri, 100, 9999):04d}"
    return f"+{code} {between(ri, 20, 899)} {between(ri, 100000, 9999999)}"


def local_phone(phone: str) -> str:
    """A clean ``+cc ...`` number as people type it at home: (415) 555-0134 in North America, a trunk 0
    elsewhere (030 1234567); anything else is left as it is."""
    if not phone.startswith("+"):
        return phone
    code, _, rest = phone[1:].partition(" ")
    digits = "".join(ch for ch in rest if ch.isdigit())
    if code == "1" and len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if code != "1" and rest:
        area, _, number = rest.partition(" ")
        return f"0{area} {number}" if number else f"0{rest}"
    return phone


def _messy_country(rq: random.Random, country: str, city: str) -> str:
    """A country as typed into a free-text field: odd case, stray blanks, the city instead, or nothing useful."""
    return one_of(rq, (country.lower(), country.upper(), f"{country} ", f" {country}", city, "N/A", "-"))


def _case_variant(rq: random.Random, email: str) -> str:
    local, _, domain = email.partition("@")
    style = below(rq, 3)
    if style == 0:
        local = ".".join(part[:1].upper() + part[1:] for part in local.split("."))
    elif style == 1:
        return email.upper()
    variant = f"{local}@{domain[:1].upper()}{domain[1:]}"
    return variant if variant != email else email.upper()


def _long_title(rq: random.Random, title: str, company: str) -> str:
    parts = [title]
    while sum(len(x) + 2 for x in parts) <= 140:
        parts.append(one_of(rq, W.TITLES)[0])
    return ", ".join(parts) + f" and Interim Lead for EMEA, North America and APAC at {company}"


def _bad_phone(rq: random.Random, phone: str | None) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if digits and rq.random() < 0.5:
        return one_of(
            rq,
            (
                f"({digits[1:4]}) {digits[4:7]}-{digits[7:]} ext. {between(rq, 1, 99)}",
                f"00{digits}",
                f"{digits[:4]}/{digits[4:]}",
                f"+{digits} (mobile)",
                digits[: len(digits) // 2] + " " + digits,
            ),
        )
    return one_of(rq, W.BAD_PHONES)
