"""HubSpot's company `industry` options, and the Salesforce Industry picklist value each seeded one stands for.

A HubSpot company's `industry` is an enumeration (a contact's `industry` is free text); its option values are
upper-case keys. The list is a subset of HubSpot's default options (the portal's own list comes from the
properties API), taken from third-party material and not checked against a live portal: the emulator
refuses any other value the way HubSpot refuses an unknown enumeration option. `SALESFORCE_TO_HUBSPOT` is the
seed's (and the shipped companies.toml's) pairing of the standard Salesforce Industry picklist with them.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COMPANY_INDUSTRIES", "SALESFORCE_TO_HUBSPOT"]

SALESFORCE_TO_HUBSPOT: Mapping[str, str] = {
    "Agriculture": "FARMING",
    "Apparel": "APPAREL_FASHION",
    "Banking": "BANKING",
    "Biotechnology": "BIOTECHNOLOGY",
    "Chemicals": "CHEMICALS",
    "Communications": "PUBLIC_RELATIONS_AND_COMMUNICATIONS",
    "Construction": "CONSTRUCTION",
    "Consulting": "MANAGEMENT_CONSULTING",
    "Education": "EDUCATION_MANAGEMENT",
    "Electronics": "CONSUMER_ELECTRONICS",
    "Energy": "OIL_ENERGY",
    "Engineering": "MECHANICAL_OR_INDUSTRIAL_ENGINEERING",
    "Entertainment": "ENTERTAINMENT",
    "Finance": "FINANCIAL_SERVICES",
    "Food & Beverage": "FOOD_BEVERAGES",
    "Government": "GOVERNMENT_ADMINISTRATION",
    "Healthcare": "HOSPITAL_HEALTH_CARE",
    "Hospitality": "HOSPITALITY",
    "Insurance": "INSURANCE",
    "Machinery": "MACHINERY",
    "Manufacturing": "INDUSTRIAL_AUTOMATION",
    "Media": "ONLINE_MEDIA",
    "Not For Profit": "NON_PROFIT_ORGANIZATION_MANAGEMENT",
    "Recreation": "RECREATIONAL_FACILITIES_AND_SERVICES",
    "Retail": "RETAIL",
    "Shipping": "PACKAGE_FREIGHT_DELIVERY",
    "Technology": "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "Telecommunications": "TELECOMMUNICATIONS",
    "Transportation": "TRANSPORTATION_TRUCKING_RAILROAD",
    "Utilities": "UTILITIES",
}

#: the enumeration's options (value keys), in HubSpot's alphabetical order
COMPANY_INDUSTRIES: tuple[str, ...] = tuple(sorted({
    *SALESFORCE_TO_HUBSPOT.values(), "ACCOUNTING", "AIRLINES_AVIATION", "AUTOMOTIVE", "COMPUTER_HARDWARE",
    "COMPUTER_NETWORK_SECURITY", "COMPUTER_SOFTWARE", "DEFENSE_SPACE", "FOOD_PRODUCTION", "HIGHER_EDUCATION",
    "INTERNET", "LEGAL_SERVICES", "LOGISTICS_AND_SUPPLY_CHAIN", "MARKETING_AND_ADVERTISING", "MEDICAL_DEVICES",
    "PHARMACEUTICALS", "REAL_ESTATE", "RESTAURANTS", "SEMICONDUCTORS", "STAFFING_AND_RECRUITING", "WHOLESALE",
}))
