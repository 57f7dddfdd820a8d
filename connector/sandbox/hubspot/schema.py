"""HubSpot's object types, default properties, pipelines and association types.

The emulator validates writes against these definitions exactly as HubSpot validates against the
account's property schema; custom properties created through the properties API are added at run time
(see ``properties.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .industries import COMPANY_INDUSTRIES

__all__ = [
    "OBJECT_TYPES", "OBJECT_TYPE_IDS", "PropertyDef", "default_properties", "normalize_object_type",
    "created_prop", "modified_prop", "DEFAULT_RETURNED", "SEARCHABLE", "ASSOCIATION_TYPE_IDS",
    "DEAL_PIPELINE", "LIFECYCLE_ORDER", "DEFAULT_GROUPS", "SINGULAR", "ENGAGEMENTS", "AssociationDef",
    "ASSOCIATION_DEFS", "association_def", "PRIMARY_COMPANY_TYPES", "PARENT_TO_CHILD", "CHILD_TO_PARENT",
    "COMPANY_ROLLUPS",
]

OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1", "companies": "0-2", "deals": "0-3", "calls": "0-48", "meetings": "0-47",
    "emails": "0-49", "notes": "0-46", "tasks": "0-27",
}
OBJECT_TYPES = tuple(OBJECT_TYPE_IDS)
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "calls": "call", "meetings": "meeting",
            "emails": "email", "notes": "note", "tasks": "task"}
ENGAGEMENTS = frozenset({"calls", "meetings", "emails", "notes", "tasks"})
_ALIASES: dict[str, str] = {}
for _name, _tid in OBJECT_TYPE_IDS.items():
    _ALIASES[_name] = _name
    _ALIASES[_tid] = _name
    _ALIASES[SINGULAR[_name]] = _name


def normalize_object_type(value: str) -> str | None:
    """Plural name for any spelling HubSpot accepts in a path (``contacts``, ``contact``, ``0-1``)."""
    return _ALIASES.get(value.lower())


def created_prop(object_type: str) -> str:
    return "hs_createdate" if object_type in ENGAGEMENTS else "createdate"


def modified_prop(object_type: str) -> str:
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


@dataclass
class PropertyDef:
    """One property definition, shaped like the properties API returns it."""

    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    group: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    read_only: bool = False
    unique: bool = False
    hubspot_defined: bool = True
    calculated: bool = False
    description: str = ""
    created_at: int = 0
    updated_at: int = 0

    def option_values(self) -> set[str]:
        return {str(o["value"]) for o in self.options}

    def option_set(self) -> frozenset[str]:
        """The allowed values, cached until the options list changes."""
        key = id(self.options), len(self.options)
        cached = self.__dict__.get("_option_cache")
        if cached is None or cached[0] != key:
            cached = (key, frozenset(self.option_values()))
            self.__dict__["_option_cache"] = cached
        return cached[1]

    def to_api(self, iso: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "label": self.label, "type": self.type, "fieldType": self.field_type,
            "description": self.description, "groupName": self.group, "options": self.options,
            "displayOrder": -1, "calculated": self.calculated, "externalOptions": False,
            "hasUniqueValue": self.unique, "hidden": False, "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only,
            "modificationMetadata": {"archivable": not self.hubspot_defined,
                                     "readOnlyDefinition": self.hubspot_defined,
                                     "readOnlyValue": self.read_only},
            "archived": False,
        }
        if self.created_at:
            out["createdAt"] = iso(self.created_at)
            out["updatedAt"] = iso(self.updated_at or self.created_at)
        return out

    @classmethod
    def from_api(cls, body: dict[str, Any], now_ms: int) -> PropertyDef:
        return cls(
            name=str(body["name"]), label=str(body.get("label") or body["name"]),
            type=str(body["type"]), field_type=str(body["fieldType"]), group=str(body.get("groupName", "")),
            options=[_option(o, i) for i, o in enumerate(body.get("options") or [])],
            unique=bool(body.get("hasUniqueValue", False)), hubspot_defined=False,
            description=str(body.get("description") or ""), created_at=now_ms, updated_at=now_ms,
        )


def _option(o: dict[str, Any], i: int) -> dict[str, Any]:
    return {"label": str(o.get("label", o.get("value"))), "value": str(o["value"]),
            "displayOrder": int(o.get("displayOrder", i)), "hidden": bool(o.get("hidden", False)),
            "description": str(o.get("description") or "")}


def _opts(*values: str, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    labels = labels or {}
    return [_option({"value": v, "label": labels.get(v, v.replace("_", " ").title())}, i)
            for i, v in enumerate(values)]


LIFECYCLE_ORDER = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
                   "customer", "evangelist", "other"]

DEAL_STAGES: list[tuple[str, str, str, bool]] = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
]
DEAL_PIPELINE = {"id": "default", "label": "Sales Pipeline", "stages": DEAL_STAGES}

DEFAULT_GROUPS: dict[str, list[tuple[str, str]]] = {
    "contacts": [("contactinformation", "Contact information"), ("emailinformation", "Email information"),
                 ("analyticsinformation", "Web analytics history"),
                 ("conversioninformation", "Conversion information")],
    "companies": [("companyinformation", "Company information"),
                  ("socialmediainformation", "Social media information")],
    "deals": [("dealinformation", "Deal information")],
    "calls": [("callinformation", "Call information")],
    "meetings": [("meetinginformation", "Meeting information")],
    "emails": [("emailinformation", "Email information")],
    "notes": [("noteinformation", "Note information")],
    "tasks": [("taskinformation", "Task information")],
}

_OWNER = ("hubspot_owner_id", "Owner", "enumeration", "select")


def _p(name: str, label: str, type_: str = "string", ft: str = "text", **kw: Any) -> PropertyDef:
    return PropertyDef(name=name, label=label, type=type_, field_type=ft, **kw)


def _ro(name: str, label: str, type_: str = "string", ft: str = "text", group: str = "") -> PropertyDef:
    return PropertyDef(name=name, label=label, type=type_, field_type=ft, read_only=True, calculated=True,
                       group=group)


def _common(object_type: str) -> list[PropertyDef]:
    group = DEFAULT_GROUPS[object_type][0][0]
    return [
        _ro(created_prop(object_type), "Create Date", "datetime", "date", group),
        _ro(modified_prop(object_type), "Last Modified Date", "datetime", "date", group),
        _ro("hs_object_id", "Record ID", "number", "number", group),
        _ro("hs_merged_object_ids", "Merged record IDs", "enumeration", "checkbox", group),
        _p(*_OWNER, group=group),
    ]


def default_properties(object_type: str) -> list[PropertyDef]:
    """The HubSpot-defined properties of one object type, as the sandbox account has them."""
    g = DEFAULT_GROUPS[object_type][0][0]
    props = _common(object_type)
    if object_type == "contacts":
        props += [_p(n, lbl, group=g) for n, lbl in [
            ("email", "Email"), ("firstname", "First Name"), ("lastname", "Last Name"), ("phone", "Phone Number"),
            ("mobilephone", "Mobile Phone Number"), ("company", "Company Name"), ("jobtitle", "Job Title"),
            ("website", "Website URL"), ("city", "City"), ("state", "State/Region"), ("country", "Country/Region"),
            ("industry", "Industry")]]
        props += [
            _p("numemployees", "Number of Employees", "enumeration", "select", group=g,
               options=[_option({"value": v, "label": v}, i) for i, v in enumerate(
                   ["1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"])]),
            _p("annualrevenue", "Annual Revenue", "number", "number", group=g),
            _p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group=g, options=_opts(
                *LIFECYCLE_ORDER, labels={"marketingqualifiedlead": "Marketing Qualified Lead",
                                          "salesqualifiedlead": "Sales Qualified Lead"})),
            _p("hs_lead_status", "Lead Status", "enumeration", "radio", group=g, options=_opts(
                "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
                "BAD_TIMING")),
            _p("hs_legal_basis", "Legal basis for processing contact's data", "enumeration", "checkbox", group=g,
               options=[_option({"value": v, "label": v}, i) for i, v in enumerate([
                   "Legitimate interest – prospect/lead", "Legitimate interest – existing customer",
                   "Legitimate interest - other", "Performance of a contract", "Freely given consent from contact",
                   "Not applicable"])]),
            _ro("hs_email_optout", "Unsubscribed from all email", "bool", "booleancheckbox", "emailinformation"),
            _source_prop(),
            _ro("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox", g),
            _ro("hubspotscore", "HubSpot Score", "number", "calculation_score", g),
            _ro("hs_email_open", "Marketing emails opened", "number", "number", "emailinformation"),
            _ro("hs_email_click", "Marketing emails clicked", "number", "number", "emailinformation"),
            _ro("hs_email_delivered", "Marketing emails delivered", "number", "number", "emailinformation"),
            _ro("hs_email_last_open_date", "Last marketing email open date", "datetime", "date", "emailinformation"),
            _ro("hs_email_last_click_date", "Last marketing email click date", "datetime", "date", "emailinformation"),
            _ro("hs_email_last_send_date", "Last marketing email send date", "datetime", "date", "emailinformation"),
            _ro("hs_analytics_num_page_views", "Number of Pageviews", "number", "number", "analyticsinformation"),
            _ro("hs_analytics_last_visit_timestamp", "Time of Last Session", "datetime", "date",
                "analyticsinformation"),
            _ro("num_conversion_events", "Number of Form Submissions", "number", "number", "conversioninformation"),
            _ro("first_conversion_date", "First Conversion Date", "datetime", "date", "conversioninformation"),
            _ro("first_conversion_event_name", "First Conversion", "string", "text", "conversioninformation"),
            _ro("recent_conversion_date", "Recent Conversion Date", "datetime", "date", "conversioninformation"),
            _ro("recent_conversion_event_name", "Recent Conversion", "string", "text", "conversioninformation"),
        ]
    elif object_type == "companies":
        props += _company_props(g)
    elif object_type == "deals":
        props += [
            _p("dealname", "Deal Name", group=g), _p("amount", "Amount", "number", "number", group=g),
            _p("dealstage", "Deal Stage", "enumeration", "radio", group=g,
               options=[_option({"value": s, "label": lbl}, i) for i, (s, lbl, _, _) in enumerate(DEAL_STAGES)]),
            _p("pipeline", "Pipeline", "enumeration", "select", group=g,
               options=[_option({"value": "default", "label": "Sales Pipeline"}, 0)]),
            _p("closedate", "Close Date", "datetime", "date", group=g),
            _p("description", "Deal Description", "string", "textarea", group=g),
            _ro("hs_deal_stage_probability", "Deal probability", "number", "number", g),
            _ro("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", g),
            _ro("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", g),
        ]
    else:
        props.append(_p("hs_timestamp", "Activity date", "datetime", "date", group=g))
        props += _ENGAGEMENT_PROPS[object_type](g)
    return props


def _industry_label(value: str) -> str:
    """``INFORMATION_TECHNOLOGY_AND_SERVICES`` -> ``Information Technology and Services`` (HubSpot's label style)."""
    small = {"and", "or", "of"}
    words = value.lower().split("_")
    return " ".join(w if i and w in small else w.capitalize() for i, w in enumerate(words))


def _company_props(g: str) -> list[PropertyDef]:
    """HubSpot's default company properties the connector and the seed touch, with their real types.

    Names, types and field types follow HubSpot's default company properties (knowledge.hubspot.com
    "HubSpot's default company properties"); ``numberofemployees`` and ``annualrevenue`` are numbers on
    companies (``numemployees`` on contacts is an enumeration of ranges). The roll-ups at the end are
    read-only and kept in step with the company's associations (see ``records.company_rollups``).
    """
    return [
        _p("name", "Company name", group=g), _p("domain", "Company Domain Name", group=g),
        _p("website", "Website URL", group=g),
        _p("industry", "Industry", "enumeration", "select", group=g,
           options=[_option({"value": v, "label": _industry_label(v)}, i) for i, v in enumerate(COMPANY_INDUSTRIES)]),
        _p("numberofemployees", "Number of Employees", "number", "number", group=g),
        _p("annualrevenue", "Annual Revenue", "number", "number", group=g),
        _p("city", "City", group=g), _p("state", "State/Region", group=g),
        _p("country", "Country/Region", group=g), _p("zip", "Postal Code", group=g),
        _p("address", "Street Address", group=g), _p("address2", "Street Address 2", group=g),
        _p("phone", "Phone Number", ft="phonenumber", group=g),
        _p("description", "Description", ft="textarea", group=g),
        _p("type", "Type", "enumeration", "select", group=g,
           options=_opts("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")),
        _p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group=g, options=_opts(
            *LIFECYCLE_ORDER, labels={"marketingqualifiedlead": "Marketing Qualified Lead",
                                      "salesqualifiedlead": "Sales Qualified Lead"})),
        _p("hs_additional_domains", "Additional Domains", ft="textarea", group=g),
        _p("linkedin_company_page", "LinkedIn Company Page", group="socialmediainformation"),
        _ro("hs_parent_company_id", "Parent Company", "number", "number", g),
        _ro("hs_num_child_companies", "Number of child companies", "number", "number", g),
        _ro("num_associated_contacts", "Number of Associated Contacts", "number", "number", g),
        _ro("num_associated_deals", "Number of Associated Deals", "number", "number", g),
    ]


def _source_prop() -> PropertyDef:
    prop = _ro("hs_analytics_source", "Original Source", "enumeration", "select", "analyticsinformation")
    prop.options = _opts("ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
                         "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL")
    return prop


def _enum(name: str, label: str, g: str, *values: str) -> PropertyDef:
    return _p(name, label, "enumeration", "select", group=g, options=_opts(*values))


_ENGAGEMENT_PROPS: dict[str, Any] = {
    "calls": lambda g: [
        _p("hs_call_title", "Call Title", group=g), _p("hs_call_body", "Call notes", ft="html", group=g),
        _enum("hs_call_direction", "Call direction", g, "INBOUND", "OUTBOUND"),
        _enum("hs_call_status", "Call status", g, "COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED",
              "CONNECTING", "IN_PROGRESS", "QUEUED", "RINGING", "MISSED"),
        _p("hs_call_duration", "Call duration", "number", "number", group=g)],
    "meetings": lambda g: [
        _p("hs_meeting_title", "Meeting name", group=g), _p("hs_meeting_body", "Meeting description", group=g),
        _p("hs_meeting_start_time", "Start Time", "datetime", "date", group=g),
        _p("hs_meeting_end_time", "End Time", "datetime", "date", group=g),
        _enum("hs_meeting_outcome", "Meeting outcome", g, "SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW",
              "CANCELED")],
    "emails": lambda g: [
        _enum("hs_email_direction", "Email direction", g, "EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
        _p("hs_email_subject", "Email subject", group=g), _p("hs_email_text", "Email body", group=g),
        _p("hs_email_html", "Email HTML body", group=g),
        _enum("hs_email_status", "Email send status", g, "SENT", "BOUNCED", "FAILED", "SCHEDULED", "SENDING")],
    "notes": lambda g: [_p("hs_note_body", "Note body", ft="html", group=g)],
    "tasks": lambda g: [
        _p("hs_task_subject", "Task Title", group=g), _p("hs_task_body", "Notes", group=g),
        _enum("hs_task_status", "Task Status", g, "NOT_STARTED", "COMPLETED", "IN_PROGRESS", "WAITING", "DEFERRED"),
        _enum("hs_task_priority", "Priority", g, "NONE", "LOW", "MEDIUM", "HIGH"),
        _enum("hs_task_type", "Task Type", g, "EMAIL", "CALL", "TODO")],
}

DEFAULT_RETURNED: dict[str, list[str]] = {
    "contacts": ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": ["dealname", "amount", "closedate", "pipeline", "dealstage", "createdate", "hs_lastmodifieddate",
              "hs_object_id"],
}
for _t in ENGAGEMENTS:
    DEFAULT_RETURNED[_t] = ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]

#: properties the free-text ``query`` of a search looks in
SEARCHABLE: dict[str, list[str]] = {
    "contacts": ["firstname", "lastname", "email", "hs_additional_emails", "phone", "mobilephone", "company"],
    "companies": ["name", "domain", "website", "phone"],
    "deals": ["dealname", "pipeline", "dealstage", "description"],
    "calls": ["hs_call_title", "hs_call_body"], "meetings": ["hs_meeting_title", "hs_meeting_body"],
    "emails": ["hs_email_subject", "hs_email_text"], "notes": ["hs_note_body"],
    "tasks": ["hs_task_subject", "hs_task_body"],
}

#: HUBSPOT_DEFINED default (unlabeled) association type ids, by (from, to)
ASSOCIATION_TYPE_IDS: dict[tuple[str, str], int] = {
    ("contacts", "deals"): 4, ("deals", "contacts"): 3,
    ("contacts", "calls"): 193, ("calls", "contacts"): 194,
    ("contacts", "emails"): 197, ("emails", "contacts"): 198,
    ("contacts", "meetings"): 199, ("meetings", "contacts"): 200,
    ("contacts", "notes"): 201, ("notes", "contacts"): 202,
    ("contacts", "tasks"): 203, ("tasks", "contacts"): 204,
    ("deals", "calls"): 205, ("calls", "deals"): 206,
    ("deals", "emails"): 209, ("emails", "deals"): 210,
    ("deals", "meetings"): 211, ("meetings", "deals"): 212,
    ("deals", "notes"): 213, ("notes", "deals"): 214,
    ("deals", "tasks"): 215, ("tasks", "deals"): 216,
    ("contacts", "companies"): 279, ("companies", "contacts"): 280,
    ("deals", "companies"): 341, ("companies", "deals"): 342,
    ("companies", "companies"): 450,
}

#: the labelled HUBSPOT_DEFINED types: the "Primary" company of a contact or a deal, parent/child companies
PRIMARY_COMPANY_TYPES: dict[str, int] = {"contacts": 1, "deals": 5}
PARENT_TO_CHILD, CHILD_TO_PARENT = 13, 14


@dataclass(frozen=True)
class AssociationDef:
    """One HUBSPOT_DEFINED association type: its ends, label, v3 name and the type id of the other direction."""

    type_id: int
    from_type: str
    to_type: str
    label: str | None
    v3_name: str
    inverse: int

    def spec(self) -> dict[str, Any]:
        """The ``{category, typeId, label}`` shape of v4 reads and the labels endpoint."""
        return {"category": "HUBSPOT_DEFINED", "typeId": self.type_id, "label": self.label}


def _defs() -> dict[int, AssociationDef]:
    out: dict[int, AssociationDef] = {}
    labelled = {(f, t) for f, t in ASSOCIATION_TYPE_IDS if "companies" in (f, t) and f != t}
    for (f, t), tid in ASSOCIATION_TYPE_IDS.items():
        name = f"{SINGULAR[f]}_to_{SINGULAR[t]}" + ("_unlabeled" if (f, t) in labelled else "")
        out[tid] = AssociationDef(tid, f, t, None, name, ASSOCIATION_TYPE_IDS[(t, f)])
    # Labels: HubSpot's "Primary Company" became "<Object> with Primary Company" (developer changelog,
    # 2024-02-19, "Changes to primary labels for HubSpot-defined association labels"); that the company->record
    # direction carries the same label is inferred. Only type ids are to be relied on, as the changelog says.
    for obj, tid in PRIMARY_COMPANY_TYPES.items():
        label = f"{SINGULAR[obj].capitalize()} with Primary Company"
        out[tid] = AssociationDef(tid, obj, "companies", label, f"{SINGULAR[obj]}_to_company", tid + 1)
        out[tid + 1] = AssociationDef(tid + 1, "companies", obj, label, f"company_to_{SINGULAR[obj]}", tid)
    # 13 parent->child, 14 child->parent (developer changelog 2018-09-11 "Parent <-> Child Associations via
    # API"); the label names the record at the far end (13 reads "Child Company"), inferred
    out[PARENT_TO_CHILD] = AssociationDef(PARENT_TO_CHILD, "companies", "companies", "Child Company",
                                          "parent_to_child_company", CHILD_TO_PARENT)
    out[CHILD_TO_PARENT] = AssociationDef(CHILD_TO_PARENT, "companies", "companies", "Parent Company",
                                          "child_to_parent_company", PARENT_TO_CHILD)
    return out


#: every HUBSPOT_DEFINED type the sandbox account has, by type id
ASSOCIATION_DEFS: dict[int, AssociationDef] = _defs()


def association_def(from_type: str, to_type: str, type_id: int) -> AssociationDef | None:
    """The definition of `type_id` if it joins `from_type` to `to_type`, else None."""
    found = ASSOCIATION_DEFS.get(int(type_id))
    return found if found and (found.from_type, found.to_type) == (from_type, to_type) else None


#: company roll-up properties HubSpot calculates from associations: name -> (associated type, type id)
COMPANY_ROLLUPS: dict[str, tuple[str, int]] = {
    "num_associated_contacts": ("contacts", 280), "num_associated_deals": ("deals", 342),
    "hs_num_child_companies": ("companies", PARENT_TO_CHILD), "hs_parent_company_id": ("companies", CHILD_TO_PARENT),
}
