"""Deal reconciliation: HubSpot deals <-> Salesforce Opportunities, and their contacts. Pure (no I/O).

``reconcile_deals`` takes the staged deals, Opportunities and OpportunityContactRoles, plus the person
ids that identity resolution of people gave each contact record, and returns what the push stage must
write: field changes (updates, creates, cross-references) and association changes (deal-contact
associations in HubSpot, OpportunityContactRoles in Salesforce).

Decisions, and why:

* Identity is by cross-reference ids only (``Opportunity.HubSpot_Deal_Id__c`` and the deal property
  ``salesforce_opportunity_id``; either direction suffices). There is no fuzzy matching by name:
  deals with the same name are common ("Renewal 2025", "Acme - Expansion"), and a wrong match would
  overwrite one deal's amount and stage with another's.
* Conflicting, deleted and merged-away cross-references are settled as for every object linked by
  cross-reference ids (``crossref.py``): each record is linked at most once, deleted records never match
  and are never re-created, merged-away records follow ``merged_into`` to their survivor.
* Salesforce is the system of record for pipeline, so a deal only in HubSpot is reported, not created
  in Salesforce (an Opportunity needs an Account and obeys stage rules), unless
  ``create_in_salesforce=True``. An Opportunity only in Salesforce gets a HubSpot deal.
* Contact roles and associations are only ever added, never removed: a missing association may mean
  "removed on purpose" or "never synced", and the two systems cannot tell which, so removing would
  destroy data on a guess. A Lead cannot hold an OpportunityContactRole, so an associated person who
  is only a Lead in Salesforce is reported as an Issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .crossref import CrossRef, blocked, by_id, dead_claims, link, live, new_partner, report_conflicts, sf15
from .crossref import hs_id as _hs_id
from .mapping import OpportunityMapping
from .plan import plan_updates
from .records import (
    FieldChange,
    Issue,
    OwnerDirectory,
    RecordKey,
    SourceRecord,
    System,
)
from .resolve import resolve_fields
from .transforms import TransformContext

__all__ = [
    "DEAL_ID_PROPERTY",
    "DEFAULT_PIPELINE",
    "OPPORTUNITY_DEAL_ID_FIELD",
    "AssociationChange",
    "DealResult",
    "reconcile_deals",
]

#: HubSpot deal property holding the Opportunity Id (unique; created by ``connector setup``, see setup.DEAL_ID_PROPERTY)
DEAL_ID_PROPERTY = "salesforce_opportunity_id"
#: Opportunity custom field holding the HubSpot deal id (external id; see setup.DEAL_ID_FIELD)
OPPORTUNITY_DEAL_ID_FIELD = "HubSpot_Deal_Id__c"
DEAL_REF = CrossRef(DEAL_ID_PROPERTY, OPPORTUNITY_DEAL_ID_FIELD, "deal", "Opportunity")
#: HubSpot's built-in pipeline, used when a deal names none and for deals created from Opportunities
DEFAULT_PIPELINE = "default"

#: Fields a create cannot do without (the systems reject the record): not created, reported instead
_REQUIRED: dict[str, tuple[str, ...]] = {"deals": ("dealname", "dealstage"),
                                         "Opportunity": ("Name", "StageName", "CloseDate")}
_ASSOC_FIELD = "associations.contacts"
_ROLE_FIELD = "OpportunityContactRole"


@dataclass(frozen=True)
class AssociationChange:
    """A deal-contact link to add (never to remove).

    ``system`` "hubspot": associate HubSpot contact ``contact_id`` with deal ``deal_id`` (``role`` None,
    ``primary`` False). ``system`` "salesforce": create an OpportunityContactRole (OpportunityId=
    ``deal_id``, ContactId=``contact_id``, Role=``role``, IsPrimary=``primary``). ``deal_id`` is None
    when the deal/Opportunity is created in this plan: ``deal_group`` is then the ``person_id`` of that
    create's FieldChanges, so the push stage can use the new record's id.
    """

    system: System
    deal_id: str | None
    deal_group: str
    contact_id: str
    role: str | None
    primary: bool
    reason: str
    #: what the deal is linked to: "contacts" (``contact_id`` is a contact), or "companies" (a HubSpot company
    #: id: a deal created from an Opportunity gets its Account's company)
    to_type: str = "contacts"

    @property
    def batch(self) -> str:
        """The calls it travels in: HubSpot associations by the two object types, contact roles as records."""
        return f"hubspot:deals>{self.to_type}" if self.system == "hubspot" else "salesforce:OpportunityContactRole"


@dataclass(frozen=True)
class DealResult:
    """Everything one deal reconciliation plans, deterministic and independent of input order.

    ``changes``: field changes (``person_id`` holds the deal group, e.g. "opp-<OpportunityId>");
    ``associations``: links to add; ``issues``: what an operator should look at; ``linked``: deal-
    Opportunity pairs found; ``created``: records planned for creation per system.
    """

    changes: tuple[FieldChange, ...]
    associations: tuple[AssociationChange, ...]
    issues: tuple[Issue, ...]
    linked: int
    created: dict[str, int] = field(default_factory=dict)


def reconcile_deals(
    deals: Iterable[SourceRecord],
    opportunities: Iterable[SourceRecord],
    contact_roles: Iterable[SourceRecord],
    people: Mapping[RecordKey, str],
    mapping: OpportunityMapping,
    owners: OwnerDirectory | None = None,
    *,
    create_in_salesforce: bool = False,
    create_in_hubspot: bool = True,
    salesforce_contacts: Iterable[SourceRecord] = (),
    company_of_account: Mapping[str, str] | None = None,
) -> DealResult:
    """Plans the changes that make HubSpot deals and Salesforce Opportunities agree (see the module doc).

    ``deals``: HubSpot deals (``associations["contacts"]`` = associated contact ids); ``opportunities``:
    Opportunities (with ``HubSpot_Deal_Id__c``); ``contact_roles``: OpportunityContactRoles;
    ``people``: person id of each person record key, ("hubspot", "contacts", id) / ("salesforce",
    "Contact" | "Lead", id), from identity resolution of people. ``create_in_salesforce``: create
    Opportunities for HubSpot-only deals (default: report them). ``create_in_hubspot``: create deals for
    Salesforce-only Opportunities (default: yes). ``salesforce_contacts``: Salesforce Contacts, read only
    for their AccountId, which an Opportunity created from a deal takes (only used with
    ``create_in_salesforce``). ``company_of_account``: the HubSpot company linked to each Account (15-char
    id), when companies are synced: a deal created from an Opportunity is associated with its Account's.
    """
    tie: System = "hubspot" if mapping.settings.tie_breaker == "hubspot" else "salesforce"
    run = _Run(mapping, owners or OwnerDirectory(), tie, _Contacts(people, contact_roles, salesforce_contacts))
    run.company_of_account = company_of_account or {}
    hs_all = by_id(r for r in deals if r.system == "hubspot")
    sf_all = by_id((r for r in opportunities if r.system == "salesforce"), short=True)
    pairs, dropped = link(hs_all, sf_all, tie, DEAL_REF)
    linked_deals = {d: o for d, o in pairs}
    linked_opps = {o: d for d, o in pairs}
    report_conflicts(dropped, hs_all, sf_all, pairs, DEAL_REF, run.issues)
    created = {"hubspot": 0, "salesforce": 0}
    for d, o in sorted(pairs):
        run.pair(hs_all[d], sf_all[o])
    claimed_by_dead = dead_claims(hs_all, sf_all, DEAL_REF)
    for o in sorted(sf_all):
        opp = sf_all[o]
        if o in linked_opps or not live(opp):
            continue
        why = blocked(opp, hs_all, claimed_by_dead.get(("salesforce", o)), DEAL_REF)
        if why:
            run.issues.append(Issue("salesforce", opp.id, OPPORTUNITY_DEAL_ID_FIELD,
                                    opp.fields.get(OPPORTUNITY_DEAL_ID_FIELD),
                                    f"Opportunity has no HubSpot deal: {why}; not re-created"))
        elif not create_in_hubspot:
            run.issues.append(Issue("salesforce", opp.id, OPPORTUNITY_DEAL_ID_FIELD, None,
                                    "Opportunity only in Salesforce; not created in HubSpot "
                                    "(create_in_hubspot is false)"))
        elif run.create_deal(opp):
            created["hubspot"] += 1
    for d in sorted(hs_all):
        deal = hs_all[d]
        if d in linked_deals or not live(deal):
            continue
        why = blocked(deal, sf_all, claimed_by_dead.get(("hubspot", d)), DEAL_REF)
        if why:
            run.issues.append(Issue("hubspot", deal.id, DEAL_ID_PROPERTY, deal.fields.get(DEAL_ID_PROPERTY),
                                    f"deal has no Opportunity: {why}; not re-created"))
        elif not create_in_salesforce:
            run.issues.append(Issue("hubspot", deal.id, DEAL_ID_PROPERTY, deal.fields.get(DEAL_ID_PROPERTY),
                                    "deal only in HubSpot; not created in Salesforce"))
        elif run.create_opportunity(deal):
            created["salesforce"] += 1
    changes = sorted(run.changes, key=_change_key)
    assocs = sorted(set(run.associations), key=lambda a: (a.deal_group, a.system, a.contact_id, a.reason))
    issues = sorted(_unique(run.issues), key=lambda i: (i.system, i.record_id, i.field, i.message, repr(i.value)))
    return DealResult(tuple(changes), tuple(assocs), tuple(issues), len(pairs), created)


# --- contacts -------------------------------------------------------------------------------------

class _Contacts:
    """Translates contacts between systems through person ids, and holds the contact roles per Opportunity."""

    def __init__(self, people: Mapping[RecordKey, str], roles: Iterable[SourceRecord],
                 sf_contacts: Iterable[SourceRecord]) -> None:
        self.person_of_hs: dict[str, str] = {}
        self.person_of_sf: dict[str, str] = {}  # Contact 15-char id -> person
        self.hs_of: dict[str, list[str]] = {}
        self.contacts_of: dict[str, list[str]] = {}
        self.leads_of: dict[str, list[str]] = {}
        for key, pid in sorted(people.items()):  # sorted: the same answer whatever the map's order
            system, obj, rid = key
            if system == "hubspot" and obj == "contacts":
                self.person_of_hs.setdefault(rid, pid)
                self.hs_of.setdefault(pid, []).append(rid)
            elif system == "salesforce" and obj == "Contact":
                self.person_of_sf.setdefault(rid[:15], pid)
                self.contacts_of.setdefault(pid, []).append(rid)
            elif system == "salesforce" and obj == "Lead":
                self.leads_of.setdefault(pid, []).append(rid)
        for table in (self.hs_of, self.contacts_of, self.leads_of):
            for ids in table.values():
                ids.sort()
        self.roles: dict[str, list[SourceRecord]] = {}
        for role in roles:
            opp = sf15(role.fields.get("OpportunityId"))
            if opp is not None and not role.deleted and sf15(role.fields.get("ContactId")) is not None:
                self.roles.setdefault(opp, []).append(role)
        self.account_of: dict[str, str] = {}
        for c in sf_contacts:
            account = c.fields.get("AccountId")
            if c.object_type == "Contact" and live(c) and isinstance(account, str) and account.strip():
                self.account_of[c.id[:15]] = account.strip()

    def person_of_contact(self, contact_id: str) -> str | None:
        return self.person_of_sf.get(contact_id[:15])


# --- planning -------------------------------------------------------------------------------------

class _Run:
    """The accumulators and settings of one reconcile_deals call."""

    def __init__(self, mapping: OpportunityMapping, owners: OwnerDirectory, tie: System, contacts: _Contacts) -> None:
        self.mapping = mapping
        self.contacts = contacts
        self.owners = owners
        self.tie = tie
        self.changes: list[FieldChange] = []
        self.associations: list[AssociationChange] = []
        self.issues: list[Issue] = []
        self._ctx: dict[str, TransformContext] = {}
        self.company_of_account: Mapping[str, str] = {}

    def ctx(self, pipeline: str) -> TransformContext:
        """A context per pipeline (the stage transform maps through the pipeline's stage map)."""
        found = self._ctx.get(pipeline)
        if found is None:
            found = self._ctx[pipeline] = TransformContext(self.owners, pipeline=pipeline)
        return found

    def new_deal_pipeline(self) -> str:
        """The pipeline of deals created from Opportunities: "default", or the only/first mapped one if
        the mapping has no "default" stage map (opportunities.toml has no setting for it)."""
        pipes = self.mapping.pipelines
        return DEFAULT_PIPELINE if not pipes or DEFAULT_PIPELINE in pipes else pipes[0]

    def pair(self, deal: SourceRecord, opp: SourceRecord) -> None:
        """Updates both sides of a linked pair, repairs the cross-references, adds missing contacts."""
        group = _group(opp)
        ctx = self.ctx(_pipeline_of(deal))
        resolved, _ = resolve_fields(self.mapping.fields, deal, opp, ctx, self.tie, None, self.issues)
        self.changes += plan_updates(resolved, "hubspot", ctx, self.issues, group)
        self.changes += plan_updates(resolved, "salesforce", ctx, self.issues, group)
        held = deal.fields.get(DEAL_ID_PROPERTY)
        if sf15(held) != opp.id[:15]:
            self.changes.append(FieldChange("hubspot", deal.object_type, deal.id, DEAL_ID_PROPERTY, held, opp.id,
                                            "cross-reference", group))
        held = opp.fields.get(OPPORTUNITY_DEAL_ID_FIELD)
        if _hs_id(held) != deal.id:
            self.changes.append(FieldChange("salesforce", opp.object_type, opp.id,
                                            OPPORTUNITY_DEAL_ID_FIELD, held, deal.id,
                                            "cross-reference", group))
        self.plan_contacts(group, deal, deal.id, opp, opp.id)

    def create_deal(self, opp: SourceRecord) -> bool:
        """A HubSpot deal for an Opportunity only in Salesforce, its back-reference and its contacts."""
        group = _group(opp)
        pipeline = self.new_deal_pipeline()
        partner = self._create(opp, "deals", self.ctx(pipeline), group)
        if partner is None:
            return False
        created, back = partner
        created.setdefault("pipeline",
                           FieldChange("hubspot", "deals", None, "pipeline", None, pipeline, "create: pipeline", group))
        self.changes += [*created.values(), back]
        self.plan_contacts(group, None, None, opp, opp.id)
        company = self.company_of_account.get(sf15(opp.fields.get("AccountId")) or "")
        if company is not None:
            self.associations.append(AssociationChange("hubspot", None, group, company, None, False,
                                                       f"the company of Account {opp.fields.get('AccountId')}",
                                                       to_type="companies"))
        return True

    def create_opportunity(self, deal: SourceRecord) -> bool:
        """An Opportunity for a HubSpot-only deal (opt-in), with the Account of an associated Contact."""
        group = _group(deal)
        partner = self._create(deal, "Opportunity", self.ctx(_pipeline_of(deal)), group)
        if partner is None:
            return False
        created, back = partner
        account = self._account_for(deal)
        if account is not None and "AccountId" not in created:
            created["AccountId"] = FieldChange("salesforce", "Opportunity", None, "AccountId", None, account,
                                               "create: Account of an associated Contact", group)
        elif account is None:
            self.issues.append(Issue("hubspot", deal.id, _ASSOC_FIELD, None,
                                     "Opportunity created without an Account: no associated contact has a "
                                     "Salesforce Contact with an Account"))
        self.changes += [*created.values(), back]
        self.plan_contacts(group, deal, deal.id, None, None)
        return True

    def _create(self, source: SourceRecord, object_type: str, ctx: TransformContext, group: str
                ) -> tuple[dict[str, FieldChange], FieldChange] | None:
        return new_partner(self.mapping.fields, source, object_type, ctx, self.tie, group,
                           _REQUIRED.get(object_type, ()), DEAL_REF, self.issues)

    def _account_for(self, deal: SourceRecord) -> str | None:
        """The Account of the first (by Contact id) Salesforce Contact of a person associated to the deal."""
        contacts = self.contacts
        found: list[str] = []
        for hs_id in deal.associations.get("contacts", ()):
            pid = contacts.person_of_hs.get(str(hs_id))
            found += contacts.contacts_of.get(pid, []) if pid is not None else []
        for cid in sorted(set(found)):
            account = contacts.account_of.get(cid[:15])
            if account is not None:
                return account
        return None

    def plan_contacts(
        self, group: str, deal: SourceRecord | None, deal_id: str | None, opp: SourceRecord | None, opp_id: str | None,
    ) -> None:
        """Adds to each side the contacts the other side has (by person); ``deal``/``opp`` None = being created.

        HubSpot: the HubSpot contact of each person whose Salesforce Contact has a role on the
        Opportunity. Salesforce: a role for the Salesforce Contact of each person associated to the
        deal. A person already linked on a side (through any of their records) is left alone; a
        person with no record on the target side yet is skipped (the people plan may create it; the
        next run then links it).
        """
        spec = self.mapping.contact_roles
        c = self.contacts
        if not spec.enabled:
            return
        roles = c.roles.get(opp.id[:15], []) if opp is not None else []
        associated = sorted({str(x) for x in deal.associations.get("contacts", ())}) if deal is not None else []
        # HubSpot side: persons holding a role on the Opportunity
        have_hs = set(associated)
        wanted: dict[str, str] = {}  # person -> the Contact whose role asks for it
        for role in sorted(roles, key=lambda r: (str(r.fields.get("ContactId")), r.id)):
            cid = str(role.fields.get("ContactId")).strip()
            pid = c.person_of_contact(cid)
            if pid is None:
                self.issues.append(Issue("salesforce", opp.id if opp else "", _ROLE_FIELD, cid,
                                         "contact role of a Contact unknown to identity resolution; "
                                         "not associated in HubSpot"))
                continue
            wanted.setdefault(pid, cid)
        for pid, cid in sorted(wanted.items(), key=lambda kv: kv[1]):
            hs_ids = c.hs_of.get(pid, [])
            if hs_ids and not have_hs.intersection(hs_ids):
                self.associations.append(AssociationChange(
                    "hubspot", deal_id, group, hs_ids[0], None, False,
                    f"contact role of Contact {cid} on Opportunity {opp_id}"))
        # Salesforce side: persons associated to the deal
        have_sf = {str(r.fields.get("ContactId")).strip()[:15] for r in roles}
        has_primary = any(r.fields.get("IsPrimary") is True for r in roles)
        new_roles: dict[str, str] = {}  # Contact id -> the HubSpot contact it comes from
        for hs_id in associated:
            pid = c.person_of_hs.get(hs_id)
            if pid is None:
                self.issues.append(Issue("hubspot", deal.id if deal else "", _ASSOC_FIELD, hs_id,
                                         "associated contact unknown to identity resolution; no contact role added"))
                continue
            sf_ids = c.contacts_of.get(pid, [])
            if not sf_ids:
                leads = c.leads_of.get(pid)
                if leads:
                    self.issues.append(Issue("hubspot", deal.id if deal else "", _ASSOC_FIELD, hs_id,
                                             f"associated person is a Salesforce Lead ({leads[0]}), which "
                                             "cannot hold an OpportunityContactRole; convert the Lead to add the role"))
                continue
            if any(s[:15] in have_sf for s in sf_ids):
                continue
            new_roles.setdefault(sf_ids[0], hs_id)
        first = True
        for cid in sorted(new_roles):
            primary = first and not has_primary and spec.primary == "first_associated"
            first = False
            self.associations.append(AssociationChange(
                "salesforce", opp_id, group, cid, spec.default_role, primary,
                f"HubSpot contact {new_roles[cid]} is associated to deal {deal_id or group}"))


def _pipeline_of(deal: SourceRecord) -> str:
    value = deal.fields.get("pipeline")
    return value.strip() if isinstance(value, str) and value.strip() else DEFAULT_PIPELINE


def _group(rec: SourceRecord) -> str:
    """The stable group id of a deal's changes: "opp-<Id>" when an Opportunity exists, else "deal-<id>"."""
    return f"opp-{rec.id}" if rec.system == "salesforce" else f"deal-{rec.id}"


def _change_key(c: FieldChange) -> tuple[str, str, str, str, str]:
    return (c.person_id, c.system, c.object_type, c.record_id or "", c.field)


def _unique(issues: Sequence[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str, str, str]] = set()
    out: list[Issue] = []
    for i in issues:
        key = (i.system, i.record_id, i.field, i.message, repr(i.value))
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out
