"""Checks a cycle makes of the systems besides reading changes: that the mapped fields fit both systems, that
setup ran, and which contacts are gone for good."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..errors import ConfigError, ConfigProblem
from ..reconcile.mapping import ContactMapping, Mappings
from ..reconcile.records import RecordKey
from ..setup import require_live_fit
from ..setup.specs import mapped_names
from ..store.erasure import live_record_ids, mark_deleted, mark_erased
from ..store.models import StoreState
from ..store.state import (last_presence_check, read_state, record_presence_check, record_setup_properties,
                           setup_properties, write_state)
from ..systems.hubspot import HubSpotSource
from ..systems.salesforce import SalesforceSource
from .mapping_history import mapping_texts
from .results import PresenceCheck

__all__ = ["check_live_fit", "check_presence", "check_setup", "forget_live_fit", "mark_setup_done"]

_LIVE_FIT = "live-fit:passed"


def _mappings_digest(mappings: Mappings) -> str:
    """What the live check depends on: every native name the field files use, their texts, and whether there is
    a scoring file (its outputs are checked, whatever the file says)."""
    blob = json.dumps([mapped_names(mappings), mapping_texts(mappings), mappings.scoring is not None],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def check_live_fit(engine: Engine, hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings,
                   now_ms: int, max_age_ms: int) -> bool:
    """`require_live_fit` (a mapped field a system lacks stops the run, exit 2), unless these very mappings
    passed it within `max_age_ms`: the check reads one metadata call per mapped object, which an idle cycle
    would otherwise spend every time. A changed mapping file, `connector setup --apply` and a failed run
    (`forget_live_fit`) make the next run check again. Returns whether it read the systems."""
    digest = _mappings_digest(mappings)
    passed = read_state(engine, _LIVE_FIT)
    if max_age_ms > 0 and passed and passed.get("digest") == digest \
            and 0 <= now_ms - int(passed.get("checked_at") or 0) < max_age_ms:
        return False
    require_live_fit(hubspot, salesforce, mappings)
    write_state(engine, _LIVE_FIT, {"digest": digest, "checked_at": now_ms}, now_ms)
    return True


def forget_live_fit(engine: Engine) -> None:
    """The next run checks the mapped fields against both systems again (their metadata may have changed)."""
    with Session(engine) as session, session.begin():
        session.execute(delete(StoreState).where(col(StoreState.name) == _LIVE_FIT))


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
