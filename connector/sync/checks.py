"""Checks a cycle makes of HubSpot besides reading changes: that setup ran, and which contacts are gone for good."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from ..errors import ConfigError, ConfigProblem
from ..reconcile.mapping import ContactMapping
from ..reconcile.records import RecordKey
from ..store.erasure import live_record_ids, mark_deleted, mark_erased
from ..store.state import last_presence_check, record_presence_check, record_setup_properties, setup_properties
from ..systems.hubspot import HubSpotSource
from .results import PresenceCheck

__all__ = ["check_presence", "check_setup", "mark_setup_done"]


def _cross_reference_properties(mapping: ContactMapping) -> list[str]:
    ident = mapping.identity
    return sorted({ident.hubspot_lead_id_property, ident.hubspot_contact_id_property})


def mark_setup_done(engine: Engine, mapping: ContactMapping, now_ms: int) -> None:
    """Remember that HubSpot has the connector's cross-reference properties (after `connector setup`)."""
    record_setup_properties(engine, _cross_reference_properties(mapping), now_ms)


def check_setup(engine: Engine, hubspot: HubSpotSource, mapping: ContactMapping, now_ms: int) -> None:
    """Stop before any write when HubSpot lacks the properties creates are upserted on (setup never ran):
    otherwise every create would be refused and parked. Checked once per store (one properties call)."""
    needed = _cross_reference_properties(mapping)
    if setup_properties(engine) == needed:
        return
    names = {str(p.get("name")) for p in hubspot.properties("contacts")}
    missing = [n for n in needed if n not in names]
    if missing:
        raise ConfigError([ConfigProblem(
            "hubspot", "contacts properties", f"HubSpot has no {', '.join(missing)}: the connector records the "
            "Salesforce ids there and creates contacts by them, so nothing can be written yet",
            "run `connector setup --apply` once (it creates the connector's properties), then sync again")])
    mark_setup_done(engine, mapping, now_ms)


def check_presence(engine: Engine, hubspot: HubSpotSource, now_ms: int, every_ms: int) -> PresenceCheck:
    """Find HubSpot contacts deleted for good (GDPR delete), which no listing or search reports.

    Every `every_ms`, the stored live contacts are batch-read (100 per call); one missing both live and
    archived was erased at the source. The first run only starts the clock (it has just listed them all).
    """
    last = last_presence_check(engine)
    if last is not None and now_ms - last < every_ms:
        return PresenceCheck(ran=False)
    counts = PresenceCheck()
    if last is not None:
        # the contacts the connector created too: one archived before any pull saw it is found here
        ids = live_record_ids(engine, "hubspot", "contacts")
        missing = sorted(set(ids) - hubspot.present("contacts", ids))
        archived = hubspot.present("contacts", missing, archived=True) if missing else set()
        counts = PresenceCheck(checked=len(ids), erased=mark_erased(
            engine, "hubspot", "contacts", [i for i in missing if i not in archived], now_ms), archived=len(archived))
        if archived:
            mark_deleted(engine, [RecordKey("hubspot", "contacts", i) for i in archived], now_ms)
    record_presence_check(engine, now_ms)
    return counts
