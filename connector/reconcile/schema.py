"""What each system's objects hold: known field names and picklist values, to validate mapping files."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "HUBSPOT_PROPERTIES",
    "SALESFORCE_FIELDS",
    "HUBSPOT_ENUMS",
    "SALESFORCE_PICKLISTS",
    "LIFECYCLE_ORDER",
    "EMPLOYEE_RANGES",
    "CONVERTED_LEAD_STATUSES",
    "DEFAULT_PIPELINE_STAGES",
    "READ_ONLY_SALESFORCE",
    "READ_ONLY_HUBSPOT",
    "LEGAL_BASES",
    "CONNECTOR_STATUSES",
    "GRADES",
    "SCORE_OUTPUTS",
    "SCORE_OUTPUT_OPTIONS",
    "SLA_STATES",
]

LIFECYCLE_ORDER: tuple[str, ...] = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
    "opportunity", "customer", "evangelist", "other",
)
EMPLOYEE_RANGES: tuple[str, ...] = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")
DEFAULT_PIPELINE_STAGES: tuple[str, ...] = (
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
    "contractsent", "closedwon", "closedlost",
)
LEGAL_BASES: tuple[str, ...] = (
    "Legitimate interest – prospect/lead", "Legitimate interest – existing customer",
    "Legitimate interest - other", "Performance of a contract", "Freely given consent from contact",
    "Not applicable",
)
CONVERTED_LEAD_STATUSES: frozenset[str] = frozenset({"Closed - Converted"})
#: the qualification status, in the order of the state machine ("Lead" is the status before MQL); the same
#: values in HubSpot (option value) and Salesforce (picklist API value)
CONNECTOR_STATUSES: tuple[str, ...] = (
    "Lead", "MQL", "SAL", "SQL", "Opportunity", "Customer", "Recycled", "Disqualified",
)
GRADES: tuple[str, ...] = ("A", "B", "C", "D")
#: the scorer's outputs, written to both systems: (HubSpot contact property, Salesforce Lead/Contact field)
SCORE_OUTPUTS: Mapping[str, tuple[str, str]] = {
    "score": ("connector_score", "Connector_Score__c"),
    "grade": ("connector_grade", "Connector_Grade__c"),
    "status": ("connector_status", "Connector_Status__c"),
    "mql_date": ("connector_mql_date", "Connector_MQL_Date__c"),
    "status_reason": ("connector_status_reason", "Connector_Status_Reason__c"),
    "reason": ("connector_score_reason", "Connector_Score_Reason__c"),
    # the handoff (issue 17): the SLA clock from MQL to first sales touch, and marketing's touches before it
    "sla_state": ("connector_sla_state", "Connector_SLA_State__c"),
    "sla_due": ("connector_sla_due", "Connector_SLA_Due__c"),
    "touches_before_mql": ("connector_touches_before_mql", "Connector_Touches_Before_MQL__c"),
    "first_touch": ("connector_first_touch", "Connector_First_Touch__c"),
    "last_touch": ("connector_last_touch", "Connector_Last_Touch__c"),
}
#: the handoff SLA clock's states, as both systems show them
SLA_STATES: tuple[str, ...] = ("On time", "Due soon", "Breached", "Met")
#: the outputs that take one of a fixed set of values: HubSpot enumeration options and Salesforce picklist values
SCORE_OUTPUT_OPTIONS: Mapping[str, tuple[str, ...]] = {"grade": GRADES, "status": CONNECTOR_STATUSES,
                                                       "sla_state": SLA_STATES}

#: HubSpot's "unsubscribed from all e-mail": read-only through the CRM API (the push opts people out through
#: the subscription preferences API) and never written "false" (the connector never opts anyone in; a
#: blank already means "not opted out"), so no such change is planned.
HUBSPOT_OPT_OUT = "hs_email_optout"

# HubSpot properties per object type (the dataset vocabulary plus the connector's own properties).
HUBSPOT_PROPERTIES: Mapping[str, frozenset[str]] = {
    "contacts": frozenset({
        "email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle", "website",
        "city", "state", "country", "industry", "numemployees", "annualrevenue", "lifecyclestage",
        "hs_lead_status", "hubspot_owner_id", "hs_legal_basis", "hs_email_optout",
        "hs_analytics_source", "hs_merged_object_ids", "createdate", "lastmodifieddate",
        "salesforce_lead_id", "salesforce_contact_id",
    }) | {hubspot for hubspot, _ in SCORE_OUTPUTS.values()},
    "deals": frozenset({
        "dealname", "amount", "dealstage", "pipeline", "closedate", "hubspot_owner_id",
        "createdate", "hs_lastmodifieddate", "salesforce_opportunity_id",
    }),
    # HubSpot's default company properties the connector knows of (industry is an enumeration there, unlike a
    # contact's free-text industry), and the cross-reference `connector setup` creates
    "companies": frozenset({
        "name", "domain", "website", "industry", "numberofemployees", "annualrevenue", "city", "state",
        "country", "zip", "address", "phone", "description", "type", "lifecyclestage", "hubspot_owner_id",
        "hs_parent_company_id", "hs_num_child_companies", "hs_merged_object_ids", "num_associated_contacts",
        "num_associated_deals", "hs_object_id", "createdate", "hs_lastmodifieddate", "salesforce_account_id",
    }),
}

HUBSPOT_ENUMS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("contacts", "lifecyclestage"): LIFECYCLE_ORDER,
    ("contacts", "hs_lead_status"): (
        "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT",
        "CONNECTED", "BAD_TIMING",
    ),
    ("contacts", "numemployees"): EMPLOYEE_RANGES,
    ("contacts", "hs_legal_basis"): LEGAL_BASES,
    ("contacts", "hs_analytics_source"): (
        "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
        "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL",
    ),
    ("deals", "dealstage"): DEFAULT_PIPELINE_STAGES,
} | {("contacts", SCORE_OUTPUTS[output][0]): values for output, values in SCORE_OUTPUT_OPTIONS.items()}

_PERSON_COMMON = {
    "Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title", "LeadSource", "OwnerId",
    "HasOptedOutOfEmail", "Description", "IsDeleted", "MasterRecordId", "CreatedDate",
    "LastModifiedDate", "SystemModstamp", "HubSpot_Contact_Id__c",
} | {salesforce for _, salesforce in SCORE_OUTPUTS.values()}
SALESFORCE_FIELDS: Mapping[str, frozenset[str]] = {
    "Lead": frozenset(_PERSON_COMMON | {
        "Company", "Website", "City", "State", "Country", "Industry", "NumberOfEmployees",
        "AnnualRevenue", "Status", "Rating", "IsConverted", "ConvertedDate", "ConvertedContactId",
        "ConvertedAccountId", "ConvertedOpportunityId",
    }),
    "Contact": frozenset(_PERSON_COMMON | {
        "Department", "AccountId", "MailingCity", "MailingState", "MailingCountry",
    }),
    "Opportunity": frozenset({
        "Id", "Name", "AccountId", "StageName", "Amount", "CloseDate", "Probability", "OwnerId",
        "LeadSource", "Type", "IsClosed", "IsWon", "IsDeleted", "CreatedDate", "LastModifiedDate",
        "SystemModstamp", "HubSpot_Deal_Id__c",
    }),
    "Account": frozenset({
        "Id", "Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingCity", "BillingState",
        "BillingCountry", "Phone", "Type", "OwnerId", "ParentId", "Description", "IsDeleted", "MasterRecordId",
        "CreatedDate", "LastModifiedDate", "SystemModstamp", "HubSpot_Company_Id__c",
    }),
}

SALESFORCE_PICKLISTS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("Lead", "Status"): ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"),
    ("Lead", "LeadSource"): ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"),
    ("Contact", "LeadSource"): ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"),
    ("Lead", "Rating"): ("Hot", "Warm", "Cold"),
    ("Opportunity", "StageName"): (
        "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
        "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
    ),
    ("Opportunity", "LeadSource"): ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"),
} | {(obj, SCORE_OUTPUTS[output][1]): values for output, values in SCORE_OUTPUT_OPTIONS.items()
     for obj in ("Lead", "Contact")}

# Fields Salesforce computes or sets itself: a mapping may read them but never write them.
READ_ONLY_SALESFORCE: frozenset[str] = frozenset({
    "Id", "IsDeleted", "MasterRecordId", "CreatedDate", "LastModifiedDate", "SystemModstamp",
    "IsConverted", "ConvertedDate", "ConvertedContactId", "ConvertedAccountId",
    "ConvertedOpportunityId", "IsClosed", "IsWon",
})
# hs_analytics_source ("Original Source") is set by HubSpot's own analytics; the properties API marks it
# ``readOnlyValue`` and the CRM objects API refuses writes to it (`connector validate --live` reads the flag).
# hs_object_id is the record id; a company's parent id and its counts of child companies, contacts and deals
# are kept by HubSpot from its associations (inferred read-only: HubSpot calculates them; the live check reads
# each property's flag in the portal).
READ_ONLY_HUBSPOT: frozenset[str] = frozenset({
    "hs_merged_object_ids", "createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_analytics_source",
    "hs_object_id", "hs_parent_company_id", "hs_num_child_companies", "num_associated_contacts",
    "num_associated_deals",
})
