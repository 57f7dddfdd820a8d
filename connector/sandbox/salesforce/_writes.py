"""Record writes with Salesforce's rules: field checks, defaults, derived fields, rules and audit fields.

Every write path (REST, collections, composite, Bulk, control routes) goes through `Writer`, so a
record saved by Bulk is validated exactly like one saved by a PATCH.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import RecordError
from ._schema import LEAD_STATUSES, OPPORTUNITY_STAGES, FieldDef, SObjectDef
from ._values import KEEP, coerce, format_date, normalize_id
from .ids import make_id, prefix_object

if TYPE_CHECKING:
    from ._state import SalesforceState

__all__ = ["Writer", "SaveOutcome", "SYSTEM_FIELDS"]

SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                 "SystemModstamp", "MasterRecordId")
_NAMED = ("Lead", "Contact", "User")


@dataclass
class SaveOutcome:
    """What a successful save did."""

    id: str
    created: bool


class Writer:
    """Validates and applies writes against one SalesforceState."""

    def __init__(self, state: SalesforceState) -> None:
        self.state = state

    # ---- public operations ---------------------------------------------------------------------------
    def create(self, sobject: str, body: Mapping[str, Any], *, user_id: str | None = None, csv: bool = False) -> str:
        obj = self._obj(sobject)
        values = self._coerce(obj, body, creating=True, csv=csv)
        now = self.state.stamp()
        user = user_id or self.state.integration_user_id
        rec: dict[str, Any] = {f.name: self._default(f) for f in obj.fields.values()}
        rec.update(values)
        if "OwnerId" in obj.fields and rec.get("OwnerId") is None:
            rec["OwnerId"] = user
        rec.update(Id=self.state.next_id(obj.name), IsDeleted=False, CreatedDate=now, CreatedById=user,
                   LastModifiedDate=now, LastModifiedById=user, SystemModstamp=now)
        missing = [f.name for f in obj.fields.values() if f.required and rec.get(f.name) in (None, "")]
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        self._derive(obj, rec, None, now)
        self._check(obj, rec, values, None)
        self._save(obj, rec)
        return str(rec["Id"])

    def update(self, sobject: str | None, record_id: str, body: Mapping[str, Any], *,
               user_id: str | None = None, csv: bool = False, system: bool = False) -> str:
        old, obj = self._existing(sobject, record_id)
        if obj.name == "Lead" and old.get("IsConverted") and not system:
            raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        values = self._coerce(obj, body, creating=False, csv=csv, system=system)
        values.pop("Id", None)
        now = self.state.stamp()
        rec = dict(old)
        rec.update(values)
        rec.update(LastModifiedDate=now, LastModifiedById=user_id or self.state.integration_user_id, SystemModstamp=now)
        blank = [f.name for f in obj.fields.values()
                 if f.name in values and not f.nillable and f.createable and rec.get(f.name) in (None, "")]
        if blank:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(blank)}]", blank)
        self._derive(obj, rec, old, now)
        self._check(obj, rec, values, old)
        self._save(obj, rec)
        return str(rec["Id"])

    def upsert(self, sobject: str, ext_field: str, ext_value: str | None, body: Mapping[str, Any], *,
               user_id: str | None = None, csv: bool = False) -> SaveOutcome:
        """Upsert by external id (or by Id when `ext_field` is Id); raises RecordError / 300 via MultipleMatches."""
        obj = self._obj(sobject)
        f = obj.get(ext_field)
        if f is None or not (f.external_id or f.name == "Id"):
            raise RecordError("NOT_FOUND", "The requested resource does not exist", status=404)
        body = dict(body)
        if ext_value is None:
            key = next((k for k in body if k.lower() == f.name.lower()), None)
            ext_value = None if key is None else body.pop(key)
        elif any(k.lower() == f.name.lower() for k in body if k != "attributes"):
            # the URL carries the key; Salesforce refuses it in the body as well
            body = {k: v for k, v in body.items() if k.lower() != f.name.lower()}
        if ext_value in (None, ""):
            raise RecordError("MISSING_ARGUMENT", f"{f.name} not specified", [f.name])
        matches = self.find_by_external_id(obj, f, str(ext_value))
        if len(matches) > 1:
            raise MultipleMatches(obj.name, matches)
        if matches:
            return SaveOutcome(self.update(obj.name, matches[0], body, user_id=user_id, csv=csv), False)
        if f.name == "Id":
            raise RecordError("NOT_FOUND", "Provided external ID field does not exist or is not accessible: Id",
                              status=404)
        return SaveOutcome(self.create(obj.name, {**body, f.name: ext_value}, user_id=user_id, csv=csv), True)

    def find_by_external_id(self, obj: SObjectDef, f: FieldDef, value: str) -> list[str]:
        if f.name == "Id":
            rid = normalize_id(value)
            rec = self.state.store.get(rid) if rid else None
            return [rid] if rid and rec and not rec.get("IsDeleted") else []
        return self.state.store.ext_lookup(obj.name, f.name, value)

    def delete(self, sobject: str | None, record_id: str, *, user_id: str | None = None) -> str:
        old, obj = self._existing(sobject, record_id)
        now = self.state.stamp()
        rec = dict(old, IsDeleted=True, SystemModstamp=now, LastModifiedDate=now,
                   LastModifiedById=user_id or self.state.integration_user_id, _DeletedDate=now)
        self.state.store.put(obj.name, rec)  # external ids of recycled records no longer match
        return str(rec["Id"])

    def undelete(self, record_id: str) -> str:
        rid = normalize_id(record_id) or record_id
        old = self.state.store.get(rid)
        if old is None or not old.get("IsDeleted"):
            raise RecordError("UNDELETE_FAILED", "Entity is not in the recycle bin", [])
        obj = self._obj(prefix_object(rid) or "")
        now = self.state.stamp()
        rec = dict(old, IsDeleted=False, SystemModstamp=now, MasterRecordId=None)
        rec.pop("_DeletedDate", None)
        if obj.name in ("Lead", "Contact", "Account"):
            rec["MasterRecordId"] = None
        self._check(obj, rec, rec, None)
        self._save(obj, rec)
        return rid

    def merge(self, master_id: str, loser_ids: list[str]) -> None:
        master, obj = self._existing(None, master_id)
        if obj.name not in ("Lead", "Contact", "Account"):
            raise RecordError("INVALID_TYPE", f"merge is not supported for {obj.name}", [])
        for lid in loser_ids:
            loser, lobj = self._existing(None, lid)
            if lobj.name != obj.name:
                raise RecordError("INVALID_ID_FIELD", f"merged records must all be {obj.name}", [])
            if lid == master["Id"]:
                raise RecordError("INVALID_ID_FIELD", "cannot merge a record with itself", [])
            self._reparent(obj.name, lid, str(master["Id"]))
            now = self.state.stamp()
            rec = dict(loser, IsDeleted=True, MasterRecordId=master["Id"], SystemModstamp=now, _DeletedDate=now)
            self.state.store.put(obj.name, rec)
        now = self.state.stamp()
        self.state.store.put(obj.name, dict(master, SystemModstamp=now, LastModifiedDate=now),
                             self._ext_values(obj, master))

    # ---- internals -----------------------------------------------------------------------------------
    def _obj(self, sobject: str) -> SObjectDef:
        obj = self.state.schema.obj(sobject)
        if obj is None:
            raise RecordError("NOT_FOUND", "The requested resource does not exist", status=404)
        return obj

    def _existing(self, sobject: str | None, record_id: str) -> tuple[dict[str, Any], SObjectDef]:
        rid = normalize_id(record_id)
        kind = prefix_object(rid) if rid else None
        if rid is None or kind is None or (sobject is not None and kind != self._obj(sobject).name):
            name = sobject or "record"
            raise RecordError("MALFORMED_ID", f"{name} ID: id value of incorrect type: {record_id}", ["Id"])
        old = self.state.store.get(rid)
        if old is None:
            raise RecordError("NOT_FOUND", "The requested resource does not exist", status=404)
        if old.get("IsDeleted"):
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
        return old, self._obj(kind)

    def _coerce(self, obj: SObjectDef, body: Mapping[str, Any], *, creating: bool, csv: bool,
                system: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        locked: list[str] = []
        for key, value in body.items():
            if key == "attributes":
                continue
            f = obj.get(key)
            if f is None:
                raise RecordError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", [])
            if f.name == "Id":
                if creating:
                    raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
                continue
            allowed = f.createable if creating else f.updateable
            if not allowed and not system:
                locked.append(f.name)
                continue
            stored = coerce(f, value, csv=csv)
            if stored is KEEP:
                continue
            out[f.name] = stored
        if locked:
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security settings of this "
                "field and verify that it is read/write for your profile or permission set.", locked)
        return out

    @staticmethod
    def _default(f: FieldDef) -> Any:
        if f.type == "boolean":
            return False
        return f.default_value

    def _derive(self, obj: SObjectDef, rec: dict[str, Any], old: dict[str, Any] | None, now: int) -> None:
        if obj.name in _NAMED:
            rec["Name"] = " ".join(p for p in (rec.get("FirstName"), rec.get("LastName")) if p)
        if obj.name == "Opportunity":
            prob, closed, won = OPPORTUNITY_STAGES.get(rec.get("StageName") or "", (0, False, False))
            rec["IsClosed"], rec["IsWon"] = closed, won
            stage_changed = old is None or old.get("StageName") != rec.get("StageName")
            probability_kept = old is None or rec.get("Probability") == old.get("Probability")
            if rec.get("Probability") is None or (stage_changed and probability_kept):
                rec["Probability"] = float(prob)
        elif obj.name == "Task":
            rec["IsClosed"] = rec.get("Status") == "Completed"
            if rec["IsClosed"] and not rec.get("CompletedDateTime"):
                rec["CompletedDateTime"] = now
        elif obj.name == "CampaignMember":
            rec["HasResponded"] = rec.get("Status") == "Responded"
            if rec["HasResponded"] and not rec.get("FirstRespondedDate"):
                rec["FirstRespondedDate"] = format_date(now)
        elif obj.name == "Event":
            start = rec.get("StartDateTime") or rec.get("ActivityDateTime")
            if not rec.get("IsAllDayEvent"):
                if start is None:
                    raise RecordError("REQUIRED_FIELD_MISSING", "Required fields are missing: [ActivityDateTime]",
                                      ["ActivityDateTime"])
                if rec.get("DurationInMinutes") is None and rec.get("EndDateTime") is None:
                    raise RecordError("REQUIRED_FIELD_MISSING", "Required fields are missing: [DurationInMinutes]",
                                      ["DurationInMinutes"])
            if start is not None:
                rec["StartDateTime"] = rec["ActivityDateTime"] = start
                rec["ActivityDate"] = format_date(int(start))
                if rec.get("EndDateTime") is None and rec.get("DurationInMinutes") is not None:
                    rec["EndDateTime"] = int(start) + int(rec["DurationInMinutes"]) * 60_000
                elif rec.get("EndDateTime") is not None:
                    rec["DurationInMinutes"] = (int(rec["EndDateTime"]) - int(start)) // 60_000
        elif obj.name == "Lead" and rec.get("Status") in LEAD_STATUSES and LEAD_STATUSES[rec["Status"]] \
                and not rec.get("IsConverted"):
            raise RecordError("INVALID_STATUS",
                              "Lead Status: a converted status can only be set by converting the lead",
                              ["Status"])

    def _check(self, obj: SObjectDef, rec: dict[str, Any], changed: Mapping[str, Any],
               old: dict[str, Any] | None) -> None:
        for name, value in changed.items():
            f = obj.fields.get(name)
            if f is None or f.type != "reference" or value is None or name in SYSTEM_FIELDS:
                continue
            target = self.state.store.get(value)
            if target is None:
                raise RecordError("INVALID_CROSS_REFERENCE_KEY", f"{f.label or f.name}: invalid cross reference id",
                                  [f.name])
            if target.get("IsDeleted"):
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [f.name])
        rules = self.state.rules
        if obj.name == "Lead" and rules.lead_requires_email_or_phone and not rec.get("Email") and not rec.get("Phone"):
            raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION", rules.validation_message, [])
        for f in obj.external_ids:
            value = rec.get(f.name)
            if not f.unique or value in (None, ""):
                continue
            if old is not None and old.get(f.name) == value:
                continue
            others = [i for i in self.state.store.ext_lookup(obj.name, f.name, str(value)) if i != rec["Id"]]
            if others:
                raise RecordError("DUPLICATE_VALUE",
                                  f"duplicate value found: {f.name} duplicates value on record with id: {others[0]}",
                                  [])
        if rules.duplicate_rule and obj.name in ("Lead", "Contact") and rec.get("Email") \
                and (old is None or (old.get("Email") or "").lower() != str(rec["Email"]).lower()):
            dupes = [r for r in self.state.find_by_email(obj.name, str(rec["Email"])) if r != rec["Id"]]
            if dupes:
                raise RecordError("DUPLICATES_DETECTED", "Use one of these records?", [],
                                  extra={"duplicateResult": self._duplicate_result(obj.name, dupes)})

    def _duplicate_result(self, sobject: str, ids: list[str]) -> dict[str, Any]:
        version = self.state.default_version
        return {
            "allowSave": False,
            "duplicateRule": f"Standard_{sobject}_Duplicate_Rule",
            "duplicateRuleEntityType": sobject,
            "errorMessage": "Use one of these records?",
            "matchResults": [{
                "entityType": sobject,
                "errors": [],
                "matchEngine": "ExactMatchEngine",
                "matchRecords": [{
                    "additionalInformation": [],
                    "fieldDiffs": [],
                    "matchConfidence": 100.0,
                    "record": {"attributes": {"type": sobject,
                                              "url": f"/services/data/v{version}/sobjects/{sobject}/{i}"},
                               "Id": i},
                } for i in ids[:5]],
                "rule": f"Standard_{sobject}_Match_Rule_v1_0",
                "size": len(ids[:5]),
                "success": True,
            }],
        }

    @staticmethod
    def _ext_values(obj: SObjectDef, rec: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [(f.name, str(rec[f.name])) for f in obj.external_ids if rec.get(f.name) not in (None, "")]

    def _save(self, obj: SObjectDef, rec: dict[str, Any]) -> None:
        self.state.store.put(obj.name, rec, self._ext_values(obj, rec))

    def _reparent(self, sobject: str, loser: str, master: str) -> None:
        """Point children of a merged loser at the master (Contacts, Opportunities, activities, members)."""
        children = {
            "Account": [("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Task", "WhatId"),
                        ("Event", "WhatId")],
            "Contact": [("OpportunityContactRole", "ContactId"), ("Task", "WhoId"), ("Event", "WhoId"),
                        ("CampaignMember", "ContactId")],
            "Lead": [("Task", "WhoId"), ("Event", "WhoId"), ("CampaignMember", "LeadId")],
        }[sobject]
        self.state.reparent(children, loser, master)


class MultipleMatches(Exception):
    """An upsert key matched several records: Salesforce answers 300 with their URLs."""

    def __init__(self, sobject: str, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} {sobject} records match")
        self.sobject = sobject
        self.ids = ids


def new_id(sobject: str, counter: int) -> str:
    return make_id(sobject, counter)
