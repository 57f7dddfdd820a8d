"""scoring: person_score, status_transition, scoring_model; engagement.fetched_at for incremental scoring

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('engagement') as batch:
        batch.add_column(sa.Column('fetched_at', sa.BigInteger(), nullable=True))
        batch.create_index('ix_engagement_fetched_at', ['fetched_at'])
    op.create_table('scoring_model',
    sa.Column('model_hash', _S(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('owners', _JSON, nullable=False),
    sa.Column('text', _S(), nullable=False),
    sa.Column('first_used', sa.BigInteger(), nullable=False),
    sa.Column('last_used', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('model_hash')
    )
    op.create_table('person_score',
    sa.Column('person_id', _S(length=80), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('fit', sa.Integer(), nullable=False),
    sa.Column('engagement', sa.Integer(), nullable=False),
    sa.Column('grade', _S(length=1), nullable=True),
    sa.Column('status', _S(length=32), nullable=False),
    sa.Column('status_since', sa.BigInteger(), nullable=False),
    sa.Column('status_reason', _S(length=255), nullable=True),
    sa.Column('status_by', _S(length=16), nullable=False),
    sa.Column('feedback', _S(length=160), nullable=True),
    sa.Column('reset_at', sa.BigInteger(), nullable=True),
    sa.Column('mql_at', sa.BigInteger(), nullable=True),
    sa.Column('mql_count', sa.Integer(), nullable=False),
    sa.Column('reason', _S(length=255), nullable=False),
    sa.Column('breakdown', _JSON, nullable=False),
    sa.Column('model_hash', _S(length=16), nullable=False),
    sa.Column('inputs_digest', _S(length=32), nullable=False),
    sa.Column('next_check_at', sa.BigInteger(), nullable=True),
    sa.Column('last_touch_at', sa.BigInteger(), nullable=True),
    sa.Column('scored_at', sa.BigInteger(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_index('ix_person_score_next_check_at', 'person_score', ['next_check_at'])
    op.create_table('status_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', _S(length=80), nullable=False),
    sa.Column('from_status', _S(length=32), nullable=True),
    sa.Column('to_status', _S(length=32), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('reason', _S(length=255), nullable=False),
    sa.Column('system', _S(length=16), nullable=False),
    sa.Column('source_id', _S(length=64), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('model_hash', _S(length=16), nullable=False),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_status_transition_person_id', 'status_transition', ['person_id'])
    op.create_index('ix_status_transition_at', 'status_transition', ['at'])


def downgrade() -> None:
    op.drop_index('ix_status_transition_at', table_name='status_transition')
    op.drop_index('ix_status_transition_person_id', table_name='status_transition')
    op.drop_table('status_transition')
    op.drop_index('ix_person_score_next_check_at', table_name='person_score')
    op.drop_table('person_score')
    op.drop_table('scoring_model')
    with op.batch_alter_table('engagement') as batch:
        batch.drop_index('ix_engagement_fetched_at')
        batch.drop_column('fetched_at')
