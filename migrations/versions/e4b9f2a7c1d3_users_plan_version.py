"""users.plan_version: goes up with every change to a seller's accounts, cards and meetings

Pages that show a seller's plan (the home page's prep list) keep what they worked out under this
number and the day, and work it out again only when it moves (focusweb.versions, focusweb.cache).

Revision ID: e4b9f2a7c1d3
Revises: d1a7c3e9b2f5
Create Date: 2026-12-04 13:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e4b9f2a7c1d3'
down_revision = 'd1a7c3e9b2f5'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns itself): a batch copy of users on
# SQLite would drop the table, and with foreign keys on, that deletes every seller's accounts.


def upgrade():
    op.add_column('users', sa.Column('plan_version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    op.drop_column('users', 'plan_version')
