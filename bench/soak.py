"""Soak (issue #18): `connector run` syncs a sandbox while an editor keeps changing both systems, the sandbox
fails a share of the requests, and the daemon is SIGKILLed and restarted; at the end, faults off and two
clean cycles later, both systems are read independently and checked against the editor's ledger.

    python bench/soak.py --minutes 10 --people 600 --seed 18 --json

writes bench/results/soak-<minutes>m.json (the figures: edits by kind, requests, faults by kind and share,
kills, records checked, mismatches). `tests/operate/test_soak.py` runs the short mode (a fixed number of
rounds) in the normal suite.

- **The sandbox** runs in this process (`Sandbox`), its fault plan failing about 18% of API requests with 429s
  (with and without Retry-After), 500/502/503, slow answers (some past the connector's timeout, so the
  request lands after the client gave up) and connections cut mid-answer. The share is read back from the
  sandbox's own counters and rules, not assumed from the rates.
- **The daemon** is a real `connector run` process (`tests/operate/daemon_process.py`): a 6 s interval, a
  10 s safety lag (above HubSpot's 5 s search lag), archived records and GDPR deletes looked for every cycle,
  HubSpot archives propagated to Salesforce and Salesforce deletes treated as erasure requests.
- **The editor** changes both systems as their users do: HubSpot's CRM v3 objects, merge, GDPR delete and
  communication preferences; Salesforce's REST sObjects; lead conversion and Salesforce merges through the
  sandbox's UI routes (Salesforce has no REST call for them). It retries a faulted request itself (a fault is
  answered before the emulator acts, so a retry never doubles an edit). Each person is edited by one edit
  group only, so every ledger entry has one expected end state under the mapping's rules; the conflicting
  edits are both sides changing a `prefer_salesforce_unless_blank` field in the same round. The four
  connector bugs the soak found are fixed, and the editor makes their cases too (each has its regression
  test in tests/operate/test_soak.py).
- **Kills** happen on what the daemon logs (a stage starting), never on a timer; a new daemon starts at once.
- **Rounds** are paced by the daemon: each starts when the daemon logs the start of a run that began after
  the previous round ended.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import ssl
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the repository root holds `connector` and `tests`
    sys.path.insert(0, str(ROOT))

from connector.cli import main as connector_main  # noqa: E402
from connector.sandbox.faults import FaultRule  # noqa: E402
from connector.sandbox.runner import Sandbox  # noqa: E402
from tests.operate.daemon_process import DaemonProcess  # noqa: E402

__all__ = ["SoakOptions", "SoakReport", "run_soak", "fault_rules", "soak_config", "check"]

SF_API = "/services/data/v62.0"
INTERVAL_MINUTES = 0.1
SAFETY_LAG_S = 10
#: the connector's HTTP timeout in the soak: the long "slow" fault answers after it
TIMEOUT_S = 5.0
LAWFUL_BASIS = "Legitimate interest – prospect/lead"
HS_PROPS = ["email", "firstname", "lastname", "phone", "jobtitle", "city", "hs_email_optout", "salesforce_lead_id",
            "salesforce_contact_id", "lifecyclestage", "hs_lead_status", "hs_merged_object_ids"]
SF_COMMON = "Id, Email, FirstName, LastName, Title, Phone, HasOptedOutOfEmail, HubSpot_Contact_Id__c"
#: Lead.Status and hs_lead_status agree when this map (the mapping's to_hubspot values) takes one to the other
STATUS_TO_HUBSPOT = {"Open - Not Contacted": {"NEW", "OPEN"}, "Working - Contacted": {
    "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "OPEN_DEAL"}, "Closed - Converted": {"OPEN_DEAL"},
    "Closed - Not Converted": {"UNQUALIFIED", "BAD_TIMING"}}


def fault_rules() -> list[FaultRule]:
    """About 18% of requests, so the share measured stays above 10% however the draws fall: every kind the
    issue names (the first matching rule fires, each with its own draw)."""
    return [FaultRule("429", rate=0.03), FaultRule("429-retry", rate=0.025, retry_after=1.0),
            FaultRule("500", rate=0.025), FaultRule("502", rate=0.025), FaultRule("503", rate=0.03),
            FaultRule("drop", rate=0.03), FaultRule("slow", rate=0.02, delay=1.5),
            FaultRule("slow", rate=0.01, delay=TIMEOUT_S + 1.0)]


def soak_config(sandbox_config: str) -> str:
    """The sandbox's connector config with the soak's timing and deletion policy, JSON logs and no HTTP
    server (`daemon_process.daemon_config`'s shape, with the [sync] keys the soak needs beside the interval)."""
    timeouts = sandbox_config.replace("[hubspot]\n", f"[hubspot]\ntimeout_seconds = {TIMEOUT_S}\n", 1).replace(
        "[salesforce]\n", f"[salesforce]\ntimeout_seconds = {TIMEOUT_S}\n", 1)
    return (f"{timeouts}\n[sync]\ninterval_minutes = {INTERVAL_MINUTES}\nsafety_lag_seconds = {SAFETY_LAG_S}\n"
            "deletion_scan_hours = 0\n"
            '[deletions]\npresence_check_hours = 0\nhubspot_archive = "propagate"\nsalesforce_delete = "erase"\n'
            '[daemon]\nlisten = ""\nstop_grace_seconds = 30\n[logging]\nformat = "json"\n')


class SoakError(Exception):
    """The soak could not go on (the sandbox kept failing a request, or the daemon misbehaved)."""


# ------------------------------------------------------------------------------------------ HTTP, retried


class Api:
    """One system's API as the editor and the checker use it: every request retried past the injected
    faults (which the emulator answers before acting, so a retry never repeats an edit)."""

    def __init__(self, base_url: str, ca_file: str, token: str) -> None:
        self.client = httpx.Client(base_url=base_url, verify=ssl.create_default_context(cafile=ca_file),
                                   headers={"Authorization": f"Bearer {token}"} if token else {}, trust_env=False,
                                   timeout=60)
        self.requests = 0

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(20):
            self.requests += 1
            try:
                response = self.client.request(method, path, **kwargs)
            except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.TimeoutException):  # a dropped connection
                time.sleep(0.05 * attempt)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                time.sleep(min(1.0, 0.05 * attempt))
                continue
            return response
        raise SoakError(f"{method} {path.split('?')[0]} kept failing")

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        if response.status_code >= 400:
            raise SoakError(f"{method} {path.split('?')[0]}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def close(self) -> None:
        self.client.close()


@dataclass
class Picture:
    """Both systems as they are: live HubSpot contacts, live Salesforce Leads (not converted) and Contacts."""

    hubspot: dict[str, dict[str, Any]]
    salesforce: dict[str, dict[str, Any]]
    archived: dict[str, dict[str, Any]] = field(default_factory=dict)  # HubSpot contacts archived (not erased)
    converted: dict[str, dict[str, Any]] = field(default_factory=dict)  # converted Leads
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)  # Salesforce's recycle bin (Lead, Contact)

    def pairs(self) -> list[tuple[str, str]]:
        """(HubSpot id, Salesforce id) of the records that name each other."""
        out = []
        for s, r in self.salesforce.items():
            h = r.get("HubSpot_Contact_Id__c")
            if h and h in self.hubspot and s in (self.hubspot[h].get("salesforce_lead_id"),
                                                 self.hubspot[h].get("salesforce_contact_id")):
                out.append((h, s))
        return sorted(out)

    def emails(self) -> tuple[Counter[str], Counter[str]]:
        hs = Counter(e for p in self.hubspot.values() if (e := _email(p.get("email"))))
        sf = Counter(e for r in self.salesforce.values() if (e := _email(r.get("Email"))))
        return hs, sf


def _email(value: Any) -> str:
    return str(value or "").strip().lower()


class Systems:
    """The two sandboxed systems, read and edited through their HTTP APIs."""

    def __init__(self, sandbox: Sandbox) -> None:
        info = sandbox.info()
        self.sandbox = sandbox
        self.hs = Api(info.hubspot_base_url, info.ca_file, info.hubspot_access_token)
        self.sf = Api(info.salesforce_instance_url, info.ca_file, info.salesforce_access_token)
        self.sf_ui = Api(info.salesforce_instance_url + "/_sandbox/salesforce", info.ca_file, "")

    @property
    def requests(self) -> int:
        """API requests the editor and checker made (the UI routes are not API requests)."""
        return self.hs.requests + self.sf.requests

    def close(self) -> None:
        for api in (self.hs, self.sf, self.sf_ui):
            api.close()

    def _hubspot_contacts(self, archived: bool) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, "properties": ",".join(HS_PROPS),
                                      "archived": str(archived).lower()}
            if after:
                params["after"] = after
            page = self.hs.ok("GET", "/crm/v3/objects/contacts", params=params)
            out.update({r["id"]: r["properties"] for r in page["results"]})
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return out

    def _query(self, soql: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
        body = self.sf.ok("GET", f"{SF_API}/{'queryAll' if all_rows else 'query'}", params={"q": soql})
        rows = list(body["records"])
        while body.get("nextRecordsUrl"):
            body = self.sf.ok("GET", body["nextRecordsUrl"])
            rows += body["records"]
        return rows

    def picture(self, *, full: bool = False) -> Picture:
        hubspot = self._hubspot_contacts(False)
        leads = self._query(f"SELECT {SF_COMMON}, City, Status, Company, IsConverted, ConvertedContactId FROM Lead")
        contacts = self._query(f"SELECT {SF_COMMON}, MailingCity FROM Contact")
        sf: dict[str, dict[str, Any]] = {}
        converted: dict[str, dict[str, Any]] = {}
        for r in leads:
            (converted if r.get("IsConverted") else sf)[r["Id"]] = {**r, "object": "Lead"}
        for r in contacts:
            sf[r["Id"]] = {**r, "object": "Contact", "City": r.get("MailingCity")}
        picture = Picture(hubspot, sf, converted=converted)
        if full:
            picture.archived = self._hubspot_contacts(True)
            for obj in ("Lead", "Contact"):
                for r in self._query(f"SELECT Id, Email, MasterRecordId FROM {obj} WHERE IsDeleted = true",
                                     all_rows=True):
                    picture.deleted[r["Id"]] = {**r, "object": obj}
        return picture


# ------------------------------------------------------------------------------------------ the editor


@dataclass
class Edit:
    """One edit group in the ledger, with what its end state must be (`check` reads the end picture)."""

    kind: str
    at: float
    hubspot: str | None = None
    salesforce: str | None = None
    email: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "hubspot": self.hubspot, "salesforce": self.salesforce}


#: an edit group per kind; every round runs a slice of this rotation
KINDS = ("hs_create", "sf_create", "sf_update", "hs_update_email", "hs_update_overridden", "conflict",
         "hs_optout", "sf_optout", "convert", "hs_merge", "sf_merge", "hs_archive", "sf_delete", "gdpr_delete")


class Editor:
    """Makes the edits and keeps the ledger; never edits a person twice (one expected end state each)."""

    def __init__(self, systems: Systems, seed: int, baseline: Picture) -> None:
        self.systems = systems
        self.random = random.Random(seed)
        self.seed = seed
        self.ledger: list[Edit] = []
        self.touched: set[str] = set()  # record ids and e-mails of people edited already
        self.n = 0
        self.last_edit_at = 0.0
        self.pending: list[Callable[[Picture], None]] = []  # second halves of merges, run next round

    def _unique(self, stem: str) -> tuple[str, str]:
        self.n += 1
        return f"Soak{stem}{self.seed}x{self.n}", f"soak.{stem.lower()}.{self.seed}.{self.n}@example.com"

    def _note(self, edit: Edit) -> None:
        self.last_edit_at = time.time()
        self.ledger.append(edit)
        for key in (edit.hubspot, edit.salesforce, edit.email):
            if key:
                self.touched.add(key)

    def _pick(self, picture: Picture, *, lead: bool | None = None, filled: str | None = None, phone: bool = False
              ) -> tuple[str, str] | None:
        """A linked pair nobody has edited, with one e-mail on one record each side (and a value in Salesforce's
        `filled` field, for the edits whose expected end is that value). A deletion may pick a merge survivor, a
        Contact converted from a Lead or a person an older record left behind, and an edit of a Salesforce field
        may land while a run reads the pair: the soak found bugs there, now fixed. A phone edit never picks a
        pair whose phone the transform cannot read (never overwritten, by rule)."""
        hs_emails, sf_emails = picture.emails()
        candidates = []
        for h, s in picture.pairs():
            email = _email(picture.hubspot[h].get("email"))
            r = picture.salesforce[s]
            if not email or hs_emails[email] != 1 or sf_emails[email] != 1 or _email(r.get("Email")) != email:
                continue
            if {h, s, email} & self.touched or (lead is not None and (r["object"] == "Lead") != lead):
                continue
            if filled and not _text(r.get(filled)):
                continue
            if phone and not all(_e164(v) for v in (picture.hubspot[h].get("phone"), r.get("Phone")) if _text(v)):
                continue
            candidates.append((h, s))
        if not candidates:
            return None
        pair = self.random.choice(candidates)
        self.touched.update({pair[0], pair[1], _email(picture.hubspot[pair[0]].get("email"))})
        return pair

    def round(self, kinds: list[str]) -> None:
        """Finish last round's merges, then make one edit group of each kind in `kinds`."""
        picture = self.systems.picture()
        pending, self.pending = self.pending, []
        for finish in pending:
            finish(picture)
        for kind in kinds:
            getattr(self, kind)(picture)

    # ---------------------------------------------------------------- kinds

    def hs_create(self, _: Picture) -> None:
        name, email = self._unique("Hub")
        props = {"email": email, "firstname": "Ada", "lastname": name, "jobtitle": "Buyer",
                 "phone": f"+1 415 555 {1000 + self.n % 9000:04d}", "lifecyclestage": "marketingqualifiedlead",
                 "hs_legal_basis": LAWFUL_BASIS}
        made = self.systems.hs.ok("POST", "/crm/v3/objects/contacts", json={"properties": props})
        self._note(Edit("hs_create", time.time(), hubspot=made["id"], email=email,
                        expect={"firstname": "Ada", "lastname": name, "jobtitle": "Buyer"}))

    def sf_create(self, _: Picture) -> None:
        name, email = self._unique("Force")
        fields = {"Email": email, "FirstName": "Bo", "LastName": name, "Company": "Soak Ltd", "Title": "Analyst",
                  "Phone": f"+1 212 555 {1000 + self.n % 9000:04d}"}
        made = self.systems.sf.ok("POST", f"{SF_API}/sobjects/Lead", json=fields)
        self._note(Edit("sf_create", time.time(), salesforce=made["id"], email=email,
                        expect={"firstname": "Bo", "lastname": name, "jobtitle": "Analyst"}))

    def _patch_sf(self, picture: Picture, s: str, fields: dict[str, Any]) -> None:
        self.systems.sf.ok("PATCH", f"{SF_API}/sobjects/{picture.salesforce[s]['object']}/{s}", json=fields)

    def _patch_hs(self, h: str, props: dict[str, Any]) -> None:
        self.systems.hs.ok("PATCH", f"/crm/v3/objects/contacts/{h}", json={"properties": props})

    def sf_update(self, picture: Picture) -> None:
        unified = self.random.choice(["firstname", "lastname", "jobtitle", "phone", "city"])
        if (pair := self._pick(picture, phone=unified == "phone")) is None:
            return
        h, s = pair
        value = {"firstname": "Cyd", "lastname": f"Soakedit{self.n}", "jobtitle": f"Lead Buyer {self.n}",
                 "phone": f"+1 646 555 {1000 + self.n % 9000:04d}", "city": f"Soakville {self.n}"}[unified]
        self.n += 1
        native = {"firstname": "FirstName", "lastname": "LastName", "jobtitle": "Title", "phone": "Phone",
                  "city": "MailingCity" if picture.salesforce[s]["object"] == "Contact" else "City"}[unified]
        self._patch_sf(picture, s, {native: value})
        self._note(Edit("sf_update", time.time(), hubspot=h, salesforce=s, expect={unified: value}))

    def hs_update_email(self, picture: Picture) -> None:
        if (pair := self._pick(picture)) is None:
            return
        h, s = pair
        _, email = self._unique("Moved")
        self._patch_hs(h, {"email": email})
        self._note(Edit("hs_update_email", time.time(), hubspot=h, salesforce=s, email=email,
                        expect={"email": email}))

    def hs_update_overridden(self, picture: Picture) -> None:
        """A HubSpot edit the rule overrides: job title is prefer_salesforce_unless_blank and Salesforce has one."""
        if (pair := self._pick(picture, filled="Title")) is None:
            return
        h, s = pair
        self._patch_hs(h, {"jobtitle": f"Overridden {self.n}"})
        self._note(Edit("hs_update_overridden", time.time(), hubspot=h, salesforce=s,
                        expect={"jobtitle": picture.salesforce[s]["Title"].strip()}))

    def conflict(self, picture: Picture) -> None:
        """Both sides change the phone in the same round: Salesforce's wins (prefer_salesforce_unless_blank)."""
        if (pair := self._pick(picture, filled="Phone", phone=True)) is None:
            return
        h, s = pair
        self.n += 1
        self._patch_hs(h, {"phone": f"+1 303 555 {1000 + self.n % 9000:04d}"})
        winner = f"+1 720 555 {1000 + self.n % 9000:04d}"
        self._patch_sf(picture, s, {"Phone": winner})
        self._note(Edit("conflict", time.time(), hubspot=h, salesforce=s, expect={"phone": winner}))

    def hs_optout(self, picture: Picture) -> None:
        if (pair := self._pick(picture)) is None:
            return
        h, s = pair
        email = quote(_email(picture.hubspot[h]["email"]), safe="@")
        self.systems.hs.ok("POST", f"/communication-preferences/v4/statuses/{email}/unsubscribe-all",
                           params={"channel": "EMAIL"})
        self._note(Edit("hs_optout", time.time(), hubspot=h, salesforce=s, expect={"optout": True}))

    def sf_optout(self, picture: Picture) -> None:
        if (pair := self._pick(picture)) is None:
            return
        h, s = pair
        self._patch_sf(picture, s, {"HasOptedOutOfEmail": True})
        self._note(Edit("sf_optout", time.time(), hubspot=h, salesforce=s, expect={"optout": True}))

    def convert(self, picture: Picture) -> None:
        if (pair := self._pick(picture, lead=True)) is None:
            return
        h, s = pair
        made = self.systems.sf_ui.ok("POST", f"/leads/{s}/convert", json={"createOpportunity": False})
        self._note(Edit("convert", time.time(), hubspot=h, salesforce=made["contactId"], expect={"lead": s}))

    def hs_merge(self, picture: Picture) -> None:
        """A HubSpot contact below MQL (never sent to Salesforce) merged next round into a linked contact."""
        if (pair := self._pick(picture)) is None:
            return
        h, s = pair
        name, email = self._unique("Twin")
        made = self.systems.hs.ok("POST", "/crm/v3/objects/contacts", json={"properties": {
            "email": email, "lastname": name, "lifecyclestage": "subscriber"}})
        self._note(Edit("hs_merge_prospect", time.time(), hubspot=made["id"], email=email))

        def finish(_: Picture) -> None:
            merged = self.systems.hs.ok("POST", "/crm/v3/objects/contacts/merge", json={
                "primaryObjectId": h, "objectIdToMerge": made["id"]})
            self._note(Edit("hs_merge", time.time(), hubspot=merged["id"], salesforce=s, email=email,
                            expect={"merged": made["id"], "primary": h}))

        self.pending.append(finish)

    def sf_merge(self, picture: Picture) -> None:
        """A Lead with no e-mail (never sent to HubSpot) made the master of a linked Lead next round."""
        if (pair := self._pick(picture, lead=True)) is None:
            return
        h, s = pair
        name, _ = self._unique("Stub")
        made = self.systems.sf.ok("POST", f"{SF_API}/sobjects/Lead", json={"LastName": name, "Company": "Soak Ltd",
                                                                           "Phone": "+1 503 555 0100"})
        self._note(Edit("sf_merge_stub", time.time(), salesforce=made["id"]))

        def finish(_: Picture) -> None:
            self.systems.sf_ui.ok("POST", "/merge", json={"masterId": made["id"], "mergeIds": [s]})
            self._note(Edit("sf_merge", time.time(), hubspot=h, salesforce=made["id"], expect={"merged": s}))

        self.pending.append(finish)

    def hs_archive(self, picture: Picture) -> None:
        if (pair := self._pick(picture)) is None:
            return
        h, s = pair
        self.systems.hs.ok("DELETE", f"/crm/v3/objects/contacts/{h}")
        self._note(Edit("hs_archive", time.time(), hubspot=h, salesforce=s,
                        email=_email(picture.hubspot[h]["email"]), expect={"gone": True}))

    def sf_delete(self, picture: Picture) -> None:
        if (pair := self._pick(picture)) is None:
            return
        h, s = pair
        self.systems.sf.ok("DELETE", f"{SF_API}/sobjects/{picture.salesforce[s]['object']}/{s}")
        self._note(Edit("sf_delete", time.time(), hubspot=h, salesforce=s,
                        email=_email(picture.hubspot[h]["email"]), expect={"erased": True}))

    def gdpr_delete(self, picture: Picture) -> None:
        if (pair := self._pick(picture)) is None:
            return
        h, s = pair
        self.systems.hs.ok("POST", "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": h})
        self._note(Edit("gdpr_delete", time.time(), hubspot=h, salesforce=s,
                        email=_email(picture.hubspot[h]["email"]), expect={"erased": True}))


# ------------------------------------------------------------------------------------------ the checks


def _e164(value: Any) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(str(value or ""), "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)  # as the transform: no extension


def _text(value: Any) -> str:
    return str(value or "").strip()


@dataclass
class Checker:
    """Counts what it checked and says what did not hold (ids and field names only, never values)."""

    checked: int = 0
    mismatches: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> bool:
        self.checked += 1
        if not ok:
            self.mismatches.append(what)
        return ok


def agree(hs: dict[str, Any], sf: dict[str, Any]) -> list[str]:
    """The mapped fields of a linked pair that do not agree per contacts.toml's rules and transforms."""
    bad = []
    if _email(hs.get("email")) != _email(sf.get("Email")):
        bad.append("email")
    if _text(hs.get("firstname")) != _text(sf.get("FirstName")):
        bad.append("firstname")
    last, sf_last = _text(hs.get("lastname")), _text(sf.get("LastName"))
    if last != sf_last and not (not last and sf_last == "[not provided]"):
        bad.append("lastname")
    if _text(hs.get("jobtitle"))[:128] != _text(sf.get("Title")):
        bad.append("jobtitle")
    if _text(hs.get("city")) != _text(sf.get("City")):
        bad.append("city")
    a, b = _e164(hs.get("phone")), _e164(sf.get("Phone"))
    if a and b and a != b:  # an unparseable number is parked for a person, never copied (docs/mappings.md)
        bad.append("phone")
    if (str(hs.get("hs_email_optout")).lower() == "true") != bool(sf.get("HasOptedOutOfEmail")):
        bad.append("email_opt_out")
    if sf["object"] == "Lead" and sf.get("Status") and hs.get("hs_lead_status") not in STATUS_TO_HUBSPOT.get(
            sf["Status"], set()):
        bad.append("lead_status")
    return bad


def _store_bytes(store: Path) -> bytes:
    """The SQLite store as it is on disk, write-ahead log included (deleted rows linger in free pages); the
    minimum of `tests/store/test_erasure.py::store_bytes` for SQLite."""
    return b"".join(p.read_bytes() for p in (store, Path(f"{store}-wal"), Path(f"{store}-journal")) if p.exists())


def _where_in_store(store: Path, needle: str) -> str:
    """Which tables and columns hold `needle` (case-sensitive), or which file when no row does (free pages)."""
    import sqlite3

    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        found = []
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for column in [c[1] for c in db.execute(f'PRAGMA table_info("{table}")').fetchall()]:
                if db.execute(f'SELECT 1 FROM "{table}" WHERE instr(CAST("{column}" AS TEXT), ?) > 0 LIMIT 1',
                              (needle,)).fetchone():
                    found.append(f"{table}.{column}")
        found += [f"{system} {obj} {rid}" for system, obj, rid in db.execute(
            "SELECT system, object_type, record_id FROM source_record WHERE instr(CAST(data AS TEXT), ?) > 0",
            (needle,)).fetchall()]
    finally:
        db.close()
    files = [p.name for p in (store, Path(f"{store}-wal")) if p.exists() and needle.encode() in p.read_bytes()]
    return f"rows: {', '.join(found) or 'none'}; files: {', '.join(files) or 'none'}"


def _store_rows(store_url: str) -> tuple[list[Any], set[tuple[str, str]]]:
    """Unresolved parked records, and (system, record id) of every link and snapshot the store holds."""
    from sqlmodel import Session, select

    from connector.store import open_engine
    from connector.store.models import Link, ParkedRecord, SourceRecord

    engine = open_engine(store_url)
    try:
        with Session(engine) as s:
            parked = list(s.exec(select(ParkedRecord).where(ParkedRecord.resolved_at == None)).all())  # noqa: E711
            held = {(link.system, link.record_id) for link in s.exec(select(Link)).all()}
            held |= {(r.system, r.record_id) for r in s.exec(select(SourceRecord)).all()}
    finally:
        engine.dispose()
    return parked, held


def check(ledger: list[Edit], end: Picture, baseline: Picture, store_url: str, store: Path) -> Checker:
    """Everything the issue asks of the end state, against the ledger and the systems as they are."""
    c = Checker()
    parked, held = _store_rows(store_url)
    parked_ids = {p.record_id for p in parked}
    for p in parked:
        c.expect(bool(p.code) and bool(_text(p.message) or _text(p.hint)),
                 f"parked {p.system} {p.object_type} {p.record_id} has no reason")
    # every linked pair agrees (records parked for a person to look at excepted)
    pairs = end.pairs()
    linked = {h: s for h, s in pairs}
    for h, s in pairs:
        if h in parked_ids or s in parked_ids:
            continue
        bad = agree(end.hubspot[h], end.salesforce[s])
        c.expect(not bad, f"pair hubspot {h} / salesforce {s} disagrees on {', '.join(bad)}")
    # no duplicates: no e-mail on more live records of one system than the seeded world had
    for system, (now, before) in {"hubspot": (end.emails()[0], baseline.emails()[0]),
                                  "salesforce": (end.emails()[1], baseline.emails()[1])}.items():
        for email, n in now.items():
            c.expect(n <= max(1, before.get(email, 0)), f"{system}: {n} live records share an e-mail")
    by_email = {system: {_email(r.get("email" if system == "hubspot" else "Email")): i for i, r in records.items()}
                for system, records in (("hubspot", end.hubspot), ("salesforce", end.salesforce))}
    data = _store_bytes(store)

    def paired(h: str | None, s: str | None, what: str) -> bool:
        return c.expect(h is not None and s is not None and linked.get(h) == s,
                        f"{what}: hubspot {h} and salesforce {s} are not linked")

    def values(h: str, s: str, expect: dict[str, Any], what: str) -> None:
        native = {"firstname": "FirstName", "lastname": "LastName", "jobtitle": "Title", "email": "Email",
                  "city": "City", "phone": "Phone"}
        for name, value in expect.items():
            for system, record, key in (("hubspot", end.hubspot.get(h, {}), name),
                                        ("salesforce", end.salesforce.get(s, {}), native[name])):
                got = record.get(key)
                same = _e164(got) == _e164(value) if name == "phone" else _text(got).lower() == _text(
                    value).lower()
                c.expect(same, f"{what}: {system} {h if system == 'hubspot' else s} {key} is not the edit's value")

    for e in ledger:
        what = f"{e.kind} (hubspot {e.hubspot}, salesforce {e.salesforce})"
        if e.kind in ("hs_merge_prospect", "sf_merge_stub"):
            continue
        if e.kind == "hs_create":
            twin = by_email["salesforce"].get(e.email or "")
            if c.expect(e.hubspot in end.hubspot and twin is not None, f"{what}: not in both systems") and paired(
                    e.hubspot, twin, what):
                values(e.hubspot or "", twin or "", e.expect, what)
        elif e.kind == "sf_create":
            twin = by_email["hubspot"].get(e.email or "")
            if c.expect(e.salesforce in end.salesforce and twin is not None, f"{what}: not in both systems") and paired(
                    twin, e.salesforce, what):
                values(twin or "", e.salesforce or "", e.expect, what)
        elif e.kind in ("sf_update", "hs_update_email", "hs_update_overridden", "conflict"):
            if paired(e.hubspot, e.salesforce, what):
                values(e.hubspot or "", e.salesforce or "", e.expect, what)
        elif e.kind in ("hs_optout", "sf_optout"):
            if paired(e.hubspot, e.salesforce, what):
                c.expect(str(end.hubspot[e.hubspot or ""].get("hs_email_optout")).lower() == "true"
                         and bool(end.salesforce[e.salesforce or ""].get("HasOptedOutOfEmail")),
                         f"{what}: not opted out in both systems")
        elif e.kind == "convert":
            paired(e.hubspot, e.salesforce, what)
            c.expect(e.expect["lead"] in end.converted, f"{what}: the Lead is not converted")
        elif e.kind == "hs_merge":
            held_merge = any(p.code == "MERGED_ON_ONE_SIDE" and p.record_id == e.hubspot for p in parked)
            if not held_merge:
                paired(e.hubspot, e.salesforce, what)
            c.expect(e.expect["merged"] not in end.hubspot, f"{what}: the merged-away contact is live")
            c.expect((e.email or "") not in by_email["salesforce"],
                     f"{what}: the merged-away contact reached Salesforce")
        elif e.kind == "sf_merge":
            paired(e.hubspot, e.salesforce, what)
            c.expect(e.expect["merged"] not in end.salesforce, f"{what}: the merged-away Lead is live")
        elif e.kind in ("hs_archive", "sf_delete", "gdpr_delete"):
            c.expect(e.hubspot not in end.hubspot and e.salesforce not in end.salesforce,
                     f"{what}: a record of the deleted person is live")
            c.expect((e.email or "") not in by_email["hubspot"] and (e.email or "") not in by_email["salesforce"],
                     f"{what}: the deleted person's e-mail is on a live record")
            if e.kind != "hs_archive":  # erasure: nowhere in HubSpot (not even archived), nothing in the store
                c.expect(e.hubspot not in end.archived and (e.email or "") not in {
                    _email(p.get("email")) for p in end.archived.values()},
                    f"{what}: an archived HubSpot contact holds the erased person's e-mail")
                sid = e.salesforce or ""
                for label, needle in (("e-mail", e.email or ""), ("Salesforce id", sid), ("15-character id", sid[:15])):
                    if needle:
                        c.expect(needle.encode() not in data, f"{what}: the store still holds the erased person's "
                                 f"{label} ({_where_in_store(store, needle)})")
                c.expect(("hubspot", e.hubspot) not in held and ("salesforce", sid) not in held,
                         f"{what}: the store still holds a record of the erased person")
        else:
            raise SoakError(f"no check for edit kind {e.kind}")
    return c


# ------------------------------------------------------------------------------------------ the run


#: where the kills land, in turn: each is the start of a stage as the daemon logs it
KILL_STAGES = ("push: writing", "pull: reading", "reconcile: unifying", "score: scoring", "push: done")
_START = re.compile(r"^sync run (\d+) started")
_SUMMARY = re.compile(r"^sync run (\d+): (\w+);")


@dataclass
class SoakOptions:
    """How big and how long: `rounds` (short mode) or `minutes` of editing (long mode)."""

    work_dir: Path
    people: int = 200
    seed: int = 18
    rounds: int = 12
    minutes: float | None = None
    kinds_per_round: int = 7
    kill_every: int = 3


@dataclass
class SoakReport:
    """The figures, and what did not hold."""

    figures: dict[str, Any]
    mismatches: list[str]
    ledger: list[Edit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**self.figures, "mismatches": len(self.mismatches), "mismatch_sample": self.mismatches[:50]}


def _ts(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(record["ts"])).timestamp()


def _message(record: dict[str, Any]) -> str:
    return str(record.get("message", ""))


@contextlib.contextmanager
def _daemons() -> Iterator[list[DaemonProcess]]:
    """The daemons started in turn (the last is the live one); none outlives the soak."""
    started: list[DaemonProcess] = []
    try:
        yield started
    finally:
        for d in started:
            d.close()


def _start(started: list[DaemonProcess], config: Path) -> DaemonProcess:
    daemon = DaemonProcess(config, env={"PYTHONUNBUFFERED": "1"})
    started.append(daemon)
    daemon.message("leading")
    return daemon


def run_soak(options: SoakOptions, log: Callable[[str], None] = lambda _: None) -> SoakReport:
    """Run the soak; returns its figures and mismatches (the caller decides what fails)."""
    work = options.work_dir
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store.db"
    store_url = f"sqlite:///{store}"
    started_at = time.time()
    with Sandbox(people=options.people, seed=options.seed, rate_limits=False) as sb, _daemons() as daemons:
        config = work / "connector.toml"
        config.write_text(soak_config(sb.connector_config(store_url)))
        with contextlib.redirect_stdout(io.StringIO()):  # setup's JSON report: not the soak's output
            if connector_main(["setup", "--apply", "--config", str(config), "--json"]) != 0:
                raise SoakError("connector setup --apply failed")
        systems = Systems(sb)
        try:
            baseline = systems.picture(full=True)
            editor = Editor(systems, options.seed, baseline)
            counted = {s: getattr(sb, s).counter.total() for s in ("hubspot", "salesforce")}
            editor_before = systems.requests
            for system in (sb.hubspot, sb.salesforce):
                for rule in fault_rules():
                    system.faults.add(rule)
            daemon = _start(daemons, config)
            kills: list[str] = []
            rotation = 0
            round_end = 0.0
            rounds = 0
            while (rounds < options.rounds) if options.minutes is None else (
                    time.time() - started_at < options.minutes * 60):
                daemon.wait_for(_run_start_after(round_end), "a run's start")
                kinds = [KINDS[(rotation + i) % len(KINDS)] for i in range(options.kinds_per_round)]
                rotation += options.kinds_per_round
                editor.round(kinds)
                rounds += 1
                log(f"round {rounds}: {len(editor.ledger)} edits so far")
                if rounds % options.kill_every == 0:
                    stage = KILL_STAGES[len(kills) % len(KILL_STAGES)]
                    now = time.time()
                    daemon.wait_for(lambda r: _message(r).startswith(stage) and _ts(r) >= now, repr(stage))  # noqa: B023
                    daemon.kill()
                    kills.append(stage)
                    log(f"killed the daemon at {stage!r}")
                    daemon = _start(daemons, config)
                round_end = time.time()
            editor.round([])  # the merges the last round began
            last_edit = editor.last_edit_at
            faults: Counter[str] = Counter()
            for system in (sb.hubspot, sb.salesforce):
                for fired in system.faults.rules():
                    past = fired["kind"] == "slow" and fired["delay"] > TIMEOUT_S
                    kind = "slow-past-timeout" if past else fired["kind"]
                    faults[kind] += fired["fired"]
                system.faults.clear()
            faults_off = time.time()
            faulted_requests = sum(getattr(sb, s).counter.total() - counted[s] for s in counted)
            editor_requests = systems.requests - editor_before
            log("faults off; waiting for two clean cycles")
            clean = _clean_cycles(daemon, max(last_edit + SAFETY_LAG_S + 1, faults_off))
            exit_code = daemon.term()
            end = systems.picture(full=True)
            checker = check(editor.ledger, end, baseline, store_url, store)
            checker.expect(exit_code == 0, f"the daemon's SIGTERM exit code was {exit_code}")
            crashed = [d for d in daemons if any("Traceback" in line for line in d.other)]
            checker.expect(not crashed, f"{len(crashed)} daemons wrote a traceback")
            unexpected = [r for d in daemons for r in d.records if "unexpectedly" in _message(r)]
            checker.expect(not unexpected, f"{len(unexpected)} runs failed unexpectedly")
        finally:
            systems.close()
        total = {s: getattr(sb, s).counter.total() for s in ("hubspot", "salesforce")}
    runs = _run_statuses(store_url)
    erased_in_bin = sum(1 for e in editor.ledger if e.kind in ("sf_delete", "gdpr_delete")
                        and e.salesforce in end.deleted)
    figures = {
        "people_seeded": options.people, "seed": options.seed, "rounds": rounds,
        "seconds": round(time.time() - started_at, 1),
        "edits": dict(sorted(Counter(e.kind for e in editor.ledger).items())),
        "edits_total": len(editor.ledger),
        "requests": {**total, "editor_and_checker": systems.requests,
                     "connector": sum(total.values()) - systems.requests},
        "faulted_phase": {"requests": faulted_requests, "editor_requests": editor_requests,
                          "faults": dict(sorted(faults.items())), "faults_total": sum(faults.values()),
                          "fault_share": round(sum(faults.values()) / max(1, faulted_requests), 4)},
        "kills": len(kills), "kill_stages": kills, "daemons_started": len(daemons),
        "runs": runs, "clean_cycles_at_end": clean,
        "records_checked": {"hubspot_live": len(end.hubspot), "salesforce_live": len(end.salesforce),
                            "linked_pairs": len(end.pairs()), "checks": checker.checked},
        "erased_people_in_salesforce_recycle_bin": erased_in_bin,
    }
    return SoakReport(figures, checker.mismatches, editor.ledger)


def _run_start_after(since: float) -> Callable[[dict[str, Any]], bool]:
    return lambda r: bool(_START.match(_message(r))) and _ts(r) >= since


def _clean_cycles(daemon: DaemonProcess, after: float, needed: int = 2) -> int:
    """Wait for `needed` runs that started after `after` and ended ok (or partial: parked records)."""
    qualified: set[str] = set()
    clean = 0
    while clean < needed:
        record = daemon.wait_for(lambda r: bool(_START.match(_message(r)) or _SUMMARY.match(_message(r))),
                                 "a run's start or summary")
        if (m := _START.match(_message(record))) and _ts(record) >= after:
            qualified.add(m.group(1))
            if len(qualified) > needed + 6:
                raise SoakError(f"only {clean} clean runs among the {len(qualified) - 1} after the faults stopped")
        elif (m := _SUMMARY.match(_message(record))) and m.group(1) in qualified and m.group(2) in ("ok", "partial"):
            clean += 1
    return clean


def _run_statuses(store_url: str) -> dict[str, int]:
    from sqlmodel import Session, select

    from connector.store import open_engine
    from connector.store.models import SyncRun

    engine = open_engine(store_url)
    try:
        with Session(engine) as s:
            return dict(sorted(Counter(r.status for r in s.exec(select(SyncRun)).all()).items()))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the editor edits")
    parser.add_argument("--people", type=int, default=600)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", action="store_true", help="write bench/results/soak-<minutes>m.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="connector-soak-") as tmp:
        report = run_soak(SoakOptions(Path(tmp), people=args.people, seed=args.seed, minutes=args.minutes),
                          log=lambda line: print(line, file=sys.stderr, flush=True))
    out = report.to_json()
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        path = ROOT / "bench" / "results" / f"soak-{args.minutes:g}m.json"
        path.write_text(text + "\n")
    return 0 if not report.mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
