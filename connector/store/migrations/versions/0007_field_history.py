"""field_history: a tracked unified field's values over time (the owner, for the SLA report)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('field_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', _S(length=80), nullable=False),
    sa.Column('field', _S(length=128), nullable=False),
    sa.Column('value', _JSON, nullable=True),
    sa.Column('since', sa.BigInteger(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_field_history_person_id', 'field_history', ['person_id'])


def downgrade() -> None:
    op.drop_index('ix_field_history_person_id', table_name='field_history')
    op.drop_table('field_history')
