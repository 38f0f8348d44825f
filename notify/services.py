"""Follows, notifications and settings: the writes (each public function
owns its transaction, except :func:`notify_users`, which runs inside the
event's transaction) and the reads behind the inbox and the header count."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_
from core.models import CAPABILITIES, User, utcnow

from .models import EMAIL_MODES, FOLLOW_TARGETS, Follow, MailOutbox, Notification, NotificationSettings

INBOX_PAGE = 30
COUNT_CAP = 99  # the header shows "99+" beyond this; counting stops there


class NotifyError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TargetNotFound(NotifyError):
    status = 404


# ---------------------------------------------------------------- follow targets

@dataclass(frozen=True)
class Target:
    type: str      # question | service | tag
    id: int
    label: str
    url: str
    ref: str       # what the follow form posts: "question:5", "service:ktp-el", "tag:ktp"


def parse_target(raw: str | None) -> tuple[str, str]:
    kind, _, ref = (raw or "").strip()[:120].partition(":")
    if kind not in FOLLOW_TARGETS or not ref:
        raise TargetNotFound(N_("Yang ingin diikuti tidak ditemukan."))
    return kind, ref


def resolve_target(viewer, raw: str | None) -> Target:
    """``question:<id>``, ``service:<slug>`` or ``tag:<name>`` as something
    ``viewer`` may follow; TargetNotFound otherwise (a question the viewer
    may not see is "not found", as everywhere: forum.policy decides)."""
    from core.urls import path_for

    kind, ref = parse_target(raw)
    if kind == "question":
        from forum.models import Question
        from forum.policy import can_see_post

        question = db.session.get(Question, int(ref)) if ref.isdigit() and len(ref) < 10 else None
        if question is None or not can_see_post(viewer, question):
            raise TargetNotFound(N_("Pertanyaan tidak ditemukan."))
        return Target("question", question.id, question.title, path_for("forum.question", question_id=question.id),
                      f"question:{question.id}")
    if kind == "service":
        from kb.models import Service

        service = db.session.scalar(sa.select(Service).where(Service.slug == ref[:80]))
        if service is None:
            raise TargetNotFound(N_("Layanan tidak ditemukan."))
        return Target("service", service.id, service.title, path_for("kb.service", slug=service.slug),
                      f"service:{service.slug}")
    from forum.models import Tag

    tag = db.session.scalar(sa.select(Tag).where(Tag.name == ref.lower()[:40]))
    if tag is None:
        raise TargetNotFound(N_("Tag tidak ditemukan."))
    return Target("tag", tag.id, f"#{tag.name}", path_for("forum.index", tag=tag.name), f"tag:{tag.name}")


def is_following(user, target_type: str, target_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(sa.select(Follow.id).where(Follow.user_id == user.id, Follow.target_type == target_type,
                                                        Follow.target_id == target_id)) is not None


def _add_follow(user_id: int, target_type: str, target_id: int) -> bool:
    """Inside a write transaction: follow unless already following."""
    exists = db.session.scalar(sa.select(Follow.id).where(Follow.user_id == user_id, Follow.target_type == target_type,
                                                          Follow.target_id == target_id))
    if exists:
        return False
    db.session.add(Follow(user_id=user_id, target_type=target_type, target_id=target_id))
    return True


def set_following(user, raw_target: str, follow: bool) -> Target:
    """Follow or stop following (setting, not toggling: a double-clicked
    button leaves one follow)."""
    if user is None or not user.is_authenticated:
        raise NotifyError(N_("Silakan masuk terlebih dahulu."))
    if user.is_suspended:
        raise NotifyError(N_("Akun Anda sedang ditangguhkan."))
    target = resolve_target(user, raw_target)
    with write_transaction():
        if follow:
            _add_follow(user.id, target.type, target.id)
        else:
            db.session.execute(sa.delete(Follow).where(Follow.user_id == user.id, Follow.target_type == target.type,
                                                       Follow.target_id == target.id))
    return target


def following(user) -> list[Target]:
    """What ``user`` follows, for the account page (at most 500)."""
    from core.urls import path_for
    from forum.models import Question, Tag
    from forum.policy import can_see_post
    from kb.models import Service

    rows = db.session.execute(sa.select(Follow.target_type, Follow.target_id).where(Follow.user_id == user.id)
                              .order_by(Follow.target_type, Follow.created_at.desc()).limit(500)).all()
    ids: dict[str, list[int]] = {}
    for kind, target_id in rows:
        ids.setdefault(kind, []).append(target_id)
    out = []
    if ids.get("question"):
        for q in db.session.scalars(sa.select(Question).where(Question.id.in_(ids["question"]))):
            if can_see_post(user, q):
                out.append(Target("question", q.id, q.title, path_for("forum.question", question_id=q.id),
                                  f"question:{q.id}"))
    if ids.get("service"):
        for s in db.session.scalars(sa.select(Service).where(Service.id.in_(ids["service"])).order_by(Service.title)):
            out.append(Target("service", s.id, s.title, path_for("kb.service", slug=s.slug), f"service:{s.slug}"))
    if ids.get("tag"):
        for t in db.session.scalars(sa.select(Tag).where(Tag.id.in_(ids["tag"])).order_by(Tag.name)):
            out.append(Target("tag", t.id, f"#{t.name}", path_for("forum.index", tag=t.name), f"tag:{t.name}"))
    return out


# ---------------------------------------------------------------- creating notifications (inside the event's transaction)

def followers(target_type: str, target_ids) -> list[int]:
    target_ids = list(target_ids)
    if not target_ids:
        return []
    return list(db.session.scalars(sa.select(Follow.user_id).where(Follow.target_type == target_type,
                                                                   Follow.target_id.in_(target_ids))
                                   .order_by(Follow.id)))


def curators() -> list[int]:
    """Active accounts that may review drafts (capability ``curate``)."""
    roles = [role for role, caps in CAPABILITIES.items() if "curate" in caps]
    return list(db.session.scalars(sa.select(User.id).where(User.role.in_(roles), sa.or_(
        User.suspended_until.is_(None), User.suspended_until <= utcnow())).order_by(User.id)))


def email_mode_of(user_ids) -> dict[int, str]:
    rows = db.session.execute(sa.select(NotificationSettings.user_id, NotificationSettings.email_mode)
                              .where(NotificationSettings.user_id.in_(list(user_ids)))).all()
    return dict(rows)


def notify_users(user_ids, kind: str, key: str, *, actor=None, question_id=None, post_id=None, comment_id=None,
                 service_id=None, draft_id=None, detail: dict | None = None,
                 details: dict[int, dict] | None = None) -> list[Notification]:
    """Create one notification per person (the actor excepted) unless one
    with the same ``key`` exists for them (``key:<user id>``), and queue an
    e-mail for those who want each one at once and have a verified address.
    Runs inside the write transaction of the event: cheap reads and inserts."""
    actor_id = getattr(actor, "id", actor)
    wanted = [uid for uid in dict.fromkeys(user_ids) if uid is not None and uid != actor_id]
    if not wanted:
        return []
    created: list[Notification] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        keys = {uid: f"{key}:{uid}"[:120] for uid in chunk}
        seen = set(db.session.scalars(sa.select(Notification.dedupe_key)
                                      .where(Notification.dedupe_key.in_(list(keys.values())))))
        for uid in chunk:
            if keys[uid] in seen:
                continue
            row = Notification(user_id=uid, kind=kind, actor_id=actor_id, question_id=question_id, post_id=post_id,
                               comment_id=comment_id, service_id=service_id, draft_id=draft_id,
                               detail=(details or {}).get(uid, detail or {}), dedupe_key=keys[uid])
            db.session.add(row)
            created.append(row)
    if not created:
        return []
    db.session.flush()
    _queue_instant_mail(created)
    return created


def _queue_instant_mail(rows: list[Notification]) -> None:
    ids = [r.user_id for r in rows]
    with_address = set(db.session.scalars(sa.select(User.id).where(User.id.in_(ids), User.email.is_not(None))))
    modes = email_mode_of(with_address) if with_address else {}
    for row in rows:
        if row.user_id in with_address and modes.get(row.user_id, "instant") == "instant":
            db.session.add(MailOutbox(kind="notification", user_id=row.user_id, payload={"notification": row.id},
                                      dedupe_key=f"n:{row.id}"))


def queue_mail(kind: str, user_id: int, payload: dict | None = None, dedupe_key: str | None = None) -> bool:
    """Queue one e-mail inside the caller's transaction (unless ``dedupe_key``
    was queued before).  True if queued."""
    if dedupe_key and db.session.scalar(sa.select(MailOutbox.id).where(MailOutbox.dedupe_key == dedupe_key)):
        return False
    db.session.add(MailOutbox(kind=kind, user_id=user_id, payload=payload or {}, dedupe_key=dedupe_key))
    return True


# ---------------------------------------------------------------- reading: inbox and count

def _visible_clause():
    """Notifications about posts hidden or deleted since are neither shown,
    counted nor mailed (forum.policy's rule, in SQL)."""
    from forum.policy import public_post_clause

    return sa.and_(public_post_clause(Notification.question_id), public_post_clause(Notification.post_id))


def unread_count(user) -> int:
    """Unread notifications, counted up to COUNT_CAP + 1."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    inner = (sa.select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None),
                                              _visible_clause()).limit(COUNT_CAP + 1).subquery())
    return db.session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0


def inbox_stmt(user):
    return (sa.select(Notification).where(Notification.user_id == user.id, _visible_clause())
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def notifications_between(user_id: int, since: datetime | None, until: datetime, *, unread_only=True,
                          limit: int = 200) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.user_id == user_id, Notification.created_at <= until,
                                         _visible_clause())
    if since is not None:
        stmt = stmt.where(Notification.created_at > since)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(db.session.scalars(stmt.order_by(Notification.created_at, Notification.id).limit(limit)))


def open_notification(user, notification_id: int) -> Notification:
    """Mark one notification read (the inbox's link is a small form)."""
    with write_transaction():
        row = db.session.get(Notification, notification_id)
        if row is None or row.user_id != user.id:
            raise TargetNotFound(N_("Notifikasi tidak ditemukan."))
        if row.read_at is None:
            row.read_at = utcnow()
    return row


def mark_all_read(user) -> int:
    with write_transaction():
        return db.session.execute(sa.update(Notification).where(Notification.user_id == user.id,
                                                                Notification.read_at.is_(None))
                                  .values(read_at=utcnow())).rowcount or 0


# ---------------------------------------------------------------- settings

def email_mode(user) -> str:
    row = db.session.get(NotificationSettings, user.id)
    return row.email_mode if row is not None else "instant"


def email_language(user_id: int, default: str = DEFAULT_LANGUAGE) -> str:
    """The language this person's e-mails are written in (``default`` when
    they never chose one and gave no address yet)."""
    return db.session.scalar(sa.select(NotificationSettings.language)
                             .where(NotificationSettings.user_id == user_id)) or default


def set_email_mode(user_id: int, mode: str, language: str | None = None) -> str:
    if mode not in EMAIL_MODES:
        raise NotifyError(N_("Pilih salah satu: setiap ada kabar, ringkasan harian, atau tidak sama sekali."))
    if language is not None and language not in LANGUAGES:
        raise NotifyError(N_("Pilih bahasa email: Bahasa Indonesia atau English."))
    with write_transaction():
        _set_mode(user_id, mode)
        if language is not None:
            db.session.get(NotificationSettings, user_id).language = language
    return mode


def adopt_language(user_id: int, language: str) -> None:
    """Inside a write transaction: write e-mails in ``language`` unless the
    person already chose one."""
    if language not in LANGUAGES:
        return
    row = db.session.get(NotificationSettings, user_id)
    if row is None:
        db.session.add(NotificationSettings(user_id=user_id, email_mode="instant", language=language,
                                            updated_at=utcnow()))
    elif not row.language:
        row.language = language


def _set_mode(user_id: int, mode: str) -> None:
    row = db.session.get(NotificationSettings, user_id)
    if row is None:
        row = NotificationSettings(user_id=user_id, email_mode=mode)
        db.session.add(row)
    else:
        row.email_mode = mode
    row.updated_at = utcnow()
    if mode == "daily" and row.digest_sent_until is None:
        row.digest_sent_until = utcnow()  # the first digest covers what happens from now on
