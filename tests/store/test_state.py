"""The store's own state (`store_state`): the erasure salt and the checks' marks, and the migration that moved
them out of the cursor table (a store made before it keeps its salt, so erased people stay recognised)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from connector.store import current_revision, head_revision, migrate, open_engine
from connector.store.db import MIGRATIONS_DIR
from connector.store.models import StoreState, SyncCursor
from connector.store.state import (
    erasure_salt,
    last_presence_check,
    record_presence_check,
    record_setup_properties,
    setup_properties,
)


def _alembic(engine: Engine, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)


def _store_at_0004(url: str) -> Engine:
    """A store as the connector left it before 0005: the salt and the checks' marks among the cursors."""
    engine = create_engine(url)
    _alembic(engine, "upgrade", "0004")
    with engine.begin() as connection:
        for stream, value, at in (("connector:erasure-salt", '{"salt": "0123abcd"}', 0),
                                  ("setup:hubspot-properties", '{"present": ["a_id", "b_id"]}', 5),
                                  ("hubspot:contacts:presence", '{"at": 7000}', 7000),
                                  ("salesforce:Lead", '{"last": 9}', 9)):
            connection.execute(text("INSERT INTO sync_cursor (stream, value, updated_at) VALUES (:s, :v, :a)"),
                               {"s": stream, "v": value, "a": at})
    return engine


def test_a_store_made_before_store_state_keeps_its_salt_and_marks(store_url: str) -> None:
    engine = _store_at_0004(store_url)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert erasure_salt(engine) == "0123abcd"
    assert setup_properties(engine) == ["a_id", "b_id"]
    assert last_presence_check(engine) == 7000
    with Session(engine) as session:
        assert list(session.exec(select(SyncCursor.stream)).all()) == ["salesforce:Lead"]  # cursors only


def test_downgrade_puts_them_back_among_the_cursors(store_url: str) -> None:
    engine = _store_at_0004(store_url)
    migrate(engine)
    _alembic(engine, "downgrade", "0004")
    with Session(engine) as session:
        streams = {c.stream: c.value for c in session.exec(select(SyncCursor)).all()}
    assert streams["connector:erasure-salt"] == {"salt": "0123abcd"} and streams["hubspot:contacts:presence"] == {
        "at": 7000} and "salesforce:Lead" in streams


def test_salt_is_made_once_and_kept(store_url: str) -> None:
    engine = open_engine(store_url)
    salt = erasure_salt(engine)
    assert len(salt) == 32 and erasure_salt(engine) == salt
    assert erasure_salt(engine, "configured") == "configured"


def test_checks_remember_when_they_ran(store_url: str) -> None:
    engine = open_engine(store_url)
    assert setup_properties(engine) is None and last_presence_check(engine) is None
    record_setup_properties(engine, ["x"], 10)
    record_presence_check(engine, 20)
    record_presence_check(engine, 30)
    assert setup_properties(engine) == ["x"] and last_presence_check(engine) == 30
    with Session(engine) as session:
        assert set(session.exec(select(StoreState.name)).all()) == {"setup:hubspot-properties",
                                                                    "hubspot:contacts:presence"}
        # the cursor table holds cursors only
        assert session.exec(select(func.count()).select_from(SyncCursor)).one() == 0
