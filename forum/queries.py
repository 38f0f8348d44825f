"""Read side of the forum."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.i18n import N_

from .models import Answer, Flag, Post, Question, Revision, Tag, Vote, question_services, question_tags

SORTS = {
    "terbaru": N_("Terbaru"),
    "aktif": N_("Aktif"),
    "belum-terjawab": N_("Belum terjawab"),
    "suara": N_("Suara terbanyak"),
}


def questions_stmt(sort: str = "terbaru", tag: str | None = None, service_id: int | None = None):
    stmt = sa.select(Question).options(selectinload(Question.tags), selectinload(Question.author),
                                       selectinload(Question.services)).where(
        Question.hidden_at.is_(None), Question.deleted_at.is_(None))
    if tag:
        stmt = stmt.join(question_tags, question_tags.c.question_id == Question.id).join(
            Tag, Tag.id == question_tags.c.tag_id).where(Tag.name == tag)
    if service_id:
        stmt = stmt.join(question_services, question_services.c.question_id == Question.id).where(
            question_services.c.service_id == service_id)
    if sort == "aktif":
        stmt = stmt.order_by(Question.last_activity_at.desc(), Question.id.desc())
    elif sort == "belum-terjawab":
        stmt = stmt.where(Question.answer_count == 0, Question.closed_at.is_(None)).order_by(
            Question.created_at.desc(), Question.id.desc())
    elif sort == "suara":
        stmt = stmt.order_by(Question.score.desc(), Question.created_at.desc())
    else:
        stmt = stmt.order_by(Question.created_at.desc(), Question.id.desc())
    return stmt


def question_or_none(question_id: int) -> Question | None:
    return db.session.scalar(
        sa.select(Question).where(Question.id == question_id).options(
            selectinload(Question.tags), selectinload(Question.services), selectinload(Question.author),
            selectinload(Question.comments), selectinload(Question.answers).selectinload(Answer.comments),
            selectinload(Question.answers).selectinload(Answer.author),
        ))


def sorted_answers(question: Question, viewer=None) -> list[Answer]:
    """Accepted first, then by score; only what ``viewer`` may see
    (forum.policy decides)."""
    from .policy import visible_answers

    return visible_answers(viewer, question)


def can_view(question: Question, viewer) -> bool:
    from .policy import can_see_post

    return can_see_post(viewer, question)


def my_votes(user, post_ids: list[int]) -> dict[int, int]:
    if not user or not user.is_authenticated or not post_ids:
        return {}
    rows = db.session.execute(sa.select(Vote.post_id, Vote.value).where(Vote.user_id == user.id,
                                                                         Vote.post_id.in_(post_ids)))
    return dict(rows.all())


def open_flag_counts(post_ids: list[int]) -> dict[int, int]:
    if not post_ids:
        return {}
    rows = db.session.execute(sa.select(Flag.post_id, sa.func.count(Flag.id)).where(
        Flag.post_id.in_(post_ids), Flag.status == "open").group_by(Flag.post_id))
    return dict(rows.all())


def related_questions(service_id: int, limit: int = 5) -> list[Question]:
    stmt = questions_stmt("suara", service_id=service_id).limit(limit)
    return list(db.session.scalars(stmt))


def related_question_count(service_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(question_services).join(
        Question, Question.id == question_services.c.question_id).where(
        question_services.c.service_id == service_id, Question.hidden_at.is_(None),
        Question.deleted_at.is_(None))) or 0


def review_queue():
    """Posts with open flags, and first posts of new accounts awaiting review."""
    flagged = db.session.execute(
        sa.select(Post, sa.func.count(Flag.id)).join(Flag, Flag.post_id == Post.id)
        .where(Flag.status == "open", Post.deleted_at.is_(None)).group_by(Post.id)
        .order_by(sa.func.count(Flag.id).desc(), Post.id)).all()
    flag_rows = db.session.scalars(sa.select(Flag).where(Flag.status == "open").options(
        selectinload(Flag.user)).order_by(Flag.created_at)).all()
    reasons: dict[int, list[Flag]] = {}
    for f in flag_rows:
        reasons.setdefault(f.post_id, []).append(f)
    first_posts = db.session.scalars(sa.select(Post).where(Post.needs_review.is_(True), Post.deleted_at.is_(None),
                                                           Post.hidden_at.is_(None)).order_by(Post.created_at)).all()
    return flagged, reasons, first_posts


def post_or_none(post_id: int) -> Post | None:
    return db.session.get(Post, post_id)


def revisions(post_id: int) -> list[Revision]:
    return list(db.session.scalars(sa.select(Revision).where(Revision.post_id == post_id).options(
        selectinload(Revision.author)).order_by(Revision.number)))


def popular_tags(limit: int = 30) -> list[tuple[str, int]]:
    rows = db.session.execute(
        sa.select(Tag.name, sa.func.count(question_tags.c.question_id).label("n"))
        .join(question_tags, question_tags.c.tag_id == Tag.id).group_by(Tag.id)
        .order_by(sa.desc("n"), Tag.name).limit(limit))
    return [(name, n) for name, n in rows]


def stale_answers() -> list[Answer]:
    return list(db.session.scalars(sa.select(Answer).where(Answer.stale_since.is_not(None), Answer.hidden_at.is_(None),
                                                           Answer.deleted_at.is_(None)).order_by(Answer.stale_since)))
