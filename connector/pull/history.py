"""Field-level change times, read only where they decide something (pure planning + store update).

HubSpot bumps a contact's modified time for changes nobody syncs (analytics counters, e-mail
statistics), so a record-level time can make an old owner or e-mail look newer than Salesforce's.
Property history gives the real time of each value, but costs a batch read per 50 records, so it is
read only for the fields a ``most_recent`` rule settled on record times while the two sides disagreed;
reconciliation then runs again with those times (provenance says "field" or "record" accordingly).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..reconcile.engine import ReconcileResult
from ..reconcile.mapping import ContactMapping
from ..store.models import SourceRecord

__all__ = ["history_wanted", "save_field_times"]


def history_wanted(result: ReconcileResult, mapping: ContactMapping) -> dict[str, set[str]]:
    """HubSpot contact id -> properties whose change time would settle a most_recent conflict."""
    native = {f.name: f.hubspot for f in mapping.fields if f.rule == "most_recent" and f.hubspot}
    wanted: dict[str, set[str]] = {}
    for person in result.people:
        hubspot = [k.id for k in person.links if k.system == "hubspot" and k.object_type == "contacts"]
        for name, prov in person.fields.items():
            prop = native.get(name)
            if prop is None or not prov.losing or prov.time_basis == "field":
                continue
            if prov.system == "hubspot":
                rid = prov.source_id
            elif any(system == "hubspot" for system, _, _ in prov.losing) and hubspot:
                rid = hubspot[0]
            else:
                continue
            if rid:
                wanted.setdefault(rid, set()).add(prop)
    return wanted


def save_field_times(engine: Engine, times: Mapping[str, Mapping[str, int]]) -> int:
    """Merge property change times into the stored HubSpot contacts (until their next pull replaces them)."""
    n = 0
    with Session(engine) as session, session.begin():
        for rid, props in times.items():
            row = session.get(SourceRecord, ("hubspot", "contacts", rid))
            if row is None:
                continue
            row.field_times = {**(row.field_times or {}), **props}
            session.add(row)
            n += 1
    return n
