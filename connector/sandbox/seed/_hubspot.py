"""Renders a person as HubSpot sees them: the contact, deals and sales engagements with their associations."""

from __future__ import annotations

import random
from typing import Any

from connector.sandbox.dataset import Association

from . import _words as W
from ._ids import Ids
from ._person import History, Person
from ._rng import Weighted, between, one_of
from ._schema import CustomSchema
from ._time import DAY, HOUR, MINUTE
from ._vocab import NUMEMPLOYEES_BUCKETS, OPP_TO_DEAL_STAGE

__all__ = ["HubSpotRenderer", "SALES_MEAN"]

# mean sales engagements per person by funnel stage (before SeedProfile.sales_activity_scale)
SALES_MEAN = {
    "subscriber": 0.0,
    "lead": 0.6,
    "marketingqualifiedlead": 1.5,
    "salesqualifiedlead": 3.0,
    "opportunity": 5.0,
    "customer": 4.0,
    "evangelist": 3.0,
    "other": 1.0,
}
_KINDS = Weighted([("calls", 0.28), ("emails", 0.30), ("meetings", 0.12), ("notes", 0.15), ("tasks", 0.15)])
_CALL_STATUS = Weighted(
    [("COMPLETED", 0.70), ("NO_ANSWER", 0.15), ("BUSY", 0.07), ("FAILED", 0.04), ("CANCELED", 0.04)]
)
_MEETING_OUTCOME = Weighted([("COMPLETED", 0.70), ("NO_SHOW", 0.10), ("RESCHEDULED", 0.10), ("CANCELED", 0.10)])
_EMAIL_DIRECTION = Weighted([("EMAIL", 0.65), ("INCOMING_EMAIL", 0.30), ("FORWARDED_EMAIL", 0.05)])
_EMAIL_STATUS = Weighted([("SENT", 0.92), ("BOUNCED", 0.05), ("FAILED", 0.03)])
Records = dict[str, list[dict[str, Any]]]


def numemployees(n: int) -> str:
    """HubSpot's employee-count bucket."""
    for top, label in NUMEMPLOYEES_BUCKETS:
        if n <= top:
            return label
    return "1000+"


def _old_address(person: Person, n: int) -> str:
    """The address a merged-away duplicate had: a personal one, or the person's older work address."""
    local = person.email.partition("@")[0]
    return (f"{local}{person.index}@gmail.com", f"{local}.old{person.index}@{person.company.domain}")[n % 2]


def history_json(entries: History) -> list[dict[str, Any]]:
    """HubSpot's history shape, newest first."""
    return [{"value": v, "timestamp": t, "sourceType": s} for v, t, s in reversed(entries)]


class HubSpotRenderer:
    """Appends one person's HubSpot records to a batch."""

    def __init__(self, rng: random.Random, now_ms: int, history_days: int, sales_scale: float, ids: Ids,
                 schema: CustomSchema | None = None) -> None:
        self.rng = rng
        self.now = now_ms
        self.window = history_days * DAY
        self.scale = sales_scale
        self.ids = ids
        self.schema = schema

    def render(self, person: Person, out: Records, assoc: list[Association],
               merged: list[tuple[str, str, str]] | None = None) -> str:
        """Adds the contact, its deal and engagements; returns the contact id. Ids the contact absorbed
        by merges are allocated first (the merge's survivor is the newer record) and added to `merged`."""
        absorbed = [self.ids.hubspot("contacts") for _ in range(person.hs_absorbed)]
        cid = self.ids.hubspot("contacts")
        company = person.company
        owner = person.owner.hs_owner_id if person.hs_owned else None
        props: dict[str, str | None] = {
            "email": person.email,
            "firstname": person.first,
            "lastname": person.hs_lastname,
            "phone": person.hs_phone,
            "mobilephone": person.mobile,
            "company": person.hs_company,
            "jobtitle": person.hs_title,
            "website": f"https://www.{company.domain}",
            "city": person.city,
            "state": person.state,
            "country": person.hs_country,
            "industry": company.industry,
            "numemployees": numemployees(company.employees),
            "annualrevenue": str(company.revenue),
            "lifecyclestage": person.stage,
            "hs_lead_status": person.lead_status,
            "hubspot_owner_id": owner,
            "hs_legal_basis": person.legal_basis,
            "hs_email_optout": "true" if person.optout_hs else None if person.hs_optout_unset else "false",
            "hs_analytics_source": person.hs_source,
        }
        for key in ("mobilephone", "state", "hs_lead_status", "hubspot_owner_id", "hs_legal_basis", "hs_email_optout"):
            if props[key] is None:
                del props[key]
        if absorbed:
            props["hs_merged_object_ids"] = ";".join(absorbed)
            props["hs_additional_emails"] = ";".join(_old_address(person, n) for n in range(len(absorbed)))
            if merged is not None:
                merged.extend(("contacts", old, cid) for old in absorbed)
        if self.schema is not None:
            props.update(self.schema.hubspot_values())
        record: dict[str, Any] = {
            "id": cid,
            "properties": props,
            "createdAt": person.hs_created,
            "updatedAt": person.hs_modified,
        }
        if person.history:
            record["history"] = {k: history_json(v) for k, v in person.history.items()}
        if person.hs_archived_at:
            record["archived"] = True
            record["archivedAt"] = person.hs_archived_at
        out["contacts"].append(record)
        opp = person.opp
        if opp is not None and opp.in_hubspot:
            created = max(opp.created, person.hs_created)
            did = self.ids.hubspot("deals")
            deal = {
                "id": did,
                "properties": {
                    "dealname": opp.name,
                    "amount": str(opp.amount),
                    "dealstage": OPP_TO_DEAL_STAGE[opp.stage],
                    "pipeline": "default",
                    "closedate": str(opp.close_ms),
                    "hubspot_owner_id": person.owner.hs_owner_id,
                },
                "createdAt": created,
                "updatedAt": max(opp.modified, created),
            }
            if opp.prior_stage:
                deal["history"] = {
                    "dealstage": history_json(
                        [
                            (OPP_TO_DEAL_STAGE[opp.prior_stage], created, "CRM_UI"),
                            (OPP_TO_DEAL_STAGE[opp.stage], max(opp.close_ms, created), "CRM_UI"),
                        ]
                    )
                }
            out["deals"].append(deal)
            assoc.append(("contacts", cid, "deals", did))
        if person.hs_owned:
            self._engagements(person, cid, owner or "", out, assoc)
        return cid

    def _engagements(self, person: Person, cid: str, owner: str, out: Records, assoc: list[Association]) -> None:
        rng, now = self.rng, self.now
        mean = SALES_MEAN[person.stage] * self.scale
        if mean <= 0:
            return
        count = int(rng.expovariate(1.0 / mean) + 0.5)
        lo = max(person.hs_created, now - self.window)
        for _ in range(count):
            kind = _KINDS.pick(rng)
            at = between(rng, lo, now)
            eid = self.ids.hubspot(kind)
            created, ts = at, at
            if kind == "calls":
                status = _CALL_STATUS.pick(rng)
                props = {
                    "hs_call_title": one_of(rng, W.CALL_TITLES),
                    "hs_call_body": one_of(rng, W.NOTE_BODIES),
                    "hs_call_direction": "OUTBOUND" if rng.random() < 0.8 else "INBOUND",
                    "hs_call_status": status,
                    "hs_call_duration": str(between(rng, 30_000, 3_600_000 - 1) if status == "COMPLETED" else 0),
                }
            elif kind == "emails":
                props = {
                    "hs_email_direction": _EMAIL_DIRECTION.pick(rng),
                    "hs_email_subject": one_of(rng, W.EMAIL_SUBJECTS),
                    "hs_email_status": _EMAIL_STATUS.pick(rng),
                }
            elif kind == "meetings":
                future = rng.random() < 0.15
                if future:
                    ts = now + between(rng, HOUR, 21 * DAY - 1)
                start = ts
                props = {
                    "hs_meeting_title": one_of(rng, W.MEETING_TITLES),
                    "hs_meeting_body": one_of(rng, W.NOTE_BODIES),
                    "hs_meeting_start_time": str(start),
                    "hs_meeting_end_time": str(start + one_of(rng, (30, 45, 60)) * MINUTE),
                    "hs_meeting_outcome": "SCHEDULED" if future else _MEETING_OUTCOME.pick(rng),
                }
            elif kind == "notes":
                props = {"hs_note_body": one_of(rng, W.NOTE_BODIES)}
            else:
                done = rng.random() < 0.6
                ts = at if done else now + between(rng, HOUR, 14 * DAY - 1)
                props = {
                    "hs_task_subject": one_of(rng, W.TASK_SUBJECTS),
                    "hs_task_body": one_of(rng, W.NOTE_BODIES),
                    "hs_task_status": "COMPLETED" if done else "NOT_STARTED",
                    "hs_task_priority": one_of(rng, ("LOW", "MEDIUM", "HIGH")),
                    "hs_task_type": one_of(rng, ("EMAIL", "CALL", "TODO")),
                }
            props["hs_timestamp"] = str(ts)
            props["hubspot_owner_id"] = owner
            updated = created if rng.random() < 0.8 else between(rng, created, now)
            out[kind].append({"id": eid, "properties": props, "createdAt": created, "updatedAt": updated})
            assoc.append(("contacts", cid, kind, eid))
