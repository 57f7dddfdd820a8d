"""value_issue: the values the connector cannot carry, as of each person's last reconciliation

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('value_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', _S(length=80), nullable=False),
    sa.Column('system', _S(length=16), nullable=False),
    sa.Column('record_id', _S(length=64), nullable=False),
    sa.Column('field', _S(length=128), nullable=False),
    sa.Column('unified_field', _S(length=128), nullable=False),
    sa.Column('kind', _S(length=64), nullable=False),
    sa.Column('value', _JSON, nullable=True),
    sa.Column('reason', _S(length=255), nullable=False),
    sa.Column('seen_at', sa.BigInteger(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_value_issue_person_id', 'value_issue', ['person_id'])


def downgrade() -> None:
    op.drop_index('ix_value_issue_person_id', table_name='value_issue')
    op.drop_table('value_issue')
