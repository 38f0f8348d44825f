"""Read side of people: public profiles (questions, answers, accepted
answers, reputation, badges) and "my questions" (new answers first).

Every listing asks forum.policy which posts the viewer may see
(``policy.visible_clause``); badges and counts are computed from public
posts only, so they are the same whoever looks.  Nothing here writes to
the main database: the asker's "last looked at" marker lives in
``core.ledger`` (outside the write lock, like rate limits).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from core.extensions import db
from core.i18n import N_
from core.models import AuditLog, User

from . import policy
from .models import Answer, Flag, Question

MAX_MY_QUESTIONS = 500  # newest first; older ones are still on the profile


# ---------------------------------------------------------------- badges

@dataclass(frozen=True)
class Badge:
    key: str
    name: str  # Indonesian; shown through _()
    description: str
    test: callable


@dataclass
class Stats:
    questions: int
    answers: int
    accepted: int  # answers accepted by someone else's question's asker
    promoted: int  # answers made into official information (FAQ or page)
    flags_upheld: int
    reviews: int  # drafts of others reviewed (published or rejected)


BADGES = (
    Badge("diterima-pertama", N_("Jawaban Pertama Diterima"),
          N_("Jawabannya diterima penanya untuk pertama kali."), lambda s: s.accepted >= 1),
    Badge("penjawab-andal", N_("Penjawab Andal"), N_("10 jawabannya diterima penanya."), lambda s: s.accepted >= 10),
    Badge("informasi-resmi", N_("Menjadi Informasi Resmi"),
          N_("Jawabannya dijadikan FAQ atau isi resmi halaman layanan setelah ditinjau."), lambda s: s.promoted >= 1),
    Badge("penjaga-komunitas", N_("Penjaga Komunitas"),
          N_("3 laporannya tentang tulisan bermasalah ditindaklanjuti moderator."), lambda s: s.flags_upheld >= 3),
    Badge("peninjau", N_("Peninjau Teliti"),
          N_("Meninjau 5 usulan perubahan informasi resmi dari pengelola lain."), lambda s: s.reviews >= 5),
)


def _count(stmt) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0


def stats(user: User) -> Stats:
    """Counts over public posts (the same for every viewer)."""
    public_questions = policy.visible_question_ids(None)
    answers = sa.select(Answer.id).where(Answer.author_id == user.id, policy.visible_clause(None, Answer),
                                         Answer.question_id.in_(public_questions))
    asked = sa.select(Question.id).where(Question.author_id == user.id, policy.visible_clause(None, Question))
    asked_by = aliased(Question, flat=True)
    accepted = (sa.select(Answer.id).join(asked_by, asked_by.accepted_answer_id == Answer.id)
                .where(Answer.author_id == user.id, asked_by.author_id != user.id,
                       policy.visible_clause(None, Answer), Answer.question_id.in_(public_questions)))
    promoted = answers.where(Answer.promoted_at.is_not(None))
    flags = sa.select(Flag.id).where(Flag.user_id == user.id, Flag.status == "upheld")
    reviews = sa.select(AuditLog.id).where(AuditLog.actor_id == user.id,
                                           AuditLog.action.in_(("draft.publish", "draft.reject")))
    return Stats(questions=_count(asked), answers=_count(answers), accepted=_count(accepted),
                 promoted=_count(promoted), flags_upheld=_count(flags), reviews=_count(reviews))


def badges(s: Stats) -> list[Badge]:
    return [b for b in BADGES if b.test(s)]


# ---------------------------------------------------------------- profile lists

def user_by_name(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == username.strip().lower()[:40]))


def questions_of(viewer, user: User):
    """Statement: ``user``'s questions that ``viewer`` may see, newest first."""
    return (sa.select(Question).where(Question.author_id == user.id, policy.visible_clause(viewer, Question))
            .options(selectinload(Question.tags)).order_by(Question.created_at.desc(), Question.id.desc()))


def answers_of(viewer, user: User):
    """Statement: ``user``'s answers that ``viewer`` may see (with their question), newest first."""
    return (sa.select(Answer).where(Answer.author_id == user.id, policy.visible_clause(viewer, Answer),
                                    Answer.question_id.in_(policy.visible_question_ids(viewer)))
            .options(selectinload(Answer.question)).order_by(Answer.created_at.desc(), Answer.id.desc()))


# ---------------------------------------------------------------- "my questions"

def _owner(user) -> str:
    return f"u{user.id}"


def _item(question_id: int) -> str:
    return f"question:{question_id}"


def _as_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


def mark_seen(user, question: Question) -> datetime | None:
    """The asker opened their question: move their marker to now and return
    the previous one (None for anyone else).  Never takes the write lock."""
    if not getattr(user, "is_authenticated", False) or user.id != question.author_id:
        return None
    from core.ledger import ledger

    store = ledger()
    before = store.marks(_owner(user), [_item(question.id)]).get(_item(question.id))
    store.mark(_owner(user), _item(question.id), time.time())
    return _as_datetime(before) if before is not None else question.created_at


@dataclass
class MyQuestion:
    question: Question
    new_answers: int
    last_seen: datetime | None


def my_questions(user) -> list[MyQuestion]:
    """The user's questions (that they may see), those with answers newer
    than their last look first, then by last activity."""
    from core.ledger import ledger

    questions = db.session.scalars(
        sa.select(Question).where(Question.author_id == user.id, policy.visible_clause(user, Question))
        .options(selectinload(Question.tags))
        .order_by(Question.last_activity_at.desc(), Question.id.desc()).limit(MAX_MY_QUESTIONS)).all()
    if not questions:
        return []
    marks = ledger().marks(_owner(user), [_item(q.id) for q in questions])
    seen = {q.id: _as_datetime(marks[_item(q.id)]) if _item(q.id) in marks else q.created_at for q in questions}
    oldest = min(seen.values())
    rows = db.session.execute(
        sa.select(Answer.question_id, Answer.created_at).where(
            Answer.question_id.in_([q.id for q in questions]), Answer.author_id != user.id,
            Answer.created_at > oldest, policy.visible_clause(user, Answer)).limit(50_000)).all()
    new: dict[int, int] = {}
    for question_id, created in rows:
        if created > seen[question_id]:
            new[question_id] = new.get(question_id, 0) + 1
    out = [MyQuestion(q, new.get(q.id, 0), seen[q.id] if _item(q.id) in marks else None) for q in questions]
    out.sort(key=lambda m: (m.new_answers == 0, -m.question.last_activity_at.timestamp(), -m.question.id))
    return out
