"""The connector's error tree, grouped by what the operator has to do.

    ConnectorError                 root; exit code 1 unless a branch says otherwise
    ├── ConfigError                fix the configuration or a mapping file; exit code 2, nothing was started
    │                              (also: credentials refused at sign-in, a certificate that does not
    │                              verify against ca_bundle, a store path that cannot be used)
    ├── RetryLater                 transient (rate limit, budget spent, outage); the next cycle resumes
    │   ├── BudgetExhausted        (systems.pacing) the connector's share of a daily allowance is spent
    │   └── TransientApiError      (systems.http) a call or token request still failing after every retry
    ├── NotBuiltYet                the command's stage is not implemented in this version
    ├── ApiError                   (systems.http) a system refused a call for good; carries its code and a fix
    ├── MalformedResponse          (systems.http) an answer that cannot be parsed; nothing from it was kept
    └── StoreBusy                  (store.lock) another run holds the store

A record a system refuses is not an error of the run: it is an outcome (``systems.ports.WriteOutcome``),
parked with its reason in the store while the rest goes on, so no exception stands for it.

Vendor and library errors are translated into these at the edges (``raise ... from exc``); the pure
reconciliation core has its own small tree (``connector.reconcile.errors``), whose MappingError the CLI
turns into a ConfigError.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConnectorError",
    "ConfigError",
    "ConfigProblem",
    "RetryLater",
    "NotBuiltYet",
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_CONFIG",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""

    exit_code = EXIT_FAILURE


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration source: where it is, what is wrong and how to fix it."""

    source: str
    key: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.source}: {self.key}: {self.message}"
        return f"{text} (fix: {self.hint})" if self.hint else text


class ConfigError(ConnectorError):
    """The configuration (or a mapping file) is invalid; nothing was started."""

    exit_code = EXIT_CONFIG

    def __init__(self, problems: list[ConfigProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem("config", "-", problems)]
        self.problems = problems
        if len(problems) == 1:  # one problem, one line
            super().__init__(f"invalid configuration: {problems[0]}")
            return
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid configuration ({len(problems)} problem(s)):\n{lines}")


class RetryLater(ConnectorError):
    """A transient condition; the work resumes on the next cycle without loss."""


class NotBuiltYet(ConnectorError):
    """The requested stage is not implemented in this version of the connector."""

    def __init__(self, what: str, issue: str) -> None:
        super().__init__(f"{what} is not built yet (tracked in {issue})")
