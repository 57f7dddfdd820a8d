"""Configuration: one TOML file, overridden by ``CONNECTOR_*`` environment variables, secrets from the
environment or from ``*_FILE`` paths (container secrets).

Built once by the CLI and passed down explicitly; nothing here writes ``os.environ``. Every problem is
reported with its source (file or variable), its key path and a fix, all at once, before anything
starts.

Environment variables: ``CONNECTOR_<SECTION>_<KEY>`` (``CONNECTOR_HUBSPOT_ACCESS_TOKEN``,
``CONNECTOR_SYNC_INTERVAL_MINUTES``); add ``_FILE`` to read the value from a file
(``CONNECTOR_SALESFORCE_CLIENT_SECRET_FILE=/run/secrets/sf``). ``CONNECTOR_CONFIG`` names the file.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from .errors import ConfigError, ConfigProblem

__all__ = [
    "ConnectorConfig",
    "HubSpotConfig",
    "SalesforceConfig",
    "StoreConfig",
    "SyncConfig",
    "MappingsConfig",
    "SandboxConfig",
    "LoggingConfig",
    "DaemonConfig",
    "load_config",
    "shipped_mappings",
    "ENV_PREFIX",
    "DEFAULT_CONFIG_PATH",
]

ENV_PREFIX = "CONNECTOR_"
DEFAULT_CONFIG_PATH = Path("connector.toml")
#: variables with the prefix that are not configuration keys
_RESERVED_ENV = {"CONNECTOR_CONFIG"}
_RESERVED_ENV_PREFIXES = ("CONNECTOR_TEST_",)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSpotConfig(_Section):
    """How to reach HubSpot: a private-app token, or an OAuth app's credentials."""

    base_url: str = "https://api.hubapi.com"
    auth: Literal["private_app", "oauth"] = "private_app"
    access_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    ca_bundle: Path | None = None
    timeout_seconds: float = Field(30.0, gt=0)
    requests_per_10s: int = Field(100, gt=0, description="burst allowance of the app (tier)")
    daily_limit: int = Field(250_000, gt=0, description="daily allowance of the account (tier)")
    daily_budget_share: float = Field(0.5, gt=0, le=1)
    #: the share of requests_per_10s the connector sends in any 10 s; the burst limit is per app, so the rest
    #: is left to other processes with the same app's token (docs/benchmarks.md, "The pacing margin")
    burst_share: float = 0.9

    @field_validator("burst_share")
    @classmethod
    def _burst_share_in_range(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError("burst_share must be more than 0 and at most 1 (the share of requests_per_10s the "
                             "connector uses in any 10 s; 0.9 leaves 10% to other processes of the same app)")
        return value

    @model_validator(mode="after")
    def _secrets_for_auth(self, info: ValidationInfo) -> HubSpotConfig:
        if _sandboxed(info):
            return self
        if self.auth == "private_app":
            _require(self, ("access_token",), "private_app")
        else:
            _require(self, ("client_id", "client_secret", "refresh_token"), "oauth")
        return self


class SalesforceConfig(_Section):
    """How to reach Salesforce: client credentials, JWT bearer, username-password or a given session."""

    instance_url: str = "https://example.my.salesforce.com"
    login_url: str | None = Field(None, description="token host; defaults to instance_url (My Domain)")
    auth: Literal["client_credentials", "jwt_bearer", "password", "session"] = "client_credentials"
    api_version: str = Field("62.0", pattern=r"^\d{2}\.0$")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    private_key_file: Path | None = None
    session_id: SecretStr | None = None
    ca_bundle: Path | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    daily_budget_share: float = Field(0.5, gt=0, le=1)
    bulk_threshold: int = Field(10_000, ge=0, description="use Bulk API 2.0 above this many records")

    @model_validator(mode="after")
    def _secrets_for_auth(self, info: ValidationInfo) -> SalesforceConfig:
        if _sandboxed(info):
            return self
        needs: dict[str, tuple[str, ...]] = {
            "client_credentials": ("client_id", "client_secret"),
            "jwt_bearer": ("client_id", "username", "private_key_file"),
            "password": ("client_id", "client_secret", "username", "password"),
            "session": ("session_id",),
        }
        _require(self, needs[self.auth], self.auth)
        return self


class StoreConfig(_Section):
    """Where the connector keeps its state (SQLite file by default, or PostgreSQL)."""

    url: str = "sqlite:///./connector.db"


class SyncConfig(_Section):
    """What to sync and how often."""

    #: minutes between syncs (fractions allowed, down to 0.1: a test or a soak runs cycles seconds apart)
    interval_minutes: float = Field(15, ge=0.1)
    #: at least one group: an empty list would read as "every group" to the sync and "none" to a person
    objects: list[Literal["people", "engagement", "opportunities", "companies"]] = Field(
        ["people", "engagement", "opportunities", "companies"], min_length=1)
    lookback_seconds: int = Field(120, ge=0, description="overlap re-read at each window's start")
    safety_lag_seconds: int = Field(60, ge=0, description="cursors never pass start time minus this")
    deletion_scan_hours: float = Field(24, ge=0, description="how often HubSpot's archived records are listed")
    field_history: bool = Field(True, description="read HubSpot property history where most_recent must decide")
    closed_opportunities_days: int = Field(365, ge=0,
                                           description="older closed Opportunities are not copied to HubSpot")
    metadata_check_minutes: float = Field(60, ge=0, description=(
        "how long the mapped fields, once checked against both systems' metadata, are trusted before a run "
        "checks them again (0: every run; a changed mapping file or `connector setup --apply` re-checks at once)"))
    journal_days: int = Field(90, ge=1, description="how long what each run wrote and replaced is kept for "
                                                   "`connector revert`")


class DeletionsConfig(_Section):
    """What a deletion in one system does to the other (the data-protection officer's settings)."""

    #: a HubSpot contact archived (ordinary delete): delete its Salesforce record too, hold the person for review,
    #: or leave Salesforce alone (the person is never re-created in HubSpot either way)
    hubspot_archive: Literal["propagate", "quarantine", "ignore"] = "quarantine"
    #: a Salesforce Lead/Contact deleted: treat it as an erasure request, delete the HubSpot contact, hold for
    #: review, or leave HubSpot alone
    salesforce_delete: Literal["erase", "propagate", "quarantine", "ignore"] = "quarantine"
    #: how an erased person is removed from the other system: deleted (HubSpot: GDPR delete), or kept with
    #: every mapped personal field blanked
    erase_action: Literal["delete", "anonymise"] = "delete"
    #: how often linked HubSpot contacts are checked for GDPR deletion (HubSpot reports it nowhere else)
    presence_check_hours: float = Field(24, ge=0)
    #: salt of the hashes kept of erased people; generated once and kept in the store when not given
    salt: SecretStr | None = None


class MappingsConfig(_Section):
    """Where the RevOps-owned mapping files live (unset: ./mappings next to the config file or in the working
    directory, else the defaults shipped inside the package)."""

    directory: Path = Path("mappings")


def shipped_mappings() -> Path:
    """The default mapping files, shipped inside the package: found wherever it is installed."""
    return Path(__file__).resolve().parent / "mappings"


class SandboxConfig(_Section):
    """Run against the built-in emulators instead of the real systems (the safe default for trying it)."""

    enabled: bool = False
    people: int = Field(2_000, ge=0)
    seed: int = 42
    rate_limits: Literal["real", "off"] = "real"


class LoggingConfig(_Section):
    """Log level and format; personal data is always redacted."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: "auto": plain text on a terminal, JSON lines otherwise (a container's log collector)
    format: Literal["auto", "text", "json"] = "auto"


_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class DaemonConfig(_Section):
    """`connector run`: its HTTP endpoint (health, readiness, metrics, status page), the nightly sweep and
    how long a stop may take."""

    #: host:port of /healthz, /readyz, /metrics and the status page; "" turns the server off
    listen: str = "127.0.0.1:8080"
    #: bearer token the status page and metrics require (CONNECTOR_DAEMON_TOKEN); required when `listen` is not
    #: a loopback address; /healthz and /readyz never need it
    token: SecretStr | None = None
    #: the nightly sweep's time of day, HH:MM in UTC
    sweep_at: str = Field("03:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    #: SIGTERM: the run in progress stops at its next batch boundary; the process exits within this many seconds
    stop_grace_seconds: int = Field(30, ge=1, le=600)

    @model_validator(mode="after")
    def _token_when_exposed(self) -> DaemonConfig:
        host = self.host
        if self.listen and host not in _LOOPBACK_HOSTS and self.token is None:
            raise ValueError(f"listen = {self.listen!r} exposes the status page beyond this machine without a "
                             "token: set CONNECTOR_DAEMON_TOKEN (or _FILE), or listen on 127.0.0.1")
        return self

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]") if self.listen else ""

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1]) if self.listen else 0

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value and (":" not in value or not value.rsplit(":", 1)[1].isdigit()
                      or not 0 <= int(value.rsplit(":", 1)[1]) <= 65535):
            raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:8080, 0.0.0.0:8080)")
        return value


class ConnectorConfig(_Section):
    """The whole configuration, validated."""

    sandbox: SandboxConfig = SandboxConfig()
    hubspot: HubSpotConfig | None = None
    salesforce: SalesforceConfig | None = None
    store: StoreConfig = StoreConfig()
    sync: SyncConfig = SyncConfig()
    deletions: DeletionsConfig = DeletionsConfig()
    mappings: MappingsConfig = MappingsConfig()
    logging: LoggingConfig = LoggingConfig()
    daemon: DaemonConfig = DaemonConfig()

    @model_validator(mode="before")
    @classmethod
    def _systems_required_without_sandbox(cls, data: Any) -> Any:
        if isinstance(data, dict) and not (data.get("sandbox") or {}).get("enabled", False):
            for system in ("hubspot", "salesforce"):
                data.setdefault(system, {})
        return data


def _sandboxed(info: ValidationInfo) -> bool:
    """With the sandbox enabled, or for a command that works from the store alone (`status`, `explain`, ...),
    the connection settings are checked for form only, not for secrets."""
    return bool(info.context and (info.context.get("sandbox") or info.context.get("store_only")))


def _require(section: BaseModel, keys: tuple[str, ...], mode: str) -> None:
    missing = [k for k in keys if getattr(section, k) in (None, "")]
    if missing:
        raise _MissingSettings(missing, mode)


class _MissingSettings(ValueError):
    """Settings an auth mode needs but nobody gave; translated into one problem per key."""

    def __init__(self, keys: list[str], mode: str) -> None:
        self.keys = keys
        self.mode = mode
        super().__init__(f"missing {', '.join(keys)} for auth = {mode!r}")


# --------------------------------------------------------------------------------------------------
# loading


def load_config(path: Path | None, environ: Mapping[str, str] | None = None, *, store_only: bool = False
                ) -> ConnectorConfig:
    """Read `path` (TOML), apply environment overrides and validate; raises ConfigError listing all problems.

    `store_only`: for commands that never call either system (status, explain, duplicates, retry,
    reconcile): a file with only `[store]` will do, as no credential is required."""
    environ = os.environ if environ is None else environ
    problems: list[ConfigProblem] = []
    data: dict[str, Any] = {}
    source = str(path) if path else "(defaults)"
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError([ConfigProblem(source, "-", "file not found",
                                             "pass --config PATH or set CONNECTOR_CONFIG")]) from None
        except OSError as exc:  # unreadable (a container user without permission), a directory, ...
            raise ConfigError([ConfigProblem(source, "-", f"cannot be read: {exc.strerror or exc}",
                                             "make it readable by the user the connector runs as (in the "
                                             "image: uid 10001), or point CONNECTOR_CONFIG at another file")]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([ConfigProblem(source, "-", f"not valid TOML: {exc}",
                                             "check the syntax at that line")]) from None
    origins: dict[tuple[str, ...], str] = {}
    _apply_environment(data, environ, problems, origins)
    try:
        sandbox = data.get("sandbox")
        sandbox_on = isinstance(sandbox, dict) and sandbox.get("enabled") is True
        config = ConnectorConfig.model_validate(data, context={"sandbox": sandbox_on, "store_only": store_only})
    except ValidationError as exc:
        raise ConfigError(problems + _translate(exc, source, origins)) from None
    if not problems:
        _check_files(config, source, problems)
    if problems:
        raise ConfigError(problems)
    return _resolve_mappings_directory(config, path)


def _resolve_mappings_directory(config: ConnectorConfig, path: Path | None) -> ConnectorConfig:
    """A relative mappings directory is found next to the config file first, then in the working directory;
    when the key is not set at all, the shipped defaults come last."""
    directory = config.mappings.directory
    if directory.is_absolute():
        return config
    candidates = ([path.parent / directory] if path is not None else []) + [Path.cwd() / directory]
    if "directory" not in config.mappings.model_fields_set:
        candidates.append(shipped_mappings())
    found = next((c for c in candidates if c.is_dir()), candidates[0])
    return config.model_copy(update={"mappings": MappingsConfig(directory=found.resolve())})


def _apply_environment(
    data: dict[str, Any],
    environ: Mapping[str, str],
    problems: list[ConfigProblem],
    origins: dict[tuple[str, ...], str],
) -> None:
    sections = ConnectorConfig.model_fields
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in _RESERVED_ENV or name.startswith(_RESERVED_ENV_PREFIXES):
            continue
        raw_key = name[len(ENV_PREFIX):].lower()
        from_file = raw_key.endswith("_file") and raw_key not in _all_keys()
        if from_file:
            raw_key = raw_key[: -len("_file")]
        section, _, key = raw_key.partition("_")
        section_model = _section_model(section)
        if section not in sections or section_model is None:
            problems.append(ConfigProblem(name, "-", f"unknown section {section!r}", _suggest(section, sections)))
            continue
        if key not in section_model.model_fields:
            problems.append(
                ConfigProblem(name, f"[{section}].{key}", "unknown key", _suggest(key, section_model.model_fields))
            )
            continue
        value: Any = environ[name]
        if from_file:
            try:
                value = Path(value).read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append(ConfigProblem(name, f"[{section}].{key}", f"cannot read secret file: {exc.strerror}",
                                              "mount the secret file or fix the path"))
                continue
        elif not _is_text_field(section_model.model_fields[key].annotation):
            value = _parse_scalar(value)
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            problems.append(ConfigProblem(name, f"[{section}]", "the file sets this section to a non-table"))
            continue
        data[section][key] = value
        origins[(section, key)] = name


def _all_keys() -> set[str]:
    keys: set[str] = set()
    for section in ConnectorConfig.model_fields:
        model = _section_model(section)
        if model is not None:
            keys.update(f"{section}_{k}" for k in model.model_fields)
    return keys


def _section_model(section: str) -> type[BaseModel] | None:
    field = ConnectorConfig.model_fields.get(section)
    if field is None:
        return None
    for candidate in (field.annotation, *typing.get_args(field.annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_text_field(annotation: Any) -> bool:
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
    args = typing.get_args(annotation) if union else (annotation,)
    return any(a in (str, SecretStr, Path) for a in args)


def _is_secret(annotation: Any) -> bool:
    return SecretStr in typing.get_args(annotation) or annotation is SecretStr


def _parse_scalar(value: str) -> Any:
    """Environment values for typed keys are TOML literals (15, true, ["people"]); else plain text."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _suggest(word: str, choices: typing.Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid keys: " + ", ".join(choices)


def _translate(exc: ValidationError, source: str, origins: dict[tuple[str, ...], str]) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _MissingSettings):
            section = loc[0] if loc else "?"
            section_model = _section_model(section)
            for key in ctx_error.keys:
                env = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
                secret = section_model is not None and _is_secret(section_model.model_fields[key].annotation)
                hint = (f"set {env} or {env}_FILE (secrets do not belong in the file)" if secret
                        else f"set {key} in [{section}] or {env}")
                problems.append(ConfigProblem(source, f"[{section}].{key}",
                                              f"missing, required for auth = {ctx_error.mode!r}", hint))
            continue
        where = origins.get(tuple(loc[:2]), source)
        key = f"[{loc[0]}]" + (f".{'.'.join(loc[1:])}" if len(loc) > 1 else "") if loc else "-"
        if err["type"] == "extra_forbidden":
            parent = loc[:-1]
            model: type[BaseModel] | None = ConnectorConfig if not parent else _section_model(parent[0])
            fields = model.model_fields if model is not None else {}
            problems.append(ConfigProblem(where, key, "unknown key", _suggest(loc[-1], fields)))
        else:
            got = err.get("input")
            shown = "(secret)" if "secret" in key or "token" in key or "password" in key else repr(got)
            problems.append(ConfigProblem(where, key, f"{err['msg']} (got {shown})", _type_hint(err)))
    return problems


def _type_hint(err: Any) -> str:
    kind = err["type"]
    if kind.startswith("int"):
        return "use a whole number without quotes"
    if kind.startswith("float"):
        return "use a number without quotes"
    if kind.startswith("bool"):
        return "use true or false without quotes"
    if kind == "literal_error":
        return "use one of the values listed"
    if kind.startswith("list"):
        return 'use a list, e.g. ["people", "engagement"]'
    return ""


def _check_files(config: ConnectorConfig, source: str, problems: list[ConfigProblem]) -> None:
    for section in (config.hubspot, config.salesforce):
        if section is None:
            continue
        name = "hubspot" if isinstance(section, HubSpotConfig) else "salesforce"
        if section.ca_bundle is not None and not section.ca_bundle.is_file():
            problems.append(ConfigProblem(source, f"[{name}].ca_bundle", f"no such file: {section.ca_bundle}",
                                          "point it at a PEM file of trusted CAs, or remove the key"))
    key_file = config.salesforce.private_key_file if config.salesforce else None
    if key_file is not None and not key_file.is_file():
        problems.append(ConfigProblem(source, "[salesforce].private_key_file",
                                      f"no such file: {key_file}",
                                      "point it at the connected app's private key (PEM)"))
