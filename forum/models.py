"""Community Q&A: questions, answers, comments, votes, revisions, flags, tags.

Questions and answers share one ``forum_posts`` table (joined-table
inheritance), so votes, flags, revisions and comments have real foreign keys.
Bodies are stored twice: the Markdown source and the HTML rendered and
sanitised once, on write ("cooked").
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.i18n import N_
from core.models import User, utcnow

if TYPE_CHECKING:
    from kb.models import Service

question_tags = sa.Table(
    "forum_question_tags", db.metadata,
    sa.Column("question_id", sa.ForeignKey("forum_questions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("forum_tags.id", ondelete="CASCADE"), primary_key=True),
)

question_services = sa.Table(
    "forum_question_services", db.metadata,
    sa.Column("question_id", sa.ForeignKey("forum_questions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_id", sa.ForeignKey("kb_services.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Post(db.Model):
    __tablename__ = "forum_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    body_md: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    score: Mapped[int] = mapped_column(default=0)
    # Optimistic lock: an edit must name the version it started from.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    edited_at: Mapped[datetime | None] = mapped_column()
    seed_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    # Moderation: hidden posts are visible to moderators only and can be
    # restored; deleted posts are gone for everyone but admins.
    hidden_at: Mapped[datetime | None] = mapped_column()
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(300))
    deleted_at: Mapped[datetime | None] = mapped_column()
    # First posts of new accounts wait in the review queue (they are
    # published at once; a moderator approves or hides them).
    needs_review: Mapped[bool] = mapped_column(default=False, index=True)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    comments: Mapped[list[Comment]] = relationship(back_populates="post", order_by="Comment.created_at",
                                                   cascade="all, delete-orphan")

    __mapper_args__ = {"polymorphic_on": "kind"}

    @property
    def is_question(self) -> bool:
        return self.kind == "question"

    @property
    def is_visible(self) -> bool:
        return self.hidden_at is None and self.deleted_at is None


class Question(Post):
    __tablename__ = "forum_questions"

    id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    answer_count: Mapped[int] = mapped_column(default=0)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    accepted_answer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("forum_answers.id", use_alter=True, name="fk_forum_questions_accepted", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forum_questions.id"))
    locked_at: Mapped[datetime | None] = mapped_column()

    answers: Mapped[list[Answer]] = relationship(
        back_populates="question", foreign_keys="Answer.question_id", cascade="all, delete-orphan",
        order_by="Answer.id")
    accepted_answer: Mapped[Answer | None] = relationship(foreign_keys=[accepted_answer_id], post_update=True)
    duplicate_of: Mapped[Question | None] = relationship(
        foreign_keys=[duplicate_of_id], remote_side="Question.id")
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    tags: Mapped[list[Tag]] = relationship(secondary=question_tags, order_by="Tag.name")
    services: Mapped[list[Service]] = relationship(secondary=question_services, order_by="Service.title")

    __mapper_args__ = {"polymorphic_identity": "question", "inherit_condition": id == Post.id}

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class Answer(Post):
    __tablename__ = "forum_answers"

    id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_questions.id", ondelete="CASCADE"), index=True)

    question: Mapped[Question] = relationship(back_populates="answers", foreign_keys=[question_id])

    # Promotion into official knowledge, and "may be outdated" flags raised
    # when a linked service's fees, requirements or duration change.
    promoted_at: Mapped[datetime | None] = mapped_column()
    promoted_to: Mapped[str | None] = mapped_column(sa.String(200))  # path of the official page
    stale_since: Mapped[datetime | None] = mapped_column()

    __mapper_args__ = {"polymorphic_identity": "answer", "inherit_condition": id == Post.id}

    @property
    def is_accepted(self) -> bool:
        return self.question.accepted_answer_id == self.id


class Tag(db.Model):
    __tablename__ = "forum_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)


class Comment(db.Model):
    __tablename__ = "forum_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body_md: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seed_key: Mapped[str | None] = mapped_column(sa.String(140), unique=True)

    post: Mapped[Post] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class Vote(db.Model):
    __tablename__ = "forum_votes"
    __table_args__ = (
        sa.UniqueConstraint("post_id", "user_id", name="uq_forum_votes_post_user"),
        sa.CheckConstraint("value IN (-1, 1)", name="vote_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    value: Mapped[int] = mapped_column(sa.SmallInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Revision(db.Model):
    """The full text of a post after each edit; number 1 is the original."""

    __tablename__ = "forum_revisions"
    __table_args__ = (sa.UniqueConstraint("post_id", "number", name="uq_forum_revisions_post_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    title: Mapped[str | None] = mapped_column(sa.String(200))
    tags: Mapped[str | None] = mapped_column(sa.String(300))
    body_md: Mapped[str] = mapped_column(sa.Text)
    comment: Mapped[str] = mapped_column(sa.String(300), default="")
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()


FLAG_REASONS = {
    "spam": N_("Spam atau iklan"),
    "kasar": N_("Kasar, menghina, atau SARA"),
    "data-pribadi": N_("Memuat data pribadi (NIK, nomor HP, alamat)"),
    "menyesatkan": N_("Informasi salah atau menyesatkan"),
    "lainnya": N_("Lainnya (jelaskan)"),
}


class Flag(db.Model):
    __tablename__ = "forum_flags"
    __table_args__ = (sa.UniqueConstraint("post_id", "user_id", name="uq_forum_flags_post_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[Post] = relationship()
    user: Mapped[User] = relationship()
