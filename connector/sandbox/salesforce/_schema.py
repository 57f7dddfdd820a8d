"""The org's metadata: standard sObjects and fields of the dataset, plus the configured custom fields.

One place answers describe calls, write validation and the SOQL binder's questions, so the three can
never disagree about a field's type, length or updateability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.reconcile.schema import SCORE_OUTPUT_OPTIONS, SCORE_OUTPUTS

from .ids import KEY_PREFIXES
from .soql import FieldInfo

__all__ = ["FieldDef", "SObjectDef", "CustomField", "DEFAULT_CUSTOM_FIELDS", "Schema", "LEAD_STATUSES",
           "OPPORTUNITY_STAGES", "CUSTOM_FIELD_TYPES"]

LEAD_STATUSES: dict[str, bool] = {  # value -> IsConverted
    "Open - Not Contacted": False,
    "Working - Contacted": False,
    "Closed - Converted": True,
    "Closed - Not Converted": False,
}
# StageName -> (default probability, IsClosed, IsWon): Salesforce's default sales process
OPPORTUNITY_STAGES: dict[str, tuple[int, bool, bool]] = {
    "Prospecting": (10, False, False),
    "Qualification": (10, False, False),
    "Needs Analysis": (20, False, False),
    "Value Proposition": (50, False, False),
    "Id. Decision Makers": (60, False, False),
    "Perception Analysis": (70, False, False),
    "Proposal/Price Quote": (75, False, False),
    "Negotiation/Review": (90, False, False),
    "Closed Won": (100, True, True),
    "Closed Lost": (0, True, False),
}
INDUSTRIES = ("Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
              "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
              "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
              "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
              "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
              "Utilities", "Other")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")


@dataclass(frozen=True)
class FieldDef:
    """Describe metadata of one field; drives describe, validation and SOQL binding."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False
    unique: bool = False
    external_id: bool = False
    picklist: tuple[str, ...] = ()
    default_value: str | None = None
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    calculated: bool = False
    custom: bool = False

    @property
    def required(self) -> bool:
        """Must be given on create (Salesforce: createable, not nillable, not defaulted)."""
        return self.createable and not self.nillable and not self.defaulted and self.type != "boolean"

    def info(self) -> FieldInfo:
        return FieldInfo(self.name, self.type,  # type: ignore[arg-type]
                         self.relationship_name, self.reference_to, self.custom)

    def describe(self) -> dict[str, Any]:
        """The field entry of a describe response (the subset clients read)."""
        soap = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
                "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
                "date": "xsd:date", "datetime": "xsd:dateTime"}.get(self.type, "xsd:string")
        return {
            "name": self.name,
            "label": self.label or _label(self.name),
            "type": self.type,
            "soapType": soap,
            "length": self.length,
            "byteLength": self.length * 3,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 9 if self.type == "int" else 0,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted,
            "unique": self.unique,
            "externalId": self.external_id,
            "idLookup": self.name == "Id" or self.external_id or self.name in ("Email", "Name"),
            "caseSensitive": False,
            "custom": self.custom,
            "calculated": self.calculated,
            "filterable": self.type != "textarea",
            "sortable": self.type != "textarea",
            "groupable": self.type not in ("textarea", "double", "currency", "percent", "datetime"),
            "nameField": self.name == "Name",
            "autoNumber": False,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"value": v, "label": v, "active": True, "defaultValue": v == self.default_value, "validFor": None}
                for v in self.picklist
            ],
            "defaultValue": self.default_value,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "inlineHelpText": None,
        }


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    base = base[:-2] if base.endswith("Id") and len(base) > 2 else base
    out = ""
    for i, ch in enumerate(base.replace("_", " ")):
        if ch.isupper() and i and base[i - 1].islower():
            out += " "
        out += ch
    return out.strip() or name


@dataclass(frozen=True)
class CustomField:
    """A custom field declared by sandbox config (``api_name`` must end in ``__c``).

    `type` takes the Setup names (Text, Number, Picklist, Checkbox, Date, DateTime, Email, Phone, URL,
    TextArea, Currency, Percent) or describe types (string, double, picklist, boolean, ...).
    """

    sobject: str
    api_name: str
    type: str = "Text"
    label: str = ""
    length: int = 255
    precision: int = 18
    scale: int = 0
    picklist_values: tuple[str, ...] = ()
    restricted: bool = True
    external_id: bool = False
    unique: bool = False
    required: bool = False

    def field_def(self) -> FieldDef:
        """Validate and convert to describe metadata; raises ValueError saying what to fix."""
        if not self.api_name.endswith("__c") or len(self.api_name) < 4:
            raise ValueError(f"custom field {self.api_name!r} must end in '__c'")
        kind = CUSTOM_FIELD_TYPES.get(self.type.lower())
        if kind is None:
            raise ValueError(f"custom field {self.api_name}: unknown type {self.type!r}; use one of "
                             f"{', '.join(sorted(CUSTOM_FIELD_TYPES))}")
        if kind == "picklist" and not self.picklist_values:
            raise ValueError(f"custom field {self.api_name}: a Picklist needs picklist_values")
        if self.external_id and kind not in ("string", "email", "int", "double"):
            raise ValueError(f"custom field {self.api_name}: only Text, Email or Number can be an External ID")
        numeric = kind in ("double", "currency", "percent")
        return FieldDef(
            name=self.api_name, type=kind, label=self.label or _label(self.api_name),
            # a picklist's describe length is 255 whatever the values, as in an org
            length=(self.length if kind in ("string", "textarea", "email", "phone", "url")
                    else 255 if kind == "picklist" else 0),
            precision=self.precision if numeric else 0, scale=self.scale if numeric else 0,
            nillable=not self.required and kind != "boolean", defaulted=kind == "boolean",
            unique=self.unique, external_id=self.external_id, picklist=tuple(self.picklist_values),
            restricted=self.restricted and kind == "picklist", custom=True,
        )


CUSTOM_FIELD_TYPES: dict[str, str] = {
    "text": "string", "string": "string", "number": "double", "double": "double", "picklist": "picklist",
    "checkbox": "boolean", "boolean": "boolean", "date": "date", "datetime": "datetime", "email": "email",
    "phone": "phone", "url": "url", "textarea": "textarea", "longtextarea": "textarea",
    "currency": "currency", "percent": "percent",
}

#: how the org's admin typed the connector scorer's outputs (Setup type and size), by output: the names are the
#: connector's ``SCORE_OUTPUTS``, the picklist values its ``SCORE_OUTPUT_OPTIONS`` (so the org and the connector
#: never disagree on a status or grade); `connector setup` checks these against what it needs.
_SCORE_OUTPUT_TYPES: dict[str, dict[str, Any]] = {
    "score": {"type": "Number", "precision": 5, "scale": 0},
    "grade": {"type": "Picklist"},
    "status": {"type": "Picklist"},
    "mql_date": {"type": "DateTime"},
    "status_reason": {"type": "Text", "length": 255},
    "reason": {"type": "Text", "length": 255},
    "sla_state": {"type": "Picklist"},
    "sla_due": {"type": "DateTime"},
    "touches_before_mql": {"type": "Number", "precision": 5, "scale": 0},
    "first_touch": {"type": "Text", "length": 255},
    "last_touch": {"type": "Text", "length": 255},
}


def _score_outputs(sobject: str) -> tuple[CustomField, ...]:
    return tuple(CustomField(sobject, api_name, picklist_values=SCORE_OUTPUT_OPTIONS.get(output, ()),
                             **_SCORE_OUTPUT_TYPES[output])
                 for output, (_, api_name) in SCORE_OUTPUTS.items())


DEFAULT_CUSTOM_FIELDS: tuple[CustomField, ...] = tuple(
    cf
    for obj in ("Lead", "Contact")
    for cf in (
        CustomField(obj, "HubSpot_Contact_Id__c", "Text", "HubSpot Contact Id", length=32,
                    external_id=True, unique=True),
        *_score_outputs(obj),
    )
) + (CustomField("Opportunity", "HubSpot_Deal_Id__c", "Text", "HubSpot Deal Id", length=32, external_id=True,
                 unique=True),
      CustomField("Account", "HubSpot_Company_Id__c", "Text", "HubSpot Company Id", length=30, external_id=True,
                  unique=True))


# ---- standard objects -------------------------------------------------------------------------------

def _s(name: str, length: int, **kw: Any) -> FieldDef:
    return FieldDef(name, "string", length=length, **kw)


def _pick(name: str, values: Sequence[str], **kw: Any) -> FieldDef:
    return FieldDef(name, "picklist", length=255, picklist=tuple(values), **kw)


def _ref(name: str, *targets: str, rel: str | None = None, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", length=18, reference_to=targets,
                    relationship_name=rel or (name[:-2] if name.endswith("Id") else name), **kw)


_RO: dict[str, Any] = {"createable": False, "updateable": False}
_NAME = FieldDef("Name", "string", length=121, **_RO, calculated=True)


def _system(obj: str, *, owner: bool = True, master: bool = False) -> list[FieldDef]:
    out = [
        FieldDef("Id", "id", length=18, nillable=False, defaulted=True, **_RO),
        FieldDef("IsDeleted", "boolean", nillable=False, defaulted=True, **_RO),
    ]
    if master:
        out.append(_ref("MasterRecordId", obj, rel="MasterRecord", **_RO))
    if owner:
        out.append(_ref("OwnerId", "User", rel="Owner", nillable=False, defaulted=True))
    out += [
        FieldDef("CreatedDate", "datetime", nillable=False, defaulted=True, **_RO),
        _ref("CreatedById", "User", rel="CreatedBy", nillable=False, defaulted=True, **_RO),
        FieldDef("LastModifiedDate", "datetime", nillable=False, defaulted=True, **_RO),
        _ref("LastModifiedById", "User", rel="LastModifiedBy", nillable=False, defaulted=True, **_RO),
        FieldDef("SystemModstamp", "datetime", nillable=False, defaulted=True, **_RO),
    ]
    return out


def _standard_objects() -> dict[str, list[FieldDef]]:
    email = FieldDef("Email", "email", length=80)
    desc = FieldDef("Description", "textarea", length=32000)
    phones = [FieldDef("Phone", "phone", length=40), FieldDef("MobilePhone", "phone", length=40)]
    opt_out = FieldDef("HasOptedOutOfEmail", "boolean", nillable=False, defaulted=True)
    return {
        "User": _system("User", owner=False) + [
            _s("Username", 80, nillable=False), FieldDef("Email", "email", length=128, nillable=False),
            _s("FirstName", 40), _s("LastName", 80, nillable=False), _NAME, _s("Alias", 8, nillable=False),
            FieldDef("IsActive", "boolean", nillable=False, defaulted=True),
        ],
        "Account": _system("Account", master=True) + [
            _s("Name", 255, nillable=False), _pick("Industry", INDUSTRIES),
            FieldDef("NumberOfEmployees", "int"),
            FieldDef("AnnualRevenue", "currency", precision=18, scale=0), FieldDef("Website", "url", length=255),
            _s("BillingCity", 40), _s("BillingState", 80), _s("BillingCountry", 80),
            FieldDef("Phone", "phone", length=40), _ref("ParentId", "Account"),
            _pick("Type", ("Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
                           "Installation Partner", "Technology Partner", "Other")),
            desc,
        ],
        "Lead": _system("Lead", master=True) + [
            _s("FirstName", 40), _s("LastName", 80, nillable=False), _NAME, _s("Company", 255, nillable=False),
            email, *phones, _s("Title", 128), FieldDef("Website", "url", length=255), _s("City", 40),
            _s("State", 80), _s("Country", 80), _pick("Industry", INDUSTRIES), FieldDef("NumberOfEmployees", "int"),
            FieldDef("AnnualRevenue", "currency", precision=18, scale=0),
            _pick("Status", tuple(LEAD_STATUSES), nillable=False, defaulted=True, restricted=True,
                  default_value="Open - Not Contacted"),
            _pick("LeadSource", LEAD_SOURCES), _pick("Rating", ("Hot", "Warm", "Cold")), opt_out, desc,
            FieldDef("IsConverted", "boolean", nillable=False, defaulted=True, **_RO),
            FieldDef("ConvertedDate", "date", **_RO),
            _ref("ConvertedContactId", "Contact", **_RO), _ref("ConvertedAccountId", "Account", **_RO),
            _ref("ConvertedOpportunityId", "Opportunity", **_RO),
        ],
        "Contact": _system("Contact", master=True) + [
            _s("FirstName", 40), _s("LastName", 80, nillable=False), _NAME, email, *phones, _s("Title", 128),
            _s("Department", 80), _ref("AccountId", "Account"), _pick("LeadSource", LEAD_SOURCES), opt_out,
            _s("MailingCity", 40), _s("MailingState", 80), _s("MailingCountry", 80), desc,
        ],
        "Opportunity": _system("Opportunity") + [
            _s("Name", 120, nillable=False), _ref("AccountId", "Account"),
            _pick("StageName", tuple(OPPORTUNITY_STAGES), nillable=False, restricted=True),
            FieldDef("Amount", "currency", precision=18, scale=2), FieldDef("CloseDate", "date", nillable=False),
            FieldDef("Probability", "percent", precision=3, scale=0),
            FieldDef("IsClosed", "boolean", nillable=False, defaulted=True, **_RO),
            FieldDef("IsWon", "boolean", nillable=False, defaulted=True, **_RO),
            _pick("LeadSource", LEAD_SOURCES),
            _pick("Type", ("Existing Customer - Upgrade", "Existing Customer - Replacement",
                           "Existing Customer - Downgrade", "New Customer")), desc,
        ],
        "OpportunityContactRole": _system("OpportunityContactRole", owner=False) + [
            _ref("OpportunityId", "Opportunity", nillable=False, updateable=False),
            _ref("ContactId", "Contact", nillable=False),
            _pick("Role", ("Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker",
                           "Evaluator", "Executive Sponsor", "Influencer", "Technical Buyer", "Other")),
            FieldDef("IsPrimary", "boolean", nillable=False, defaulted=True),
        ],
        "Task": _system("Task") + [
            _ref("WhoId", "Contact", "Lead", rel="Who"),
            _ref("WhatId", "Account", "Opportunity", "Campaign", rel="What"),
            FieldDef("Subject", "string", length=255),
            _pick("Status", ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
                  nillable=False, defaulted=True, default_value="Not Started"),
            _pick("Priority", ("High", "Normal", "Low"), nillable=False, defaulted=True, default_value="Normal"),
            FieldDef("ActivityDate", "date"),
            _pick("TaskSubtype", ("Task", "Email", "ListEmail", "Call", "LinkedIn", "Cadence"), updateable=False),
            _pick("Type", ("Call", "Email", "Meeting", "Other")), FieldDef("CallDurationInSeconds", "int"),
            _pick("CallType", ("Inbound", "Outbound", "Internal")),
            FieldDef("CompletedDateTime", "datetime", **_RO), FieldDef("IsClosed", "boolean", nillable=False,
                                                                       defaulted=True, **_RO),
            desc,
        ],
        "Event": _system("Event") + [
            _ref("WhoId", "Contact", "Lead", rel="Who"),
            _ref("WhatId", "Account", "Opportunity", "Campaign", rel="What"),
            FieldDef("Subject", "string", length=255), FieldDef("StartDateTime", "datetime"),
            FieldDef("EndDateTime", "datetime"), FieldDef("DurationInMinutes", "int"),
            FieldDef("ActivityDateTime", "datetime"), FieldDef("ActivityDate", "date"),
            FieldDef("IsAllDayEvent", "boolean", nillable=False, defaulted=True),
            _pick("EventSubtype", ("Event",)), _pick("Type", ("Call", "Email", "Meeting", "Other")), desc,
        ],
        "Campaign": _system("Campaign") + [
            _s("Name", 80, nillable=False),
            _pick("Type", ("Conference", "Webinar", "Trade Show", "Public Relations", "Partners", "Referral Program",
                           "Advertisement", "Banner Ads", "Direct Mail", "Email", "Telemarketing", "Other")),
            _pick("Status", ("Planned", "In Progress", "Completed", "Aborted")),
            FieldDef("IsActive", "boolean", nillable=False, defaulted=True), FieldDef("StartDate", "date"),
        ],
        "CampaignMember": _system("CampaignMember", owner=False) + [
            _ref("CampaignId", "Campaign", nillable=False, updateable=False),
            _ref("LeadId", "Lead", updateable=False), _ref("ContactId", "Contact", updateable=False),
            _pick("Status", ("Sent", "Responded"), default_value="Sent"),
            FieldDef("HasResponded", "boolean", nillable=False, defaulted=True, **_RO),
            FieldDef("FirstRespondedDate", "date", **_RO),
        ],
    }


@dataclass
class SObjectDef:
    """One sObject: its key prefix and fields in describe order."""

    name: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    lower: dict[str, str] = field(default_factory=dict)

    def add(self, f: FieldDef) -> None:
        self.fields[f.name] = f
        self.lower[f.name.lower()] = f.name

    def get(self, name: str) -> FieldDef | None:
        canonical = self.lower.get(name.lower())
        return None if canonical is None else self.fields[canonical]

    @property
    def external_ids(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.external_id]


class Schema:
    """All sObjects of the sandbox org; implements the SOQL ``SchemaLookup`` and ``FieldLister``."""

    def __init__(self, custom_fields: Sequence[CustomField] = DEFAULT_CUSTOM_FIELDS) -> None:
        self.objects: dict[str, SObjectDef] = {}
        for name, fields in _standard_objects().items():
            obj = SObjectDef(name, KEY_PREFIXES[name])
            for f in fields:
                obj.add(f)
            self.objects[name] = obj
        self._lower = {n.lower(): n for n in self.objects}
        for cf in custom_fields:
            self.add_custom_field(cf)

    def add_custom_field(self, cf: CustomField) -> FieldDef:
        """Add (or redefine) a custom field; raises ValueError saying what to fix."""
        obj_name = self.object_name(cf.sobject)
        if obj_name is None:
            raise ValueError(f"custom field {cf.api_name}: unknown sObject {cf.sobject!r}")
        fdef = cf.field_def()
        existing = self.objects[obj_name].get(fdef.name)
        if existing is not None and not existing.custom:
            raise ValueError(f"{obj_name}.{fdef.name} is a standard field")
        self.objects[obj_name].add(fdef)
        return fdef

    # ---- SchemaLookup ------------------------------------------------------------------------------
    def object_name(self, name: str) -> str | None:
        return self._lower.get(name.lower())

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        obj = self.objects.get(sobject)
        f = obj.get(name) if obj else None
        return f.info() if f else None

    def relationship(self, sobject: str, rel_name: str) -> list[str] | None:
        f = self._rel_field(sobject, rel_name)
        return list(f.reference_to) if f else None

    def reference_field(self, sobject: str, rel_name: str) -> str | None:
        f = self._rel_field(sobject, rel_name)
        return f.name if f else None

    def fields(self, sobject: str) -> Sequence[FieldInfo]:
        return [f.info() for f in self.objects[sobject].fields.values()]

    def _rel_field(self, sobject: str, rel_name: str) -> FieldDef | None:
        obj = self.objects.get(sobject)
        if obj is None:
            return None
        low = rel_name.lower()
        for f in obj.fields.values():
            if f.relationship_name and f.relationship_name.lower() == low:
                return f
        return None

    # ---- helpers ------------------------------------------------------------------------------------
    def obj(self, name: str) -> SObjectDef | None:
        canonical = self.object_name(name)
        return self.objects[canonical] if canonical else None
