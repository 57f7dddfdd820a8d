"""Picklist values of both systems and the mappings between them that the seeded world keeps consistent."""

from __future__ import annotations

LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
STAGE_RANK = {stage: rank for rank, stage in enumerate(LIFECYCLE)} | {"other": 1}

# internal funnel position -> weight, per presence; "other" is HubSpot's catch-all (disqualified, partners)
STAGE_WEIGHTS: dict[str, tuple[tuple[str, float], ...]] = {
    "both": (
        ("subscriber", 0.16),
        ("lead", 0.27),
        ("marketingqualifiedlead", 0.13),
        ("salesqualifiedlead", 0.12),
        ("opportunity", 0.10),
        ("customer", 0.16),
        ("evangelist", 0.02),
        ("other", 0.04),
    ),
    "hubspot": (
        ("subscriber", 0.45),
        ("lead", 0.31),
        ("marketingqualifiedlead", 0.13),
        ("salesqualifiedlead", 0.02),
        ("opportunity", 0.02),
        ("customer", 0.03),
        ("other", 0.04),
    ),
    "salesforce": (
        ("lead", 0.35),
        ("salesqualifiedlead", 0.20),
        ("opportunity", 0.18),
        ("customer", 0.25),
        ("other", 0.02),
    ),
}

# hs_lead_status by stage (None: not set, typical for subscribers and customers)
LEAD_STATUS_WEIGHTS: dict[str, tuple[tuple[str | None, float], ...]] = {
    "subscriber": ((None, 0.85), ("NEW", 0.15)),
    "lead": ((None, 0.30), ("NEW", 0.30), ("OPEN", 0.20), ("ATTEMPTED_TO_CONTACT", 0.15), ("BAD_TIMING", 0.05)),
    "marketingqualifiedlead": (("NEW", 0.30), ("OPEN", 0.30), ("IN_PROGRESS", 0.25), ("ATTEMPTED_TO_CONTACT", 0.15)),
    "salesqualifiedlead": (("IN_PROGRESS", 0.45), ("CONNECTED", 0.35), ("OPEN_DEAL", 0.10), ("BAD_TIMING", 0.10)),
    "opportunity": (("OPEN_DEAL", 0.75), ("CONNECTED", 0.25)),
    "customer": ((None, 0.6), ("CONNECTED", 0.4)),
    "evangelist": ((None, 0.7), ("CONNECTED", 0.3)),
    "other": (("UNQUALIFIED", 0.75), ("BAD_TIMING", 0.25)),
}
# hs_lead_status -> Salesforce Lead Status; None: no Salesforce equivalent (the connector must decide)
LEAD_STATUS_TO_SF: dict[str, str | None] = {
    "NEW": "Open - Not Contacted",
    "OPEN": "Open - Not Contacted",
    "ATTEMPTED_TO_CONTACT": "Working - Contacted",
    "IN_PROGRESS": "Working - Contacted",
    "CONNECTED": "Working - Contacted",
    "UNQUALIFIED": "Closed - Not Converted",
    "OPEN_DEAL": None,
    "BAD_TIMING": None,
}
SF_LEAD_STATUS_BY_STAGE = {
    "subscriber": "Open - Not Contacted",
    "lead": "Open - Not Contacted",
    "marketingqualifiedlead": "Working - Contacted",
    "salesqualifiedlead": "Working - Contacted",
    "other": "Closed - Not Converted",
}
RATING_BY_STAGE = {
    "subscriber": "Cold",
    "lead": "Cold",
    "marketingqualifiedlead": "Warm",
    "salesqualifiedlead": "Hot",
    "other": "Cold",
}

LEGAL_BASES = (
    ("Legitimate interest – prospect/lead", 0.55),
    ("Freely given consent from contact", 0.20),
    ("Legitimate interest – existing customer", 0.10),
    ("Performance of a contract", 0.07),
    ("Legitimate interest - other", 0.05),
    ("Not applicable", 0.03),
)

# hs_analytics_source -> weight, and the Salesforce LeadSource it corresponds to
ANALYTICS_SOURCES = (
    ("ORGANIC_SEARCH", 0.28, "Web"),
    ("PAID_SEARCH", 0.12, "Web"),
    ("EMAIL_MARKETING", 0.10, "Web"),
    ("SOCIAL_MEDIA", 0.08, "Web"),
    ("PAID_SOCIAL", 0.06, "Web"),
    ("DIRECT_TRAFFIC", 0.14, "Web"),
    ("REFERRALS", 0.10, "Partner Referral"),
    ("OFFLINE", 0.08, "Purchased List"),
    ("OTHER_CAMPAIGNS", 0.04, "Other"),
)
SOURCE_TO_LEAD_SOURCE = {name: lead_source for name, _, lead_source in ANALYTICS_SOURCES}
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
SF_ONLY_LEAD_SOURCES = (
    ("Phone Inquiry", 0.35),
    ("Partner Referral", 0.30),
    ("Purchased List", 0.20),
    ("Other", 0.10),
    ("Web", 0.05),
)

NUMEMPLOYEES_BUCKETS = ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"), (1000, "500-1000"))

# Salesforce default opportunity stages with their default probability
OPEN_OPP_STAGES = (
    ("Prospecting", 10, 0.20),
    ("Qualification", 10, 0.18),
    ("Needs Analysis", 20, 0.15),
    ("Value Proposition", 50, 0.12),
    ("Id. Decision Makers", 60, 0.10),
    ("Perception Analysis", 70, 0.08),
    ("Proposal/Price Quote", 75, 0.10),
    ("Negotiation/Review", 90, 0.07),
)
OPP_PROBABILITY = {name: p for name, p, _ in OPEN_OPP_STAGES} | {"Closed Won": 100, "Closed Lost": 0}
OPP_TO_DEAL_STAGE = {
    "Prospecting": "appointmentscheduled",
    "Qualification": "qualifiedtobuy",
    "Needs Analysis": "qualifiedtobuy",
    "Value Proposition": "presentationscheduled",
    "Id. Decision Makers": "decisionmakerboughtin",
    "Perception Analysis": "decisionmakerboughtin",
    "Proposal/Price Quote": "contractsent",
    "Negotiation/Review": "contractsent",
    "Closed Won": "closedwon",
    "Closed Lost": "closedlost",
}
OPP_TYPES = (("New Customer", 0.7), ("Existing Customer - Upgrade", 0.2), ("Existing Customer - Replacement", 0.1))
CONTACT_ROLES = (
    ("Decision Maker", 0.25),
    ("Economic Buyer", 0.15),
    ("Evaluator", 0.15),
    ("Influencer", 0.12),
    ("Technical Buyer", 0.10),
    ("Business User", 0.10),
    ("Executive Sponsor", 0.06),
    ("Economic Decision Maker", 0.04),
    ("Other", 0.03),
)
ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Other")
CAMPAIGN_TYPES = ("Webinar", "Email", "Conference", "Trade Show", "Advertisement", "Direct Mail")

# HubSpot history sourceType values used for seeded changes
SOURCE_TYPES_CREATE = (("FORM", 0.45), ("IMPORT", 0.25), ("CRM_UI", 0.20), ("API", 0.10))
SOURCE_TYPES_UPDATE = (("CRM_UI", 0.45), ("AUTOMATION_PLATFORM", 0.35), ("INTEGRATION", 0.10), ("API", 0.10))
