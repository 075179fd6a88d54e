"""accounts: each account's newest step; reviews indexed by account and projection date

The team view found open steps by ranking every step of the team's history, so it grew with
the history. The newest step is now kept on the account (focusweb.plans keeps it on every
flush that finishes a meeting) and filled in here for the history already written.

Revision ID: c5e8a1d2f407
Revises: b7d2e41f9c30
Create Date: 2026-11-23 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c5e8a1d2f407'
down_revision = 'b7d2e41f9c30'
branch_labels = None
depends_on = None

# The rule of focusweb.plans ("newest": the step of the account's latest-scheduled finished
# meeting, not skipped, with a next step), written out: a migration must not change when the
# application's code does.
FILL = """
UPDATE accounts SET last_step_id = (
    SELECT r.id FROM account_reviews r JOIN meetings m ON m.id = r.meeting_id
    WHERE r.account_id = accounts.id AND m.finished_at IS NOT NULL AND r.skipped = :no AND r.next_step != ''
    ORDER BY m.scheduled_at DESC, r.id DESC
    LIMIT 1
)
"""


def upgrade():
    op.add_column('accounts', sa.Column('last_step_id', sa.Integer(), nullable=True))
    op.create_index('ix_reviews_account_projection', 'account_reviews', ['account_id', 'projection_date'])
    op.get_bind().execute(sa.text(FILL), {"no": False})


def downgrade():
    op.drop_index('ix_reviews_account_projection', table_name='account_reviews')
    op.drop_column('accounts', 'last_step_id')  # in place on SQLite 3.35 and later, as on PostgreSQL
