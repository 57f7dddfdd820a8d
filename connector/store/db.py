"""Opening the state store: one engine per URL, migrations applied idempotently at start.

The same code runs on SQLite (the default; WAL mode so readers never block the sync) and PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

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

__all__ = ["open_engine", "migrate", "current_revision", "head_revision", "MIGRATIONS_DIR", "upsert_insert", "IN_CHUNK",
           "in_chunks"]

T = TypeVar("T")

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
            _sqlite_directory(Path(database).expanduser())
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


def _sqlite_directory(database: Path) -> None:
    """Create the SQLite file's directory; raises ConfigError saying what and where when that is impossible.

    SQLite keeps the database, its WAL and the run lock file (``<database>.lock``) side by side, so the
    directory must exist and be writable."""
    directory = database.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "it is a file, not a directory" if isinstance(exc, FileExistsError) else (
            exc.strerror or type(exc).__name__)
        raise ConfigError([ConfigProblem(
            "config", "[store].url", f"cannot create the directory {directory} for the SQLite store {database}: "
            f"{reason}", "point [store].url at a writable place, e.g. sqlite:///./connector.db or "
            "sqlite:////data/connector.db (CONNECTOR_STORE_URL)")]) from exc
    if not os.access(directory, os.W_OK | os.X_OK) or (
            database.exists() and not os.access(database, os.R_OK | os.W_OK)):
        where = database if database.exists() else directory
        raise ConfigError([ConfigProblem(
            "config", "[store].url", f"the SQLite store {database} is not writable: no write permission on {where}",
            "give the connector's user write access there, or point [store].url elsewhere (CONNECTOR_STORE_URL)")])


#: ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits, few enough round trips
IN_CHUNK = 500


def in_chunks(ids: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`ids` in slices of `size`, for the IN (...) lists of the store's chunked reads."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


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
    """Bring the schema to the newest revision; a no-op when it is already there. A store a newer connector
    has migrated is refused (exit 2) rather than touched: this version does not know its tables."""
    cfg = _alembic_config()
    try:
        with engine.begin() as connection:
            scripts = ScriptDirectory.from_config(cfg)
            known = {s.revision for s in scripts.walk_revisions()}
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and current not in known:
                raise ConfigError([ConfigProblem(
                    "config", "[store].url", f"the store is at schema revision {current}, which a newer version "
                    f"of the connector made; this one knows up to {scripts.get_current_head()}",
                    "run the newer version, or restore the backup taken before the upgrade (docs/deploy.md)")])
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        where = engine.url.render_as_string()  # the password hidden
        if engine.dialect.name == "sqlite" and "unable to open database file" in str(exc.orig):
            raise ConfigError([ConfigProblem(
                "config", "[store].url", f"cannot open the SQLite store {engine.url.database}: {exc.orig}",
                "point [store].url at a file in a writable directory, e.g. sqlite:///./connector.db "
                "(CONNECTOR_STORE_URL)")]) from exc
        raise ConnectorError(f"cannot reach the state store at {where}: {exc.orig}") from exc


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
