"""What an admin runs against both systems outside a run: the live check of `validate --live`, and `setup`.

Each opens the systems the one way (`open_systems`), does its one job and closes them; neither takes the
store's run lock (neither reads or writes a record).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from ..config import ConnectorConfig
from ..errors import ConfigError, ConfigProblem
from ..reconcile import MappingError, load_mappings
from ..reconcile.mapping import Mappings
from ..setup import SetupReport, require_live_fit, run_setup
from ..store import open_engine
from .checks import mark_setup_done
from .systems import open_systems

__all__ = ["configured_mappings", "mapping_config_error", "set_up", "validate_live"]


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
    finally:
        systems.close()
    return report


def _is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")
