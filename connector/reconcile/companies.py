"""Company reconciliation: HubSpot companies <-> Salesforce Accounts, and who belongs to them. Pure (no I/O).

``reconcile_companies`` takes the staged companies (with their associated contact and deal ids), Accounts,
the Salesforce Contacts and Opportunities that point at Accounts (``AccountId``), the deals and the person
ids identity resolution gave each contact record, and returns what the push must write.

Decisions, and why:

* Identity, in order: the cross-reference ids (``crossref.py``: HubSpot ``salesforce_account_id``, Account
  ``HubSpot_Company_Id__c``; either direction suffices, they are the stored link), then the normalised
  domain (``url_key`` of HubSpot ``domain`` and Account ``Website``: "www.Acme.com/" is "acme.com") when
  exactly one unlinked record on each side holds it, then the name, as a suggestion only: two records
  that only share a name ("Acme Inc" and "ACME, Inc.") are reported and neither is created from the other,
  since a wrong merge would copy one company's size and owner over another's. A domain shared by several
  records on one side is reported too: a duplicate for someone to merge, not for the connector to guess.
* A record only in one system is created in the other per ``[inclusion]``: "all", "none", or
  "with_people" (one of its people has a record in the target system: in Salesforce a Contact, since a
  Lead holds no Account).
* Associations are added, never removed or replaced: a HubSpot contact with no company gets its Contact's
  Account's company, a Contact with no Account gets its contact's company's Account (``AccountId``), and the
  same for a deal and its Opportunity. When both sides hold a company and they differ, it is reported: the
  two systems cannot say which one is right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .crossref import CrossRef, blocked, by_id, dead_claims, hs_id, link, live, new_partner, report_conflicts, sf15
from .mapping import CompanyMapping
from .plan import plan_updates
from .records import FieldChange, Issue, NewRecordId, OwnerDirectory, Provenance, RecordKey, SourceRecord, System
from .resolve import resolve_fields
from .transforms import TransformContext, url_key

__all__ = ["PARENT_PROPERTY", "CompanyInputs", "CompanyLink", "CompanyResult", "companies_by_account",
           "company_provenance", "company_ref", "company_values", "domain_key", "name_key", "reconcile_companies"]

#: fields a create cannot do without (HubSpot takes a company with neither name nor domain, but nobody
#: could find it again; Salesforce refuses an Account without Name)
_REQUIRED: dict[str, tuple[str, ...]] = {"companies": ("name",), "Account": ("Name",)}
#: the standard fields identity reads: HubSpot's domain (its own de-duplication key) and the Account's website
_HS_DOMAIN, _HS_WEBSITE, _HS_NAME = "domain", "website", "name"
_SF_WEBSITE, _SF_NAME = "Website", "Name"
#: HubSpot's (read-only) id of a company's parent company, which its parent association sets
PARENT_PROPERTY = "hs_parent_company_id"
_LEGAL = re.compile(r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|srl|bv|nv|plc|corp|corporation|co|"
                    r"company|pty|oy|ab|as|kg|spa)\b\.?")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def company_ref(mapping: CompanyMapping) -> CrossRef:
    """The cross-reference fields companies.toml names."""
    ident = mapping.identity
    return CrossRef(ident.hubspot_account_id_property, ident.salesforce_company_id_field, "company", "Account")


def domain_key(value: Any) -> str | None:
    """The host a domain or website names, without scheme, ``www.``, case, port or path (None when blank)."""
    if not isinstance(value, str) or not value.strip():
        return None
    host = url_key(value).split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return host or None


def name_key(value: Any) -> str | None:
    """A company name without case, punctuation or legal form ("ACME, Inc." and "Acme Inc" agree)."""
    if not isinstance(value, str):
        return None
    words = _NOT_WORD.sub(" ", _LEGAL.sub(" ", value.casefold().replace("&", " and ")))
    return " ".join(words.split()) or None


@dataclass(frozen=True)
class CompanyInputs:
    """What company reconciliation reads from the store."""

    #: HubSpot companies; ``associations`` "contacts" and "deals" hold the associated ids
    companies: Sequence[SourceRecord]
    accounts: Sequence[SourceRecord]
    #: Salesforce Contacts (their ``AccountId``)
    salesforce_contacts: Sequence[SourceRecord]
    #: HubSpot deals and Opportunities (their cross-references and ``AccountId``)
    deals: Sequence[SourceRecord] = ()
    opportunities: Sequence[SourceRecord] = ()
    #: the person of each person record key, from identity resolution of people
    people: Mapping[RecordKey, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompanyLink:
    """A HubSpot association to add (never to remove): contact or deal `from_id` with a company.

    ``company_id`` None: the company is created in this plan, under ``group`` (its changes' ``person_id``),
    so the push uses the new record's id."""

    from_type: str
    from_id: str
    company_id: str | None
    group: str
    reason: str
    #: "parent": the company `company_id` becomes `from_id`'s parent company (HubSpot's labelled association)
    label: str | None = None

    @property
    def system(self) -> System:
        """Where the link is added (a Salesforce Account is a field of the Contact or Opportunity: a change)."""
        return "hubspot"

    @property
    def batch(self) -> str:
        return f"hubspot:{self.from_type}>companies" + (f":{self.label}" if self.label else "")


@dataclass(frozen=True)
class CompanyResult:
    """Everything one company reconciliation plans, independent of input order."""

    changes: tuple[FieldChange, ...]
    links: tuple[CompanyLink, ...]
    issues: tuple[Issue, ...]
    linked: int
    matched_by_domain: int
    suggested_by_name: int
    created: dict[str, int]


def company_values(mapping: CompanyMapping, company: SourceRecord | None, account: SourceRecord | None,
                   owners: OwnerDirectory | None = None) -> dict[str, Any]:
    """One company's unified values by field name (what fit rules read as ``company.<field>``)."""
    return {name: p.value for name, p in company_provenance(mapping, company, account, owners).items()
            if p.value is not None}


def company_provenance(mapping: CompanyMapping, company: SourceRecord | None, account: SourceRecord | None,
                       owners: OwnerDirectory | None = None) -> dict[str, Provenance]:
    """One company's unified values with where each came from and the rule that chose it (`connector explain`)."""
    if company is None and account is None:
        return {}
    tie: System = "hubspot" if mapping.settings.tie_breaker == "hubspot" else "salesforce"
    resolved, _ = resolve_fields(mapping.fields, company, account, TransformContext(owners or OwnerDirectory()),
                                 tie, None, [])
    return {r.mapping.name: r.provenance for r in resolved}


def reconcile_companies(inputs: CompanyInputs, mapping: CompanyMapping, owners: OwnerDirectory | None = None,
                        *, deal_ref: CrossRef | None = None) -> CompanyResult:
    """Plans the changes that make companies and Accounts agree, and their people's and deals' links (see the
    module doc). ``deal_ref``: how deals link to Opportunities (needed to keep a deal's company in step)."""
    run = _Run(inputs, mapping, owners or OwnerDirectory())
    run.identity()
    run.plan_pairs()
    run.plan_creates()
    if mapping.associations.contacts:
        run.plan_people()
    if mapping.associations.deals and deal_ref is not None:
        run.plan_deals(deal_ref)
    if mapping.associations.parents:
        run.plan_parents()
    changes = sorted(run.changes, key=lambda c: (c.person_id, c.system, c.object_type, c.record_id or "", c.field))
    links = sorted(set(run.links), key=lambda a: (a.group, a.from_type, a.from_id, a.company_id or "", a.label or "",
                                                  a.reason))
    issues = sorted(set(run.issues), key=lambda i: (i.system, i.record_id, i.field, i.message, repr(i.value)))
    return CompanyResult(tuple(changes), tuple(links), tuple(issues), len(run.pairs), run.by_domain,
                         run.suggested, run.created)


class _Run:
    """The accumulators of one reconcile_companies call."""

    def __init__(self, inputs: CompanyInputs, mapping: CompanyMapping, owners: OwnerDirectory) -> None:
        self.inputs = inputs
        self.mapping = mapping
        self.ref = company_ref(mapping)
        self.tie: System = "hubspot" if mapping.settings.tie_breaker == "hubspot" else "salesforce"
        self.ctx = TransformContext(owners)
        self.hs = by_id(r for r in inputs.companies if r.system == "hubspot")
        self.sf = by_id((r for r in inputs.accounts if r.system == "salesforce"), short=True)
        self.changes: list[FieldChange] = []
        self.links: list[CompanyLink] = []
        self.issues: list[Issue] = []
        self.pairs: list[tuple[str, str]] = []  # (company id, Account 15-char id)
        self.by_domain = 0
        self.suggested = 0
        self.created = {"hubspot": 0, "salesforce": 0}
        #: the other system's record each company / Account has or gets: ("id", id) or ("group", group)
        self.account_of: dict[str, tuple[str, str]] = {}
        self.company_of: dict[str, tuple[str, str]] = {}
        self._people()

    # ------------------------------------------------------------------ who belongs where

    def _people(self) -> None:
        self.person_of_hs: dict[str, str] = {}
        self.hs_of: dict[str, list[str]] = {}
        self.contacts_of: dict[str, list[str]] = {}
        for key, pid in sorted(self.inputs.people.items()):
            system, obj, rid = key
            if system == "hubspot" and obj == "contacts":
                self.person_of_hs.setdefault(rid, pid)
                self.hs_of.setdefault(pid, []).append(rid)
            elif system == "salesforce" and obj == "Contact":
                self.contacts_of.setdefault(pid, []).append(rid)
        self.contact_account: dict[str, tuple[SourceRecord, str | None]] = {}  # Contact 15 -> (record, Account 15)
        for rec in self.inputs.salesforce_contacts:
            if rec.object_type == "Contact" and live(rec):
                self.contact_account[rec.id[:15]] = (rec, sf15(rec.fields.get("AccountId")))
        self.people_of_account: dict[str, set[str]] = {}
        for pid, contacts in self.contacts_of.items():
            for c in contacts:
                entry = self.contact_account.get(c[:15])
                account = entry[1] if entry is not None else None
                if account is not None:
                    self.people_of_account.setdefault(account, set()).add(pid)
        self.companies_of_contact: dict[str, set[str]] = {}
        self.companies_of_deal: dict[str, set[str]] = {}
        for cid, company in self.hs.items():
            if not live(company):
                continue
            for contact in company.associations.get("contacts", ()):
                self.companies_of_contact.setdefault(str(contact), set()).add(cid)
            for deal in company.associations.get("deals", ()):
                self.companies_of_deal.setdefault(str(deal), set()).add(cid)

    def _has_people_in(self, system: System, rec: SourceRecord) -> bool:
        """Whether one of the record's people has a record in `system` (a Contact, in Salesforce)."""
        if rec.system == "hubspot":
            pids = {p for c in rec.associations.get("contacts", ()) if (p := self.person_of_hs.get(str(c)))}
            return any(self.contacts_of.get(p) for p in pids) if system == "salesforce" else bool(pids)
        pids = self.people_of_account.get(rec.id[:15], set())
        return any(self.hs_of.get(p) for p in pids) if system == "hubspot" else bool(pids)

    # ------------------------------------------------------------------ identity

    def identity(self) -> None:
        pairs, dropped = link(self.hs, self.sf, self.tie, self.ref)
        report_conflicts(dropped, self.hs, self.sf, pairs, self.ref, self.issues)
        self.pairs = list(pairs)
        self.dead = dead_claims(self.hs, self.sf, self.ref)
        linked_h = {h for h, _ in pairs}
        linked_s = {s for _, s in pairs}
        self.open_h = sorted(h for h, r in self.hs.items() if h not in linked_h and live(r) and not self._blocked(r))
        self.open_s = sorted(s for s, r in self.sf.items() if s not in linked_s and live(r) and not self._blocked(r))
        if self.mapping.identity.match_on_domain:
            self._match_domains()
        self.held: set[str] = set()  # records a name suggests a partner for: neither linked nor created
        if self.mapping.identity.suggest_on_name:
            self._suggest_names()
        for h, s in self.pairs:
            self.account_of[h] = ("id", self.sf[s].id)
            self.company_of[s] = ("id", h)

    def _blocked(self, rec: SourceRecord) -> bool:
        others = self.sf if rec.system == "hubspot" else self.hs
        key = rec.id if rec.system == "hubspot" else rec.id[:15]
        why = blocked(rec, others, self.dead.get((rec.system, key)), self.ref)
        if why:
            noun = "company has no Account" if rec.system == "hubspot" else "Account has no HubSpot company"
            self.issues.append(Issue(rec.system, rec.id, self.ref.field_of(rec.system),
                                     rec.fields.get(self.ref.field_of(rec.system)), f"{noun}: {why}; not re-created"))
        return bool(why)

    def _match_domains(self) -> None:
        hs_by: dict[str, list[str]] = {}
        sf_by: dict[str, list[str]] = {}
        for h in self.open_h:
            fields = self.hs[h].fields
            key = domain_key(fields.get(_HS_DOMAIN)) or domain_key(fields.get(_HS_WEBSITE))
            if key:
                hs_by.setdefault(key, []).append(h)
        for s in self.open_s:
            key = domain_key(self.sf[s].fields.get(_SF_WEBSITE))
            if key:
                sf_by.setdefault(key, []).append(s)
        taken_h: set[str] = set()
        taken_s: set[str] = set()
        for key in sorted(set(hs_by) & set(sf_by)):
            hs_ids, sf_ids = hs_by[key], sf_by[key]
            if len(hs_ids) == 1 and len(sf_ids) == 1:
                self.pairs.append((hs_ids[0], sf_ids[0]))
                taken_h.add(hs_ids[0])
                taken_s.add(sf_ids[0])
                self.by_domain += 1
                continue
            # several on a side: a duplicate to merge by hand; none of them is linked or created meanwhile
            names = ", ".join([f"company {h}" for h in hs_ids] + [f"Account {self.sf[s].id}" for s in sf_ids])
            for h in hs_ids:
                self.issues.append(Issue("hubspot", h, _HS_DOMAIN, key,
                                         f"domain shared by {names}: not linked by domain (merge the duplicates, "
                                         f"or set {self.ref.hubspot_field} to link one)"))
            for s in sf_ids:
                self.issues.append(Issue("salesforce", self.sf[s].id, _SF_WEBSITE, key,
                                         f"domain shared by {names}: not linked by domain (merge the duplicates, "
                                         f"or set {self.ref.salesforce_field} to link one)"))
            taken_h.update(hs_ids)
            taken_s.update(sf_ids)
        self.open_h = [h for h in self.open_h if h not in taken_h]
        self.open_s = [s for s in self.open_s if s not in taken_s]

    def _suggest_names(self) -> None:
        hs_by: dict[str, list[str]] = {}
        for h in self.open_h:
            key = name_key(self.hs[h].fields.get(_HS_NAME))
            if key:
                hs_by.setdefault(key, []).append(h)
        for s in self.open_s:
            key = name_key(self.sf[s].fields.get(_SF_NAME))
            for h in hs_by.get(key or "", ()):
                account = self.sf[s]
                self.suggested += 1
                self.held.update((h, s))
                self.issues.append(Issue("hubspot", h, self.ref.hubspot_field, None,
                                         f"same name as Account {account.id}: not linked (a name is only a "
                                         f"suggestion; set {self.ref.hubspot_field} to {account.id} to link them); "
                                         "neither is created in the other system meanwhile"))
                self.issues.append(Issue("salesforce", account.id, self.ref.salesforce_field, None,
                                         f"same name as HubSpot company {h}: not linked (set "
                                         f"{self.ref.salesforce_field} to {h} to link them)"))
        self.open_h = [h for h in self.open_h if h not in self.held]
        self.open_s = [s for s in self.open_s if s not in self.held]

    # ------------------------------------------------------------------ values

    def plan_pairs(self) -> None:
        for h, s in sorted(self.pairs):
            company, account = self.hs[h], self.sf[s]
            group = f"acct-{account.id}"
            resolved, _ = resolve_fields(self.mapping.fields, company, account, self.ctx, self.tie, None, self.issues)
            self.changes += plan_updates(resolved, "hubspot", self.ctx, self.issues, group)
            self.changes += plan_updates(resolved, "salesforce", self.ctx, self.issues, group)
            held = company.fields.get(self.ref.hubspot_field)
            if sf15(held) != s:
                self.changes.append(FieldChange("hubspot", "companies", h, self.ref.hubspot_field, held, account.id,
                                                "cross-reference", group))
            held = account.fields.get(self.ref.salesforce_field)
            if hs_id(held) != h:
                self.changes.append(FieldChange("salesforce", "Account", account.id, self.ref.salesforce_field, held,
                                                h, "cross-reference", group))

    def plan_creates(self) -> None:
        choice = self.mapping.inclusion
        for s in self.open_s:
            if self._included(choice.create_in_hubspot, "hubspot", self.sf[s]):
                group = f"acct-{self.sf[s].id}"
                if self._create(self.sf[s], "companies", group):
                    self.company_of[s] = ("group", group)
        for h in self.open_h:
            if self._included(choice.create_in_salesforce, "salesforce", self.hs[h]):
                group = f"company-{h}"
                if self._create(self.hs[h], "Account", group):
                    self.account_of[h] = ("group", group)

    def _create(self, source: SourceRecord, object_type: str, group: str) -> bool:
        """The record created in the other system for `source`, with both cross-references."""
        partner = new_partner(self.mapping.fields, source, object_type, self.ctx, self.tie, group,
                              _REQUIRED[object_type], self.ref, self.issues)
        if partner is None:
            return False
        made, back = partner
        self.changes += [*made.values(), back]
        self.created["hubspot" if object_type == "companies" else "salesforce"] += 1
        return True

    def _included(self, choice: str, target: System, rec: SourceRecord) -> bool:
        if choice == "all":
            return True
        return choice == "with_people" and self._has_people_in(target, rec)

    # ------------------------------------------------------------------ associations

    def _account_value(self, company: str) -> tuple[Any, str] | None:
        """What a Contact's or Opportunity's AccountId gets for `company`, and the group of that change."""
        found = self.account_of.get(company)
        if found is None:
            return None
        kind, value = found
        if kind == "id":
            return value, f"acct-{value}"
        return NewRecordId("salesforce", "Account"), value

    def _company_target(self, account15: str) -> tuple[str | None, str] | None:
        """The company an Account stands for: (company id, group) or (None, group) when created in this plan."""
        found = self.company_of.get(account15)
        if found is None:
            return None
        kind, value = found
        if kind == "id":
            return value, f"acct-{self.sf[account15].id}"
        return None, value

    def _keep_in_step(self, hs_type: str, hs_id_: str, companies: set[str], sf_object: str, sf_rec: SourceRecord,
                      account15: str | None, what: str) -> None:
        """One HubSpot record's companies and one Salesforce record's Account: add what a side lacks."""
        if account15 is not None:
            target = self._company_target(account15)
            if target is None:
                return  # the Account is neither linked nor created (yet): nothing to add
            company, group = target
            if company is not None and company in companies:
                return
            if not companies:
                self.links.append(CompanyLink(hs_type, hs_id_, company, group,
                                              f"{what}: Salesforce {sf_object} {sf_rec.id} is on Account "
                                              f"{self.sf[account15].id}"))
                return
            if company is None:
                return  # the HubSpot record has a company; the Account's own company is only being created
            self.issues.append(Issue("salesforce", sf_rec.id, "AccountId", self.sf[account15].id,
                                     f"{what}: the Account's company {company} is not among HubSpot {hs_type} "
                                     f"{hs_id_}'s companies ({', '.join(sorted(companies))}); neither is changed "
                                     "(associations are added, never replaced)"))
            return
        accounts = {v for c in sorted(companies) if (v := self._account_value(c)) is not None}
        if len(accounts) == 1:
            value, group = next(iter(accounts))
            self.changes.append(FieldChange("salesforce", sf_object, sf_rec.id, "AccountId",
                                            sf_rec.fields.get("AccountId"), value,
                                            f"{what}: HubSpot {hs_type} {hs_id_}'s company", group))
        elif len(accounts) > 1:
            self.issues.append(Issue("hubspot", hs_id_, "associations.companies", None,
                                     f"{what}: {len(accounts)} companies with Accounts; Salesforce {sf_object} "
                                     f"{sf_rec.id} takes one Account: not set"))

    def plan_people(self) -> None:
        """A person's HubSpot contact's company <-> their Salesforce Contact's Account."""
        for pid in sorted(set(self.hs_of) & set(self.contacts_of)):
            hs_ids = self.hs_of[pid]
            companies = set().union(*(self.companies_of_contact.get(c, set()) for c in hs_ids))
            for cid in self.contacts_of[pid]:
                held = self.contact_account.get(cid[:15])
                if held is None:
                    continue
                contact, account = held
                if account is not None and account not in self.sf:
                    continue  # an Account that was not pulled (or is gone): not ours to judge
                self._keep_in_step("contacts", hs_ids[0], companies, "Contact", contact, account,
                                   "contact's company")
                break  # one Contact per person carries their Account

    def plan_parents(self) -> None:
        """A linked company's parent company <-> its Account's ParentId, when the parent is linked (or created)
        too; added where blank, never replaced: two different parents are reported."""
        for h, s in sorted(self.pairs):
            company, account = self.hs[h], self.sf[s]
            hs_parent = hs_id(company.fields.get(PARENT_PROPERTY))
            sf_parent = sf15(account.fields.get("ParentId"))
            group = f"acct-{account.id}"
            if sf_parent is not None and sf_parent in self.sf:
                target = self._company_target(sf_parent)
                if target is None or (target[0] is not None and target[0] == hs_parent):
                    continue
                if hs_parent is None:
                    self.links.append(CompanyLink("companies", h, target[0], target[1],
                                                  f"Account {account.id}'s parent is Account {self.sf[sf_parent].id}",
                                                  label="parent"))
                elif target[0] is not None:
                    self.issues.append(Issue("salesforce", account.id, "ParentId", self.sf[sf_parent].id,
                                             f"parent company differs: HubSpot company {h}'s is {hs_parent}, the "
                                             f"Account's is linked to {target[0]}; neither is changed"))
            elif sf_parent is None and hs_parent is not None:
                value = self._account_value(hs_parent)
                if value is not None:
                    self.changes.append(FieldChange("salesforce", "Account", account.id, "ParentId", None, value[0],
                                                    f"parent: HubSpot company {h}'s parent {hs_parent}",
                                                    value[1] if isinstance(value[0], NewRecordId) else group))

    def plan_deals(self, deal_ref: CrossRef) -> None:
        """A deal's company <-> its Opportunity's Account (for deals linked to an Opportunity)."""
        deals = by_id(r for r in self.inputs.deals if r.system == "hubspot")
        opps = by_id((r for r in self.inputs.opportunities if r.system == "salesforce"), short=True)
        pairs, _ = link(deals, opps, "salesforce", deal_ref)
        for d, o in sorted(pairs):
            opp = opps[o]
            account = sf15(opp.fields.get("AccountId"))
            if account is not None and account not in self.sf:
                continue
            self._keep_in_step("deals", d, set(self.companies_of_deal.get(d, set())), "Opportunity", opp, account,
                               "deal's company")


def companies_by_account(companies: Iterable[SourceRecord], accounts: Iterable[SourceRecord],
                         mapping: CompanyMapping) -> dict[str, str]:
    """Account 15-char id -> the HubSpot company linked to it (by cross-reference), for the deals' creates."""
    ref = company_ref(mapping)
    hs = by_id(r for r in companies if r.system == "hubspot")
    sf = by_id((r for r in accounts if r.system == "salesforce"), short=True)
    pairs, _ = link(hs, sf, "salesforce", ref)
    return {s: h for h, s in pairs}
