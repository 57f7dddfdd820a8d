"""Opening the state store: one engine per URL, migrations applied idempotently at start.

The same code runs on SQLite (the default; WAL mode so readers never block the sync) and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from ..errors import ConfigError, ConfigProblem, ConnectorError

__all__ = ["open_engine", "migrate", "current_revision", "head_revision", "MIGRATIONS_DIR", "upsert_insert"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def open_engine(url: str, *, migrate_now: bool = True, echo: bool = False) -> Engine:
    """An engine for `url` with the schema at the newest revision; raises ConfigError for a bad URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError([ConfigProblem("config", "[store].url", f"not a database URL: {url!r}",
                                         "use sqlite:///./connector.db or postgresql+psycopg://user@host/db")]) from exc
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3 here, not psycopg2
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        kwargs["pool_pre_ping"] = True
    else:
        raise ConfigError([ConfigProblem("config", "[store].url", f"unsupported database {parsed.get_backend_name()!r}",
                                         "use SQLite or PostgreSQL")])
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate_now:
        migrate(engine)
    return engine


def upsert_insert(session: Session) -> Any:
    """The dialect's ``insert`` (PostgreSQL's or SQLite's): both offer ``on_conflict_do_update/nothing``."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there."""
    cfg = _alembic_config()
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise ConnectorError(f"cannot reach the state store at {engine.url.render_as_string()}: {exc.orig}") from exc


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
