"""Field-level change times, read only where they decide something (pure planning + store update).

HubSpot bumps a contact's modified time for changes nobody syncs (analytics counters, e-mail
statistics), so a record-level time can make an old owner or e-mail look newer than Salesforce's.
Property history gives the real time of each value, but costs a batch read per 50 records, so it is
read only for the fields a ``most_recent`` rule settled on record times while the two sides disagreed;
reconciliation then runs again with those times (provenance says "field" or "record" accordingly).

A property HubSpot keeps no history for (one never set) is remembered as asked (``None`` in the stored
record's ``field_times``), so an idle cycle does not ask again for a person whose conflict stays open (an
owner the other system cannot hold, say): the next pull of the record replaces its ``field_times``, and
with them what was asked, so a changed record is asked afresh.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..reconcile.engine import ReconcileResult
from ..reconcile.mapping import ContactMapping
from ..store.models import SourceRecord

__all__ = ["history_wanted", "save_field_times", "unasked"]


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


def unasked(engine: Engine, wanted: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """`wanted` without the properties already asked of the stored version of each contact (answered with a
    time, which reconciliation then used, or with no history at all): what a history read can still tell."""
    if not wanted:
        return {}
    with Session(engine) as session:
        rows = session.exec(select(SourceRecord.record_id, SourceRecord.field_times).where(
            col(SourceRecord.system) == "hubspot", col(SourceRecord.object_type) == "contacts",
            col(SourceRecord.record_id).in_(list(wanted)))).all()
    asked = {rid: set(times or ()) for rid, times in rows}
    out = {rid: props - asked.get(rid, set()) for rid, props in wanted.items()}
    return {rid: props for rid, props in out.items() if props}


def save_field_times(engine: Engine, times: Mapping[str, Mapping[str, int]],
                     asked: Mapping[str, set[str]] | None = None) -> int:
    """Merge property change times into the stored HubSpot contacts (until their next pull replaces them);
    the `asked` properties without a time are kept as None (asked, no history). Returns the contacts
    given times."""
    n = 0
    with Session(engine) as session, session.begin():
        for rid in set(times) | set(asked or {}):
            row = session.get(SourceRecord, ("hubspot", "contacts", rid))
            if row is None:
                continue
            props = times.get(rid, {})
            none = {p: None for p in (asked or {}).get(rid, set()) if p not in props}
            row.field_times = {**(row.field_times or {}), **none, **props}
            session.add(row)
            n += rid in times
    return n
