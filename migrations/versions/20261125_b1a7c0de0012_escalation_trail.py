"""Escalations keep what the citizen searched and read before asking for
help, if they chose to attach it (contact-centre lookup, issue 15).

Revision ID: b1a7c0de0012
Revises: b1a7c0de0011
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "b1a7c0de0012"
down_revision = "b1a7c0de0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("analytics_escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trail", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("analytics_escalations", schema=None) as batch_op:
        batch_op.alter_column("trail", server_default=None)


def downgrade():
    with op.batch_alter_table("analytics_escalations", schema=None) as batch_op:
        batch_op.drop_column("trail")
