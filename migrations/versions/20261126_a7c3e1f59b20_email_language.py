"""The language a person's e-mails are written in (issue 15).

Revision ID: a7c3e1f59b20
Revises: f2b7c9d4e016
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "a7c3e1f59b20"
down_revision = "f2b7c9d4e016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notify_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table("notify_settings", schema=None) as batch_op:
        batch_op.drop_column("language")
