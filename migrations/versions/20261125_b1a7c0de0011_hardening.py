"""Hostile input cannot freeze, leak or bend the site (issue 11): rate-limit
state off the write path, pending e-mail, signed search keys and append-only
clicks, one survey response per person.

Revision ID: b1a7c0de0011
Revises: 7a63d63223c0
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "b1a7c0de0011"
down_revision = "7a63d63223c0"
branch_labels = None
depends_on = None


def upgrade():
    # A database adopted from before migrations (created from newer models)
    # may not have the old table at all.
    if "rate_events" in sa.inspect(op.get_bind()).get_table_names():
        op.drop_table("rate_events")
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(length=160), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_rate_limits")),
    )
    op.create_table(
        "login_failures",
        sa.Column("bucket", sa.String(length=160), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("analytics_searches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("abstained", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint(batch_op.f("uq_analytics_searches_key"), ["key"])
        batch_op.drop_column("clicked_doc")
        batch_op.drop_column("clicked_rank")
    with op.batch_alter_table("analytics_searches", schema=None) as batch_op:
        batch_op.alter_column("abstained", server_default=None)
    op.create_table(
        "analytics_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("search_key", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.String(length=120), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_clicks")),
    )
    with op.batch_alter_table("analytics_clicks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analytics_clicks_search_key"), ["search_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_analytics_clicks_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("analytics_skm", schema=None) as batch_op:
        batch_op.add_column(sa.Column("respondent", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("period", sa.String(length=7), nullable=True))
        batch_op.create_unique_constraint("uq_analytics_skm_respondent", ["service", "respondent", "period"])


def downgrade():
    with op.batch_alter_table("analytics_skm", schema=None) as batch_op:
        batch_op.drop_constraint("uq_analytics_skm_respondent", type_="unique")
        batch_op.drop_column("period")
        batch_op.drop_column("respondent")
    op.drop_table("analytics_clicks")
    with op.batch_alter_table("analytics_searches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clicked_rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("clicked_doc", sa.String(length=120), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_analytics_searches_key"), type_="unique")
        batch_op.drop_column("abstained")
        batch_op.drop_column("key")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("pending_email")
    op.drop_table("login_failures")
    op.drop_table("rate_limits")
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_events")),
    )
    with op.batch_alter_table("rate_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_events_bucket"), ["bucket"], unique=False)
        batch_op.create_index(batch_op.f("ix_rate_events_created_at"), ["created_at"], unique=False)
