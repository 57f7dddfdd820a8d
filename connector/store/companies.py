"""Companies and Accounts in the store: what company reconciliation takes, what its association writes leave
behind (so their echo is no change), and each person's company (what fit rules read)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.companies import PARENT_PROPERTY, CompanyInputs
from ..reconcile.crossref import sf15
from ..reconcile.records import SourceRecord as DomainRecord
from .deals import add_associations, primary_links
from .models import Link, SourceRecord
from .people import _domain

__all__ = ["add_company_links", "companies_and_accounts", "company_inputs", "note_parents", "person_companies"]


def _records(session: Session, system: str, object_type: str) -> tuple[DomainRecord, ...]:
    rows = session.execute(select(SourceRecord).where(col(SourceRecord.system) == system,
                                                      col(SourceRecord.object_type) == object_type)).scalars()
    return tuple(_domain(r) for r in rows)


def company_inputs(engine: Engine, with_deals: bool = True) -> CompanyInputs:
    """Companies, Accounts, the Contacts and (`with_deals`) deals and Opportunities that point at them, and
    the people's primary links (a merge held for review waits, as for deals)."""
    with Session(engine) as session:
        companies = _records(session, "hubspot", "companies")
        accounts = _records(session, "salesforce", "Account")
        contacts = _records(session, "salesforce", "Contact")
        deals = _records(session, "hubspot", "deals") if with_deals else ()
        opportunities = _records(session, "salesforce", "Opportunity") if with_deals else ()
        people = primary_links(session)
    return CompanyInputs(companies, accounts, contacts, deals, opportunities, people)


def companies_and_accounts(engine: Engine) -> tuple[tuple[DomainRecord, ...], tuple[DomainRecord, ...]]:
    """Every stored HubSpot company and Salesforce Account (what tells which company an Account has)."""
    with Session(engine) as session:
        return _records(session, "hubspot", "companies"), _records(session, "salesforce", "Account")


def add_company_links(engine: Engine, pairs: Iterable[tuple[str, str, str]]) -> None:
    """Record associations the connector made ((from type, from id, company id)) in the companies' snapshots."""
    add_associations(engine, "companies", ((company, from_type, from_id) for from_type, from_id, company in pairs))


def note_parents(engine: Engine, pairs: Iterable[tuple[str, str]]) -> None:
    """Record the parents the connector gave companies ((child, parent)) in the children's snapshots, as
    HubSpot then answers them (``hs_parent_company_id``), so their echo is no change."""
    with Session(engine) as session, session.begin():
        for child, parent in pairs:
            row = session.get(SourceRecord, ("hubspot", "companies", child))
            if row is not None:
                row.data = {**row.data, PARENT_PROPERTY: parent}
                session.add(row)


def person_companies(engine: Engine, person_ids: Sequence[str], account_property: str = "salesforce_account_id"
                     ) -> dict[str, tuple[DomainRecord | None, DomainRecord | None]]:
    """Each person's company as (HubSpot company, Account): their Salesforce Contact's Account, and the
    company their HubSpot contact is associated with (the one whose `account_property` names that Account when
    there are several; else the lowest id). People with neither are left out."""
    wanted = set(person_ids)
    if not wanted:
        return {}
    with Session(engine) as session:
        links = session.execute(select(col(Link.person_id), col(Link.system), col(Link.object_type),
                                       col(Link.record_id)).where(col(Link.role) == "primary")).all()
        contacts_of: dict[str, list[str]] = {}
        hs_of: dict[str, list[str]] = {}
        for pid, system, obj, rid in links:
            if pid not in wanted:
                continue
            if system == "salesforce" and obj == "Contact":
                contacts_of.setdefault(pid, []).append(rid)
            elif system == "hubspot" and obj == "contacts":
                hs_of.setdefault(pid, []).append(rid)
        contact_ids = sorted({c for ids in contacts_of.values() for c in ids})
        account_of: dict[str, str] = {}
        for start in range(0, len(contact_ids), 500):
            rows = session.execute(select(SourceRecord).where(
                col(SourceRecord.system) == "salesforce", col(SourceRecord.object_type) == "Contact",
                col(SourceRecord.record_id).in_(contact_ids[start:start + 500]))).scalars()
            for row in rows:
                account = sf15(row.data.get("AccountId"))
                if account is not None and not row.deleted:
                    account_of[row.record_id] = account
        accounts = {r.id[:15]: r for r in _records(session, "salesforce", "Account") if not r.deleted}
        companies = [c for c in _records(session, "hubspot", "companies") if not c.deleted and c.merged_into is None]
    company_of_contact: dict[str, list[DomainRecord]] = {}
    for record in sorted(companies, key=lambda c: int(c.id) if c.id.isdigit() else 0):
        for contact in record.associations.get("contacts", ()):
            company_of_contact.setdefault(str(contact), []).append(record)
    out: dict[str, tuple[DomainRecord | None, DomainRecord | None]] = {}
    for pid in sorted(wanted):
        found = next((accounts.get(a) for c in sorted(contacts_of.get(pid, [])) if (a := account_of.get(c))), None)
        held = [co for h in hs_of.get(pid, []) for co in company_of_contact.get(h, [])]
        company = None
        if held:
            same = [co for co in held if found is not None and sf15(co.fields.get(account_property)) == found.id[:15]]
            company = (same or held)[0]
        if company is not None or found is not None:
            out[pid] = (company, found)
    return out
