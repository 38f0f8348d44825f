"""Verified official accounts (issue 12): the role and agency a knowledge
manager verified, and when.

Revision ID: f2b7c9d4e016
Revises: e8f4a2c6d1b3
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "f2b7c9d4e016"
down_revision = "e8f4a2c6d1b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("official_title", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("official_verified_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("official_verified_at")
        batch_op.drop_column("official_title")
