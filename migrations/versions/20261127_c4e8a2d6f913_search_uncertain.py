"""Search log: ``uncertain``, a search whose results were shown hedged
(they cleared the bar, not the confident one).  Issue 13: low-confidence
queries feed the content-gap tables.

Revision ID: c4e8a2d6f913
Revises: b3d9f0c2e4a1
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "c4e8a2d6f913"
down_revision = "b3d9f0c2e4a1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("analytics_searches") as batch_op:
        batch_op.add_column(sa.Column("uncertain", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("analytics_searches") as batch_op:
        batch_op.drop_column("uncertain")
