"""Actions kept across login (pending_actions), "last looked at" markers
(seen_markers; on SQLite they live in the ledger file, on PostgreSQL here),
and FAQ entries reviewed like page edits (kb_service_drafts.kind,
published_faq_id).  Issue 15: closing the loops for citizens.

Revision ID: e8f4a2c6d1b3
Revises: e1f0ca7e0015
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "e8f4a2c6d1b3"
down_revision = "e1f0ca7e0015"  # after notify (both branched from c5d1e2a7b9f0)
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_actions",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("back", sa.String(length=500), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token"),
    )
    with op.batch_alter_table("pending_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_actions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pending_actions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "seen_markers",
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=80), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "item"),
    )
    with op.batch_alter_table("kb_service_drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="page"))
        batch_op.add_column(sa.Column("published_faq_id", sa.Integer(), nullable=True))


def downgrade():
    op.execute("DELETE FROM kb_service_drafts WHERE kind <> 'page'")
    with op.batch_alter_table("kb_service_drafts", schema=None) as batch_op:
        batch_op.drop_column("published_faq_id")
        batch_op.drop_column("kind")
    op.drop_table("seen_markers")
    with op.batch_alter_table("pending_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_actions_user_id"))
        batch_op.drop_index(batch_op.f("ix_pending_actions_created_at"))
    op.drop_table("pending_actions")
