"""Loads mapping files, validates them against both systems' schema, and compiles them.

Every problem in every file is collected and raised together as one ``MappingError``; each problem
names the file, the key path (``fields.lead_status.rule``) and a hint ("did you mean ...?").

Which properties and fields exist is not decided here: a name only has to be spelled like one. The live
check (``connector.setup``: `validate --live`, `setup`, and every sync's check before it plans) looks each
up in the portal and the org, so any existing field can be mapped; ``[custom_fields]`` declares only the
ones `connector setup` must create.
"""

from __future__ import annotations

import copy
import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers
from pydantic import BaseModel, ValidationError

from .conditions import Condition as InclusionCondition
from .conditions import ConditionSpec, compile_test, described
from .errors import MappingError, MappingProblem
from .mapping import (
    COMPANY_CREATE_CHOICES,
    DIRECTIONS,
    CompaniesFile,
    CompanyFieldSpec,
    CompanyMapping,
    ContactFieldSpec,
    ContactMapping,
    ContactsFile,
    CustomFields,
    DealFieldSpec,
    FieldMapping,
    Mappings,
    OpportunitiesFile,
    OpportunityMapping,
    SettingsSpec,
    ValuesSpec,
    shared_sources,
)
from .rules import RULE_NAMES
from .schema import (
    SCORE_OUTPUTS,
    CONVERTED_LEAD_STATUSES,
    DEFAULT_PIPELINE_STAGES,
    HUBSPOT_ENUMS,
    LEGAL_BASES,
    LIFECYCLE_ORDER,
    READ_ONLY_HUBSPOT,
    READ_ONLY_SALESFORCE,
    SALESFORCE_PICKLISTS,
)
from .transforms import (
    TRANSFORM_NAMES,
    Boolean,
    Case,
    Chain,
    Country,
    DateTimeValue,
    DateValue,
    EmployeeRange,
    Integer,
    Number,
    Owner,
    Phone,
    StageMap,
    Transform,
    Trim,
    Truncate,
    Url,
    ValueMap,
)

__all__ = [
    "COMPANIES_FILE",
    "custom_declarations",
    "listing",
    "load_companies",
    "load_contacts",
    "load_mappings",
    "Collector",
    "loc_path",
    "load_opportunities",
    "parse_companies",
    "parse_contacts",
    "parse_opportunities",
    "read_only_fix",
    "suggest",
]

CONTACTS_FILE = "contacts.toml"
OPPORTUNITIES_FILE = "opportunities.toml"
SCORING_FILE = "scoring.toml"
COMPANIES_FILE = "companies.toml"
_M = TypeVar("_M", ContactsFile, OpportunitiesFile, CompaniesFile)
_R = TypeVar("_R", ContactMapping, OpportunityMapping, CompanyMapping)
_AnyFieldSpec = ContactFieldSpec | DealFieldSpec | CompanyFieldSpec
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CONTACT_ROLES = (
    "Business User", "Decision Maker", "Economic Buyer", "Economic Decision Maker", "Evaluator",
    "Executive Sponsor", "Influencer", "Technical Buyer", "Other",
)


#: lists up to this long are given whole in a hint; longer ones by their entries closest to the mistake
LIST_WHOLE = 20
LIST_CLOSEST = 8


def listing(options: Sequence[str], near: str | None = None) -> str:
    """The options for a hint: all of them when there are few, else the ones spelled closest to ``near``
    (and how many there are in all), so a hint never says just "27 values"."""
    if len(options) <= LIST_WHOLE or near is None:
        shown = list(options) if len(options) <= LIST_WHOLE else list(options)[:LIST_CLOSEST]
        rest = f" (the first {len(shown)} of {len(options)})" if len(shown) < len(options) else ""
        return ", ".join(repr(o) for o in shown) + rest
    needle = str(near).casefold()
    ranked = sorted(options, key=lambda o: (-difflib.SequenceMatcher(None, needle, o.casefold()).ratio(), o))
    return ", ".join(repr(o) for o in ranked[:LIST_CLOSEST]) + f" (the {LIST_CLOSEST} closest of {len(options)})"


def suggest(value: str, allowed: Iterable[str], what: str = "allowed") -> str:
    """A fix hint: the closest allowed values by spelling (ignoring case), then the list (whole when short,
    else its entries closest to ``value``)."""
    options = sorted(set(allowed))
    lowered = {o.casefold(): o for o in options}
    needle = str(value).casefold()
    close = [lowered[m] for m in difflib.get_close_matches(needle, list(lowered), n=3, cutoff=0.6)]
    if not close and len(needle) >= 3:
        close = [o for k, o in lowered.items() if k.startswith(needle) or needle in k][:3]
    head = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"{head}{what}: {listing(options, str(value))}"


class Collector:
    """Accumulates problems for one file (the scoring file's loader uses it too)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[MappingProblem] = []

    def add(self, path: str, message: str, hint: str = "") -> None:
        self.problems.append(MappingProblem(self.file, path, message, hint))


def loc_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The pydantic model class describing the table at ``loc`` (to list its allowed keys)."""
    current: Any = root
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        else:
            args = getattr(current, "__args__", ())
            current = next((a for a in reversed(args) if a is not type(None)), None)
        args = [a for a in getattr(current, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
        if args and not (isinstance(current, type) and issubclass(current, BaseModel)) and "dict" not in str(current):
            current = args[0]
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    args = [a for a in getattr(current, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
    return args[0] if args else None


def _pydantic_problems(
    col: Collector, root: type[BaseModel], exc: ValidationError, prefix: tuple[str, ...] = ()
) -> None:
    for err in exc.errors():
        loc = err["loc"]
        path = loc_path(prefix + tuple(loc))
        if err["type"] == "extra_forbidden":
            owner = _model_at(root, loc[:-1])
            allowed = list(owner.model_fields) if owner else []
            col.add(path, f"unknown key {str(loc[-1])!r}", suggest(str(loc[-1]), allowed, "allowed keys"))
        else:
            col.add(path, err["msg"], f"got {err.get('input')!r}")


def _read(path: Path, col: Collector) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        col.add("", f"cannot read the file: {exc.strerror}", "check the path and permissions")
        return None
    return _parse_toml(text, col)


def _parse_toml(text: str, col: Collector) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        col.add("", f"not valid TOML: {exc}", "fix the syntax at that line (a key defined twice is also this error)")
        return None


def _check_settings(col: Collector, s: SettingsSpec) -> None:
    if s.default_region not in phonenumbers.SUPPORTED_REGIONS:
        col.add("settings.default_region", f"unknown phone region {s.default_region!r}",
                suggest(s.default_region, phonenumbers.SUPPORTED_REGIONS, "use a two-letter ISO region like 'US'"))
    if s.country_format not in ("name", "alpha2", "alpha3"):
        col.add("settings.country_format", f"unknown country format {s.country_format!r}",
                suggest(s.country_format, ("name", "alpha2", "alpha3")))
    if s.tie_breaker not in ("hubspot", "salesforce"):
        col.add("settings.tie_breaker", f"unknown system {s.tie_breaker!r}",
                suggest(s.tie_breaker, ("hubspot", "salesforce")))


def _check_choice(col: Collector, path: str, value: str, allowed: Sequence[str], what: str) -> bool:
    if value in allowed:
        return True
    col.add(path, f"unknown {what} {value!r}", suggest(value, allowed))
    return False


#: what a name can be made of: a HubSpot property's internal name or a Salesforce field's API name (never
#: its label, which may hold spaces and punctuation)
_NATIVE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _check_name(col: Collector, path: str, name: str, system: str, where: str) -> bool:
    """A native name must be spelled like one; whether it exists is for the live check (`validate --live`,
    `setup`, and every sync's check before it plans): the static checks do not know the portal or the org,
    so a standard field missing from the shipped lists, or a property made by hand, is not refused here."""
    if _NATIVE_NAME_RE.match(name):
        return True
    which = "internal name" if system == "hubspot" else "API name"
    col.add(path, f"{name!r} is not a {where} {which} (letters, digits and underscores, starting with a letter)",
            f"use the {which}, not the label: `connector fields {system}` lists each with its label")
    return False


def custom_declarations(mapping: ContactMapping | OpportunityMapping | CompanyMapping) -> CustomFields:
    """The ``[custom_fields]`` of the file ``mapping`` was loaded from (none for a mapping built another way)."""
    return mapping.custom_fields


#: `[custom_fields]` key -> the mapping file whose fields it declares (names in another file's key would be
#: silently never created)
_DECLARED_IN = {"lead": CONTACTS_FILE, "contact": CONTACTS_FILE, "opportunity": OPPORTUNITIES_FILE,
                "account": COMPANIES_FILE}


def _check_declared(col: Collector, custom: CustomFields, objects: Mapping[str, str]) -> None:
    """The names under ``[custom_fields]`` (``objects``: key -> what it names) are spelled like names, and no
    other key of the table lists any (a name under another file's key would never be created)."""
    for key, where in objects.items():
        for i, name in enumerate(getattr(custom, key)):
            _check_name(col, f"custom_fields.{key}[{i}]", name, "hubspot" if key == "hubspot" else "salesforce",
                        where)
    for key, file in _DECLARED_IN.items():
        if key not in objects and getattr(custom, key):
            col.add(f"custom_fields.{key}", f"this file maps no {key.capitalize()} fields: {key} = [...] belongs in "
                                            f"{file}", f"move the names to [custom_fields] {key} of {file}, or use "
                                                       f"{' / '.join(objects)} here")


def _check_values(
    col: Collector,
    base: str,
    values: ValuesSpec,
    hs_enum: Sequence[str] | None,
    sf_lists: Mapping[str, Sequence[str]],
    writes_sf: bool,
    reads_sf: bool,
) -> None:
    """Every value-map key and value must exist in the enumeration/picklist it names."""
    for key, target in values.to_salesforce.items():
        if hs_enum is not None and key not in hs_enum:
            col.add(f"{base}.to_salesforce.{key}", f"{key!r} is not a HubSpot value of this property",
                    suggest(key, hs_enum))
        for obj, picklist in sf_lists.items():
            if target not in picklist:
                col.add(f"{base}.to_salesforce.{key}", f"{target!r} is not a {obj} picklist value",
                        suggest(target, picklist))
            elif target in CONVERTED_LEAD_STATUSES and obj == "Lead":
                col.add(f"{base}.to_salesforce.{key}",
                        f"{target!r} is a converted status; Salesforce sets it only by converting the lead",
                        "map to an open or closed-not-converted status instead")
    for key, target in values.to_hubspot.items():
        if hs_enum is not None and target not in hs_enum:
            col.add(f"{base}.to_hubspot.{key}", f"{target!r} is not a HubSpot value of this property",
                    suggest(target, hs_enum))
        lists = list(sf_lists.values())
        if lists and all(key not in pl for pl in lists):
            col.add(f"{base}.to_hubspot.{key}", f"{key!r} is not a Salesforce picklist value of this field",
                    suggest(key, lists[0]))
    if values.default_to_hubspot is not None and hs_enum is not None and values.default_to_hubspot not in hs_enum:
        col.add(f"{base}.default_to_hubspot", f"{values.default_to_hubspot!r} is not a HubSpot value of this property",
                suggest(values.default_to_hubspot, hs_enum))
    if values.default_to_salesforce is not None:
        for obj, picklist in sf_lists.items():
            if values.default_to_salesforce not in picklist:
                col.add(f"{base}.default_to_salesforce",
                        f"{values.default_to_salesforce!r} is not a {obj} picklist value",
                        suggest(values.default_to_salesforce, picklist))
    if writes_sf and not values.to_salesforce and values.default_to_salesforce is None:
        col.add(f"{base}.to_salesforce", "the field writes Salesforce but the value map has no to_salesforce entries",
                "add to_salesforce = { ... } or default_to_salesforce, or set direction = \"to_hubspot\"")
    if reads_sf and not values.to_hubspot and values.default_to_hubspot is None:
        col.add(f"{base}.to_hubspot",
                "Salesforce values are read through to_hubspot (to compare and to write HubSpot) but it is empty",
                "add to_hubspot = { ... } or default_to_hubspot")


def _build_transforms(
    col: Collector, base: str, spec: _AnyFieldSpec, settings: SettingsSpec,
    stage: StageMap | None,
) -> Chain:
    chain: list[Transform] = []
    names = list(spec.transforms)
    if spec.values is not None and "map" not in names:
        names.append("map")
    allowed = TRANSFORM_NAMES + (("stage",) if stage is not None else ())
    for i, name in enumerate(names):
        path = f"{base}.transforms[{i}]"
        if name not in allowed:
            col.add(path, f"unknown transform {name!r}", suggest(name, allowed))
            continue
        if name == "map":
            if spec.values is None:
                col.add(path, "transform 'map' needs a value map", f"add a [{base}.values] table")
                continue
            v = spec.values
            chain.append(ValueMap(v.to_salesforce, v.to_hubspot, v.default_to_salesforce, v.default_to_hubspot))
        elif name == "stage" and stage is not None:
            chain.append(stage)
        else:
            chain.append(_simple_transform(name, spec, settings))
    return Chain(chain)


def _simple_transform(name: str, spec: _AnyFieldSpec, settings: SettingsSpec) -> Transform:
    if name in ("lower", "upper", "title"):
        return Case(name)  # type: ignore[arg-type]
    table: dict[str, Transform] = {
        "trim": Trim(), "date": DateValue(), "datetime": DateTimeValue(), "integer": Integer(),
        "boolean": Boolean(), "owner": Owner(), "employee_range": EmployeeRange(),
    }
    if name == "phone":
        return Phone(settings.default_region)
    if name == "country":
        fmt = settings.country_format if settings.country_format in ("name", "alpha2", "alpha3") else "name"
        return Country(fmt)  # type: ignore[arg-type]
    if name == "number":
        return Number(spec.decimals)
    if name == "truncate":
        return Truncate(spec.max_length or 255)  # without max_length the field is reported (_check_field_common)
    if name == "url":
        return Url()
    return table[name]


def _check_field_common(
    col: Collector, base: str, name: str, spec: _AnyFieldSpec, has_sf: bool,
) -> None:
    if not _NAME_RE.match(name):
        col.add(base, f"field name {name!r} must be lower_snake_case",
                "use letters, digits and underscores, starting with a letter")
    _check_choice(col, f"{base}.rule", spec.rule, RULE_NAMES, "rule")
    _check_choice(col, f"{base}.direction", spec.direction, DIRECTIONS, "direction")
    if spec.hubspot is None and not has_sf:
        col.add(base, "the field maps to nothing", "set hubspot = \"...\" and/or a salesforce name")
    if spec.direction == "to_hubspot" and spec.hubspot is None:
        col.add(f"{base}.direction", "direction 'to_hubspot' but no hubspot property", "set hubspot = \"<property>\"")
    if spec.direction == "to_salesforce" and not has_sf:
        col.add(f"{base}.direction", "direction 'to_salesforce' but no Salesforce field", "set the salesforce name(s)")
    if spec.rule == "most_restrictive" and "boolean" not in spec.transforms:
        col.add(f"{base}.rule", "most_restrictive compares true/false values", "add \"boolean\" to transforms")
    if spec.decimals is not None and "number" not in spec.transforms:
        col.add(f"{base}.decimals", "decimals applies to the 'number' transform only",
                "add \"number\" to transforms or remove decimals")
    if "truncate" in spec.transforms and spec.max_length is None:
        col.add(f"{base}.max_length", "transform 'truncate' needs max_length",
                "set max_length = the length of the Salesforce field it writes (Setup > Object Manager > the "
                "field; Title holds 128), e.g. max_length = 128")
    if spec.max_length is not None and "truncate" not in spec.transforms:
        col.add(f"{base}.max_length", "max_length applies to the 'truncate' transform only",
                "add \"truncate\" to transforms or remove max_length")
    _check_rule_direction(col, base, spec)


#: a one-way direction and the rules that always keep the value its destination already holds
_KEEPS_DESTINATION: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "to_hubspot": ("HubSpot", "Salesforce", ("prefer_hubspot_unless_blank", "always_hubspot")),
    "to_salesforce": ("Salesforce", "HubSpot", ("prefer_salesforce_unless_blank", "always_salesforce")),
}


def _check_rule_direction(col: Collector, base: str, spec: _AnyFieldSpec) -> None:
    """A rule and a direction that cancel out: the winner is always the one system the field writes, so
    a disagreement is never written (only blanks are filled), yet it would be reported as a conflict."""
    found = _KEEPS_DESTINATION.get(spec.direction)
    if found is None or spec.rule not in found[2]:
        return
    dest, source, _ = found
    col.add(f"{base}.rule",
            f"rule {spec.rule!r} keeps {dest}'s own value and direction {spec.direction!r} only writes {dest}, "
            f"so a disagreement is never written (only blank {dest} values are filled)",
            f"to fill blanks only, say so: rule = \"fill_blank_only\"; for {source}'s value to overwrite {dest}'s: "
            f"rule = \"prefer_{source.lower()}_unless_blank\"")


def read_only_fix(written: str, other_mapped: bool, other_read_only: bool) -> str:
    """The direction that stops a field writing a read-only target in ``written`` ("hubspot" or
    "salesforce"): the other way when the other side can be written, else "none" (read only)."""
    if other_mapped and not other_read_only:
        other = "to_salesforce" if written == "hubspot" else "to_hubspot"
        return f'set direction = "{other}" (or "none"), or map another field'
    why = "the other side is read-only too" if other_mapped else "the field maps no other side"
    return f'set direction = "none" ({why}: the value can only be read)'


def _check_targets(col: Collector, fields: Sequence[FieldMapping],
                   reserved: Mapping[tuple[str, str, str], str], hubspot_object: str = "contacts") -> None:
    """A native field may be written by one unified field only (and never a connector-managed one);
    ``hubspot_object`` is the HubSpot object type the file's properties belong to."""
    writers: dict[tuple[str, str, str], str] = {}
    for f in fields:
        hs_read_only = f.hubspot is not None and f.hubspot in READ_ONLY_HUBSPOT
        sf_read_only = bool(f.salesforce) and all(n in READ_ONLY_SALESFORCE for n in f.salesforce.values())
        targets: list[tuple[tuple[str, str, str], str]] = []
        if f.hubspot is not None and f.writes("hubspot"):
            targets.append((("hubspot", hubspot_object, f.hubspot), "hubspot"))
        if f.writes("salesforce"):
            targets += [(("salesforce", obj, name), f"salesforce.{obj.lower()}") for obj, name in f.salesforce.items()]
        for key, sub in targets:
            label = "HubSpot property" if key[0] == "hubspot" else f"Salesforce {key[1]} field"
            if key in reserved:
                col.add(f"fields.{f.name}.{sub}", f"{label} {key[2]!r} is managed by {reserved[key]}",
                        "remove this field or set direction so it never writes there")
            elif key in writers:
                col.add(f"fields.{f.name}.{sub}", f"{label} {key[2]!r} is already written by fields.{writers[key]}",
                        "a target may be written by one field only; set direction on one of them or remove it")
            else:
                writers[key] = f.name
            if key[0] == "salesforce" and key[2] in READ_ONLY_SALESFORCE:
                col.add(f"fields.{f.name}.{sub}", f"{label} {key[2]!r} is read-only in Salesforce",
                        read_only_fix("salesforce", f.hubspot is not None, hs_read_only))
            if key[0] == "hubspot" and key[2] in READ_ONLY_HUBSPOT:
                col.add(f"fields.{f.name}.hubspot", f"HubSpot property {key[2]!r} is read-only",
                        read_only_fix("hubspot", bool(f.salesforce), sf_read_only))


def _without(table: Any, locs: Sequence[Sequence[int | str]]) -> Any:
    """A copy of ``table`` without the entries at ``locs`` (pydantic error locations): what is left is
    validated again, so a bad key or value does not hide the problems of the rest of its table."""
    if not isinstance(table, dict):
        return None
    out = copy.deepcopy(table)
    # deepest and last first, so removing one list entry does not shift the index of another
    for loc in sorted((tuple(loc) for loc in locs if loc), key=lambda loc: (len(loc), [str(p) for p in loc]),
                      reverse=True):
        parent: Any = out
        for part in loc[:-1]:
            child = parent.get(part) if isinstance(parent, dict) else (
                parent[part] if isinstance(parent, list) and isinstance(part, int) and part < len(parent) else None)
            if not isinstance(child, (dict, list)):
                break
            parent = child
        else:
            last = loc[-1]
            if isinstance(parent, dict):
                parent.pop(last, None)
            elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
                del parent[last]
            continue
        out.pop(loc[0], None)  # the location no longer fits the data: drop its whole top-level entry
    return out


def _validate_table(col: Collector, model: type[BaseModel], table: Any, prefix: tuple[str, ...]) -> Any:
    """``model`` validated from ``table``; on errors, each is reported and the table is validated again
    without the offending entries (None when nothing usable is left)."""
    try:
        return model.model_validate(table)
    except ValidationError as exc:
        _pydantic_problems(col, model, exc, prefix)
        cleaned = _without(table, [err["loc"] for err in exc.errors()])
    if cleaned is None:
        return None
    try:
        return model.model_validate(cleaned)
    except ValidationError:
        return None


def _validate_model(col: Collector, root: type[_M], raw: dict[str, Any]) -> _M:
    """Validates the file table by table, so one bad field does not hide problems in the others, and a
    bad key in a table does not hide the problems of the table's other keys."""
    fields = raw.get("fields", {})
    if not isinstance(fields, dict):
        col.add("fields", "must be a table of [fields.<name>] tables", "write [fields.email] etc.")
        fields = {}
    rest = {k: v for k, v in raw.items() if k != "fields"}
    # on errors, the rest of the file is checked as far as it is valid (defaults otherwise); the problems
    # reported still fail the load
    spec = _validate_table(col, root, rest, ()) or root()
    field_type = root.model_fields["fields"].annotation.__args__[1]  # type: ignore[union-attr]
    good: dict[str, Any] = {}
    for name, table in fields.items():
        checked = _validate_table(col, field_type, table, ("fields", name))
        if checked is not None:
            good[name] = checked
    return spec.model_copy(update={"fields": good})


def _validate_contacts(col: Collector, raw: dict[str, Any]) -> ContactMapping | None:
    spec = _validate_model(col, ContactsFile, raw)
    _check_settings(col, spec.settings)
    custom = spec.custom_fields
    _check_declared(col, custom, {"hubspot": "HubSpot contact property", "lead": "Salesforce Lead field",
                                  "contact": "Salesforce Contact field"})
    compiled: list[FieldMapping] = []
    for name, f in spec.fields.items():
        base = f"fields.{name}"
        sf_names = {obj: n for obj, n in (("Lead", f.salesforce.lead), ("Contact", f.salesforce.contact))
                    if n is not None}
        _check_field_common(col, base, name, f, bool(sf_names))
        if f.hubspot is not None:
            _check_name(col, f"{base}.hubspot", f.hubspot, "hubspot", "HubSpot contact property")
        for obj, n in sf_names.items():
            _check_name(col, f"{base}.salesforce.{obj.lower()}", n, "salesforce", f"Salesforce {obj} field")
        if f.values is not None:
            hs_enum = HUBSPOT_ENUMS.get(("contacts", f.hubspot)) if f.hubspot else None
            sf_lists = {obj: SALESFORCE_PICKLISTS[(obj, n)] for obj, n in sf_names.items()
                        if (obj, n) in SALESFORCE_PICKLISTS}
            writes_sf = f.direction in ("both", "to_salesforce") and bool(sf_names)
            _check_values(col, f"{base}.values", f.values, hs_enum, sf_lists, writes_sf, bool(sf_names))
        chain = _build_transforms(col, base, f, spec.settings, None)
        compiled.append(FieldMapping(name, f.hubspot, sf_names, f.direction, f.rule, chain, f.allow_blanking))
    ident = spec.identity
    _check_name(col, "identity.hubspot_lead_id_property", ident.hubspot_lead_id_property, "hubspot",
                "HubSpot contact property")
    _check_name(col, "identity.hubspot_contact_id_property", ident.hubspot_contact_id_property, "hubspot",
                "HubSpot contact property")
    _check_name(col, "identity.salesforce_hubspot_id_field", ident.salesforce_hubspot_id_field, "salesforce",
                "Salesforce Lead and Contact field")
    reserved = {
        ("hubspot", "contacts", ident.hubspot_lead_id_property): "[identity] hubspot_lead_id_property",
        ("hubspot", "contacts", ident.hubspot_contact_id_property): "[identity] hubspot_contact_id_property",
        ("salesforce", "Lead", ident.salesforce_hubspot_id_field): "[identity] salesforce_hubspot_id_field",
        ("salesforce", "Contact", ident.salesforce_hubspot_id_field): "[identity] salesforce_hubspot_id_field",
    }
    _check_targets(col, compiled, reserved)
    inc = spec.inclusion
    _check_choice(col, "inclusion.min_lifecyclestage", inc.min_lifecyclestage, LIFECYCLE_ORDER, "lifecycle stage")
    _check_choice(col, "inclusion.create_as", inc.create_as, ("Lead", "Contact"), "object")
    for i, cond in enumerate(inc.create_as_contact_when):
        _check_choice(col, f"inclusion.create_as_contact_when[{i}]", cond, ("has_deal", "has_company"), "condition")
    lead_statuses = [v for v in SALESFORCE_PICKLISTS[("Lead", "Status")] if v not in CONVERTED_LEAD_STATUSES]
    _check_choice(col, "inclusion.new_lead_status", inc.new_lead_status, lead_statuses, "Lead status")
    priv = spec.privacy
    _check_name(col, "privacy.basis_property", priv.basis_property, "hubspot", "HubSpot contact property")
    for i, basis in enumerate(priv.allowed_bases):
        if basis not in LEGAL_BASES:
            col.add(f"privacy.allowed_bases[{i}]", f"unknown legal basis {basis!r}",
                    suggest(basis, LEGAL_BASES) + " (HubSpot uses an en dash '–' in two of them)")
    for i, allow in enumerate(priv.allow_when):
        _check_name(col, f"privacy.allow_when[{i}].property", allow.property, "hubspot",
                    "HubSpot contact property")
    fields = tuple(compiled)
    only_when = _inclusion_conditions(col, inc.only_when, [f.name for f in fields])
    return ContactMapping(col.file, fields, spec.settings, ident, inc, priv, shared_sources(fields),
                          custom_fields=custom, only_when=only_when)


def _inclusion_conditions(col: Collector, specs: Sequence[ConditionSpec], known: Sequence[str]
                          ) -> tuple[InclusionCondition, ...]:
    """`[inclusion] only_when`: each a unified field of this file and one test (as scoring.toml's fit rules)."""
    out = []
    for i, cond in enumerate(specs):
        path = f"inclusion.only_when[{i}]"
        if cond.field not in known:
            col.add(f"{path}.field", f"unknown unified field {cond.field!r}",
                    suggest(cond.field, sorted(known), "the fields of this file"))
            continue
        test = compile_test(col.add, path, cond, "a condition")
        if test is not None:
            out.append(InclusionCondition(cond.field, test, described(cond.field, test)))
    return tuple(out)


def _validate_opportunities(col: Collector, raw: dict[str, Any]) -> OpportunityMapping | None:
    spec = _validate_model(col, OpportunitiesFile, raw)
    _check_settings(col, spec.settings)
    _check_declared(col, spec.custom_fields, {"hubspot": "HubSpot deal property",
                                              "opportunity": "Salesforce Opportunity field"})
    stage_picklist = SALESFORCE_PICKLISTS[("Opportunity", "StageName")]
    pipelines: dict[str, ValueMap] = {}
    for pipeline, values in spec.stages.items():
        base = f"stages.{pipeline}"
        hs_enum = DEFAULT_PIPELINE_STAGES if pipeline == "default" else None
        _check_values(col, base, values, hs_enum, {"Opportunity": stage_picklist}, True, True)
        pipelines[pipeline] = ValueMap(values.to_salesforce, values.to_hubspot, values.default_to_salesforce,
                                       values.default_to_hubspot)
    stage = StageMap(pipelines) if pipelines else None
    compiled: list[FieldMapping] = []
    for name, f in spec.fields.items():
        base = f"fields.{name}"
        _check_field_common(col, base, name, f, f.salesforce is not None)
        if f.hubspot is not None:
            _check_name(col, f"{base}.hubspot", f.hubspot, "hubspot", "HubSpot deal property")
        if f.salesforce is not None:
            _check_name(col, f"{base}.salesforce", f.salesforce, "salesforce", "Salesforce Opportunity field")
        if "stage" in f.transforms and stage is None:
            col.add(f"{base}.transforms", "transform 'stage' needs a [stages.<pipeline>] table", "add [stages.default]")
        chain = _build_transforms(col, base, f, spec.settings, stage)
        sf = {"Opportunity": f.salesforce} if f.salesforce is not None else {}
        compiled.append(FieldMapping(name, f.hubspot, sf, f.direction, f.rule, chain, f.allow_blanking))
    writers: dict[tuple[str, str], str] = {}
    for fm in compiled:
        for system, target in (("hubspot", fm.hubspot), ("salesforce", fm.salesforce.get("Opportunity"))):
            if target is None or not fm.writes(system):
                continue
            if (system, target) in writers:
                col.add(f"fields.{fm.name}.{system}",
                        f"{target!r} is already written by fields.{writers[(system, target)]}",
                        "a target may be written by one field only")
            writers[(system, target)] = fm.name
    _check_choice(col, "contact_roles.default_role", spec.contact_roles.default_role, _CONTACT_ROLES, "contact role")
    _check_choice(col, "contact_roles.primary", spec.contact_roles.primary, ("first_associated", "none"),
                  "primary rule")
    return OpportunityMapping(col.file, tuple(compiled), spec.settings, spec.contact_roles,
                                      tuple(pipelines), custom_fields=spec.custom_fields)


def _validate_companies(col: Collector, raw: dict[str, Any]) -> CompanyMapping | None:
    """companies.toml: fields between HubSpot company properties and Salesforce Account fields, the identity's
    cross-reference names (never mapped as fields), and which companies are created where."""
    spec = _validate_model(col, CompaniesFile, raw)
    _check_settings(col, spec.settings)
    _check_declared(col, spec.custom_fields, {"hubspot": "HubSpot company property",
                                              "account": "Salesforce Account field"})
    ident = spec.identity
    hs_id_ok = _check_name(col, "identity.hubspot_account_id_property", ident.hubspot_account_id_property, "hubspot",
                           "HubSpot company property")
    sf_id_ok = _check_name(col, "identity.salesforce_company_id_field", ident.salesforce_company_id_field,
                           "salesforce", "Salesforce Account field")
    if sf_id_ok and not ident.salesforce_company_id_field.endswith("__c"):
        col.add("identity.salesforce_company_id_field",
                f"{ident.salesforce_company_id_field!r} is not a custom field's API name (they end in __c): the "
                "connector needs a field of its own there, an External ID", 'e.g. "HubSpot_Company_Id__c"')
    compiled: list[FieldMapping] = []
    for name, f in spec.fields.items():
        base = f"fields.{name}"
        _check_field_common(col, base, name, f, f.salesforce is not None)
        if f.hubspot is not None:
            _check_name(col, f"{base}.hubspot", f.hubspot, "hubspot", "HubSpot company property")
            if hs_id_ok and f.hubspot == ident.hubspot_account_id_property:
                col.add(f"{base}.hubspot", f"HubSpot company property {f.hubspot!r} is "
                                           "[identity] hubspot_account_id_property, which the connector manages",
                        f"remove [{base}] (or its hubspot): the cross-reference ids are never mapped as fields")
        if f.salesforce is not None:
            _check_name(col, f"{base}.salesforce", f.salesforce, "salesforce", "Salesforce Account field")
            # Salesforce API names ignore case, as Salesforce does
            if sf_id_ok and f.salesforce.lower() == ident.salesforce_company_id_field.lower():
                col.add(f"{base}.salesforce", f"Salesforce Account field {f.salesforce!r} is "
                                              "[identity] salesforce_company_id_field, which the connector manages",
                        f"remove [{base}] (or its salesforce): the cross-reference ids are never mapped as fields")
        if f.values is not None:
            hs_enum = HUBSPOT_ENUMS.get(("companies", f.hubspot)) if f.hubspot else None
            picklist = SALESFORCE_PICKLISTS.get(("Account", f.salesforce)) if f.salesforce else None
            sf_lists = {"Account": picklist} if picklist is not None else {}
            writes_sf = f.direction in ("both", "to_salesforce") and f.salesforce is not None
            _check_values(col, f"{base}.values", f.values, hs_enum, sf_lists, writes_sf, f.salesforce is not None)
        chain = _build_transforms(col, base, f, spec.settings, None)
        sf = {"Account": f.salesforce} if f.salesforce is not None else {}
        compiled.append(FieldMapping(name, f.hubspot, sf, f.direction, f.rule, chain, f.allow_blanking))
    _check_targets(col, compiled, {}, hubspot_object="companies")
    inc = spec.inclusion
    _check_choice(col, "inclusion.create_in_hubspot", inc.create_in_hubspot, COMPANY_CREATE_CHOICES, "choice")
    _check_choice(col, "inclusion.create_in_salesforce", inc.create_in_salesforce, COMPANY_CREATE_CHOICES, "choice")
    return CompanyMapping(col.file, tuple(compiled), spec.settings, ident, inc, spec.associations,
                          custom_fields=spec.custom_fields)


def _parsed(text: str, file: str, validate: Callable[[Collector, dict[str, Any]], _R | None]) -> _R:
    """One mapping file's text validated; raises MappingError listing every problem."""
    col = Collector(file)
    raw = _parse_toml(text, col)
    result = validate(col, raw) if raw is not None else None
    if col.problems or result is None:
        raise MappingError(col.problems)
    return result


def parse_contacts(text: str, file: str = CONTACTS_FILE) -> ContactMapping:
    """Validates contacts.toml text; raises MappingError listing every problem."""
    return _parsed(text, file, _validate_contacts)


def parse_opportunities(text: str, file: str = OPPORTUNITIES_FILE) -> OpportunityMapping:
    """Validates opportunities.toml text; raises MappingError listing every problem."""
    return _parsed(text, file, _validate_opportunities)


def parse_companies(text: str, file: str = COMPANIES_FILE) -> CompanyMapping:
    """Validates companies.toml text; raises MappingError listing every problem."""
    return _parsed(text, file, _validate_companies)


def load_contacts(path: str | Path) -> ContactMapping:
    """Loads and validates one contacts mapping file; raises MappingError."""
    return parse_contacts(Path(path).read_text(encoding="utf-8") if Path(path).is_file() else _missing(path), str(path))


def load_opportunities(path: str | Path) -> OpportunityMapping:
    """Loads and validates one opportunities mapping file; raises MappingError."""
    return parse_opportunities(Path(path).read_text(encoding="utf-8") if Path(path).is_file() else _missing(path),
                               str(path))


def load_companies(path: str | Path) -> CompanyMapping:
    """Loads and validates one companies mapping file; raises MappingError."""
    return parse_companies(Path(path).read_text(encoding="utf-8") if Path(path).is_file() else _missing(path),
                           str(path))


def _missing(path: str | Path) -> str:
    raise MappingError([MappingProblem(str(path), "", "file not found", "create it or pass the mappings directory")])


def load_mappings(directory: str | Path) -> Mappings:
    """Loads contacts.toml (required), opportunities.toml, companies.toml and scoring.toml (each optional: absent,
    that part is not synced or scored) from ``directory``.

    Raises MappingError with the problems of ALL files at once.
    """
    root = Path(directory)
    problems: list[MappingProblem] = []
    col = Collector(str(root / CONTACTS_FILE))
    raw = _read(root / CONTACTS_FILE, col)
    contacts = _validate_contacts(col, raw) if raw is not None else None
    problems += col.problems
    opportunities = _optional(root / OPPORTUNITIES_FILE, _validate_opportunities, problems)
    companies = _optional(root / COMPANIES_FILE, _validate_companies, problems)
    scoring = None
    scoring_path = root / SCORING_FILE
    if scoring_path.exists():
        from ..score.model import COMPANY_PREFIX, load_scoring  # the scoring core reads this module's helpers

        fields = [f.name for f in contacts.fields] if contacts is not None else None
        if fields is not None and companies is not None:  # fit rules read the person's company as company.<field>
            fields += [f"{COMPANY_PREFIX}{f.name}" for f in companies.fields]
        try:
            scoring = load_scoring(scoring_path, fields)
        except MappingError as exc:
            problems += exc.problems
        if contacts is not None:
            problems += _scorer_outputs_mapped(contacts)
    if problems or contacts is None:
        raise MappingError(problems)
    return Mappings(contacts, opportunities, scoring, companies)


def _optional(path: Path, validate: Callable[[Collector, dict[str, Any]], _R | None],
              problems: list[MappingProblem]) -> _R | None:
    """An optional mapping file validated (None when it is not there), its problems added to `problems`."""
    if not path.exists():
        return None
    col = Collector(str(path))
    raw = _read(path, col)
    result = validate(col, raw) if raw is not None else None
    problems += col.problems
    return result


def _scorer_outputs_mapped(contacts: ContactMapping) -> list[MappingProblem]:
    """The scorer alone writes its outputs: a contacts field mapping one of them would be a second writer."""
    outputs = {name for pair in SCORE_OUTPUTS.values() for name in pair}
    out = []
    for f in contacts.fields:
        names = {f.hubspot, *f.salesforce.values()} & outputs
        if names:
            out.append(MappingProblem(contacts.file, f"fields.{f.name}",
                                      f"maps {', '.join(sorted(n for n in names if n))}, which the scorer writes "
                                      f"({SCORING_FILE} is present)",
                                      f"remove [fields.{f.name}]: the scorer's outputs are listed in docs/scoring.md"))
    return out
