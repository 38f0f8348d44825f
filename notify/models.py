"""Follows, in-app notifications, notification settings and the mail outbox."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import User, utcnow

FOLLOW_TARGETS = ("question", "service", "tag")
EMAIL_MODES = ("instant", "daily", "off")


class Follow(db.Model):
    """A person follows a question, a service page or a tag."""

    __tablename__ = "notify_follows"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "target_type", "target_id", name="uq_notify_follows_user_target"),
        sa.Index("ix_notify_follows_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(sa.String(10))  # question | service | tag
    target_id: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(db.Model):
    """One thing one person should hear about.  ``dedupe_key`` makes every
    event notify a person at most once (a mentioned follower is told once,
    as mentioned; an edit that repeats a mention tells nobody again).

    Rows point at what they are about; titles, names and excerpts are read
    when shown or mailed, so a post hidden later is never shown or sent."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # answer | comment | accepted | mention | new_question | page_updated | regulation | draft_review | draft_outcome
    kind: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    question_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forum_questions.id", ondelete="CASCADE"),
                                                    index=True)
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forum_comments.id", ondelete="CASCADE"))
    service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"))
    draft_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kb_service_drafts.id", ondelete="CASCADE"))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class NotificationSettings(db.Model):
    """How a person wants to hear by e-mail (no row: the defaults)."""

    __tablename__ = "notify_settings"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email_mode: Mapped[str] = mapped_column(sa.String(10), default="instant")  # instant | daily | off
    # The language e-mails are written in ("id" | "en"; None: Indonesian).  Set
    # on the account page, and first taken from the site's language when the
    # person adds an address (the worker that writes the mail has no request).
    language: Mapped[str | None] = mapped_column(sa.String(5))
    # The daily digest covers notifications created after this moment.
    digest_sent_until: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailOutbox(db.Model):
    """E-mail to send, written in the transaction that decided it (so a mail
    exists exactly when its cause committed) and sent later by
    ``flask notify send`` / ``flask notify worker``.  Nothing is composed
    here: the worker reads the current state, so a post hidden or a setting
    turned off before sending means no mail."""

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # notification | digest | verify | address_taken
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    # pending -> sending (claimed by one worker) -> sent | skipped | failed
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    claimed_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
