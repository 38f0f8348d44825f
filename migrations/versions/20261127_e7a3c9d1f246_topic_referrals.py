"""Topic referrals: for a topic our pages do not answer (a heading of
search/data/outside_topics.txt), the agency that handles it, one sentence in
Indonesian and English, and its sources (content/referrals.yml).  Issue 13:
"no official page matches" says where to go next.

Revision ID: e7a3c9d1f246
Revises: d5f1a7c3b820
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "e7a3c9d1f246"
down_revision = "d5f1a7c3b820"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kb_topic_referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["kb_agencies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic", "agency_id", name="uq_kb_topic_referrals_topic_agency"),
    )
    with op.batch_alter_table("kb_topic_referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_topic_referrals_topic"), ["topic"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_topic_referrals_agency_id"), ["agency_id"], unique=False)


def downgrade():
    with op.batch_alter_table("kb_topic_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_topic_referrals_agency_id"))
        batch_op.drop_index(batch_op.f("ix_kb_topic_referrals_topic"))
    op.drop_table("kb_topic_referrals")
