"""The mapping file model: what RevOps write in mappings/*.toml, and its compiled runtime form.

The pydantic models mirror the TOML exactly (``extra="forbid"`` so a typo is an error, not a
silently ignored key). ``loader.py`` validates them against the systems' schema and compiles them
into ``FieldMapping``/``ContactMapping``/``OpportunityMapping``/``CompanyMapping``, which the resolver and
planner use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from .conditions import Condition as InclusionCondition
from .conditions import ConditionSpec
from .schema import LEGAL_BASES
from .transforms import Chain

if TYPE_CHECKING:
    from ..score.model import ScoringModel

__all__ = [
    "DIRECTIONS",
    "ValuesSpec",
    "SalesforceNames",
    "ContactFieldSpec",
    "DealFieldSpec",
    "CompanyFieldSpec",
    "SettingsSpec",
    "IdentitySpec",
    "InclusionSpec",
    "Condition",
    "PrivacySpec",
    "CustomFields",
    "ContactRolesSpec",
    "COMPANY_CREATE_CHOICES",
    "CompanyIdentitySpec",
    "CompanyInclusionSpec",
    "CompanyAssociationsSpec",
    "ContactsFile",
    "OpportunitiesFile",
    "CompaniesFile",
    "FieldMapping",
    "ContactMapping",
    "OpportunityMapping",
    "CompanyMapping",
    "Mappings",
    "shared_sources",
]

DIRECTIONS: tuple[str, ...] = ("both", "to_hubspot", "to_salesforce", "none")
#: `[inclusion] create_in_hubspot / create_in_salesforce` of companies.toml: which companies one system alone
#: holds are created in the other (every one, those with people there, or none)
COMPANY_CREATE_CHOICES: tuple[str, ...] = ("all", "with_people", "none")


class _Spec(BaseModel):
    """Base of every mapping table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ValuesSpec(_Spec):
    """A value map between a HubSpot enumeration and a Salesforce picklist, one table per direction."""

    to_salesforce: dict[str, str] = Field(default_factory=dict)
    to_hubspot: dict[str, str] = Field(default_factory=dict)
    default_to_salesforce: str | None = None
    default_to_hubspot: str | None = None


class SalesforceNames(_Spec):
    """The Salesforce field a unified field maps to on Lead and on Contact (either may be absent)."""

    lead: str | None = None
    contact: str | None = None


class _FieldCommon(_Spec):
    hubspot: str | None = None
    direction: str = "both"
    rule: str = "most_recent"
    transforms: list[str] = Field(default_factory=list)
    values: ValuesSpec | None = None
    decimals: int | None = Field(default=None, ge=0, le=10)
    #: the ``truncate`` transform's length: longer text is cut to it when written (Salesforce's field length)
    max_length: int | None = Field(default=None, ge=1, le=131_072)
    allow_blanking: bool = False
    description: str = ""


class ContactFieldSpec(_FieldCommon):
    """One ``[fields.<name>]`` table of contacts.toml."""

    salesforce: SalesforceNames = Field(default_factory=SalesforceNames)


class DealFieldSpec(_FieldCommon):
    """One ``[fields.<name>]`` table of opportunities.toml (Opportunity field name)."""

    salesforce: str | None = None


class CompanyFieldSpec(_FieldCommon):
    """One ``[fields.<name>]`` table of companies.toml (HubSpot company property, Salesforce Account field name)."""

    salesforce: str | None = None


class SettingsSpec(_Spec):
    """File-wide defaults for transforms and tie-breaking."""

    default_region: str = "US"
    country_format: str = "name"
    tie_breaker: str = "salesforce"


class IdentitySpec(_Spec):
    """Where each system keeps the other's record id, and whether email matches people."""

    hubspot_lead_id_property: str = "salesforce_lead_id"
    hubspot_contact_id_property: str = "salesforce_contact_id"
    salesforce_hubspot_id_field: str = "HubSpot_Contact_Id__c"
    match_on_email: bool = True


class InclusionSpec(_Spec):
    """Which people are created on the other side, and as what."""

    create_in_salesforce: bool = True
    min_lifecyclestage: str = "marketingqualifiedlead"
    create_as: str = "Lead"
    create_as_contact_when: list[str] = Field(default_factory=lambda: ["has_deal"])
    create_in_hubspot: bool = True
    require_email: bool = True
    placeholder: str = "[not provided]"
    new_lead_status: str = "Open - Not Contacted"
    #: conditions on unified fields (scoring.toml's fit-rule tests) that must all hold for a person to be
    #: created in the other system, in either direction: e.g. [{ field = "country", in = ["US", "CA"] }]
    only_when: list[ConditionSpec] = Field(default_factory=list)


class Condition(_Spec):
    """A HubSpot property whose value is in a list (e.g. lifecyclestage in ["customer"])."""

    property: str
    values: list[str]


class PrivacySpec(_Spec):
    """A person is created in Salesforce only with a lawful basis or a matching allow_when condition."""

    require_lawful_basis: bool = True
    basis_property: str = "hs_legal_basis"
    allowed_bases: list[str] = Field(default_factory=lambda: [b for b in LEGAL_BASES if b != "Not applicable"])
    allow_when: list[Condition] = Field(default_factory=list)


class CustomFields(_Spec):
    """Custom properties/fields of your portal or org that mappings may use beyond the standard schema."""

    hubspot: list[str] = Field(default_factory=list)
    lead: list[str] = Field(default_factory=list)
    contact: list[str] = Field(default_factory=list)
    opportunity: list[str] = Field(default_factory=list)
    account: list[str] = Field(default_factory=list)


class ContactRolesSpec(_Spec):
    """Deal-contact associations sync with OpportunityContactRole (added both ways, never removed)."""

    enabled: bool = True
    default_role: str = "Business User"
    primary: str = "first_associated"


class CompanyIdentitySpec(_Spec):
    """How a HubSpot company and a Salesforce Account are known to be the same company.

    In order: stored links and the cross-reference ids below; then, for a company and an Account neither of
    which is linked yet, the same normalised domain (HubSpot ``domain`` against Salesforce ``Website``,
    compared by ``url_key``); a same normalised name with no domain match is only reported as a suggestion,
    never linked, because different companies share names.
    """

    #: HubSpot company property holding the Salesforce Account Id (`connector setup` creates it, unique)
    hubspot_account_id_property: str = "salesforce_account_id"
    #: Salesforce Account field holding the HubSpot company id (`connector setup` lists it: External ID, unique)
    salesforce_company_id_field: str = "HubSpot_Company_Id__c"
    match_on_domain: bool = True
    suggest_on_name: bool = True


class CompanyInclusionSpec(_Spec):
    """Which companies one system alone holds are created in the other (``COMPANY_CREATE_CHOICES``).

    "with_people": only when one of its people has a record in the target system (in Salesforce a Contact,
    since a Lead holds no Account).
    """

    create_in_hubspot: str = "with_people"
    create_in_salesforce: str = "with_people"


class CompanyAssociationsSpec(_Spec):
    """Which associations are kept in step with the Account references; they are added, never removed."""

    #: a HubSpot contact's company <-> its Salesforce Contact's AccountId
    contacts: bool = True
    #: a HubSpot deal's company <-> its Opportunity's AccountId
    deals: bool = True
    #: a HubSpot company's parent company <-> its Account's ParentId (between linked companies)
    parents: bool = True


class ContactsFile(_Spec):
    """contacts.toml as written."""

    version: int = 1
    settings: SettingsSpec = Field(default_factory=SettingsSpec)
    identity: IdentitySpec = Field(default_factory=IdentitySpec)
    inclusion: InclusionSpec = Field(default_factory=InclusionSpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    custom_fields: CustomFields = Field(default_factory=CustomFields)
    fields: dict[str, ContactFieldSpec] = Field(default_factory=dict)


class OpportunitiesFile(_Spec):
    """opportunities.toml as written."""

    version: int = 1
    settings: SettingsSpec = Field(default_factory=SettingsSpec)
    custom_fields: CustomFields = Field(default_factory=CustomFields)
    fields: dict[str, DealFieldSpec] = Field(default_factory=dict)
    stages: dict[str, ValuesSpec] = Field(default_factory=dict)
    contact_roles: ContactRolesSpec = Field(default_factory=ContactRolesSpec)


class CompaniesFile(_Spec):
    """companies.toml as written."""

    version: int = 1
    settings: SettingsSpec = Field(default_factory=SettingsSpec)
    identity: CompanyIdentitySpec = Field(default_factory=CompanyIdentitySpec)
    inclusion: CompanyInclusionSpec = Field(default_factory=CompanyInclusionSpec)
    associations: CompanyAssociationsSpec = Field(default_factory=CompanyAssociationsSpec)
    custom_fields: CustomFields = Field(default_factory=CustomFields)
    fields: dict[str, CompanyFieldSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class FieldMapping:
    """One unified field, compiled: native names per system/object, rule, direction, transforms."""

    name: str
    hubspot: str | None
    salesforce: Mapping[str, str]  # Salesforce object type -> field API name
    direction: str
    rule: str
    chain: Chain
    allow_blanking: bool = False
    writes_hubspot: bool = field(init=False, default=False)
    writes_salesforce: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "writes_hubspot", self.direction in ("both", "to_hubspot"))
        object.__setattr__(self, "writes_salesforce", self.direction in ("both", "to_salesforce"))

    def writes(self, system: str) -> bool:
        """Whether the planner may change this field in ``system``."""
        return self.writes_hubspot if system == "hubspot" else self.writes_salesforce

    def native_name(self, system: str, object_type: str) -> str | None:
        """The field's native name on this system's object type (None when not mapped there)."""
        return self.hubspot if system == "hubspot" else self.salesforce.get(object_type)


@dataclass(frozen=True)
class ContactMapping:
    """contacts.toml compiled."""

    file: str
    fields: tuple[FieldMapping, ...]
    settings: SettingsSpec
    identity: IdentitySpec
    inclusion: InclusionSpec
    privacy: PrivacySpec
    # native fields read by more than one unified field (system, object type, name): writing one
    # may change another field's resolution, so the planner re-plans when it touches them
    shared_sources: frozenset[tuple[str, str, str]] = frozenset()
    #: the names `connector setup` creates when missing (any other name the file maps must exist already)
    custom_fields: CustomFields = field(default_factory=CustomFields)
    #: `[inclusion] only_when`, compiled: who may be created in the other system
    only_when: tuple[InclusionCondition, ...] = ()


def shared_sources(fields: tuple[FieldMapping, ...]) -> frozenset[tuple[str, str, str]]:
    """Native fields that more than one unified field reads."""
    seen: dict[tuple[str, str, str], int] = {}
    for f in fields:
        keys = [("hubspot", "contacts", f.hubspot)] if f.hubspot else []
        keys += [("salesforce", obj, name) for obj, name in f.salesforce.items()]
        for k in keys:
            seen[k] = seen.get(k, 0) + 1
    return frozenset(k for k, n in seen.items() if n > 1)


@dataclass(frozen=True)
class OpportunityMapping:
    """opportunities.toml compiled."""

    file: str
    fields: tuple[FieldMapping, ...]
    settings: SettingsSpec
    contact_roles: ContactRolesSpec
    pipelines: tuple[str, ...] = field(default_factory=tuple)
    #: as for contacts: the names `connector setup` creates when missing
    custom_fields: CustomFields = field(default_factory=CustomFields)


@dataclass(frozen=True)
class CompanyMapping:
    """companies.toml compiled: each field's ``salesforce`` is ``{"Account": name}``, its ``hubspot`` a company
    property."""

    file: str
    fields: tuple[FieldMapping, ...]
    settings: SettingsSpec
    identity: CompanyIdentitySpec
    inclusion: CompanyInclusionSpec
    associations: CompanyAssociationsSpec
    #: as for contacts: the names `connector setup` creates when missing (``hubspot`` and ``account``)
    custom_fields: CustomFields = field(default_factory=CustomFields)


@dataclass(frozen=True)
class Mappings:
    """Every mapping file of a deployment, validated together."""

    contacts: ContactMapping
    opportunities: OpportunityMapping | None = None
    #: scoring.toml compiled (None: no scoring file, so nobody is scored)
    scoring: ScoringModel | None = None
    #: companies.toml compiled (None: no companies file, so companies and Accounts are not synced)
    companies: CompanyMapping | None = None
