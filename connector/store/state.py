"""The store's own state besides the streams' cursors: the erasure salt and when its checks last ran."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .models import StoreState

__all__ = ["read_state", "write_state", "erasure_salt", "last_presence_check", "record_presence_check",
           "record_setup_properties", "setup_properties"]

_SALT = "connector:erasure-salt"
_SETUP = "setup:hubspot-properties"
_PRESENCE = "hubspot:contacts:presence"


def _read(engine: Engine, name: str) -> dict[str, Any] | None:
    with Session(engine) as session:
        row = session.get(StoreState, name)
        return None if row is None else dict(row.value)


def _write(engine: Engine, name: str, value: dict[str, Any], now_ms: int) -> None:
    with Session(engine) as session, session.begin():
        row = session.get(StoreState, name) or StoreState(name=name, value={}, updated_at=now_ms)
        row.value, row.updated_at = value, now_ms
        session.add(row)


def read_state(engine: Engine, name: str) -> dict[str, Any] | None:
    """The value kept under `name` (a stage's own mark, e.g. "scoring:last-pass"), if any."""
    return _read(engine, name)


def write_state(engine: Engine, name: str, value: dict[str, Any], now_ms: int) -> None:
    _write(engine, name, value, now_ms)


def erasure_salt(engine: Engine, configured: str | None = None) -> str:
    """The configured salt, or one generated on first use and kept in the store."""
    if configured:
        return configured
    with Session(engine) as session, session.begin():
        row = session.get(StoreState, _SALT)
        if row is None:
            row = StoreState(name=_SALT, value={"salt": secrets.token_hex(16)}, updated_at=0)
            session.add(row)
        return str(row.value["salt"])


def setup_properties(engine: Engine) -> list[str] | None:
    """The connector's HubSpot properties setup was last found (or made) to have, if it ever was."""
    value = _read(engine, _SETUP)
    return None if value is None else list(value.get("present") or [])


def record_setup_properties(engine: Engine, names: list[str], now_ms: int) -> None:
    """Remember that HubSpot has these properties of the connector's."""
    _write(engine, _SETUP, {"present": names}, now_ms)


def last_presence_check(engine: Engine) -> int | None:
    """When the presence check of HubSpot contacts last ran (epoch ms), if it ever did."""
    value = _read(engine, _PRESENCE)
    return None if value is None else int(value.get("at", 0))


def record_presence_check(engine: Engine, now_ms: int) -> None:
    _write(engine, _PRESENCE, {"at": now_ms}, now_ms)
