"""Sales feedback from the stored records (pure): lead status, conversion and opportunities, as `Signals`.

Salesforce is the sales system: the live Lead's Status is the feedback; a person with no live Lead
(only in HubSpot, say) gives it through HubSpot's `hs_lead_status`. A converted Lead (any linked, history
included) counts as qualified. Opportunities and HubSpot deals reduce to the earliest open one, the
first won and the last lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any

from .model import ScoringModel
from .status import Opportunities, Signals

__all__ = ["LinkedRecord", "is_live_person_record", "signals_of", "to_ms"]


@dataclass(frozen=True, slots=True)
class LinkedRecord:
    """A record of a person (or one of their opportunities) as scoring reads it from the store."""

    system: str
    object_type: str
    record_id: str
    role: str  # primary | history | duplicate ("opportunity" for opportunities and deals)
    changed_at: int  # when someone other than the connector last changed it (epoch ms)
    deleted: bool
    data: Mapping[str, Any]
    fetched_at: int = 0  # when the store last received it


def to_ms(value: Any) -> int | None:
    """Epoch ms from either system's time forms: ISO-8601 ("...Z", "...+0000"), a date (noon UTC), epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(hour=12, tzinfo=UTC)
            return int(day.timestamp() * 1000)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
            text = text[:-2] + ":" + text[-2:]
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    except ValueError:
        return None


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def is_live_person_record(r: LinkedRecord) -> bool:
    """A record the scorer writes to: the person's primary HubSpot contact, Lead (not converted) or Contact."""
    if r.role != "primary" or r.deleted:
        return False
    if r.object_type == "Lead":
        return not _true(r.data.get("IsConverted"))
    return r.object_type in ("contacts", "Contact")


def _opportunities(opps: Sequence[LinkedRecord]) -> Opportunities:
    open_since: tuple[int, LinkedRecord] | None = None
    won: tuple[int, LinkedRecord] | None = None
    lost: tuple[int, LinkedRecord] | None = None
    for r in opps:
        d = r.data
        if r.system == "salesforce":
            closed, is_won = _true(d.get("IsClosed")), _true(d.get("IsWon"))
            created, close = to_ms(d.get("CreatedDate")), to_ms(d.get("CloseDate"))
        else:
            stage = str(d.get("dealstage") or "")
            closed = _true(d.get("hs_is_closed")) or stage in ("closedwon", "closedlost")
            is_won = _true(d.get("hs_is_closed_won")) or stage == "closedwon"
            created, close = to_ms(d.get("createdate")), to_ms(d.get("closedate"))
        created = created if created is not None else r.changed_at
        close = close if close is not None else r.changed_at
        if not closed:
            if open_since is None or created < open_since[0]:
                open_since = (created, r)
        elif is_won:
            if won is None or close < won[0]:
                won = (close, r)
        elif lost is None or close > lost[0]:
            lost = (close, r)
    chosen = won or open_since or lost
    if chosen is None:
        return Opportunities()
    return Opportunities(open_since=open_since[0] if open_since else None, won_at=won[0] if won else None,
                         lost_at=lost[0] if lost else None, system=chosen[1].system, source_id=chosen[1].record_id)


_NO_OPPORTUNITIES = Opportunities()


def signals_of(model: ScoringModel, records: Sequence[LinkedRecord], opportunities: Sequence[LinkedRecord]
               ) -> Signals:
    """What sales said about the person, from their records and opportunities (one pass over the records)."""
    lead: LinkedRecord | None = None
    contact: LinkedRecord | None = None
    converted: list[int] = []
    for r in records:
        if r.object_type == "Lead":
            data = r.data
            if r.deleted:
                continue
            if _true(data.get("IsConverted")):
                converted.append(to_ms(data.get("ConvertedDate")) or r.changed_at)
            elif lead is None and r.role == "primary":
                lead = r
        elif contact is None and r.object_type == "contacts" and r.role == "primary" and not r.deleted:
            contact = r
    status: tuple[str, str, int] | None = None
    reason: str | None = None
    source: str | None = None
    if lead is not None and lead.data.get("Status"):
        status = ("salesforce", str(lead.data["Status"]), lead.changed_at)
        source = lead.record_id
        field = model.status.reason_field
        if field and lead.data.get(field):
            reason = str(lead.data[field])[:255]
    elif lead is None:
        if contact is not None and contact.data.get("hs_lead_status"):
            status = ("hubspot", str(contact.data["hs_lead_status"]), contact.changed_at)
            source = contact.record_id
    return Signals(status, reason, min(converted) if converted else None,
                   _opportunities(opportunities) if opportunities else _NO_OPPORTUNITIES, source)
