"""Renders a person as Salesforce sees them: Lead or Contact (+Account), converted and duplicate Leads,
Opportunity with contact role, Tasks, Events and campaign memberships."""

from __future__ import annotations

import random
from typing import Any

from . import _words as W
from ._hubspot import SALES_MEAN
from ._ids import Ids
from ._person import Person
from ._rng import Weighted, below, between, capped, one_of
from ._schema import CustomSchema
from ._time import DAY, HOUR, MINUTE, day_str
from ._vocab import CONTACT_ROLES, OPP_PROBABILITY, OPP_TYPES

__all__ = ["SalesforceRenderer"]

Records = dict[str, list[dict[str, Any]]]
_ACTIVITY = Weighted([("call", 0.40), ("email", 0.30), ("todo", 0.12), ("meeting", 0.18)])
_ROLES = Weighted(CONTACT_ROLES)
_OPP_TYPES = Weighted(OPP_TYPES)
_OPEN_TASK_STATUS = Weighted(
    [("Not Started", 0.5), ("In Progress", 0.3), ("Waiting on someone else", 0.1), ("Deferred", 0.1)]
)


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """Drops empty fields: a missing key reads as null in both emulators."""
    return {k: v for k, v in record.items() if v is not None}


def _sec(ms: int) -> int:
    """Salesforce keeps datetimes to the second (the API renders .000), so seeded ones are whole seconds too."""
    return ms - ms % 1000


def _gone(person: Person, record: dict[str, Any]) -> dict[str, Any]:
    """The person's own Lead/Contact, in the recycle bin when the person was deleted there."""
    if person.sf_deleted_at:
        at = _sec(person.sf_deleted_at)
        record |= {"IsDeleted": True, "_DeletedDate": at, "LastModifiedDate": at, "SystemModstamp": at}
    return _clean(record)


def _duplicate_address(person: Person) -> str:
    """The address a merged-away duplicate record had (its own, so the survivor's stays unique)."""
    local, _, domain = person.email.partition("@")
    return f"{local}.{person.index}@{domain}"


def _stamps(created: int, modified: int, modstamp: int | None = None) -> dict[str, int]:
    return {
        "CreatedDate": _sec(created),
        "LastModifiedDate": _sec(modified),
        "SystemModstamp": _sec(modified if modstamp is None else modstamp),
    }


class SalesforceRenderer:
    """Appends one person's Salesforce records to a batch; Accounts appear with their first Contact."""

    def __init__(
        self,
        rng: random.Random,
        campaign_rng: random.Random,
        now_ms: int,
        profile_days: tuple[int, int],
        sales_scale: float,
        member_share: float,
        campaigns: list[dict[str, Any]],
        reps: list[str],
        ids: Ids,
        schema: CustomSchema | None = None,
    ) -> None:
        self.schema = schema
        self.rng = rng
        self.rc = campaign_rng
        self.now = now_ms
        self.window = profile_days[0] * DAY
        self.max_age = profile_days[1] * DAY
        self.scale = sales_scale
        self.member_share = member_share
        self.campaigns = campaigns
        self.reps = reps
        self.ids = ids

    def render(self, person: Person, out: Records) -> None:
        if person.sf_kind is None:
            return
        ids, company = self.ids, person.company
        owner = person.owner.sf_user_id
        common = {
            "FirstName": person.first,
            "LastName": person.last,
            "Email": person.sf_email,
            "Phone": person.sf_phone,
            "MobilePhone": person.mobile,
            "Title": person.sf_title,
            "LeadSource": person.sf_lead_source,
            "OwnerId": owner,
            "HasOptedOutOfEmail": person.optout_sf,
        }
        lead_fields = {
            "Company": person.sf_company,
            "Website": f"www.{company.domain}",
            "City": person.city,
            "State": person.state,
            "Country": person.sf_country,
            "Industry": company.industry,
            "NumberOfEmployees": company.employees,
            "AnnualRevenue": company.revenue,
            "Rating": person.rating,
        }
        custom = self.schema.salesforce_values() if self.schema is not None else {}
        opp = person.opp if person.opp is not None and person.opp.in_salesforce else None
        if person.sf_kind == "lead":
            who = ids.salesforce("Lead")
            out["Lead"].append(
                _gone(
                    person,
                    {
                        "Id": who,
                        **common,
                        **lead_fields,
                        **custom,
                        "Status": person.sf_lead_status,
                        "IsConverted": False,
                        **_stamps(person.sf_created, person.sf_modified, person.sf_modstamp),
                    },
                )
            )
            who_created, what = person.sf_created, None
        else:
            account = self._account(person, out)
            who = ids.salesforce("Contact")
            created = person.converted_at or person.sf_created
            out["Contact"].append(
                _gone(
                    person,
                    {
                        "Id": who,
                        **common,
                        **custom,
                        "Department": person.department,
                        "AccountId": account,
                        "MailingCity": person.city,
                        "MailingState": person.state,
                        "MailingCountry": person.sf_country,
                        "Description": one_of(self.rng, W.DESCRIPTIONS) if self.rng.random() < 0.2 else None,
                        **_stamps(created, person.sf_modified, person.sf_modstamp),
                    },
                )
            )
            what = None
            if opp is not None:
                what = ids.salesforce("Opportunity")
                if person.converted_at and self.rng.random() < 0.6:
                    opp.created = person.converted_at  # the conversion created it
                    converted_opp: str | None = what
                else:
                    converted_opp = None
                out["Opportunity"].append(
                    {
                        "Id": what,
                        "Name": opp.name,
                        "AccountId": account,
                        "StageName": opp.stage,
                        "Amount": opp.amount,
                        "CloseDate": day_str(opp.close_ms),
                        "Probability": OPP_PROBABILITY[opp.stage],
                        "OwnerId": owner,
                        "LeadSource": person.sf_lead_source,
                        "Type": _OPP_TYPES.pick(self.rng),
                        "IsClosed": opp.stage.startswith("Closed"),
                        "IsWon": opp.stage == "Closed Won",
                        **_stamps(opp.created, opp.modified),
                    }
                )
                out["OpportunityContactRole"].append(
                    {
                        "Id": ids.salesforce("OpportunityContactRole"),
                        "OpportunityId": what,
                        "ContactId": who,
                        "Role": _ROLES.pick(self.rng),
                        "IsPrimary": True,
                        **_stamps(opp.created, opp.created),
                    }
                )
            else:
                converted_opp = None
            if person.converted_at:
                out["Lead"].append(
                    _clean(
                        {
                            "Id": ids.salesforce("Lead"),
                            **common,
                            **lead_fields,
                            "Email": person.sf_email,
                            "Status": "Closed - Converted",
                            "IsConverted": True,
                            "ConvertedDate": day_str(person.converted_at),
                            "ConvertedContactId": who,
                            "ConvertedAccountId": account,
                            "ConvertedOpportunityId": converted_opp,
                            **_stamps(person.sf_created, person.converted_at),
                        }
                    )
                )
            who_created = created
        if person.sf_merged_at:
            sobject = "Lead" if who.startswith("00Q") else "Contact"
            loser_created = min(who_created, person.sf_merged_at)
            loser: dict[str, Any] = {
                "Id": ids.salesforce(sobject),
                **common,
                "Email": _duplicate_address(person),
                "Phone": None,
                "OwnerId": one_of(self.rng, self.reps),
                "IsDeleted": True,
                "MasterRecordId": who,
                "_DeletedDate": _sec(person.sf_merged_at),
                **_stamps(loser_created, person.sf_merged_at),
            }
            if sobject == "Lead":
                loser |= {**lead_fields, "Status": "Open - Not Contacted", "IsConverted": False}
            else:
                loser["AccountId"] = person.company.account_id
            out[sobject].append(_clean(loser))
        if person.duplicate_at:
            duplicate = {
                "Id": ids.salesforce("Lead"),
                **common,
                **lead_fields,
                "Email": person.duplicate_email,
                "Phone": None,
                "Status": "Open - Not Contacted",
                "LeadSource": "Purchased List",
                "Rating": "Cold",
                "OwnerId": one_of(self.rng, self.reps),
                "HasOptedOutOfEmail": False,
                "IsConverted": False,
                "Description": "Imported from purchased list.",
                **_stamps(person.duplicate_at, person.duplicate_at),
            }
            if person.dup_converted_at:  # converted into the Contact that already existed: no new records
                duplicate |= {
                    "Status": "Closed - Converted",
                    "IsConverted": True,
                    "ConvertedDate": day_str(person.dup_converted_at),
                    "ConvertedContactId": who,
                    "ConvertedAccountId": person.company.account_id,
                    **_stamps(person.duplicate_at, person.dup_converted_at),
                }
            out["Lead"].append(_clean(duplicate))
        self._activities(person, who, what, who_created, owner, out)
        self._memberships(person, who, who_created, out)

    def _account(self, person: Person, out: Records) -> str:
        company = person.company
        if company.account_id is None:
            rng = self.rng
            created = self.now - self.max_age - below(rng, 365 * DAY)
            company.account_id = self.ids.salesforce("Account")
            company.account_created = created
            modified = between(rng, created, self.now)
            out["Account"].append(
                {
                    "Id": company.account_id,
                    "Name": company.name,
                    "Industry": company.industry,
                    "NumberOfEmployees": company.employees,
                    "AnnualRevenue": company.revenue,
                    "Website": company.sf_website or f"www.{company.domain}",
                    "BillingCity": company.city,
                    "BillingState": company.state,
                    "BillingCountry": person.sf_country,
                    "Type": company.account_type,
                    "OwnerId": self.reps[company.owner],
                    **_stamps(created, modified),
                }
            )
            if company.state is None:
                del out["Account"][-1]["BillingState"]
            if company.parent_account_id is not None:  # an earlier company's Account: the hierarchy has no cycles
                out["Account"][-1]["ParentId"] = company.parent_account_id
        return company.account_id

    def _activities(self, person: Person, who: str, what: str | None, created: int, owner: str, out: Records) -> None:
        rng, now = self.rng, self.now
        mean = SALES_MEAN[person.stage] * self.scale * 0.9
        if mean <= 0:
            return
        count = int(rng.expovariate(1.0 / mean) + 0.5)
        lo = max(created, now - self.window)
        for _ in range(count):
            kind = _ACTIVITY.pick(rng)
            at = between(rng, lo, now)
            what_id = what if what is not None and rng.random() < 0.5 else None
            if kind == "meeting":
                future = rng.random() < 0.15
                start = _sec(now + between(rng, HOUR, 21 * DAY - 1) if future else at)
                minutes = one_of(rng, (30, 45, 60))
                out["Event"].append(
                    _clean(
                        {
                            "Id": self.ids.salesforce("Event"),
                            "WhoId": who,
                            "WhatId": what_id,
                            "Subject": f"Meeting: {one_of(rng, W.MEETING_TITLES)}",
                            "StartDateTime": start,
                            "EndDateTime": start + minutes * MINUTE,
                            "DurationInMinutes": minutes,
                            "ActivityDateTime": start,
                            "ActivityDate": day_str(start),
                            "IsAllDayEvent": False,
                            "EventSubtype": "Event",
                            "Type": "Meeting",
                            "OwnerId": owner,
                            "Description": one_of(rng, W.NOTE_BODIES),
                            **_stamps(at, at),
                        }
                    )
                )
                continue
            task: dict[str, Any] = {
                "Id": self.ids.salesforce("Task"),
                "WhoId": who,
                "WhatId": what_id,
                "OwnerId": owner,
            }
            if kind == "call":
                task |= {
                    "Subject": one_of(rng, W.CALL_TITLES),
                    "TaskSubtype": "Call",
                    "Type": "Call",
                    "Status": "Completed",
                    "CallType": "Outbound" if rng.random() < 0.8 else "Inbound",
                    "CallDurationInSeconds": between(rng, 20, 3600 - 1),
                    "Description": one_of(rng, W.NOTE_BODIES),
                }
            elif kind == "email":
                task |= {
                    "Subject": f"Email: {one_of(rng, W.EMAIL_SUBJECTS)}",
                    "TaskSubtype": "Email",
                    "Type": "Email",
                    "Status": "Completed",
                }
            else:
                done = rng.random() < 0.5
                task |= {
                    "Subject": one_of(rng, W.TASK_SUBJECTS),
                    "TaskSubtype": "Task",
                    "Type": "Other",
                    "Status": "Completed" if done else _OPEN_TASK_STATUS.pick(rng),
                }
            done = task["Status"] == "Completed"
            due = at if done else now + between(rng, HOUR, 14 * DAY - 1)
            task |= {
                "Priority": "High" if rng.random() < 0.15 else "Normal" if rng.random() < 0.85 else "Low",
                "ActivityDate": day_str(due),
                "CompletedDateTime": _sec(at) if done else None,
                **_stamps(at, at),
            }
            out["Task"].append(_clean(task))

    def _memberships(self, person: Person, who: str, created: int, out: Records) -> None:
        rc, now = self.rc, self.now
        if not self.campaigns or rc.random() >= self.member_share:
            return
        chosen = rc.sample(self.campaigns, min(len(self.campaigns), 1 if rc.random() < 0.7 else 2))
        key = "LeadId" if who.startswith("00Q") else "ContactId"
        for campaign in chosen:
            start = max(created, campaign["CreatedDate"])
            joined = capped(rc, start + below(rc, 5 * DAY), start, now)
            responded = rc.random() < 0.35
            first = capped(rc, joined + below(rc, 10 * DAY), joined, now) if responded else None
            out["CampaignMember"].append(
                _clean(
                    {
                        "Id": self.ids.salesforce("CampaignMember"),
                        "CampaignId": campaign["Id"],
                        key: who,
                        "Status": "Responded" if responded else "Sent",
                        "HasResponded": responded,
                        "FirstRespondedDate": day_str(first) if first is not None else None,
                        **_stamps(joined, first if first is not None else joined),
                    }
                )
            )
