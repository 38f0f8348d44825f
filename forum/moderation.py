"""Moderation: hide, restore, delete, lock, merge, dismiss flags, approve
first posts, suspend users.  Every action checks the actor's role on the
server, runs in one transaction and writes an audit row in it."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core import signals
from core.db import write_transaction
from core.extensions import db
from core.i18n import N_
from core.models import Role, User, audit, utcnow

from .models import Answer, Flag, Post, Question
from .services import Forbidden, ForumError, NotFound, ValidationFailed, _accept_rep, _locked_post, _require_active


def _require(user: User, capability: str) -> None:
    _require_active(user)
    if not user.can(capability):
        raise Forbidden(N_("Anda tidak memiliki izin untuk tindakan ini."))


def _question_of(post: Post) -> Question:
    return post if isinstance(post, Question) else db.session.get(Question, post.question_id)


def recount_answers(question: Question) -> None:
    question.answer_count = db.session.scalar(
        sa.select(sa.func.count(Answer.id)).where(Answer.question_id == question.id, Answer.hidden_at.is_(None),
                                                  Answer.deleted_at.is_(None)))


def _resolve_flags(post_id: int, status: str) -> int:
    return db.session.execute(sa.update(Flag).where(Flag.post_id == post_id, Flag.status == "open")
                              .values(status=status)).rowcount


def _reason(reason: str | None, missing: str) -> str:
    """A moderator's reason: required, 5-300 characters (``missing``: the
    message when it is not)."""
    reason = (reason or "").strip()[:300]
    if len(reason) < 5:
        raise ValidationFailed({"reason": missing})
    return reason


def _moderated(post: Post, question: Question, action: str, moderator: User) -> None:
    signals.post_moderated.send(post, post=post, question=question, action=action, actor=moderator,
                                doc_ids=[f"question:{question.id}"])


def hide_post(moderator: User, post_id: int, reason: str) -> Post:
    _require(moderator, "moderate")
    reason = _reason(reason, N_("Tulis alasan penyembunyian (minimal 5 karakter)."))
    with write_transaction():
        post = _locked_post(post_id)
        if post.deleted_at is not None:
            raise ForumError(N_("Tulisan ini sudah dihapus."))
        post.hidden_at, post.hidden_reason, post.needs_review = utcnow(), reason, False
        resolved = _resolve_flags(post.id, "upheld")
        question = _question_of(post)
        recount_answers(question)
        audit(moderator, "post.hide", post.kind, post.id, reason=reason, flags_resolved=resolved)
        _moderated(post, question, "hide", moderator)
    return post


def restore_post(moderator: User, post_id: int) -> Post:
    _require(moderator, "moderate")
    with write_transaction():
        post = _locked_post(post_id)
        if post.deleted_at is not None and not moderator.can("admin"):
            raise Forbidden(N_("Hanya admin yang dapat memulihkan tulisan yang dihapus."))
        if post.is_visible:
            raise ForumError(N_("Tulisan ini tidak sedang disembunyikan."))
        post.hidden_at = post.hidden_reason = post.deleted_at = None
        question = _question_of(post)
        recount_answers(question)
        audit(moderator, "post.restore", post.kind, post.id)
        _moderated(post, question, "restore", moderator)
    return post


def delete_post(moderator: User, post_id: int, reason: str) -> Post:
    _require(moderator, "moderate")
    reason = _reason(reason, N_("Tulis alasan penghapusan (minimal 5 karakter)."))
    with write_transaction():
        post = _locked_post(post_id)
        post.deleted_at, post.hidden_reason, post.needs_review = utcnow(), reason, False
        resolved = _resolve_flags(post.id, "upheld")
        question = _question_of(post)
        if isinstance(post, Answer) and question.accepted_answer_id == post.id:
            _accept_rep(question, post, -1)  # the accept bonus goes with the answer
            question.accepted_answer_id = None
        recount_answers(question)
        audit(moderator, "post.delete", post.kind, post.id, reason=reason, flags_resolved=resolved)
        _moderated(post, question, "delete", moderator)
    return post


def set_lock(moderator: User, question_id: int, locked: bool) -> Question:
    _require(moderator, "moderate")
    with write_transaction():
        question = _locked_post(question_id, Question)
        question.locked_at = utcnow() if locked else None
        audit(moderator, "thread.lock" if locked else "thread.unlock", "question", question.id)
    return question


def dismiss_flags(moderator: User, post_id: int) -> int:
    _require(moderator, "moderate")
    with write_transaction():
        post = _locked_post(post_id)
        n = _resolve_flags(post.id, "dismissed")
        audit(moderator, "flags.dismiss", post.kind, post.id, count=n)
    return n


def approve_post(moderator: User, post_id: int) -> Post:
    _require(moderator, "moderate")
    with write_transaction():
        post = _locked_post(post_id)
        post.needs_review = False
        audit(moderator, "post.approve", post.kind, post.id)
    return post


def merge_questions(moderator: User, source_id: int, target_id: int) -> Question:
    """Move every answer of ``source`` to ``target`` and close ``source`` as
    its duplicate."""
    _require(moderator, "moderate")
    if source_id == target_id:
        raise ValidationFailed({"target": N_("Pertanyaan tidak dapat digabung dengan dirinya sendiri.")})
    with write_transaction():
        source = _locked_post(source_id, Question)
        target = db.session.get(Question, target_id, with_for_update=True)
        if target is None or not target.is_visible:
            raise ValidationFailed({"target": N_("Pertanyaan tujuan tidak ditemukan.")})
        moved = [a.id for a in source.answers]
        if moved:
            db.session.execute(sa.update(Answer).where(Answer.id.in_(moved)).values(question_id=target.id))
        if source.accepted_answer_id:
            # Acceptance belongs to the asker of each question: the moved answer
            # is no longer accepted, and the bonus is withdrawn.
            _accept_rep(source, db.session.get(Answer, source.accepted_answer_id), -1)
            source.accepted_answer_id = None
        source.duplicate_of_id, source.closed_at, source.closed_by_id = target.id, utcnow(), moderator.id
        db.session.flush()
        db.session.expire(source, ["answers"])
        db.session.expire(target, ["answers"])
        recount_answers(source)
        recount_answers(target)
        target.last_activity_at = utcnow()
        audit(moderator, "thread.merge", "question", source.id, into=target.id, answers_moved=len(moved))
        signals.post_moderated.send(source, post=source, question=target, action="merge", actor=moderator,
                                    doc_ids=[f"question:{source.id}", f"question:{target.id}"])
    return target


def suspend_user(actor: User, user_id: int, days: int, reason: str) -> User:
    """Suspend an account; every session it has ends at once."""
    _require(actor, "moderate")
    if not 1 <= days <= 3650:
        raise ValidationFailed({"days": N_("Lama penangguhan 1–3650 hari.")})
    reason = _reason(reason, N_("Tulis alasan penangguhan (minimal 5 karakter)."))
    with write_transaction():
        user = db.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(N_("Pengguna tidak ditemukan."))
        if user.id == actor.id:
            raise ForumError(N_("Anda tidak dapat menangguhkan akun sendiri."))
        if user.role is not Role.MEMBER and not actor.can("admin"):
            raise Forbidden(N_("Hanya admin yang dapat menangguhkan staf."))
        if user.role is Role.ADMIN:
            raise Forbidden(N_("Akun admin tidak dapat ditangguhkan."))
        user.suspended_until = utcnow() + timedelta(days=days)
        user.session_version += 1
        audit(actor, "user.suspend", "user", user.id, days=days, reason=reason)
    return user


def unsuspend_user(actor: User, user_id: int) -> User:
    _require(actor, "moderate")
    with write_transaction():
        user = db.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(N_("Pengguna tidak ditemukan."))
        if user.role is not Role.MEMBER and not actor.can("admin"):
            raise Forbidden(N_("Hanya admin yang dapat mengubah status staf."))
        user.suspended_until = None
        audit(actor, "user.unsuspend", "user", user.id)
    return user
