"""store_state: the erasure salt and the checks' marks move out of sync_cursor, which keeps only cursors

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

#: the rows of sync_cursor that were never a stream's cursor
_MOVED = ("connector:erasure-salt", "setup:hubspot-properties", "hubspot:contacts:presence")

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _tables() -> tuple[sa.Table, sa.Table]:
    meta = sa.MetaData()
    cursor = sa.Table('sync_cursor', meta, sa.Column('stream', sa.String(128), primary_key=True),
                      sa.Column('value', _JSON), sa.Column('updated_at', sa.BigInteger()),
                      sa.Column('run_id', sa.Integer()))
    state = sa.Table('store_state', meta, sa.Column('name', sa.String(128), primary_key=True),
                     sa.Column('value', _JSON), sa.Column('updated_at', sa.BigInteger()))
    return cursor, state


def upgrade() -> None:
    op.create_table('store_state',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('value', _JSON, nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    cursor, state = _tables()
    bind = op.get_bind()
    rows = bind.execute(sa.select(cursor.c.stream, cursor.c.value, cursor.c.updated_at).where(
        cursor.c.stream.in_(_MOVED))).all()
    if rows:
        bind.execute(state.insert(), [{"name": r.stream, "value": r.value, "updated_at": r.updated_at} for r in rows])
    bind.execute(cursor.delete().where(cursor.c.stream.in_(_MOVED)))


def downgrade() -> None:
    cursor, state = _tables()
    bind = op.get_bind()
    rows = bind.execute(sa.select(state.c.name, state.c.value, state.c.updated_at)).all()
    if rows:
        bind.execute(cursor.insert(), [{"stream": r.name, "value": r.value, "updated_at": r.updated_at,
                                        "run_id": None} for r in rows])
    op.drop_table('store_state')
