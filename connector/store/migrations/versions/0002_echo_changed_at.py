"""source_record.changed_at: the content time that ignores the connector's own writes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('source_record') as batch:
        batch.add_column(sa.Column('changed_at', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('source_record') as batch:
        batch.drop_column('changed_at')
