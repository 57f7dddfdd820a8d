"""The connector's state store (SQLite or PostgreSQL through SQLModel, migrated by Alembic)."""

from .db import current_revision, head_revision, migrate, open_engine

__all__ = ["open_engine", "migrate", "current_revision", "head_revision"]
