"""The whole sandbox org: records (SQLite), metadata, sessions, API usage, rules and async jobs.

`create_app` serves one SalesforceState; tests and the lead's control routes drive it directly.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..clock import SandboxClock
from ..dataset import SeedBatch
from ._errors import RecordError
from ._schema import DEFAULT_CUSTOM_FIELDS, CustomField, FieldDef, Schema
from ._store import Store
from ._values import format_date
from ._writes import Writer
from .ids import KEY_PREFIXES, id_counter, make_id

__all__ = ["SalesforceState", "SalesforceLimits", "Rules", "DEFAULT_API_VERSION", "SUPPORTED_VERSIONS", "BulkTiming",
           "DatetimeMillis"]

DEFAULT_API_VERSION = "62.0"
SUPPORTED_VERSIONS = tuple(f"{v}.0" for v in range(40, 67))
_DAY_MS = 86_400_000

BulkTiming = Literal["realistic", "instant"]
DatetimeMillis = Literal["truncate", "honour"]


@dataclass(frozen=True)
class SalesforceLimits:
    """The org's daily API allocation (Enterprise: 100,000 + licenses x 1,000) and the Bulk job allowance."""

    base_daily_requests: int = 100_000
    licenses: int = 15
    per_license: int = 1_000
    daily_bulk_query_jobs: int = 10_000
    daily_bulk_ingest_batches: int = 15_000

    @property
    def daily_api_requests(self) -> int:
        return self.base_daily_requests + self.licenses * self.per_license


@dataclass
class Rules:
    """The org's one validation rule and one duplicate rule, togglable from the control API."""

    lead_requires_email_or_phone: bool = True
    validation_message: str = "Lead requires Email or Phone"
    duplicate_rule: bool = False


class SalesforceState:
    """One emulated org; thread-safe (all record access goes through the store lock)."""

    def __init__(self, data_dir: Path, clock: SandboxClock, *, rate_limits: bool = True,
                 limits: SalesforceLimits | None = None,
                 custom_fields: Sequence[CustomField] = DEFAULT_CUSTOM_FIELDS, token_ttl_seconds: int = 7200,
                 bulk_timing: BulkTiming = "realistic", soql_datetime_millis: DatetimeMillis = "truncate") -> None:
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.rate_limits = rate_limits
        self.limits = limits or SalesforceLimits()
        self.token_ttl_ms = token_ttl_seconds * 1000
        self._custom_fields = tuple(custom_fields)
        self.schema = Schema(self._custom_fields)
        self.store = Store(self.data_dir / "salesforce.sqlite3")
        self.writer = Writer(self)
        self.rules = Rules()
        self.default_version = DEFAULT_API_VERSION
        self.org_id = make_id("Organization", 1)
        self.integration_user_id = make_id("User", 0)
        self.client_id = "3MVG9sandbox" + secrets.token_hex(12)
        self.client_secret = secrets.token_hex(16).upper()
        self.username = "integration@sandbox.example.com"
        self.password = "sandbox-password"
        self.security_token = secrets.token_hex(6).upper()
        self._lock = threading.Lock()
        self._tokens: dict[str, int] = {}
        self._usage: deque[int] = deque()
        self._counters: dict[str, int] = {}
        self.cursors: dict[str, Any] = {}
        self.jobs: dict[str, Any] = {}
        self.bulk_query_jobs_today: deque[int] = deque()
        self.bulk_delay_ms = 0  # extra sandbox time a Bulk job stays InProgress before it completes
        #: "realistic": a Bulk job takes sandbox time scaled to its rows (BULK_* constants); "instant": none
        self.bulk_timing: BulkTiming = bulk_timing
        #: milliseconds in a SOQL datetime literal: "truncate" (ignored, as Salesforce compares to the
        #: second) or "honour"; see docs/sandbox/soql.md
        self.soql_datetime_millis: DatetimeMillis = soql_datetime_millis
        self._settings_defaults = (bulk_timing, soql_datetime_millis)
        self.bulk_job_counter = 0
        self.query_locators = 0
        self.reset()

    # ---- lifecycle -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Empty the org (records, usage, jobs, cursors, added custom fields, rules); keep credentials and sessions."""
        with self.store.lock:
            self.store.reset()
            self.schema = Schema(self._custom_fields)
            self.rules = Rules()
            self._counters.clear()
            self.cursors.clear()
            self.jobs.clear()
            self.bulk_delay_ms = 0
            self.bulk_timing, self.soql_datetime_millis = self._settings_defaults
            self.bulk_query_jobs_today.clear()
            with self._lock:
                self._usage.clear()  # sessions survive a reset: a running connector keeps its token
            now = self.stamp()
            self.store.put("User", {
                "Id": self.integration_user_id, "IsDeleted": False, "Username": self.username,
                "Email": "integration@sandbox.example.com", "FirstName": "Integration", "LastName": "User",
                "Name": "Integration User", "Alias": "integ", "IsActive": True, "CreatedDate": now,
                "CreatedById": self.integration_user_id, "LastModifiedDate": now,
                "LastModifiedById": self.integration_user_id, "SystemModstamp": now,
            })

    def close(self) -> None:
        self.store.close()

    def load(self, batch: SeedBatch) -> None:
        """Store the Salesforce part of a seed batch as is (no validation; audit fields default to now)."""
        now = self.stamp()
        for spec in batch.salesforce_fields:
            self.add_custom_field(CustomField(**spec))
        for raw_name, records in batch.salesforce.items():
            obj = self.schema.obj(raw_name)
            if obj is None:
                raise ValueError(f"seed batch has unknown Salesforce sObject {raw_name!r}")
            defaults: dict[str, Any] = {f.name: False for f in obj.fields.values() if f.type == "boolean"}
            ext_fields = [f.name for f in obj.external_ids]
            doubles = [f.name for f in obj.fields.values() if f.type in ("double", "currency", "percent")]
            rows: list[dict[str, Any]] = []
            ext: list[tuple[str, str, str]] = []
            top = self._counters.get(obj.name, 0)
            for r in records:
                rec = dict(defaults)
                rec.update(r)
                if "Id" not in rec or not rec["Id"]:
                    raise ValueError(f"seed {obj.name} record without Id: {r!r}")
                for k in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                    rec[k] = int(rec[k]) if rec.get(k) is not None else now
                rec["CreatedById"] = rec.get("CreatedById") or self.integration_user_id
                rec["LastModifiedById"] = rec.get("LastModifiedById") or rec["CreatedById"]
                if "OwnerId" in obj.fields and not rec.get("OwnerId"):
                    rec["OwnerId"] = self.integration_user_id
                for name in doubles:
                    if isinstance(rec.get(name), int) and not isinstance(rec[name], bool):
                        rec[name] = float(rec[name])
                self._seed_derived(obj.name, rec)
                rows.append(rec)
                ext.extend((f, str(rec[f]), rec["Id"]) for f in ext_fields if rec.get(f) not in (None, ""))
            if rows:
                top = max(top, id_counter(max(r["Id"] for r in rows)))  # fixed-width base 62 sorts as text
            self.store.put_many(obj.name, rows, ext)
            self._counters[obj.name] = top

    @staticmethod
    def _seed_derived(sobject: str, rec: dict[str, Any]) -> None:
        if sobject in ("Lead", "Contact", "User") and not rec.get("Name"):
            rec["Name"] = " ".join(p for p in (rec.get("FirstName"), rec.get("LastName")) if p)
        if sobject == "Opportunity":
            from ._schema import OPPORTUNITY_STAGES
            prob, closed, won = OPPORTUNITY_STAGES.get(rec.get("StageName") or "", (0, False, False))
            rec["IsClosed"], rec["IsWon"] = closed, won
            if rec.get("Probability") is None:
                rec["Probability"] = float(prob)
        if sobject == "CampaignMember":
            rec["HasResponded"] = rec.get("Status") == "Responded"
        if sobject == "Task":
            rec["IsClosed"] = rec.get("Status") == "Completed"
        if sobject == "Lead" and rec.get("Status") is None:
            rec["Status"] = "Open - Not Contacted"
        if sobject == "Task":
            rec.setdefault("Status", "Not Started")
            rec["Priority"] = rec.get("Priority") or "Normal"

    # ---- time and ids --------------------------------------------------------------------------------
    def stamp(self) -> int:
        """A server timestamp: the sandbox clock truncated to the second (Salesforce ignores milliseconds)."""
        return self.clock.now_ms() // 1000 * 1000

    def next_id(self, sobject: str) -> str:
        with self.store.lock:
            if sobject not in self._counters:
                top = self.store.max_id(KEY_PREFIXES[sobject])
                self._counters[sobject] = id_counter(top) if top else 0
            self._counters[sobject] += 1
            return make_id(sobject, self._counters[sobject])

    # ---- sessions ------------------------------------------------------------------------------------
    def issue_token(self) -> str:
        """A new session id valid for token_ttl_seconds of the sandbox clock."""
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)[:96]}"
        now = self.clock.now_ms()
        with self._lock:
            if len(self._tokens) > 1000:
                self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.token_ttl_ms
        return token

    def token_valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and self.clock.now_ms() < expires

    def expire_tokens(self) -> int:
        """Invalidate every session now; returns how many there were."""
        with self._lock:
            n = len(self._tokens)
            self._tokens.clear()
        return n

    # ---- API usage -----------------------------------------------------------------------------------
    def _trim_usage(self, now: int) -> None:
        while self._usage and self._usage[0] <= now - _DAY_MS:
            self._usage.popleft()

    def consume_call(self) -> tuple[bool, int]:
        """Count one API call against the rolling 24 h allowance; returns (allowed, used)."""
        now = self.clock.now_ms()
        with self._lock:
            self._trim_usage(now)
            if self.rate_limits and len(self._usage) >= self.limits.daily_api_requests:
                return False, len(self._usage)
            self._usage.append(now)
            return True, len(self._usage)

    def api_usage(self) -> int:
        with self._lock:
            self._trim_usage(self.clock.now_ms())
            return len(self._usage)

    def limits_body(self) -> dict[str, Any]:
        used = self.api_usage()
        now = self.clock.now_ms()
        while self.bulk_query_jobs_today and self.bulk_query_jobs_today[0] <= now - _DAY_MS:
            self.bulk_query_jobs_today.popleft()
        lim = self.limits
        return {
            "DailyApiRequests": {"Max": lim.daily_api_requests, "Remaining": max(0, lim.daily_api_requests - used)},
            "DailyBulkApiBatches": {"Max": lim.daily_bulk_ingest_batches, "Remaining": lim.daily_bulk_ingest_batches},
            "DailyBulkV2QueryJobs": {"Max": lim.daily_bulk_query_jobs,
                                     "Remaining": max(0, lim.daily_bulk_query_jobs - len(self.bulk_query_jobs_today))},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DataStorageMB": {"Max": 1024 * 10, "Remaining": 1024 * 10},
        }

    # ---- lookups used by writes and routes --------------------------------------------------------------
    def find_by_email(self, sobject: str, email: str) -> list[str]:
        rows = self.store.ids("sobject = ? AND email_lower = ? AND is_deleted = 0", [sobject, email.lower()],
                              "id", 10)
        return [r[0] for r in rows]

    def reparent(self, children: list[tuple[str, str]], old: str, new: str) -> None:
        for sobject, fld in children:
            for rec in list(self.store.scan("sobject = ? AND json_extract(data, ?) = ?",
                                            [sobject, f"$.{fld}", old], "id")):
                rec[fld] = new
                rec["SystemModstamp"] = self.stamp()
                obj = self.schema.objects[sobject]
                self.store.put(sobject, rec, [(f.name, str(rec[f.name])) for f in obj.external_ids
                                              if rec.get(f.name) not in (None, "")])

    def add_custom_field(self, cf: CustomField) -> FieldDef:
        """Add a custom field now (kept until reset); raises ValueError saying what to fix."""
        with self.store.lock:
            return self.schema.add_custom_field(cf)

    # ---- human-only actions ----------------------------------------------------------------------------
    def convert_lead(self, lead_id: str, *, contact_id: str | None = None, account_id: str | None = None,
                     create_opportunity: bool = True, opportunity_name: str | None = None,
                     converted_status: str = "Closed - Converted", user_id: str | None = None) -> dict[str, Any]:
        """Convert a Lead as a user would in the UI; returns the new/used record ids."""
        w = self.writer
        with self.store.transaction():
            lead, _ = w._existing("Lead", lead_id)
            if lead.get("IsConverted"):
                raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
            if account_id is None:
                if contact_id is not None:
                    contact, _ = w._existing("Contact", contact_id)
                    account_id = contact.get("AccountId")
                if account_id is None:
                    account_id = w.create("Account", _drop_none({
                        "Name": lead.get("Company") or lead.get("LastName"), "Industry": lead.get("Industry"),
                        "NumberOfEmployees": lead.get("NumberOfEmployees"), "AnnualRevenue": lead.get("AnnualRevenue"),
                        "Website": lead.get("Website"), "BillingCity": lead.get("City"),
                        "BillingState": lead.get("State"), "BillingCountry": lead.get("Country"),
                        "OwnerId": lead.get("OwnerId")}), user_id=user_id)
            contact_fields = _drop_none({
                "FirstName": lead.get("FirstName"), "LastName": lead.get("LastName"), "Email": lead.get("Email"),
                "Phone": lead.get("Phone"), "MobilePhone": lead.get("MobilePhone"), "Title": lead.get("Title"),
                "LeadSource": lead.get("LeadSource"), "HasOptedOutOfEmail": lead.get("HasOptedOutOfEmail"),
                "MailingCity": lead.get("City"), "MailingState": lead.get("State"),
                "MailingCountry": lead.get("Country"), "Description": lead.get("Description"),
                "OwnerId": lead.get("OwnerId"), "AccountId": account_id,
            })
            saved_rules = self.rules.duplicate_rule
            self.rules.duplicate_rule = False
            try:
                if contact_id is None:
                    # the HubSpot key moves with the person: it cannot stay unique on both records
                    contact_id = w.create("Contact", contact_fields, user_id=user_id)
            finally:
                self.rules.duplicate_rule = saved_rules
            opp_id = None
            if create_opportunity:
                opp_id = w.create("Opportunity", {
                    "Name": opportunity_name or f"{lead.get('Company') or lead.get('LastName')}-",
                    "AccountId": account_id, "StageName": "Prospecting",
                    "CloseDate": format_date(self.clock.now_ms() + 30 * _DAY_MS),
                    "LeadSource": lead.get("LeadSource"), "OwnerId": lead.get("OwnerId")}, user_id=user_id)
            now = self.stamp()
            rec = dict(lead, IsConverted=True, ConvertedDate=format_date(now), ConvertedContactId=contact_id,
                       ConvertedAccountId=account_id, ConvertedOpportunityId=opp_id, Status=converted_status,
                       SystemModstamp=now, LastModifiedDate=now,
                       LastModifiedById=user_id or self.integration_user_id)
            w._save(self.schema.objects["Lead"], rec)
        return {"leadId": lead["Id"], "contactId": contact_id, "accountId": account_id, "opportunityId": opp_id}


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}
