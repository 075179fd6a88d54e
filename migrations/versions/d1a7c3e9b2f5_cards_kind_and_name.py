"""account_reviews: each card's own kind and account name; every meeting not yet started has its cards

A meeting's cards were ordered by their account's kind as it is now, so changing an account from
Key to Target mid-meeting reordered the manager's board but not the seller's list. A card now
carries the kind and name it was discussed under (focusweb.cards: the account's until the meeting
starts, frozen from then). Cards used to be created by the meeting page's GET; now the rule that
runs before each commit keeps them, so the meetings not yet started get theirs here.

Revision ID: d1a7c3e9b2f5
Revises: c5e8a1d2f407
Create Date: 2026-12-03 19:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd1a7c3e9b2f5'
down_revision = 'c5e8a1d2f407'
branch_labels = None
depends_on = None

FILL = """
UPDATE account_reviews SET
    kind = (SELECT a.kind FROM accounts a WHERE a.id = account_reviews.account_id),
    account_name = (SELECT a.name FROM accounts a WHERE a.id = account_reviews.account_id)
"""
NOT_STARTED = "SELECT id, seller_id, scheduled_at FROM meetings WHERE started_at IS NULL AND finished_at IS NULL"
MISSING = """
SELECT a.id, a.kind, a.name, a.last_step_id, m.scheduled_at AS step_at
FROM accounts a
LEFT JOIN account_reviews s ON s.id = a.last_step_id
LEFT JOIN meetings m ON m.id = s.meeting_id
WHERE a.owner_id = :seller AND a.archived_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM account_reviews r WHERE r.meeting_id = :meeting AND r.account_id = a.id)
ORDER BY lower(a.name)
"""
INSERT = """
INSERT INTO account_reviews (meeting_id, account_id, kind, account_name, position, skipped, previous_review_id,
                             notes, next_step, version, updated_at)
VALUES (:meeting, :account, :kind, :name, :position, :no, :previous, '', '', 1, CURRENT_TIMESTAMP)
"""
# Key accounts first, then Target accounts, in the order the cards had (new ones last, by name).
ORDERED = "SELECT id FROM account_reviews WHERE meeting_id = :meeting ORDER BY kind != 'key', position, id"


def upgrade():
    with op.batch_alter_table('account_reviews') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('account_name', sa.String(length=200), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text(FILL))
    with op.batch_alter_table('account_reviews') as batch:
        batch.alter_column('kind', existing_type=sa.String(length=10), nullable=False)
        batch.alter_column('account_name', existing_type=sa.String(length=200), nullable=False)
        batch.create_check_constraint('ck_reviews_kind', "kind IN ('key', 'target')")
    for meeting_id, seller_id, scheduled_at in bind.execute(sa.text(NOT_STARTED)).all():
        missing = bind.execute(sa.text(MISSING), {"seller": seller_id, "meeting": meeting_id}).all()
        for number, (account_id, kind, name, last_step_id, step_at) in enumerate(missing):
            previous = last_step_id if step_at is not None and step_at < scheduled_at else None
            bind.execute(
                sa.text(INSERT),
                {"meeting": meeting_id, "account": account_id, "kind": kind, "name": name,
                 "position": 10**6 + number, "no": False, "previous": previous},
            )
        ordered = bind.execute(sa.text(ORDERED), {"meeting": meeting_id}).scalars().all()
        for position, card_id in enumerate(ordered):
            bind.execute(sa.text("UPDATE account_reviews SET position = :p WHERE id = :id"), {"p": position, "id": card_id})


def downgrade():
    with op.batch_alter_table('account_reviews') as batch:
        batch.drop_constraint('ck_reviews_kind', type_='check')
        batch.drop_column('account_name')
        batch.drop_column('kind')
