"""The knobs of the seeded world, with defaults that describe a mid-size B2B company's two CRMs."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["SeedProfile"]


@dataclass(frozen=True)
class SeedProfile:
    """Proportions of the generated world; every share is a fraction in [0, 1] of the population named."""

    reps: int = 12
    """Sales reps: Salesforce Users and HubSpot owners with the same emails."""
    inactive_reps: int = 1
    """Reps who left (User.IsActive false) but still own old records."""
    campaigns: int = 6
    """Salesforce Campaigns."""
    both_share: float = 0.70
    """People in both systems."""
    hubspot_only_share: float = 0.20
    """People only in HubSpot (marketing leads not handed over); the rest (0.10) are only in Salesforce."""
    converted_lead_share: float = 0.15
    """Salesforce Contacts that came from a converted Lead (which stays, IsConverted=true)."""
    personal_email_share: float = 0.12
    """People who use a free-mail address (gmail.com, ...) instead of their company domain."""
    email_case_variant_share: float = 0.10
    """People in both systems whose Salesforce email differs from HubSpot's in letter case."""
    email_whitespace_share: float = 0.01
    """Salesforce person records whose email has surrounding whitespace."""
    duplicate_share: float = 0.025
    """People in Salesforce recorded twice (a second Lead with the same email): ~2% of all people."""
    conflict_share: float = 0.25
    """People in both systems whose phone, title, company or lead source differ between the systems."""
    invalid_phone_share: float = 0.03
    """People with a phone in an odd format or garbage, on one side."""
    long_title_share: float = 0.01
    """HubSpot contacts whose job title is longer than Salesforce's 128 characters."""
    blank_lastname_share: float = 0.02
    """HubSpot contacts with no last name (Salesforce requires one)."""
    optout_share: float = 0.05
    """People who opted out of email."""
    optout_one_side_share: float = 0.35
    """Of the opted-out people in both systems, those whose opt-out is recorded on one side only."""
    missing_legal_basis_share: float = 0.10
    """HubSpot contacts without hs_legal_basis (privacy rule: never create them in Salesforce)."""
    campaign_member_share: float = 0.20
    """Salesforce Leads/Contacts that are members of one or two campaigns."""
    bulk_import_share: float = 0.03
    """People created by bulk imports: all their records share one exact millisecond."""
    hubspot_archived_share: float = 0.015
    """HubSpot contacts archived (deleted, in HubSpot's 90-day recycle bin): listed only with archived=true."""
    hubspot_merged_share: float = 0.01
    """HubSpot contacts that absorbed a duplicate by a merge (hs_merged_object_ids; the old id reads as them)."""
    salesforce_deleted_share: float = 0.015
    """Salesforce Leads/Contacts deleted into the recycle bin (IsDeleted, seen by queryAll and getDeleted)."""
    salesforce_merged_share: float = 0.01
    """Salesforce Leads/Contacts that absorbed a duplicate by a merge (the loser: IsDeleted, MasterRecordId)."""
    salesforce_restored_share: float = 0.005
    """Salesforce Leads/Contacts deleted and restored from the recycle bin later (SystemModstamp moved)."""
    converted_into_existing_share: float = 0.4
    """Of the duplicate Leads of someone with a Contact, those converted into that existing Contact."""
    null_optout_share: float = 0.85
    """HubSpot contacts not opted out whose hs_email_optout was never set (null, not "false")."""
    local_phone_share: float = 0.30
    """Phones written in a national format ("(415) 555-0134", "030 1234567") instead of +cc; per system."""
    messy_country_share: float = 0.05
    """Countries typed freely (lower case, trailing blanks, a city or "N/A"); per system."""
    salesforce_only_company_share: float = 0.0
    """Companies made to have only Salesforce-only people (an Account, if any, and no HubSpot company), on top
    of those that have by chance (~8-15% of Accounts at the default 0). Capped at the Salesforce-only people
    share; the other companies' people are drawn so the presence shares hold. Above 0 it changes who is in
    which system for everyone, so the default keeps the people of earlier seeds."""
    hubspot_only_company_share: float = 0.0
    """Companies made to have only HubSpot-only people (a HubSpot company and no Account), on top of those that
    have by chance (~10-13% of HubSpot companies at 0); capped at hubspot_only_share, as above."""
    subsidiary_share: float = 0.08
    """Companies that are a subsidiary of an earlier company present in both systems (Account.ParentId,
    HubSpot child->parent association 14) on whichever side the subsidiary exists."""
    website_variant_share: float = 0.5
    """Accounts whose Website is typed as "https://x.com/", "http://www.X.com", "x.com" or "https://www.x.com"
    instead of "www.x.com"; either way it differs in form from HubSpot's bare domain "x.com"."""
    rebranded_domain_share: float = 0.02
    """HubSpot companies whose domain differs outright from the Account's Website (a rebrand recorded in
    HubSpot only, "x.com" -> "x.ai"), so only the name suggests the match."""
    company_name_variant_share: float = 0.15
    """HubSpot companies whose name differs in form from the Account Name ("Acme Inc." / "Acme, Inc." /
    "ACME INC" / "Acme")."""
    unassociated_contact_share: float = 0.06
    """HubSpot contacts (and their deals) not associated to their company, though the company is known."""
    hubspot_duplicate_company_share: float = 0.01
    """HubSpot companies recorded twice: a second company with the same domain (HubSpot allows it), which
    some of the later contacts are associated to instead."""
    hubspot_custom_properties: int = 230
    """Custom contact properties in the HubSpot account (HubSpot-defined ones come on top)."""
    salesforce_custom_fields: int = 120
    """Custom fields on each of Lead and Contact (half as many on Account and Opportunity)."""
    marketing_events_per_person: float = 6.0
    """Scale of marketing events per HubSpot contact (long-tailed; the median person has fewer)."""
    sales_activity_scale: float = 1.0
    """Multiplier on calls, meetings, emails, notes, tasks and events per person."""
    history_days: int = 270
    """Engagement histories span the last this-many days."""
    max_age_days: int = 1095
    """The oldest person was created this many days before now_ms."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float" and not 0.0 <= value <= 1.0 and f.name not in _SCALES:
                raise ValueError(f"SeedProfile.{f.name} must be a fraction in [0, 1], got {value!r}")
            if f.name in _SCALES and value < 0:
                raise ValueError(f"SeedProfile.{f.name} must be >= 0, got {value!r}")
        if self.both_share + self.hubspot_only_share > 1.0 + 1e-9:
            raise ValueError(
                f"SeedProfile.both_share + hubspot_only_share must be <= 1 (the rest is Salesforce-only), got "
                f"{self.both_share} + {self.hubspot_only_share}"
            )
        if self.reps < 1 or not 0 <= self.inactive_reps < self.reps:
            raise ValueError(
                f"SeedProfile needs reps >= 1 and 0 <= inactive_reps < reps, got reps={self.reps}, "
                f"inactive_reps={self.inactive_reps}"
            )
        if self.hubspot_custom_properties < 0 or self.salesforce_custom_fields < 0:
            raise ValueError(
                "SeedProfile.hubspot_custom_properties and salesforce_custom_fields must be >= 0, got "
                f"{self.hubspot_custom_properties} and {self.salesforce_custom_fields}"
            )
        if self.campaigns < 0:
            raise ValueError(f"SeedProfile.campaigns must be >= 0, got {self.campaigns}")
        if not 1 <= self.history_days <= self.max_age_days:
            raise ValueError(
                f"SeedProfile needs 1 <= history_days <= max_age_days, got {self.history_days} and {self.max_age_days}"
            )

    @property
    def salesforce_only_share(self) -> float:
        return max(0.0, 1.0 - self.both_share - self.hubspot_only_share)

    @property
    def one_system_company_shares(self) -> tuple[float, float]:
        """(Salesforce-only, HubSpot-only) shares of companies in effect: a one-system company's people are
        one-system people, so there cannot be more of them than the people shares allow."""
        return (
            min(self.salesforce_only_company_share, self.salesforce_only_share),
            min(self.hubspot_only_company_share, self.hubspot_only_share),
        )


_SCALES = frozenset({"marketing_events_per_person", "sales_activity_scale"})
