"""The checks of one mapping file against the live metadata: names, types, values, read-only and lengths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..reconcile.loader import listing, read_only_fix
from ..reconcile.mapping import CompanyMapping, ContactMapping, FieldMapping
from ..reconcile.schema import SCORE_OUTPUT_OPTIONS, SCORE_OUTPUTS
from ..reconcile.transforms import Truncate
from .metadata import LiveMetadata, close_hint, hs_options, hubspot_read_only, sf_picklist
from .specs import HUBSPOT_OBJECT, AnyMapping, value_kind, value_maps

#: read-only through the CRM API, but written another way by the push stage: opt-outs go through the
#: subscription preferences API (unsubscribe from all e-mail), and nobody is ever opted back in
WRITTEN_ANOTHER_WAY = frozenset({"hs_email_optout"})

#: value kind -> the property types / describe types that can hold it
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


def _value_map_targets(f: FieldMapping, system: Literal["hubspot", "salesforce"]) -> list[tuple[str, str]]:
    """Every value the field's value maps write to `system` ("hubspot" or "salesforce"), with its key path
    (`<prefix>.to_<system>.<source value>`, then `<prefix>.default_to_<system>`)."""
    out: list[tuple[str, str]] = []
    for prefix, vm in value_maps(f):
        out += [(f"{prefix}.to_{system}.{k}", v) for k, v in getattr(vm, f"to_{system}").items()]
        default = getattr(vm, f"default_to_{system}")
        if default is not None:
            out.append((f"{prefix}.default_to_{system}", default))
    return out


def _check_hubspot_side(live: LiveMetadata, file: str, object_type: str, name: str,
                        f: FieldMapping) -> dict[str, Any] | None:
    key = f"fields.{f.name}.hubspot"
    prop = live.hubspot_property(file, key, object_type, name)
    if prop is None:
        return None
    kind = value_kind(f)
    ptype = str(prop.get("type"))
    if kind in _HS_ALLOWED and ptype not in _HS_ALLOWED[kind]:
        live.add(file, key, f"HubSpot property {f.hubspot!r} is of type {ptype!r} but the field carries "
                            f"{_KIND_WORDS[kind]}",
                 "fix the transforms or map a property of a matching type")
    if f.writes_hubspot and ptype == "enumeration":
        allowed = hs_options(prop)
        for k, v in _value_map_targets(f, "hubspot"):
            if v not in allowed:
                live.add(file, k, f"{v!r} is not an option of HubSpot property {f.hubspot!r}",
                         f"{close_hint(v, allowed)}allowed: {listing(allowed, v)}")
    return prop


def _check_salesforce_side(live: LiveMetadata, file: str, key: str, sobject: str, name: str,
                           f: FieldMapping) -> dict[str, Any] | None:
    sf_field = live.salesforce_field(file, key, sobject, name)
    if sf_field is None:
        return None
    kind = value_kind(f)
    ftype = str(sf_field.get("type"))
    if ftype not in _SF_ALLOWED[kind]:
        live.add(file, key, f"Salesforce {sobject} field {name!r} is of type {ftype!r} but the field carries "
                            f"{_KIND_WORDS[kind]}",
                 "fix the transforms (e.g. add a value map for a picklist) or map a field of a matching type")
    if f.writes_salesforce and ftype in ("picklist", "multipicklist"):
        allowed = sf_picklist(sf_field)
        for k, v in _value_map_targets(f, "salesforce"):
            if v not in allowed:
                live.add(file, k, f"{v!r} is not a value of the {sobject}.{sf_field.get('name')} picklist",
                         f"{close_hint(v, allowed)}allowed: {listing(allowed, v)}")
    check_length(live, file, key, sobject, f, sf_field)
    return sf_field


#: Salesforce text types whose values a truncate may cut (an e-mail address or a phone number cut short
#: would be wrong, not shorter)
_CUTTABLE = frozenset({"string", "textarea", "url"})


def check_length(live: LiveMetadata, file: str, key: str, sobject: str, f: FieldMapping,
                 sf_field: Mapping[str, Any]) -> None:
    """A text field written to a Salesforce field of limited length: suggest ``truncate`` (a longer value is
    refused with STRING_TOO_LONG and its record parked), or report a ``max_length`` the field cannot hold."""
    length = sf_field.get("length")
    if not f.writes_salesforce or value_kind(f) != "text" or sf_field.get("type") not in _CUTTABLE or not isinstance(
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
        live.add(file, f"fields.{f.name}.max_length",
                 f"max_length = {cut} is longer than Salesforce {sobject} field {name!r} holds ({length} characters): "
                 "cut values are still refused", f"set max_length = {length}")


def _check_passthrough(live: LiveMetadata, file: str, key: str, f: FieldMapping, prop: Mapping[str, Any] | None,
                       sf_field: Mapping[str, Any]) -> None:
    """Values copied unchanged between an enumeration and a picklist must exist on both sides."""
    if prop is None or value_kind(f) != "text":
        return
    hs_enum = prop.get("type") == "enumeration"
    sf_pick = sf_field.get("type") == "picklist"
    name = f"{sf_field.get('name')}"
    if f.writes_salesforce and sf_pick and sf_field.get("restrictedPicklist"):
        if hs_enum:
            lacking = [v for v in hs_options(prop) if v not in sf_picklist(sf_field)]
            if lacking:
                live.add(file, key, f"HubSpot {f.hubspot!r} value(s) {listing(lacking)} are not values of the "
                                    f"restricted picklist {name!r}",
                         f"add a value map ([fields.{f.name}.values]) or add the values in Salesforce; "
                         f"allowed: {listing(sf_picklist(sf_field))}")
        else:
            live.add(file, key, f"free text from HubSpot {f.hubspot!r} is written to the restricted picklist {name!r}",
                     f"add a value map ([fields.{f.name}.values]) or set direction = \"to_hubspot\"")
    if f.writes_hubspot and hs_enum and f.hubspot is not None:
        if sf_pick:
            lacking = [v for v in sf_picklist(sf_field) if v not in hs_options(prop)]
            if lacking:
                live.add(file, f"fields.{f.name}.hubspot",
                         f"Salesforce {name!r} value(s) {listing(lacking)} are not options of HubSpot "
                         f"property {f.hubspot!r}",
                         f"add a value map ([fields.{f.name}.values]) or add the options in HubSpot; "
                         f"allowed: {listing(hs_options(prop))}")
        elif sf_field.get("type") != "boolean":
            live.add(file, f"fields.{f.name}.hubspot",
                     f"free text from Salesforce {name!r} is written to the HubSpot enumeration {f.hubspot!r}",
                     f"add a value map ([fields.{f.name}.values]) or set direction = \"to_salesforce\"")


def _check_read_only(live: LiveMetadata, file: str, f: FieldMapping, prop: Mapping[str, Any] | None,
                     sf_read_only: Sequence[tuple[str, str, str]], all_read_only: bool) -> None:
    """A field that writes a read-only target, with the direction that fixes it: the other way when the
    other side can be written, "none" when it is read-only too (e.g. createdate and CreatedDate)."""
    hs_read_only = prop is not None and hubspot_read_only(prop) and f.hubspot not in WRITTEN_ANOTHER_WAY
    if f.writes_hubspot and hs_read_only:
        live.add(file, f"fields.{f.name}.hubspot", f"HubSpot property {f.hubspot!r} is read-only (calculated or set by "
                                                   "HubSpot itself), but the field writes HubSpot",
                 read_only_fix("hubspot", bool(f.salesforce), all_read_only))
    if f.writes_salesforce:
        for key, sobject, name in sf_read_only:
            live.add(file, key, f"Salesforce {sobject} field {name!r} is read-only (neither createable nor "
                                "updateable), but the field writes Salesforce",
                     read_only_fix("salesforce", f.hubspot is not None, hs_read_only))


def check_mapping(live: LiveMetadata, kind: str, m: AnyMapping) -> None:
    """Check one mapping file (``kind``: "contacts", "opportunities" or "companies"); findings go to ``live``."""
    file, object_type = m.file, HUBSPOT_OBJECT[kind]
    writers: dict[tuple[str, str, str], str] = {}

    def claim(system: str, obj: str, name: str, f: FieldMapping, key: str, what: str) -> None:
        target = (system, obj, name.lower() if system == "salesforce" else name)
        if target in writers and writers[target] != f.name:
            live.add(file, key, f"{what} {name!r} is also written by fields.{writers[target]}",
                     "a target may be written by one field only; set direction on one of them or remove it")
        writers.setdefault(target, f.name)

    for f in m.fields:
        prop = _check_hubspot_side(live, file, object_type, f.hubspot, f) if f.hubspot else None
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
        _check_read_only(live, file, f, prop, sf_read_only,
                         all_read_only=bool(sf_found) and len(sf_read_only) == sf_found)
    if isinstance(m, ContactMapping):
        ident = m.identity
        for key, name in (("identity.hubspot_lead_id_property", ident.hubspot_lead_id_property),
                          ("identity.hubspot_contact_id_property", ident.hubspot_contact_id_property),
                          ("privacy.basis_property", m.privacy.basis_property)):
            live.hubspot_property(file, key, "contacts", name)
        for i, cond in enumerate(m.privacy.allow_when):
            live.hubspot_property(file, f"privacy.allow_when[{i}].property", "contacts", cond.property)
        for sobject in ("Lead", "Contact"):
            id_field = live.salesforce_field(file, "identity.salesforce_hubspot_id_field", sobject,
                                             ident.salesforce_hubspot_id_field)
            if id_field is not None and not id_field.get("externalId"):
                live.add(file, "identity.salesforce_hubspot_id_field",
                         f"Salesforce {sobject} field {ident.salesforce_hubspot_id_field!r} is not an External ID",
                         "tick External ID and Unique on it in Setup > Object Manager")
        status = live.sf("Lead").get("status")
        if status is not None and m.inclusion.new_lead_status not in sf_picklist(status):
            allowed = sf_picklist(status)
            live.add(file, "inclusion.new_lead_status",
                     f"{m.inclusion.new_lead_status!r} is not a value of the Lead.Status picklist",
                     f"{close_hint(m.inclusion.new_lead_status, allowed)}"
                     f"allowed: {listing(allowed, m.inclusion.new_lead_status)}")
    if isinstance(m, CompanyMapping):
        _check_company_identity(live, m)


def _check_company_identity(live: LiveMetadata, m: CompanyMapping) -> None:
    """The company cross-references exist (`connector setup` makes them), and the Account's is an External ID, as
    the contacts' is (a property that is not unique is a `connector setup` problem, as for contacts)."""
    ident = m.identity
    live.hubspot_property(m.file, "identity.hubspot_account_id_property", "companies",
                          ident.hubspot_account_id_property)
    key = "identity.salesforce_company_id_field"
    id_field = live.salesforce_field(m.file, key, "Account", ident.salesforce_company_id_field)
    if id_field is not None and not id_field.get("externalId"):
        live.add(m.file, key, f"Salesforce Account field {ident.salesforce_company_id_field!r} is not an External ID",
                 "tick External ID and Unique on it in Setup > Object Manager")


#: the type each scorer output needs on each side (HubSpot property types, Salesforce describe types)
_OUTPUT_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "score": (frozenset({"number"}), frozenset({"double", "int", "currency", "percent"})),
    "grade": (frozenset({"enumeration", "string"}), frozenset({"picklist", "string"})),
    "status": (frozenset({"enumeration", "string"}), frozenset({"picklist", "string"})),
    "mql_date": (frozenset({"datetime", "date"}), frozenset({"datetime"})),
    "status_reason": (frozenset({"string"}), frozenset({"string", "textarea"})),
    "reason": (frozenset({"string"}), frozenset({"string", "textarea"})),
    "sla_state": (frozenset({"enumeration", "string"}), frozenset({"picklist", "string"})),
    "sla_due": (frozenset({"datetime", "date"}), frozenset({"datetime"})),
    "touches_before_mql": (frozenset({"number"}), frozenset({"double", "int"})),
    "first_touch": (frozenset({"string"}), frozenset({"string", "textarea"})),
    "last_touch": (frozenset({"string"}), frozenset({"string", "textarea"})),
}


def check_scorer_outputs(live: LiveMetadata, file: str) -> None:
    """With a scoring file, the scorer's outputs must exist on both sides with a type that holds them, and the
    grade and status values must be options of an enumeration or a picklist (`connector setup` makes them)."""
    for output, (hs_name, sf_name) in SCORE_OUTPUTS.items():
        hs_types, sf_types = _OUTPUT_TYPES[output]
        values = SCORE_OUTPUT_OPTIONS.get(output, ())
        key = f"outputs.{output}.hubspot"
        prop = live.hubspot_property(file, key, "contacts", hs_name)
        if prop is not None:
            ptype = str(prop.get("type"))
            if ptype not in hs_types:
                live.add(file, key, f"HubSpot property {hs_name!r} is of type {ptype!r}; the scorer writes "
                                    f"{output.replace('_', ' ')} values", "delete it and run `connector setup --apply`")
            elif ptype == "enumeration":
                missing = [v for v in values if v not in hs_options(prop)]
                if missing:
                    live.add(file, key, f"HubSpot property {hs_name!r} lacks the options {missing}",
                             "add them to the property, or delete it and run `connector setup --apply`")
        for sobject in ("Lead", "Contact"):
            key = f"outputs.{output}.salesforce.{sobject.lower()}"
            sf_field = live.salesforce_field(file, key, sobject, sf_name)
            if sf_field is None:
                continue
            ftype = str(sf_field.get("type"))
            if ftype not in sf_types:
                live.add(file, key, f"Salesforce {sobject} field {sf_name!r} is of type {ftype!r}; the scorer writes "
                                    f"{output.replace('_', ' ')} values", "recreate it as `connector setup` lists it")
            elif ftype == "picklist":
                missing = [v for v in values if v not in sf_picklist(sf_field)]
                if missing:
                    live.add(file, key, f"the {sobject}.{sf_name} picklist lacks the values {missing}",
                             "add them to the picklist in Setup (Object Manager)")
