"""What is pulled: one declarative stream per system object (after singer-sdk's streams).

Fields are the ones the default mappings, identity resolution and scoring read; later issues extend
the lists from the mapping files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ..reconcile.mapping import CompanyMapping, ContactMapping
from ..reconcile.schema import SCORE_OUTPUTS

__all__ = [
    "ALL_STREAMS",
    "COMPANY_STREAMS",
    "ENGAGEMENT_STREAMS",
    "OPPORTUNITY_STREAMS",
    "PEOPLE_STREAMS",
    "Stream",
    "with_company_fields",
    "with_mapped_fields",
]

System = Literal["hubspot", "salesforce"]


@dataclass(frozen=True)
class Stream:
    """One object of one system, read incrementally by its modified time."""

    system: System
    object_type: str
    fields: tuple[str, ...]
    group: Literal["people", "engagement", "opportunities", "companies"] = "people"
    #: HubSpot only: object types whose associated ids are pulled along (e.g. a call's contacts)
    associations: tuple[str, ...] = ()
    #: "records" are CRM objects with a modified time; event streams are immutable, timestamped touches
    kind: Literal["records", "web_events", "email_events", "owners"] = "records"
    #: Salesforce only: who gives up its query slot first when a Composite's five run out ("probe": objects
    #: that change less often and that the connector never writes; a change found by a probe costs a second call)
    poll: Literal["query", "probe"] = "query"

    @property
    def name(self) -> str:
        return f"{self.system}:{self.object_type}"


_HUBSPOT_CONTACT = (
    "email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle", "website", "city", "state",
    "country", "industry", "numemployees", "annualrevenue", "lifecyclestage", "hs_lead_status", "hubspot_owner_id",
    "hs_legal_basis", "hs_email_optout", "hs_analytics_source", "hs_merged_object_ids", "hs_additional_emails",
    "createdate", "lastmodifieddate", "hs_email_open", "hs_email_click", "hs_email_last_open_date",
    "hs_email_last_click_date", "hs_analytics_num_page_views", "num_conversion_events", "recent_conversion_date",
)
_SF_LEAD = (
    "FirstName", "LastName", "Company", "Email", "Phone", "MobilePhone", "Title", "Website", "City", "State",
    "Country", "Industry", "NumberOfEmployees", "AnnualRevenue", "Status", "LeadSource", "Rating", "OwnerId",
    "HasOptedOutOfEmail", "IsConverted", "ConvertedDate", "ConvertedContactId", "ConvertedAccountId",
    "ConvertedOpportunityId", "MasterRecordId", "CreatedDate", "LastModifiedDate",
)
_SF_CONTACT = (
    "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title", "Department", "AccountId", "LeadSource",
    "OwnerId", "HasOptedOutOfEmail", "MailingCity", "MailingState", "MailingCountry", "MasterRecordId",
    "CreatedDate", "LastModifiedDate",
)

_OWNER = ("hubspot_owner_id", "hs_createdate", "hs_lastmodifieddate", "hs_timestamp")

PEOPLE_STREAMS: tuple[Stream, ...] = (
    Stream("hubspot", "contacts", _HUBSPOT_CONTACT),
    Stream("salesforce", "Lead", _SF_LEAD),
    Stream("salesforce", "Contact", _SF_CONTACT),
    # owners map across systems by e-mail: HubSpot owners (listed whole, on the deletion-scan cadence)
    # and Salesforce Users
    Stream("hubspot", "owners", (), kind="owners"),
    Stream("salesforce", "User", ("Email", "FirstName", "LastName", "IsActive"), poll="probe"),
)

#: companies and Accounts (their mapped fields and cross-references join from companies.toml); a company's
#: contacts and deals come along (associations are read from the company: it changes less often)
COMPANY_STREAMS: tuple[Stream, ...] = (
    Stream("hubspot", "companies", ("name", "domain", "website", "industry", "numberofemployees", "annualrevenue",
                                    "city", "state", "country", "phone", "hubspot_owner_id", "createdate",
                                    "hs_lastmodifieddate", "hs_merged_object_ids", "hs_parent_company_id"),
           "companies", associations=("contacts", "deals")),
    # a Contact's company, industry and size live on its Account
    Stream("salesforce", "Account", ("Name", "Industry", "NumberOfEmployees", "AnnualRevenue", "Website", "Phone",
                                     "BillingCity", "BillingState", "BillingCountry", "Type", "OwnerId", "ParentId",
                                     "MasterRecordId"), "companies", poll="probe"),
)

OPPORTUNITY_STREAMS: tuple[Stream, ...] = (
    Stream("hubspot", "deals", ("dealname", "amount", "dealstage", "pipeline", "closedate", "hubspot_owner_id",
                                "createdate", "hs_lastmodifieddate", "hs_is_closed", "hs_is_closed_won",
                                "salesforce_opportunity_id"),
           "opportunities", associations=("contacts",)),
    Stream("salesforce", "Opportunity", ("Name", "AccountId", "StageName", "Amount", "CloseDate", "Probability",
                                         "IsClosed", "IsWon", "OwnerId", "LeadSource", "Type", "CreatedDate",
                                         "HubSpot_Deal_Id__c"),
           "opportunities"),
    Stream("salesforce", "OpportunityContactRole", ("OpportunityId", "ContactId", "Role", "IsPrimary"),
           "opportunities"),
)

ENGAGEMENT_STREAMS: tuple[Stream, ...] = (
    Stream("hubspot", "calls", (*_OWNER, "hs_call_title", "hs_call_direction", "hs_call_status", "hs_call_duration"),
           "engagement", associations=("contacts",)),
    Stream("hubspot", "meetings", (*_OWNER, "hs_meeting_title", "hs_meeting_start_time", "hs_meeting_end_time",
                                   "hs_meeting_outcome"), "engagement", associations=("contacts",)),
    Stream("hubspot", "emails", (*_OWNER, "hs_email_direction", "hs_email_subject", "hs_email_status"),
           "engagement", associations=("contacts",)),
    Stream("hubspot", "notes", _OWNER, "engagement", associations=("contacts",)),
    Stream("hubspot", "tasks", (*_OWNER, "hs_task_subject", "hs_task_status", "hs_task_priority", "hs_task_type"),
           "engagement", associations=("contacts",)),
    Stream("hubspot", "web_events", (), "engagement", kind="web_events"),
    Stream("hubspot", "email_events", (), "engagement", kind="email_events"),
    Stream("salesforce", "Task", ("WhoId", "WhatId", "Subject", "Status", "Priority", "ActivityDate", "TaskSubtype",
                                  "Type", "CallDurationInSeconds", "CallType", "OwnerId", "CompletedDateTime",
                                  "CreatedDate"), "engagement"),
    Stream("salesforce", "Event", ("WhoId", "WhatId", "Subject", "StartDateTime", "EndDateTime", "DurationInMinutes",
                                   "ActivityDateTime", "EventSubtype", "Type", "OwnerId", "CreatedDate"), "engagement",
           poll="probe"),
    Stream("salesforce", "CampaignMember", ("CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
                                            "FirstRespondedDate", "CreatedDate"), "engagement", poll="probe"),
)

ALL_STREAMS: tuple[Stream, ...] = PEOPLE_STREAMS + COMPANY_STREAMS + OPPORTUNITY_STREAMS + ENGAGEMENT_STREAMS


def with_mapped_fields(stream: Stream, mapping: ContactMapping, scoring: bool = False,
                       reason_field: str | None = None) -> Stream:
    """`stream` reading the contact mapping's fields too (people objects only); with `scoring`, the scorer's
    outputs (so a value already published is no write) and the Lead field sales give a reason in."""
    if stream.object_type not in ("contacts", "Lead", "Contact"):
        return stream
    extra: list[str] = []
    if scoring:
        extra += [names[0] if stream.system == "hubspot" else names[1] for names in SCORE_OUTPUTS.values()]
        if reason_field and stream.object_type == "Lead":
            extra.append(reason_field)
    for f in mapping.fields:
        name = f.native_name(stream.system, stream.object_type)
        if name:
            extra.append(name)
    ident = mapping.identity
    if stream.system == "hubspot":
        extra += [ident.hubspot_lead_id_property, ident.hubspot_contact_id_property]
    else:
        extra.append(ident.salesforce_hubspot_id_field)
    return replace(stream, fields=tuple(dict.fromkeys((*stream.fields, *extra))))


def with_company_fields(stream: Stream, mapping: CompanyMapping | None) -> Stream:
    """`stream` reading companies.toml's fields and cross-reference too (company objects only)."""
    if mapping is None or stream.object_type not in ("companies", "Account"):
        return stream
    extra = [name for f in mapping.fields if (name := f.native_name(stream.system, stream.object_type))]
    ident = mapping.identity
    extra.append(ident.hubspot_account_id_property if stream.system == "hubspot" else ident.salesforce_company_id_field)
    return replace(stream, fields=tuple(dict.fromkeys((*stream.fields, *extra))))
