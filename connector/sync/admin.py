"""What an admin runs against both systems outside a run: the live check of `validate --live`, `setup`, and
the field listing of `connector fields`.

Each opens the systems the one way (`open_systems`), does its one job and closes them; none takes the
store's run lock (none reads or writes a record).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from ..config import ConnectorConfig
from ..errors import ConfigError, ConfigProblem
from ..reconcile import MappingError, load_mappings
from ..reconcile.mapping import Mappings
from ..setup import SetupReport, require_live_fit, run_setup
from ..setup.fields import annotate, hubspot_rows, matches, salesforce_rows
from ..store import open_engine
from ..store.metadata_cache import forget_metadata, read_metadata, write_metadata
from ..wording import at
from .checks import forget_live_fit, mark_setup_done
from .systems import Systems, open_systems

__all__ = ["FIELDS_CACHE_MS", "configured_mappings", "list_fields", "mapping_config_error", "set_up",
           "validate_live"]

#: how long `connector fields` lists the metadata it read before without asking again (`--refresh`: at once)
FIELDS_CACHE_MS = 24 * 3_600_000


def configured_mappings(cfg: ConnectorConfig) -> Mappings:
    """The RevOps mapping files of `[mappings] directory`, validated; every problem becomes a configuration
    problem (exit 2)."""
    directory = cfg.mappings.directory
    if not directory.is_dir():
        raise ConfigError([ConfigProblem("config", "[mappings].directory", f"no such directory: {directory}",
                                         "point it at your mapping files, or remove the key to use the ones "
                                         "shipped with the connector")])
    try:
        return load_mappings(directory)
    except MappingError as exc:
        raise mapping_config_error(exc) from exc


def mapping_config_error(exc: MappingError) -> ConfigError:
    """A mapping file's problems as configuration problems: exit 2, every problem listed."""
    return ConfigError([ConfigProblem(p.file, p.path or "-", p.message, p.hint) for p in exc.problems])


def validate_live(cfg: ConnectorConfig, mappings: Mappings) -> list[ConfigProblem]:
    """Unknown fields, type mismatches, disallowed picklist values, read-only or doubly-mapped targets
    (raised as a ConfigError); returns the suggestions (e.g. a truncate for a field of limited length)."""
    systems = open_systems(cfg, open_engine(cfg.store.url), int(time.time() * 1000))
    try:
        return require_live_fit(systems.hubspot, systems.salesforce, mappings)
    finally:
        systems.close()


def set_up(cfg: ConnectorConfig, mappings: Mappings, *, apply: bool) -> SetupReport:
    """Create the HubSpot properties the mappings need (with `apply`) and list the Salesforce fields an admin
    must add (created directly only on a local sandbox); once HubSpot has them all, the store remembers."""
    engine = open_engine(cfg.store.url)
    systems = open_systems(cfg, engine, int(time.time() * 1000))
    try:
        assert cfg.salesforce is not None
        report = run_setup(systems.hubspot, systems.salesforce, mappings, apply=apply,
                           create_salesforce_fields=_is_local(cfg.salesforce.instance_url))
        if apply and not report.hubspot.problems:
            mark_setup_done(engine, mappings.contacts, int(time.time() * 1000))
        if apply:
            forget_metadata(engine)  # `connector fields` reads what setup made, not the listing from before
            forget_live_fit(engine)  # and the next sync checks the mapped fields against it
    finally:
        systems.close()
    return report


def list_fields(cfg: ConnectorConfig, targets: list[tuple[str, str]], *, search: str | None = None,
                refresh: bool = False, now_ms: int | None = None) -> dict[str, Any]:
    """`connector fields`: each target's (system, object) live fields, with what the mappings do with each.

    Metadata read less than `FIELDS_CACHE_MS` ago comes from the store; anything older (or all, with
    `refresh`) is read through the adapters (one properties call per HubSpot object, one describe per
    Salesforce object; both systems are signed in to first) and kept. Mapping files that do not load leave
    the listing without its mapping columns (`mappings_problems` counts them) rather than hiding the names
    a fix needs. Raises what `open_systems` raises when it has to read."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    engine = open_engine(cfg.store.url)
    try:
        mappings: Mappings | None = configured_mappings(cfg)
        mapping_problems = 0
    except ConfigError as exc:
        mappings, mapping_problems = None, max(len(exc.problems), 1)
    systems: Systems | None = None
    objects: list[dict[str, Any]] = []
    try:
        for system, obj in targets:
            cached = None if refresh else read_metadata(engine, system, obj)
            if cached is not None and now - cached.fetched_at < FIELDS_CACHE_MS:
                rows, fetched_at = cached.fields, cached.fetched_at
            else:
                systems = systems or open_systems(cfg, engine, now)
                rows = (hubspot_rows(systems.hubspot.properties(obj)) if system == "hubspot"
                        else salesforce_rows(systems.salesforce.describe(obj)["fields"]))
                write_metadata(engine, system, obj, rows, now)
                fetched_at = now
            listed, missing = annotate(system, obj, rows, mappings)
            objects.append({"system": system, "object": obj, "fetched_at": at(fetched_at),
                            "age_seconds": max(0, (now - fetched_at) // 1000), "cached": fetched_at != now,
                            "total": len(rows), "fields": [r for r in listed if matches(r, search)],
                            "missing": [m for m in missing if matches({"name": m["name"], "label": ""}, search)]})
        calls = {"hubspot": systems.hubspot.calls_made() if systems else 0,
                 "salesforce": systems.salesforce.calls_made() if systems else 0}
    finally:
        if systems is not None:
            systems.close()
    return {"ok": True, "search": search, "objects": objects, "mappings_problems": mapping_problems,
            "api_calls": calls}


def _is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")
