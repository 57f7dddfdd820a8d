"""write_journal: every field value a run wrote and the value it replaced (connector revert)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('write_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('system', _S(length=16), nullable=False),
    sa.Column('object_type', _S(length=64), nullable=False),
    sa.Column('record_id', _S(length=64), nullable=False),
    sa.Column('person_id', _S(length=80), nullable=False),
    sa.Column('field', _S(length=128), nullable=False),
    sa.Column('old_value', _JSON, nullable=True),
    sa.Column('new_value', _JSON, nullable=True),
    sa.Column('created', sa.Boolean(), nullable=False),
    sa.Column('written_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_write_journal_run_id', 'write_journal', ['run_id'])
    op.create_index('ix_write_journal_person_id', 'write_journal', ['person_id'])
    op.create_index('ix_write_journal_record', 'write_journal', ['system', 'object_type', 'record_id'])


def downgrade() -> None:
    op.drop_index('ix_write_journal_record', table_name='write_journal')
    op.drop_index('ix_write_journal_person_id', table_name='write_journal')
    op.drop_index('ix_write_journal_run_id', table_name='write_journal')
    op.drop_table('write_journal')
