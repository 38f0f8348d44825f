"""Accounts and roles."""
from __future__ import annotations

import enum
from datetime import datetime, timezone

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .i18n import N_


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Role(str, enum.Enum):
    MEMBER = "member"
    MODERATOR = "moderator"
    KNOWLEDGE_MANAGER = "knowledge_manager"
    AGENT = "agent"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            "member": N_("Anggota"),
            "moderator": N_("Moderator"),
            "knowledge_manager": N_("Pengelola Pengetahuan"),
            "agent": N_("Petugas Kontak Layanan"),
            "admin": N_("Admin"),
        }[self.value]


# What each role may do on top of the roles below it.  Checks elsewhere ask
# for a capability, never compare role names directly.
CAPABILITIES: dict[Role, frozenset[str]] = {
    Role.MEMBER: frozenset({"post", "vote", "flag"}),
    Role.MODERATOR: frozenset({"post", "vote", "flag", "moderate"}),
    Role.KNOWLEDGE_MANAGER: frozenset({"post", "vote", "flag", "curate", "assist"}),
    # Contact-centre staff: look up a citizen's reference number and see what
    # they already searched and read ("assist").
    Role.AGENT: frozenset({"post", "vote", "flag", "assist"}),
    Role.ADMIN: frozenset({"post", "vote", "flag", "moderate", "curate", "assist", "admin"}),
}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    # An address typed at registration, not yet verified: not unique, never
    # used to log in, so registering reveals nothing about other accounts.
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=20), default=Role.MEMBER)
    display_name: Mapped[str | None] = mapped_column(sa.String(80))
    # Bumped on logout, password change and suspension: every cookie that
    # carries the old value stops working at once.
    session_version: Mapped[int] = mapped_column(default=0)
    suspended_until: Mapped[datetime | None] = mapped_column()
    # Kept in step with votes and accepts by forum.services, in the same
    # transaction; forum.services.compute_reputation recomputes it from scratch.
    reputation: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "Verified official" (forum.officials): set only by a knowledge manager
    # after checking who the person is; the audit log records who verified.
    # Shown next to the name on every post.  A username alone never makes an
    # official (core.usernames refuses names that pass for one).
    official_title: Mapped[str | None] = mapped_column(sa.String(120))
    official_verified_at: Mapped[datetime | None] = mapped_column()

    def set_password(self, password: str) -> None:
        from flask import current_app

        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        if not self.password_hash or self.password_hash.startswith("!"):
            return False  # "!" marks accounts that cannot log in (seed authors)
        return check_password_hash(self.password_hash, password)

    # Flask-Login "alternative token": id plus session version.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > utcnow()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.is_suspended

    def can(self, capability: str) -> bool:
        return capability in CAPABILITIES[self.role]

    @property
    def is_verified_official(self) -> bool:
        return bool(self.official_title)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


class AuditLog(db.Model):
    """Who did what to what.  Written in the same transaction as the action;
    readable by admins at /admin/audit."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(20))
    target_id: Mapped[int] = mapped_column()
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


def audit(actor: User | None, action: str, target_type: str, target_id: int, **detail) -> None:
    """Record an action; call inside the action's write transaction."""
    db.session.add(AuditLog(actor_id=actor.id if actor else None, action=action, target_type=target_type,
                            target_id=target_id, detail=detail))


class RateLimitState(db.Model):
    """Rate-limit state (GCRA) per bucket.  Written only through
    :mod:`core.ledger`, which on SQLite keeps these rows in a separate file
    so counting never takes the main database's write lock; on PostgreSQL
    they live here and are upserted without the advisory lock."""

    __tablename__ = "rate_limits"

    bucket: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    tat: Mapped[float] = mapped_column(sa.Float)
    allowed: Mapped[bool] = mapped_column()
    updated_at: Mapped[float] = mapped_column(sa.Float)


class LoginFailureCount(db.Model):
    """Failed logins per account (back-off); see :mod:`core.ledger`."""

    __tablename__ = "login_failures"

    bucket: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    count: Mapped[int] = mapped_column()
    updated_at: Mapped[float] = mapped_column(sa.Float)


class PendingAction(db.Model):
    """Something a visitor started before logging in (a vote, an answer
    draft, feedback, a follow): kept here, named by a random token in their
    session, and completed by :mod:`core.resume` right after they log in or
    register.  Rows older than ``core.resume.TTL`` are ignored and pruned
    (``flask retention prune``)."""

    __tablename__ = "pending_actions"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    back: Mapped[str] = mapped_column(sa.String(500), default="/")
    # Set when a completed-but-refused action is kept for its owner (e.g. an
    # answer draft whose thread was closed meanwhile), so nothing typed is lost.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SeenMarker(db.Model):
    """When a person last looked at something of theirs (an asker at their
    question), for "new since you last looked".  Written only through
    :mod:`core.ledger` (outside the write lock, like rate limits): on SQLite
    in the ledger's own file, on PostgreSQL here."""

    __tablename__ = "seen_markers"

    owner: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    item: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    at: Mapped[float] = mapped_column(sa.Float)
