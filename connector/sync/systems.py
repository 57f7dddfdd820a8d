"""The one way to open both systems for a run: adapters signed in, their daily budgets charged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from ..config import ConnectorConfig
from ..errors import ConfigError
from ..store.runs import calls_since
from ..systems.hubspot import HubSpotSource
from ..systems.ledger import CallLedger
from ..systems.salesforce import SalesforceSource

__all__ = ["Systems", "open_systems"]


@dataclass
class Systems:
    """Both adapters of one run and the ledger that counts their calls."""

    hubspot: HubSpotSource
    salesforce: SalesforceSource
    ledger: CallLedger

    def close(self) -> None:
        self.hubspot.close()
        self.salesforce.close()

    def authenticate(self) -> None:
        """Sign in to both systems before the first read: refused credentials stop the run with exit 2 before
        anything was read or written (a token grant is not an API call)."""
        self.hubspot.authenticate()
        self.salesforce.authenticate()


def open_systems(cfg: ConnectorConfig, engine: Engine, now_ms: int, *, action: str = "synced") -> Systems:
    """Adapters for the configured systems, signed in to both, their daily budgets charged with the last 24
    hours' runs. Raises ConfigError when the config names the embedded sandbox (`action` says what cannot be
    done with it) or either system refuses the credentials (or a certificate does not verify),
    TransientApiError when a token request keeps failing."""
    if cfg.sandbox.enabled or cfg.hubspot is None or cfg.salesforce is None:
        raise ConfigError(f"the embedded sandbox lives for one command only, so it cannot be {action} "
                          "incrementally: start `connector sandbox --config-out sandbox.toml` and pass --config "
                          "sandbox.toml (or set [sandbox] enabled = false and configure both systems); "
                          "`connector demo` runs a whole sync against a sandbox of its own")
    ledger = CallLedger()
    day_ago = now_ms - 86_400_000
    hubspot = HubSpotSource(cfg.hubspot, ledger, prior_calls_today=calls_since(engine, "hubspot", day_ago))
    try:
        salesforce = SalesforceSource(cfg.salesforce, ledger,
                                      prior_calls_today=calls_since(engine, "salesforce", day_ago))
    except BaseException:
        hubspot.close()
        raise
    systems = Systems(hubspot, salesforce, ledger)
    try:
        systems.authenticate()
    except BaseException:
        systems.close()
        raise
    return systems
