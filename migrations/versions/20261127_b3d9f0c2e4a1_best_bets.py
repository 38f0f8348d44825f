"""Best bets: a knowledge manager pins official pages to the top of the
results for one short query (kb_best_bets).  Issue 13: best answer first.

Revision ID: b3d9f0c2e4a1
Revises: a7c3e1f59b20
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "b3d9f0c2e4a1"
down_revision = "a7c3e1f59b20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kb_best_bets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["kb_services.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "service_id", name="uq_kb_best_bets_key_service"),
    )
    with op.batch_alter_table("kb_best_bets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_best_bets_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_best_bets_service_id"), ["service_id"], unique=False)


def downgrade():
    with op.batch_alter_table("kb_best_bets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_best_bets_service_id"))
        batch_op.drop_index(batch_op.f("ix_kb_best_bets_key"))
    op.drop_table("kb_best_bets")
