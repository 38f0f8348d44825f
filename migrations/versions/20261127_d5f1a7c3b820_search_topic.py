"""Search log: ``topic``, the key of the topic we know our pages do not
answer that an unanswered query was close to (search.engine.Topic).  Issue
13: the content-gap tables group unanswered searches by topic.

Revision ID: d5f1a7c3b820
Revises: c4e8a2d6f913
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "d5f1a7c3b820"
down_revision = "c4e8a2d6f913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("analytics_searches") as batch_op:
        batch_op.add_column(sa.Column("topic", sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table("analytics_searches") as batch_op:
        batch_op.drop_column("topic")
