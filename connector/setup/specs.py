"""What the mapping files require of each system: the HubSpot properties and Salesforce fields to create.

Pure: computed from the mappings alone, no I/O. ``hubspot`` and ``salesforce`` compare these specs with the
live metadata; ``checks`` shares the value kinds below to judge existing properties and fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..reconcile.loader import custom_declarations
from ..reconcile.mapping import CompanyMapping, ContactMapping, FieldMapping, Mappings, OpportunityMapping
from ..reconcile.schema import CONNECTOR_STATUSES, EMPLOYEE_RANGES, SCORE_OUTPUT_OPTIONS, SCORE_OUTPUTS
from ..reconcile.transforms import Number, StageMap, ValueMap

CONNECTOR_GROUP = "hubspot_salesforce_connector"
CONNECTOR_GROUP_LABEL = "HubSpot–Salesforce connector"
#: connector_status values, identical in HubSpot (option value) and Salesforce (picklist API value) because
#: the shipped mapping passes them through without a value map. Shared with the static schema, the
#: sandbox and the scorer: change them in ``connector.reconcile.schema.CONNECTOR_STATUSES``.
CONNECTOR_STATUS_VALUES: tuple[str, ...] = CONNECTOR_STATUSES
SCORE_PROPERTY, SCORE_FIELD = SCORE_OUTPUTS["score"]
STATUS_PROPERTY, STATUS_FIELD = SCORE_OUTPUTS["status"]
SCORER_DESCRIPTION = "Set by the connector's scorer."
DEAL_ID_PROPERTY = "salesforce_opportunity_id"
DEAL_ID_FIELD = "HubSpot_Deal_Id__c"
#: HubSpot record ids are numeric strings (int64 today); 32 leaves room and matches the sandbox org
HUBSPOT_ID_LENGTH = 32
#: the company cross-reference field's length: Text(30), as issue #21 specifies (an int64 has 19 digits)
COMPANY_ID_LENGTH = 30

#: mapping kind -> the HubSpot object type its file maps
HUBSPOT_OBJECT = {"contacts": "contacts", "opportunities": "deals", "companies": "companies"}
#: mapping kind -> the Salesforce objects its file maps
SALESFORCE_OBJECTS = {"contacts": ("Lead", "Contact"), "opportunities": ("Opportunity",), "companies": ("Account",)}

#: one mapping file of a deployment, compiled
AnyMapping = ContactMapping | OpportunityMapping | CompanyMapping


@dataclass(frozen=True)
class PropertySpec:
    """A HubSpot property the connector needs, in the properties API's terms."""

    object_type: str
    name: str
    label: str
    type: str  # string | number | enumeration | bool | date | datetime
    field_type: str  # text | textarea | number | select | booleancheckbox | date
    description: str = ""
    has_unique_value: bool = False
    options: tuple[str, ...] = ()
    group: str = CONNECTOR_GROUP

    def body(self) -> dict[str, Any]:
        """The body HubSpot's properties API takes to create it."""
        out: dict[str, Any] = {
            "name": self.name, "label": self.label, "type": self.type, "fieldType": self.field_type,
            "groupName": self.group, "description": self.description, "hasUniqueValue": self.has_unique_value,
        }
        if self.options:
            labels = {"true": "Yes", "false": "No"} if self.type == "bool" else {}
            out["options"] = [{"label": labels.get(v, v), "value": v, "displayOrder": i, "hidden": False}
                              for i, v in enumerate(self.options)]
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"object": self.object_type, "name": self.name, "label": self.label,
                               "type": self.type, "fieldType": self.field_type, "group": self.group,
                               "unique": self.has_unique_value}
        if self.options:
            out["options"] = list(self.options)
        return out


# Setup type name -> describe types that satisfy it
_SF_DESCRIBE_TYPES: dict[str, frozenset[str]] = {
    "Text": frozenset({"string"}), "Number": frozenset({"double", "int"}), "Picklist": frozenset({"picklist"}),
    "Checkbox": frozenset({"boolean"}), "Date": frozenset({"date"}), "DateTime": frozenset({"datetime"}),
}


@dataclass(frozen=True)
class FieldSpec:
    """A Salesforce custom field the connector needs, in Setup's terms (what an admin types in)."""

    sobject: str
    api_name: str
    label: str
    type: str  # Text | Number | Picklist | Checkbox | Date | DateTime
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    picklist_values: tuple[str, ...] = ()
    external_id: bool = False
    unique: bool = False
    description: str = ""

    @property
    def describe_types(self) -> frozenset[str]:
        """The describe ``type`` values an existing field may have to be usable as this spec."""
        return _SF_DESCRIBE_TYPES[self.type]

    def to_json(self) -> dict[str, Any]:
        """The ``missing`` entry of the report: everything the admin needs to create it."""
        out: dict[str, Any] = {"object": self.sobject, "api_name": self.api_name, "label": self.label,
                               "type": self.type}
        if self.length is not None:
            out["length"] = self.length
        if self.precision is not None:
            out["precision"] = self.precision
            out["scale"] = self.scale or 0
        if self.picklist_values:
            out["picklist_values"] = list(self.picklist_values)
        out["external_id"] = self.external_id
        out["unique"] = self.unique
        return out

    def sandbox_body(self) -> dict[str, Any]:
        """The body of the sandbox's custom-field control route."""
        body: dict[str, Any] = {"sobject": self.sobject, "apiName": self.api_name, "type": self.type,
                                "label": self.label, "externalId": self.external_id, "unique": self.unique}
        if self.length is not None:
            body["length"] = self.length
        if self.precision is not None:
            body["precision"] = self.precision
            body["scale"] = self.scale or 0
        if self.picklist_values:
            body["picklistValues"] = list(self.picklist_values)
            body["restricted"] = True
        return body


@dataclass(frozen=True)
class _Output:
    """How one scorer output is typed in each system (its names are ``SCORE_OUTPUTS``; its values, for the
    picklists, ``SCORE_OUTPUT_OPTIONS``)."""

    hubspot_label: str
    hubspot_type: str
    hubspot_field_type: str
    salesforce_label: str
    salesforce_type: str
    length: int | None = None
    precision: int | None = None


#: output -> its types. The reasons are Text(255) in Salesforce (filterable and reportable, unlike a text area);
#: the scorer keeps them within that.
_OUTPUTS: dict[str, _Output] = {
    "score": _Output("Connector score", "number", "number", "Connector Score", "Number", precision=5),
    "grade": _Output("Connector grade", "enumeration", "select", "Connector Grade", "Picklist"),
    "status": _Output("Connector status", "enumeration", "select", "Connector Status", "Picklist"),
    "mql_date": _Output("Connector MQL date", "datetime", "date", "Connector MQL Date", "DateTime"),
    "status_reason": _Output("Connector status reason", "string", "text", "Connector Status Reason", "Text",
                             length=255),
    "reason": _Output("Connector score reason", "string", "textarea", "Connector Score Reason", "Text",
                      length=255),
    "sla_state": _Output("Connector SLA state", "enumeration", "select", "Connector SLA State", "Picklist"),
    "sla_due": _Output("Connector SLA due", "datetime", "date", "Connector SLA Due", "DateTime"),
    "touches_before_mql": _Output("Connector touches before MQL", "number", "number",
                                  "Connector Touches Before MQL", "Number", precision=5),
    "first_touch": _Output("Connector first touch", "string", "text", "Connector First Touch", "Text", length=255),
    "last_touch": _Output("Connector last touch", "string", "text", "Connector Last Touch", "Text", length=255),
}


def scorer_properties() -> list[PropertySpec]:
    """The HubSpot contact properties the scorer writes, in ``SCORE_OUTPUTS`` order."""
    return [PropertySpec("contacts", hubspot, _OUTPUTS[name].hubspot_label, _OUTPUTS[name].hubspot_type,
                         _OUTPUTS[name].hubspot_field_type, SCORER_DESCRIPTION,
                         options=SCORE_OUTPUT_OPTIONS.get(name, ()))
            for name, (hubspot, _) in SCORE_OUTPUTS.items()]


def scorer_fields(sobject: str) -> list[FieldSpec]:
    """The ``sobject`` (Lead or Contact) fields the scorer writes, in ``SCORE_OUTPUTS`` order."""
    out: list[FieldSpec] = []
    for name, (_, api_name) in SCORE_OUTPUTS.items():
        o = _OUTPUTS[name]
        out.append(FieldSpec(sobject, api_name, o.salesforce_label, o.salesforce_type, length=o.length,
                             precision=o.precision, scale=None if o.precision is None else 0,
                             picklist_values=SCORE_OUTPUT_OPTIONS.get(name, ()), description=SCORER_DESCRIPTION))
    return out


def value_kind(f: FieldMapping) -> str:
    """What a mapped value is, from its transforms: decides compatible native types."""
    names = set(f.chain.names)
    for transform, kind in (("boolean", "boolean"), ("owner", "owner"), ("employee_range", "employee_range"),
                            ("number", "number"), ("integer", "number"), ("datetime", "datetime"),
                            ("date", "date"), ("map", "enum"), ("stage", "enum")):
        if transform in names:
            return kind
    return "text"


def value_maps(f: FieldMapping) -> list[tuple[str, ValueMap]]:
    """(key prefix, map) for each value map of the field: its own, or one per pipeline for stages."""
    out: list[tuple[str, ValueMap]] = []
    for t in f.chain.transforms:
        if isinstance(t, ValueMap):
            out.append((f"fields.{f.name}.values", t))
        elif isinstance(t, StageMap):
            out += [(f"stages.{pipeline}", vm) for pipeline, vm in t.pipelines.items()]
    return out


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _hubspot_values(f: FieldMapping) -> tuple[str, ...]:
    return _unique(v for _, vm in value_maps(f)
                   for v in [*vm.to_salesforce, *vm.to_hubspot.values(), vm.default_to_hubspot])


def _salesforce_values(f: FieldMapping) -> tuple[str, ...]:
    return _unique(v for _, vm in value_maps(f)
                   for v in [*vm.to_salesforce.values(), *vm.to_hubspot, vm.default_to_salesforce])


def _label(name: str) -> str:
    base = name.removesuffix("__c")
    return base.replace("_", " ").strip().capitalize() or name


def _custom_property(object_type: str, name: str, f: FieldMapping | None) -> PropertySpec:
    kind = value_kind(f) if f is not None else "text"
    desc = (f"Declared in the connector's mapping (fields.{f.name})." if f is not None
            else "Used by the connector's mapping.")
    text = PropertySpec(object_type, name, _label(name), type="string", field_type="text", description=desc)
    if kind == "boolean":
        return replace(text, type="bool", field_type="booleancheckbox", options=("true", "false"))
    if kind == "number":
        return replace(text, type="number", field_type="number")
    if kind in ("date", "datetime"):
        return replace(text, type=kind, field_type="date")
    if kind == "employee_range":
        return replace(text, type="enumeration", field_type="select", options=EMPLOYEE_RANGES)
    if kind == "enum" and f is not None and _hubspot_values(f):
        return replace(text, type="enumeration", field_type="select", options=_hubspot_values(f))
    return text


def _custom_field(sobject: str, name: str, f: FieldMapping) -> FieldSpec:
    kind = value_kind(f)
    text = FieldSpec(sobject, name, _label(name), type="Text", length=255,
                     description=f"Declared in the connector's mapping (fields.{f.name}).")
    if kind == "boolean":
        return replace(text, type="Checkbox", length=None)
    if kind in ("number", "employee_range"):
        decimals = next((t.decimals for t in f.chain.transforms if isinstance(t, Number)), None)
        scale = 0 if "integer" in f.chain.names or kind == "employee_range" else (2 if decimals is None else decimals)
        return replace(text, type="Number", length=None, precision=18, scale=scale)
    if kind == "date":
        return replace(text, type="Date", length=None)
    if kind == "datetime":
        return replace(text, type="DateTime", length=None)
    if kind == "enum" and _salesforce_values(f):
        return replace(text, type="Picklist", length=None, picklist_values=_salesforce_values(f))
    return text


def mapping_files(mappings: Mappings) -> list[tuple[str, AnyMapping]]:
    """(kind, mapping) for each mapping file loaded: "contacts", "opportunities" when deals are mapped, and
    "companies" when companies are."""
    out: list[tuple[str, AnyMapping]] = [("contacts", mappings.contacts)]
    if mappings.opportunities is not None:
        out.append(("opportunities", mappings.opportunities))
    if mappings.companies is not None:
        out.append(("companies", mappings.companies))
    return out


def required_hubspot_properties(mappings: Mappings) -> list[PropertySpec]:
    """The HubSpot properties the connector needs that a portal does not have by default.

    The cross-reference ids (a company's with companies.toml) are unique so that creates can be idempotent
    upserts (``idProperty``); then the
    scorer's outputs (``SCORE_OUTPUTS``: score, grade, status, MQL date, status reason, reason text); custom
    properties the mappings use and declare under ``[custom_fields] hubspot`` get a type inferred from their
    transforms. A mapped name not declared there is the portal's own: the live check finds it or says it is
    missing, and setup never creates it.
    """
    ident = mappings.contacts.identity
    specs: list[PropertySpec] = [
        PropertySpec("contacts", ident.hubspot_lead_id_property, "Salesforce Lead ID", "string", "text",
                     "Set by the connector: the Id of the Salesforce Lead this contact syncs with.",
                     has_unique_value=True),
        PropertySpec("contacts", ident.hubspot_contact_id_property, "Salesforce Contact ID", "string", "text",
                     "Set by the connector: the Id of the Salesforce Contact this contact syncs with.",
                     has_unique_value=True),
        *scorer_properties(),
    ]
    if mappings.opportunities is not None:
        specs.append(PropertySpec("deals", DEAL_ID_PROPERTY, "Salesforce Opportunity ID", "string", "text",
                                  "Set by the connector: the Id of the Salesforce Opportunity this deal syncs with.",
                                  has_unique_value=True))
    if mappings.companies is not None:
        specs.append(PropertySpec("companies", mappings.companies.identity.hubspot_account_id_property,
                                  "Salesforce Account ID", "string", "text",
                                  "Set by the connector: the Id of the Salesforce Account this company syncs with.",
                                  has_unique_value=True))
    seen = {(s.object_type, s.name) for s in specs}
    for kind, m in mapping_files(mappings):
        object_type = HUBSPOT_OBJECT[kind]
        declared = set(custom_declarations(m).hubspot)
        uses: list[tuple[str, FieldMapping | None]] = [(f.hubspot, f) for f in m.fields if f.hubspot]
        if isinstance(m, ContactMapping):
            uses += [(m.privacy.basis_property, None)] + [(c.property, None) for c in m.privacy.allow_when]
        for name, f in uses:
            if name not in declared or (object_type, name) in seen:
                continue
            seen.add((object_type, name))
            specs.append(_custom_property(object_type, name, f))
    return specs


def required_salesforce_fields(mappings: Mappings) -> list[FieldSpec]:
    """The Salesforce custom fields the connector needs, per object.

    Besides the connector's own (the Account's with companies.toml), the ``__c`` names the mappings use and
    declare under ``[custom_fields] lead / contact / opportunity / account``. Only ``__c`` names can be created:
    a standard field the mappings name (declared or not) that is missing in the org is reported by the live
    check, and by setup (``missing_names``), alike.
    """
    id_field = mappings.contacts.identity.salesforce_hubspot_id_field
    specs: list[FieldSpec] = []
    for obj in ("Lead", "Contact"):
        specs += [
            FieldSpec(obj, id_field, "HubSpot Contact Id", "Text", length=HUBSPOT_ID_LENGTH, external_id=True,
                      unique=True, description="Set by the connector: the HubSpot contact this record syncs with."),
            *scorer_fields(obj),
        ]
    if mappings.opportunities is not None:
        specs.append(FieldSpec("Opportunity", DEAL_ID_FIELD, "HubSpot Deal Id", "Text", length=HUBSPOT_ID_LENGTH,
                               external_id=True, unique=True,
                               description="Set by the connector: the HubSpot deal this Opportunity syncs with."))
    if mappings.companies is not None:
        specs.append(FieldSpec("Account", mappings.companies.identity.salesforce_company_id_field, "HubSpot Company Id",
                               "Text", length=COMPANY_ID_LENGTH, external_id=True, unique=True,
                               description="Set by the connector: the HubSpot company this Account syncs with."))
    seen = {(s.sobject, s.api_name) for s in specs}
    for _, m in mapping_files(mappings):
        declared = declared_salesforce(m)
        for f in m.fields:
            for obj, name in f.salesforce.items():
                if not name.endswith("__c") or name not in declared.get(obj, ()) or (obj, name) in seen:
                    continue
                seen.add((obj, name))
                specs.append(_custom_field(obj, name, f))
    return specs


def declared_salesforce(m: AnyMapping) -> dict[str, frozenset[str]]:
    """Salesforce object -> the names the file declares under ``[custom_fields]`` for it."""
    custom = custom_declarations(m)
    if isinstance(m, ContactMapping):
        return {"Lead": frozenset(custom.lead), "Contact": frozenset(custom.contact)}
    if isinstance(m, CompanyMapping):
        return {"Account": frozenset(custom.account)}
    return {"Opportunity": frozenset(custom.opportunity)}


def mapped_names(mappings: Mappings) -> list[tuple[str, str, str, str, str]]:
    """(system, object, name, file, key) of every native name the mapping files use, in file order: the
    fields' HubSpot properties and Salesforce fields, then the identity and privacy names."""
    out: list[tuple[str, str, str, str, str]] = []
    for kind, m in mapping_files(mappings):
        for f in m.fields:
            if f.hubspot:
                out.append(("hubspot", HUBSPOT_OBJECT[kind], f.hubspot, m.file, f"fields.{f.name}.hubspot"))
            for obj, name in f.salesforce.items():
                side = f".{obj.lower()}" if kind == "contacts" else ""
                out.append(("salesforce", obj, name, m.file, f"fields.{f.name}.salesforce{side}"))
        if isinstance(m, ContactMapping):
            ident, file = m.identity, m.file
            out += [("hubspot", "contacts", ident.hubspot_lead_id_property, file, "identity.hubspot_lead_id_property"),
                    ("hubspot", "contacts", ident.hubspot_contact_id_property, file,
                     "identity.hubspot_contact_id_property"),
                    ("hubspot", "contacts", m.privacy.basis_property, file, "privacy.basis_property")]
            out += [("hubspot", "contacts", c.property, file, f"privacy.allow_when[{i}].property")
                    for i, c in enumerate(m.privacy.allow_when)]
            out += [("salesforce", obj, ident.salesforce_hubspot_id_field, file, "identity.salesforce_hubspot_id_field")
                    for obj in ("Lead", "Contact")]
        if isinstance(m, CompanyMapping):
            out += [("hubspot", "companies", m.identity.hubspot_account_id_property, m.file,
                     "identity.hubspot_account_id_property"),
                    ("salesforce", "Account", m.identity.salesforce_company_id_field, m.file,
                     "identity.salesforce_company_id_field")]
    return out
