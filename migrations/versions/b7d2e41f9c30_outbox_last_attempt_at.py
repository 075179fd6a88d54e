"""outbox: when the latest delivery attempt began

Revision ID: b7d2e41f9c30
Revises: 3a385ca9e67c
Create Date: 2026-11-23 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d2e41f9c30'
down_revision = '3a385ca9e67c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_attempt_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('last_attempt_at')
