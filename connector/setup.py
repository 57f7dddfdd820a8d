"""``connector setup`` and ``connector validate --live``: make both systems hold what the mappings need.

Why this exists: the mapping files name HubSpot properties and Salesforce fields that a fresh portal or
org does not have (the cross-reference ids, the scorer's fields, declared custom fields), and the static
checks in ``connector.reconcile.loader`` only know the built-in schema. This module

- lists what the connector needs (``required_hubspot_properties`` / ``required_salesforce_fields``, pure);
- reads the live metadata and creates what is missing (``run_setup``): HubSpot properties through the
  properties API; Salesforce fields only in the sandbox, because real orgs need the Metadata API, which
  the connector does not use, so for a real org the report lists the fields an admin must add;
- checks the mapping files against the live metadata (``live_problems``): unknown names, type
  mismatches, value-map values the target does not allow, read-only targets and targets written twice.

Existing properties and fields are never changed: a clash is reported as a problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, ConfigProblem
from .reconcile.loader import listing, read_only_fix, suggest
from .reconcile.mapping import ContactMapping, FieldMapping, Mappings, OpportunityMapping
from .reconcile.schema import CONNECTOR_STATUSES, EMPLOYEE_RANGES, HUBSPOT_PROPERTIES, SALESFORCE_FIELDS
from .reconcile.transforms import Number, StageMap, Truncate, ValueMap
from .systems.http import ApiError
from .systems.hubspot import HubSpotSource
from .systems.salesforce import SalesforceSource

__all__ = [
    "CONNECTOR_GROUP",
    "CONNECTOR_GROUP_LABEL",
    "CONNECTOR_STATUS_VALUES",
    "SCORE_PROPERTY",
    "STATUS_PROPERTY",
    "SCORE_FIELD",
    "STATUS_FIELD",
    "DEAL_ID_PROPERTY",
    "DEAL_ID_FIELD",
    "SANDBOX_CUSTOM_FIELDS_PATH",
    "PropertySpec",
    "FieldSpec",
    "SystemReport",
    "SetupReport",
    "required_hubspot_properties",
    "required_salesforce_fields",
    "run_setup",
    "LiveCheck",
    "live_check",
    "live_problems",
    "require_live_fit",
    "length_suggestions",
    "problem_json",
]

CONNECTOR_GROUP = "hubspot_salesforce_connector"
CONNECTOR_GROUP_LABEL = "HubSpot–Salesforce connector"
#: connector_status values, identical in HubSpot (option value) and Salesforce (picklist API value) because
#: the shipped mapping passes them through without a value map. Shared with the static schema, the
#: sandbox and the scorer: change them in ``connector.reconcile.schema.CONNECTOR_STATUSES``.
CONNECTOR_STATUS_VALUES: tuple[str, ...] = CONNECTOR_STATUSES
SCORE_PROPERTY = "connector_score"
STATUS_PROPERTY = "connector_status"
SCORE_FIELD = "Connector_Score__c"
STATUS_FIELD = "Connector_Status__c"
DEAL_ID_PROPERTY = "salesforce_opportunity_id"
DEAL_ID_FIELD = "HubSpot_Deal_Id__c"
#: HubSpot record ids are numeric strings (int64 today); 32 leaves room and matches the sandbox org
HUBSPOT_ID_LENGTH = 32
#: the Salesforce emulator's control route that adds a custom field (real orgs: Setup or Metadata API)
SANDBOX_CUSTOM_FIELDS_PATH = "/_sandbox/salesforce/custom-fields"

_HUBSPOT_OBJECT = {"contacts": "contacts", "opportunities": "deals"}
_SETUP_HINT = "create it with `connector setup --apply` or fix the name"
#: read-only through the CRM API, but written another way by the push stage: opt-outs go through the
#: subscription preferences API (unsubscribe from all e-mail), and nobody is ever opted back in
WRITTEN_ANOTHER_WAY = frozenset({"hs_email_optout"})


# ---------------------------------------------------------------- specs


@dataclass(frozen=True)
class PropertySpec:
    """A HubSpot property the connector needs, in the properties API's terms."""

    object_type: str
    name: str
    label: str
    type: str  # string | number | enumeration | bool | date | datetime
    field_type: str  # text | number | select | booleancheckbox | date
    description: str = ""
    has_unique_value: bool = False
    options: tuple[str, ...] = ()
    group: str = CONNECTOR_GROUP

    def body(self) -> dict[str, Any]:
        """The POST /crm/v3/properties/{objectType} body."""
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


def _kind(f: FieldMapping) -> str:
    """What a mapped value is, from its transforms: decides compatible native types."""
    names = set(f.chain.names)
    for transform, kind in (("boolean", "boolean"), ("owner", "owner"), ("employee_range", "employee_range"),
                            ("number", "number"), ("integer", "number"), ("datetime", "datetime"),
                            ("date", "date"), ("map", "enum"), ("stage", "enum")):
        if transform in names:
            return kind
    return "text"


def _value_maps(f: FieldMapping) -> list[tuple[str, ValueMap]]:
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
    return _unique(v for _, vm in _value_maps(f)
                   for v in [*vm.to_salesforce, *vm.to_hubspot.values(), vm.default_to_hubspot])


def _salesforce_values(f: FieldMapping) -> tuple[str, ...]:
    return _unique(v for _, vm in _value_maps(f)
                   for v in [*vm.to_salesforce.values(), *vm.to_hubspot, vm.default_to_salesforce])


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    return base.replace("_", " ").strip().capitalize() or name


def _custom_property(object_type: str, name: str, f: FieldMapping | None) -> PropertySpec:
    kind = _kind(f) if f is not None else "text"
    desc = f"Declared in the connector's mapping (fields.{f.name})." if f is not None else "Used by the connector's mapping."
    common = {"object_type": object_type, "name": name, "label": _label(name), "description": desc}
    if kind == "boolean":
        return PropertySpec(type="bool", field_type="booleancheckbox", options=("true", "false"), **common)
    if kind == "number":
        return PropertySpec(type="number", field_type="number", **common)
    if kind in ("date", "datetime"):
        return PropertySpec(type=kind, field_type="date", **common)
    if kind == "employee_range":
        return PropertySpec(type="enumeration", field_type="select", options=EMPLOYEE_RANGES, **common)
    if kind == "enum" and f is not None and _hubspot_values(f):
        return PropertySpec(type="enumeration", field_type="select", options=_hubspot_values(f), **common)
    return PropertySpec(type="string", field_type="text", **common)


def _custom_field(sobject: str, name: str, f: FieldMapping) -> FieldSpec:
    kind = _kind(f)
    common = {"sobject": sobject, "api_name": name, "label": _label(name),
              "description": f"Declared in the connector's mapping (fields.{f.name})."}
    if kind == "boolean":
        return FieldSpec(type="Checkbox", **common)
    if kind in ("number", "employee_range"):
        decimals = next((t.decimals for t in f.chain.transforms if isinstance(t, Number)), None)
        scale = 0 if "integer" in f.chain.names or kind == "employee_range" else (2 if decimals is None else decimals)
        return FieldSpec(type="Number", precision=18, scale=scale, **common)
    if kind == "date":
        return FieldSpec(type="Date", **common)
    if kind == "datetime":
        return FieldSpec(type="DateTime", **common)
    if kind == "enum" and _salesforce_values(f):
        return FieldSpec(type="Picklist", picklist_values=_salesforce_values(f), **common)
    return FieldSpec(type="Text", length=255, **common)


def _files(mappings: Mappings) -> list[tuple[str, ContactMapping | OpportunityMapping]]:
    out: list[tuple[str, ContactMapping | OpportunityMapping]] = [("contacts", mappings.contacts)]
    if mappings.opportunities is not None:
        out.append(("opportunities", mappings.opportunities))
    return out


def required_hubspot_properties(mappings: Mappings) -> list[PropertySpec]:
    """The HubSpot properties the connector needs that a portal does not have by default.

    The cross-reference ids are unique so that creates can be idempotent upserts (``idProperty``); the
    score and status are the scorer's output; custom properties the mappings use (names outside the
    built-in schema, i.e. declared under ``[custom_fields]``) get a type inferred from their transforms.
    """
    ident = mappings.contacts.identity
    specs: list[PropertySpec] = [
        PropertySpec("contacts", ident.hubspot_lead_id_property, "Salesforce Lead ID", "string", "text",
                     "Set by the connector: the Id of the Salesforce Lead this contact syncs with.",
                     has_unique_value=True),
        PropertySpec("contacts", ident.hubspot_contact_id_property, "Salesforce Contact ID", "string", "text",
                     "Set by the connector: the Id of the Salesforce Contact this contact syncs with.",
                     has_unique_value=True),
        PropertySpec("contacts", SCORE_PROPERTY, "Connector score", "number", "number",
                     "Set by the connector's scorer."),
        PropertySpec("contacts", STATUS_PROPERTY, "Connector status", "enumeration", "select",
                     "Set by the connector's scorer.", options=CONNECTOR_STATUS_VALUES),
    ]
    if mappings.opportunities is not None:
        specs.append(PropertySpec("deals", DEAL_ID_PROPERTY, "Salesforce Opportunity ID", "string", "text",
                                  "Set by the connector: the Id of the Salesforce Opportunity this deal syncs with.",
                                  has_unique_value=True))
    seen = {(s.object_type, s.name) for s in specs}
    for kind, m in _files(mappings):
        object_type = _HUBSPOT_OBJECT[kind]
        uses: list[tuple[str, FieldMapping | None]] = [(f.hubspot, f) for f in m.fields if f.hubspot]
        if isinstance(m, ContactMapping):
            uses += [(m.privacy.basis_property, None)] + [(c.property, None) for c in m.privacy.allow_when]
        for name, f in uses:
            if name in HUBSPOT_PROPERTIES[object_type] or (object_type, name) in seen:
                continue
            seen.add((object_type, name))
            specs.append(_custom_property(object_type, name, f))
    return specs


def required_salesforce_fields(mappings: Mappings) -> list[FieldSpec]:
    """The Salesforce custom fields the connector needs, per object.

    Only ``__c`` names can be created; a standard field the mappings name that is missing in the org is
    reported by ``live_problems`` instead.
    """
    id_field = mappings.contacts.identity.salesforce_hubspot_id_field
    specs: list[FieldSpec] = []
    for obj in ("Lead", "Contact"):
        specs += [
            FieldSpec(obj, id_field, "HubSpot Contact Id", "Text", length=HUBSPOT_ID_LENGTH, external_id=True,
                      unique=True, description="Set by the connector: the HubSpot contact this record syncs with."),
            FieldSpec(obj, SCORE_FIELD, "Connector Score", "Number", precision=5, scale=0,
                      description="Set by the connector's scorer."),
            FieldSpec(obj, STATUS_FIELD, "Connector Status", "Picklist", picklist_values=CONNECTOR_STATUS_VALUES,
                      description="Set by the connector's scorer."),
        ]
    if mappings.opportunities is not None:
        specs.append(FieldSpec("Opportunity", DEAL_ID_FIELD, "HubSpot Deal Id", "Text", length=HUBSPOT_ID_LENGTH,
                               external_id=True, unique=True,
                               description="Set by the connector: the HubSpot deal this Opportunity syncs with."))
    seen = {(s.sobject, s.api_name) for s in specs}
    for _, m in _files(mappings):
        for f in m.fields:
            for obj, name in f.salesforce.items():
                if not name.endswith("__c") or name in SALESFORCE_FIELDS[obj] or (obj, name) in seen:
                    continue
                seen.add((obj, name))
                specs.append(_custom_field(obj, name, f))
    return specs


# ---------------------------------------------------------------- run_setup


@dataclass
class SystemReport:
    """What setup found and did in one system."""

    created: list[dict[str, Any]] = field(default_factory=list)
    present: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"created": list(self.created), "present": list(self.present), "missing": list(self.missing),
                "problems": list(self.problems)}


@dataclass
class SetupReport:
    """The outcome of ``run_setup``; ``to_json()`` is what ``connector setup --json`` prints.

    ``missing`` lists what still has to be created: in HubSpot only on a dry run; in Salesforce whenever
    the connector may not create fields (a real org: an admin adds them, see docs/setup.md).
    """

    applied: bool
    hubspot: SystemReport = field(default_factory=SystemReport)
    salesforce: SystemReport = field(default_factory=SystemReport)
    api_calls: dict[str, int] = field(default_factory=dict)
    #: changes to the mapping files the live metadata suggests (a truncate for a field of limited length):
    #: {"source", "key", "message", "hint"}; they never make the report not ok
    suggestions: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing clashes and nothing is left to create."""
        return not (self.hubspot.problems or self.salesforce.problems or self.hubspot.missing
                    or self.salesforce.missing)

    def to_json(self) -> dict[str, Any]:
        return {"applied": self.applied, "ok": self.ok, "hubspot": self.hubspot.to_json(),
                "salesforce": self.salesforce.to_json(), "api_calls": dict(self.api_calls),
                "suggestions": list(self.suggestions)}

    def lines(self) -> list[str]:
        """A plain-text summary for the terminal."""
        out: list[str] = []
        for system, rep in (("HubSpot", self.hubspot), ("Salesforce", self.salesforce)):
            for e in rep.created:
                out.append(f"{system}: created {_ref(e)}")
            for e in rep.missing:
                out.append(f"{system}: missing {_ref(e)}" + (f" ({_sf_type(e)})" if "api_name" in e else ""))
            for e in rep.problems:
                out.append(f"{system}: PROBLEM {_ref(e)}: {e['message']}" + (f" (fix: {e['hint']})" if e.get("hint") else ""))
            out.append(f"{system}: {len(rep.present)} present, {len(rep.created)} created, {len(rep.missing)} missing, "
                       f"{len(rep.problems)} problem(s)")
        for e in self.suggestions:
            out.append(f"suggestion: {e['source']}: {e['key']}: {e['message']} ({e['hint']})")
        out.append("api calls: " + ", ".join(f"{k} {v}" for k, v in self.api_calls.items()))
        return out


def problem_json(p: ConfigProblem) -> dict[str, str]:
    """A problem or suggestion as the CLI prints it in --json."""
    return {"source": p.source, "key": p.key, "message": p.message, "hint": p.hint}


def _ref(e: Mapping[str, Any]) -> str:
    name = e.get("api_name") or e.get("name")
    return f"{e.get('kind', 'field')} {e['object']}.{name}" if "kind" in e else f"{e['object']}.{name}"


def _sf_type(e: Mapping[str, Any]) -> str:
    t = str(e["type"])
    if "length" in e:
        t += f"({e['length']})"
    if "precision" in e:
        t += f"({e['precision']},{e.get('scale', 0)})"
    if e.get("picklist_values"):
        t += ": " + ", ".join(e["picklist_values"])
    flags = [n for n, on in (("External ID", e.get("external_id")), ("Unique", e.get("unique"))) if on]
    return t + (", " + ", ".join(flags) if flags else "")


def _calls(source: HubSpotSource | SalesforceSource) -> int:
    return source.http.ledger.total(source.system)


def _forget_hubspot(hubspot: HubSpotSource, object_type: str) -> None:
    """Drop the adapter's cached property list so a later read in this run sees what setup created."""
    cache = getattr(hubspot, "_properties", None)
    if isinstance(cache, dict):
        cache.pop(object_type, None)


def _forget_salesforce(salesforce: SalesforceSource, sobject: str) -> None:
    """Drop the adapter's cached describe so a later read in this run sees what setup created."""
    cache = getattr(salesforce, "_describes", None)
    if isinstance(cache, dict):
        cache.pop(sobject, None)


def _hubspot_clash(spec: PropertySpec, prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(message, hint) for each way an existing property cannot serve as ``spec``."""
    out: list[tuple[str, str]] = []
    if prop.get("type") != spec.type:
        out.append((f"exists as type {prop.get('type')!r}; the connector needs {spec.type!r}",
                    "setup never changes an existing property: change its type in HubSpot (Settings > Properties) "
                    "or use another property name in the mapping"))
        return out
    if spec.has_unique_value and not prop.get("hasUniqueValue"):
        out.append(("exists without unique values, so creates cannot be idempotent upserts by it",
                    "HubSpot cannot make an existing property unique: archive it and run setup again, "
                    "or name another property in [identity]"))
    if spec.options:
        have = {str(o.get("value")) for o in prop.get("options") or []}
        lacking = [v for v in spec.options if v not in have]
        if lacking:
            out.append((f"lacks the option(s) {', '.join(map(repr, lacking))}",
                        "add them in HubSpot (Settings > Properties) with exactly these internal values"))
    return out


def _salesforce_clash(spec: FieldSpec, f: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(message, hint) for each way an existing field cannot serve as ``spec``."""
    out: list[tuple[str, str]] = []
    if f.get("type") not in spec.describe_types:
        out.append((f"exists as type {f.get('type')!r}; the connector needs {spec.type}",
                    "setup never changes an existing field: change it in Setup > Object Manager, "
                    "or use another field in the mapping"))
        return out
    if spec.external_id and not f.get("externalId"):
        out.append(("is not an External ID, so upserts by it are not possible",
                    f"tick External ID (and Unique) on {spec.sobject}.{spec.api_name} in Setup > Object Manager"))
    if spec.picklist_values:
        have = {str(v.get("value")) for v in f.get("picklistValues") or [] if v.get("active", True)}
        lacking = [v for v in spec.picklist_values if v not in have]
        if lacking:
            out.append((f"lacks the picklist value(s) {', '.join(map(repr, lacking))}",
                        f"add them to {spec.sobject}.{spec.api_name} in Setup > Object Manager"))
    return out


def _setup_hubspot(hubspot: HubSpotSource, specs: Sequence[PropertySpec], apply: bool, rep: SystemReport) -> None:
    by_type: dict[str, list[PropertySpec]] = {}
    for s in specs:
        by_type.setdefault(s.object_type, []).append(s)
    for object_type, group in by_type.items():
        live = {str(p.get("name")): p for p in hubspot.properties(object_type)}
        missing: list[PropertySpec] = []
        for spec in group:
            prop = live.get(spec.name)
            if prop is None:
                missing.append(spec)
                continue
            clashes = _hubspot_clash(spec, prop)
            for message, hint in clashes:
                rep.problems.append({"object": object_type, "name": spec.name, "message": message, "hint": hint})
            if not clashes:
                rep.present.append({"object": object_type, "name": spec.name})
        if not missing:
            continue
        if not apply:
            if not _hubspot_group_exists(hubspot, object_type, live.values()):
                rep.missing.append({"object": object_type, "name": CONNECTOR_GROUP, "kind": "group",
                                    "label": CONNECTOR_GROUP_LABEL})
            rep.missing += [s.to_json() for s in missing]
            continue
        _ensure_hubspot_group(hubspot, object_type, live.values(), rep)
        for spec in missing:
            try:
                hubspot.http.json("POST", f"/crm/v3/properties/{object_type}", object_type=object_type,
                                  json_body=spec.body())
            except ApiError as exc:
                if exc.status == 409:  # created meanwhile (another setup run): it is there now
                    rep.present.append({"object": object_type, "name": spec.name})
                    continue
                scope = f"give the private app the crm.schemas.{object_type}.write scope"
                rep.problems.append({"object": object_type, "name": spec.name,
                                     "message": f"HubSpot refused to create it ({exc.status} {exc.code}): "
                                                f"{exc.vendor_message}",
                                     "hint": scope if exc.status == 403 else (exc.hint or scope)})
                continue
            rep.created.append({"object": object_type, "name": spec.name})
        _forget_hubspot(hubspot, object_type)


def _hubspot_group_exists(hubspot: HubSpotSource, object_type: str, props: Iterable[Mapping[str, Any]]) -> bool:
    if any(p.get("groupName") == CONNECTOR_GROUP for p in props):
        return True  # no extra call when a property already lives in it
    body = hubspot.http.json("GET", f"/crm/v3/properties/{object_type}/groups", object_type=object_type)
    return any(g.get("name") == CONNECTOR_GROUP for g in (body or {}).get("results") or [])


def _ensure_hubspot_group(hubspot: HubSpotSource, object_type: str, props: Iterable[Mapping[str, Any]],
                          rep: SystemReport) -> None:
    if _hubspot_group_exists(hubspot, object_type, props):
        return
    try:
        hubspot.http.json("POST", f"/crm/v3/properties/{object_type}/groups", object_type=object_type,
                          json_body={"name": CONNECTOR_GROUP, "label": CONNECTOR_GROUP_LABEL, "displayOrder": -1})
    except ApiError as exc:
        if exc.status != 409:
            raise
        return
    rep.created.append({"object": object_type, "name": CONNECTOR_GROUP, "kind": "group"})


def _setup_salesforce(salesforce: SalesforceSource, specs: Sequence[FieldSpec], create: bool,
                      rep: SystemReport) -> None:
    by_object: dict[str, list[FieldSpec]] = {}
    for s in specs:
        by_object.setdefault(s.sobject, []).append(s)
    for sobject, group in by_object.items():
        live = {str(f.get("name")).lower(): f for f in salesforce.describe(sobject)["fields"]}
        created_any = False
        for spec in group:
            existing = live.get(spec.api_name.lower())
            if existing is not None:
                clashes = _salesforce_clash(spec, existing)
                for message, hint in clashes:
                    rep.problems.append({"object": sobject, "api_name": spec.api_name, "message": message,
                                         "hint": hint})
                if not clashes:
                    rep.present.append({"object": sobject, "api_name": spec.api_name})
                continue
            if not create:
                rep.missing.append(spec.to_json())
                continue
            try:
                salesforce.http.json("POST", SANDBOX_CUSTOM_FIELDS_PATH, object_type=sobject,
                                     json_body=spec.sandbox_body())
            except ApiError as exc:
                rep.missing.append(spec.to_json())
                rep.problems.append({"object": sobject, "api_name": spec.api_name,
                                     "message": f"could not create it ({exc.status} {exc.code}): {exc.vendor_message}",
                                     "hint": "only the sandbox can add fields through the connector; "
                                             "in a real org an admin adds it (docs/setup.md)"})
                continue
            created_any = True
            rep.created.append({"object": sobject, "api_name": spec.api_name})
        if created_any:
            _forget_salesforce(salesforce, sobject)


def run_setup(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings, *, apply: bool,
              create_salesforce_fields: bool) -> SetupReport:
    """Compare what the connector needs with the live metadata and create what is missing.

    One properties call per HubSpot object and one describe per Salesforce object (plus one groups call
    when the connector's group may be missing, and one call per creation). With ``apply`` it creates the
    HubSpot group and properties; Salesforce fields only with ``create_salesforce_fields`` as well (the
    CLI sets it when the target is the sandbox). Idempotent: a second run finds everything present.
    Existing properties or fields with the wrong type are reported as problems, never changed.
    """
    before = {"hubspot": _calls(hubspot), "salesforce": _calls(salesforce)}
    report = SetupReport(applied=apply)
    _setup_hubspot(hubspot, required_hubspot_properties(mappings), apply, report.hubspot)
    _setup_salesforce(salesforce, required_salesforce_fields(mappings), apply and create_salesforce_fields,
                      report.salesforce)
    report.suggestions = [problem_json(p) for p in length_suggestions(salesforce, mappings)]
    report.api_calls = {"hubspot": _calls(hubspot) - before["hubspot"],
                        "salesforce": _calls(salesforce) - before["salesforce"]}
    return report


# ---------------------------------------------------------------- live_problems

_HS_ALLOWED: dict[str, frozenset[str]] = {
    "boolean": frozenset({"bool"}),
    "number": frozenset({"number"}),
    "date": frozenset({"date", "datetime"}),
    "datetime": frozenset({"datetime"}),
    "employee_range": frozenset({"enumeration", "string"}),
    "enum": frozenset({"enumeration", "string"}),
    "text": frozenset({"string", "enumeration", "phone_number"}),
}
_SF_TEXT = frozenset({"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox",
                      "encryptedstring", "id", "reference"})
_SF_NUMBER = frozenset({"int", "double", "currency", "percent", "long"})
_SF_ALLOWED: dict[str, frozenset[str]] = {
    "boolean": frozenset({"boolean"}),
    "number": _SF_NUMBER,
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "employee_range": _SF_NUMBER,
    "owner": frozenset({"reference", "id", "string"}),
    "enum": frozenset({"picklist", "multipicklist", "combobox", "string", "textarea"}),
    "text": _SF_TEXT,
}
_KIND_WORDS = {"boolean": "a true/false value (boolean transform)", "number": "a number", "date": "a date",
               "datetime": "a datetime", "employee_range": "an employee count", "owner": "an owner",
               "enum": "a mapped value", "text": "text"}


class _Live:
    """Live metadata, read once per object, and the problems found so far."""

    def __init__(self, hubspot: HubSpotSource, salesforce: SalesforceSource) -> None:
        self.hubspot, self.salesforce = hubspot, salesforce
        self._hs: dict[str, dict[str, dict[str, Any]]] = {}
        self._sf: dict[str, dict[str, dict[str, Any]]] = {}
        self.problems: list[ConfigProblem] = []
        #: not wrong, but worth a change (e.g. a truncate for a field of limited length)
        self.suggestions: list[ConfigProblem] = []

    def hs(self, object_type: str) -> dict[str, dict[str, Any]]:
        if object_type not in self._hs:
            self._hs[object_type] = {str(p.get("name")): p for p in self.hubspot.properties(object_type)}
        return self._hs[object_type]

    def sf(self, sobject: str) -> dict[str, dict[str, Any]]:
        if sobject not in self._sf:
            self._sf[sobject] = {str(f.get("name")).lower(): f for f in self.salesforce.describe(sobject)["fields"]}
        return self._sf[sobject]

    def add(self, file: str, key: str, message: str, hint: str = "") -> None:
        self.problems.append(ConfigProblem(file, key, message, hint))

    def suggest(self, file: str, key: str, message: str, hint: str = "") -> None:
        self.suggestions.append(ConfigProblem(file, key, message, hint))

    def hubspot_property(self, file: str, key: str, object_type: str, name: str) -> dict[str, Any] | None:
        """The live property, or None after reporting it unknown."""
        props = self.hs(object_type)
        prop = props.get(name)
        if prop is None:
            self.add(file, key, f"HubSpot {object_type} property {name!r} does not exist in the portal",
                     f"{_close(name, props)}{_SETUP_HINT}")
        return prop

    def salesforce_field(self, file: str, key: str, sobject: str, name: str) -> dict[str, Any] | None:
        """The live field (matched like Salesforce: ignoring case), or None after reporting it unknown."""
        fields = self.sf(sobject)
        f = fields.get(name.lower())
        if f is None:
            custom = " (custom field API names end in __c)" if not name.endswith("__c") else ""
            self.add(file, key, f"Salesforce {sobject} field {name!r} does not exist in the org",
                     f"{_close(name, [str(v.get('name')) for v in fields.values()])}{_SETUP_HINT}{custom}")
            return None
        if f.get("name") != name:
            self.add(file, key, f"Salesforce {sobject} field {name!r} is spelled {f.get('name')!r}",
                     f"use {f.get('name')!r}: records come back with that spelling")
        return f


def _close(name: str, known: Iterable[str]) -> str:
    hint = suggest(name, known, "")
    return hint.split("? ")[0] + "? " if hint.startswith("did you mean") else ""


def _hs_options(prop: Mapping[str, Any]) -> list[str]:
    return [str(o.get("value")) for o in prop.get("options") or []]


def _sf_picklist(f: Mapping[str, Any]) -> list[str]:
    return [str(v.get("value")) for v in f.get("picklistValues") or [] if v.get("active", True)]


def _hs_read_only(prop: Mapping[str, Any]) -> bool:
    meta = prop.get("modificationMetadata") or {}
    return bool(meta.get("readOnlyValue")) or bool(prop.get("calculated"))


def _listing(values: Sequence[str], near: str | None = None) -> str:
    return listing(values, near)


def _check_hubspot_side(live: _Live, file: str, object_type: str, f: FieldMapping) -> dict[str, Any] | None:
    assert f.hubspot is not None
    key = f"fields.{f.name}.hubspot"
    prop = live.hubspot_property(file, key, object_type, f.hubspot)
    if prop is None:
        return None
    kind = _kind(f)
    ptype = str(prop.get("type"))
    if kind in _HS_ALLOWED and ptype not in _HS_ALLOWED[kind]:
        live.add(file, key, f"HubSpot property {f.hubspot!r} is of type {ptype!r} but the field carries "
                            f"{_KIND_WORDS[kind]}",
                 "fix the transforms or map a property of a matching type")
    if f.writes_hubspot and ptype == "enumeration":
        allowed = _hs_options(prop)
        for prefix, vm in _value_maps(f):
            targets = [(f"{prefix}.to_hubspot.{k}", v) for k, v in vm.to_hubspot.items()]
            if vm.default_to_hubspot is not None:
                targets.append((f"{prefix}.default_to_hubspot", vm.default_to_hubspot))
            for k, v in targets:
                if v not in allowed:
                    live.add(file, k, f"{v!r} is not an option of HubSpot property {f.hubspot!r}",
                             f"{_close(v, allowed)}allowed: {_listing(allowed, v)}")
    return prop


def _check_salesforce_side(live: _Live, file: str, key: str, sobject: str, name: str,
                           f: FieldMapping) -> dict[str, Any] | None:
    sf_field = live.salesforce_field(file, key, sobject, name)
    if sf_field is None:
        return None
    kind = _kind(f)
    ftype = str(sf_field.get("type"))
    if ftype not in _SF_ALLOWED[kind]:
        live.add(file, key, f"Salesforce {sobject} field {name!r} is of type {ftype!r} but the field carries "
                            f"{_KIND_WORDS[kind]}",
                 "fix the transforms (e.g. add a value map for a picklist) or map a field of a matching type")
    if f.writes_salesforce and ftype in ("picklist", "multipicklist"):
        allowed = _sf_picklist(sf_field)
        for prefix, vm in _value_maps(f):
            targets = [(f"{prefix}.to_salesforce.{k}", v) for k, v in vm.to_salesforce.items()]
            if vm.default_to_salesforce is not None:
                targets.append((f"{prefix}.default_to_salesforce", vm.default_to_salesforce))
            for k, v in targets:
                if v not in allowed:
                    live.add(file, k, f"{v!r} is not a value of the {sobject}.{sf_field.get('name')} picklist",
                             f"{_close(v, allowed)}allowed: {_listing(allowed, v)}")
    _check_length(live, file, key, sobject, f, sf_field)
    return sf_field


#: Salesforce text types whose values a truncate may cut (an e-mail address or a phone number cut short
#: would be wrong, not shorter)
_CUTTABLE = frozenset({"string", "textarea", "url"})


def _check_length(live: _Live, file: str, key: str, sobject: str, f: FieldMapping, sf_field: Mapping[str, Any]) -> None:
    """A text field written to a Salesforce field of limited length: suggest ``truncate`` (a longer value is
    refused with STRING_TOO_LONG and its record parked), or report a ``max_length`` the field cannot hold."""
    length = sf_field.get("length")
    if not f.writes_salesforce or _kind(f) != "text" or sf_field.get("type") not in _CUTTABLE or not isinstance(
            length, int) or length <= 0:
        return
    cut = next((t.max_length for t in f.chain.transforms if isinstance(t, Truncate)), None)
    name = str(sf_field.get("name"))
    if cut is None:
        live.suggest(file, key, f"Salesforce {sobject} field {name!r} holds at most {length} characters: a longer "
                                "value from HubSpot is refused (STRING_TOO_LONG) and its record parked",
                     f'to cut longer values instead, add "truncate" to fields.{f.name}.transforms and set '
                     f"max_length = {length}")
    elif cut > length and not any(p.key == f"fields.{f.name}.max_length" for p in live.problems):  # once a field
        live.add(file, f"fields.{f.name}.max_length", f"max_length = {cut} is longer than Salesforce {sobject} field "
                                                       f"{name!r} holds ({length} characters): cut values are still refused",
                 f"set max_length = {length}")


def _check_passthrough(live: _Live, file: str, key: str, f: FieldMapping, prop: Mapping[str, Any] | None,
                       sf_field: Mapping[str, Any]) -> None:
    """Values copied unchanged between an enumeration and a picklist must exist on both sides."""
    if prop is None or _kind(f) != "text":
        return
    hs_enum = prop.get("type") == "enumeration"
    sf_pick = sf_field.get("type") == "picklist"
    name = f"{sf_field.get('name')}"
    if f.writes_salesforce and sf_pick and sf_field.get("restrictedPicklist"):
        if hs_enum:
            lacking = [v for v in _hs_options(prop) if v not in _sf_picklist(sf_field)]
            if lacking:
                live.add(file, key, f"HubSpot {f.hubspot!r} value(s) {_listing(lacking)} are not values of the "
                                    f"restricted picklist {name!r}",
                         f"add a value map ([fields.{f.name}.values]) or add the values in Salesforce; "
                         f"allowed: {_listing(_sf_picklist(sf_field))}")
        else:
            live.add(file, key, f"free text from HubSpot {f.hubspot!r} is written to the restricted picklist {name!r}",
                     f"add a value map ([fields.{f.name}.values]) or set direction = \"to_hubspot\"")
    if f.writes_hubspot and hs_enum and f.hubspot is not None:
        if sf_pick:
            lacking = [v for v in _sf_picklist(sf_field) if v not in _hs_options(prop)]
            if lacking:
                live.add(file, f"fields.{f.name}.hubspot",
                         f"Salesforce {name!r} value(s) {_listing(lacking)} are not options of HubSpot "
                         f"property {f.hubspot!r}",
                         f"add a value map ([fields.{f.name}.values]) or add the options in HubSpot; "
                         f"allowed: {_listing(_hs_options(prop))}")
        elif sf_field.get("type") not in ("boolean",):
            live.add(file, f"fields.{f.name}.hubspot",
                     f"free text from Salesforce {name!r} is written to the HubSpot enumeration {f.hubspot!r}",
                     f"add a value map ([fields.{f.name}.values]) or set direction = \"to_salesforce\"")


def _check_read_only(live: _Live, file: str, f: FieldMapping, prop: Mapping[str, Any] | None,
                     sf_read_only: Sequence[tuple[str, str, str]], all_read_only: bool) -> None:
    """A field that writes a read-only target, with the direction that fixes it: the other way when the
    other side can be written, "none" when it is read-only too (e.g. createdate and CreatedDate)."""
    hs_read_only = prop is not None and _hs_read_only(prop) and f.hubspot not in WRITTEN_ANOTHER_WAY
    if f.writes_hubspot and hs_read_only:
        live.add(file, f"fields.{f.name}.hubspot", f"HubSpot property {f.hubspot!r} is read-only (calculated or set by "
                                                   "HubSpot itself), but the field writes HubSpot",
                 read_only_fix("hubspot", bool(f.salesforce), all_read_only))
    if f.writes_salesforce:
        for key, sobject, name in sf_read_only:
            live.add(file, key, f"Salesforce {sobject} field {name!r} is read-only (neither createable nor "
                                "updateable), but the field writes Salesforce",
                     read_only_fix("salesforce", f.hubspot is not None, hs_read_only))


def _check_mapping(live: _Live, kind: str, m: ContactMapping | OpportunityMapping) -> None:
    file, object_type = m.file, _HUBSPOT_OBJECT[kind]
    writers: dict[tuple[str, str, str], str] = {}

    def claim(system: str, obj: str, name: str, f: FieldMapping, key: str, what: str) -> None:
        target = (system, obj, name.lower() if system == "salesforce" else name)
        if target in writers and writers[target] != f.name:
            live.add(file, key, f"{what} {name!r} is also written by fields.{writers[target]}",
                     "a target may be written by one field only; set direction on one of them or remove it")
        writers.setdefault(target, f.name)

    for f in m.fields:
        prop = _check_hubspot_side(live, file, object_type, f) if f.hubspot else None
        if prop is not None and f.writes_hubspot and f.hubspot:
            claim("hubspot", object_type, f.hubspot, f, f"fields.{f.name}.hubspot", "HubSpot property")
        sf_read_only: list[tuple[str, str, str]] = []
        sf_found = 0
        for sobject, name in f.salesforce.items():
            key = f"fields.{f.name}.salesforce" + (f".{sobject.lower()}" if kind == "contacts" else "")
            sf_field = _check_salesforce_side(live, file, key, sobject, name, f)
            if sf_field is None:
                continue
            sf_found += 1
            if not sf_field.get("createable") and not sf_field.get("updateable"):
                sf_read_only.append((key, sobject, name))
            _check_passthrough(live, file, key, f, prop, sf_field)
            if f.writes_salesforce:
                claim("salesforce", sobject, str(sf_field.get("name")), f, key, f"Salesforce {sobject} field")
        _check_read_only(live, file, f, prop, sf_read_only, all_read_only=bool(sf_found) and len(sf_read_only) == sf_found)
    if isinstance(m, ContactMapping):
        ident = m.identity
        for key, name in (("identity.hubspot_lead_id_property", ident.hubspot_lead_id_property),
                          ("identity.hubspot_contact_id_property", ident.hubspot_contact_id_property),
                          ("privacy.basis_property", m.privacy.basis_property)):
            live.hubspot_property(file, key, "contacts", name)
        for i, cond in enumerate(m.privacy.allow_when):
            live.hubspot_property(file, f"privacy.allow_when[{i}].property", "contacts", cond.property)
        for sobject in ("Lead", "Contact"):
            f = live.salesforce_field(file, "identity.salesforce_hubspot_id_field", sobject,
                                      ident.salesforce_hubspot_id_field)
            if f is not None and not f.get("externalId"):
                live.add(file, "identity.salesforce_hubspot_id_field",
                         f"Salesforce {sobject} field {ident.salesforce_hubspot_id_field!r} is not an External ID",
                         "tick External ID and Unique on it in Setup > Object Manager")
        status = live.sf("Lead").get("status")
        if status is not None and m.inclusion.new_lead_status not in _sf_picklist(status):
            allowed = _sf_picklist(status)
            live.add(file, "inclusion.new_lead_status",
                     f"{m.inclusion.new_lead_status!r} is not a value of the Lead.Status picklist",
                     f"{_close(m.inclusion.new_lead_status, allowed)}allowed: {_listing(allowed, m.inclusion.new_lead_status)}")


@dataclass(frozen=True)
class LiveCheck:
    """What the live metadata says of the mapping files: problems (the sync cannot run as mapped) and
    suggestions (it can, but a change would spare parked records, e.g. a truncate)."""

    problems: list[ConfigProblem]
    suggestions: list[ConfigProblem]


def live_check(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings) -> LiveCheck:
    """Check the mapping files against the live field metadata of both systems.

    Catches what the static schema cannot know: properties/fields missing from this portal or org,
    types that do not fit the transforms, value-map values the target does not allow, read-only targets
    of a field that writes there, one target written by two unified fields (Salesforce names compare
    ignoring case, as Salesforce does) and text longer than a Salesforce field holds. Reads each object's
    metadata once (cached by the adapter for the run: one properties call per HubSpot object, one
    describe per Salesforce object, fewer when the run already read them).
    """
    live = _Live(hubspot, salesforce)
    for kind, m in _files(mappings):
        _check_mapping(live, kind, m)
    return LiveCheck(live.problems, live.suggestions)


def live_problems(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings) -> list[ConfigProblem]:
    """The problems of ``live_check``; an empty list means the mappings fit (the CLI raises
    ``ConfigError(problems)`` otherwise)."""
    return live_check(hubspot, salesforce, mappings).problems


def require_live_fit(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings) -> list[ConfigProblem]:
    """``live_check`` before anything is planned or written (`plan`, `sync`, `push`): raises
    ``ConfigError`` listing every problem (exit code 2, nothing written), else returns the suggestions.

    Why: a mapping into a read-only or missing target passes the static checks, and would otherwise be
    planned as hundreds of writes and park every one of them."""
    found = live_check(hubspot, salesforce, mappings)
    if found.problems:
        raise ConfigError(found.problems)
    return found.suggestions


def length_suggestions(salesforce: SalesforceSource, mappings: Mappings) -> list[ConfigProblem]:
    """The truncate suggestions alone, from the Salesforce describes (what `connector setup` shows; the
    describes setup read are cached, so this costs no call unless setup created a field)."""
    live = _Live(None, salesforce)  # type: ignore[arg-type]  # HubSpot is not consulted
    for _kind_name, m in _files(mappings):
        for f in m.fields:
            for sobject, name in f.salesforce.items():
                found = live.sf(sobject).get(name.lower())
                if found is not None:
                    key = f"fields.{f.name}.salesforce" + (f".{sobject.lower()}" if isinstance(m, ContactMapping) else "")
                    _check_length(live, m.file, key, sobject, f, found)
    return live.suggestions
