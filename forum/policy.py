"""The one visibility and permission policy of the forum (in the spirit of
Discourse's Guardian).

Every view, API route, history page, duplicate target, comment, vote, flag,
listing and search result asks these functions; nothing else decides who
may see or act on a post.  ``tests/test_policy.py`` walks every route that
takes a post id and proves hidden and deleted content is unreachable for
those who may not see it.

Visibility:
* a deleted post is seen by admins only; a hidden post by moderators (and
  admins) only;
* an answer is seen only by those who may see its question.

Acting (comment, vote, flag, accept, answer, close) needs a *visible* post:
moderators may look at hidden content but nobody votes on it, comments on
it or flags it.  Locked threads refuse members.

Trust levels (reputation can only be moved by people who took part):
* 0, new: may ask, answer and comment; may flag only personal data
  ("data-pribadi" reports must never wait);
* 1, basic: reputation >= 15, or an account at least 3 days old with 3
  visible posts: may vote and flag;
* 2, staff (moderators, knowledge managers, admins).
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import g, has_request_context

from core.extensions import db
from core.models import utcnow

from core.i18n import N_

from .models import Answer, Post, Question

TL1_REPUTATION = 15
TL1_DAYS = 3
TL1_POSTS = 3


# ---------------------------------------------------------------- who is asking

def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _can(user, capability: str) -> bool:
    return _authenticated(user) and user.can(capability)


def _active(user) -> bool:
    return _authenticated(user) and not user.is_suspended


def trust_level(user) -> int:
    if not _authenticated(user):
        return -1
    if user.can("moderate") or user.can("curate"):
        return 2
    from flask import current_app

    if not current_app.config.get("TRUST_LEVELS_ENABLED", True):
        return 1  # most tests; tests/test_policy.py turns them on
    if user.reputation >= TL1_REPUTATION:
        return 1
    cache = g.setdefault("_trust_levels", {}) if has_request_context() else {}
    if user.id not in cache:
        old_enough = user.created_at is not None and user.created_at <= utcnow() - timedelta(days=TL1_DAYS)
        posts = db.session.scalar(sa.select(sa.func.count(Post.id)).where(
            Post.author_id == user.id, Post.hidden_at.is_(None), Post.deleted_at.is_(None),
            Post.needs_review.is_(False))) if old_enough else 0
        cache[user.id] = 1 if old_enough and posts >= TL1_POSTS else 0
    return cache[user.id]


# ---------------------------------------------------------------- seeing

def _question_of(post: Post) -> Question:
    return post if isinstance(post, Question) else post.question


def can_see_post(user, post: Post | None) -> bool:
    if post is None:
        return False
    if post.deleted_at is not None and not _can(user, "admin"):
        return False
    if post.hidden_at is not None and not _can(user, "moderate"):
        return False
    if isinstance(post, Answer):
        return can_see_post(user, post.question)
    return True


def visible_clause(user, post=Post):
    """:func:`can_see_post`'s rule on a post's own state, as an SQL
    condition for listings (profiles, "my questions").  For answers, combine
    with :func:`visible_question_ids` (an answer is seen only with its question)."""
    conditions = []
    if not _can(user, "admin"):
        conditions.append(post.deleted_at.is_(None))
    if not _can(user, "moderate"):
        conditions.append(post.hidden_at.is_(None))
    return sa.and_(sa.true(), *conditions)


def visible_question_ids(user):
    """Subquery: ids of the questions ``user`` may see."""
    return sa.select(Question.id).where(visible_clause(user, Question))


def is_public(post: Post) -> bool:
    """Visible to everyone: neither it nor its question hidden or deleted."""
    question = _question_of(post)
    return post.is_visible and question.is_visible


def public_post_clause(post_id_column):
    """SQL form of "the post with this id is visible to everyone" (its own
    hidden/deleted marks; pair it with the question's id for an answer, as
    :func:`is_public` does).  For counts that cannot load every row, e.g.
    a person's unread notifications; a NULL id passes."""
    visible = sa.select(Post.id).where(Post.id == post_id_column, Post.hidden_at.is_(None),
                                       Post.deleted_at.is_(None)).exists()
    return sa.or_(post_id_column.is_(None), visible)


def visible_answers(user, question: Question) -> list[Answer]:
    """Accepted first, then by score, only those ``user`` may see."""
    return sorted((a for a in question.answers if can_see_post(user, a)),
                  key=lambda a: (a.id != question.accepted_answer_id, -a.score, a.created_at, a.id))


def can_see_history(user, post: Post) -> bool:
    return can_see_post(user, post)


def duplicate_target(user, question: Question) -> Question | None:
    """The question this one duplicates, if ``user`` may see it."""
    target = question.duplicate_of
    return target if target is not None and can_see_post(user, target) else None


# ---------------------------------------------------------------- acting

NOT_FOUND = (404, N_("Tulisan tidak ditemukan."))
LOCKED = (400, N_("Utas ini dikunci moderator; tidak dapat diubah atau ditanggapi."))


def refusal(user, post: Post, action: str) -> tuple[int, str] | None:
    """Why ``user`` may not do ``action`` on ``post``: (HTTP status, message
    for the user), or None if allowed.  Actions: answer, comment, vote,
    flag, flag-private, accept, edit, close."""
    if not _authenticated(user):
        return 401, N_("Silakan masuk terlebih dahulu.")
    if user.is_suspended:
        return 403, N_("Akun Anda sedang ditangguhkan.")
    if not can_see_post(user, post):
        return NOT_FOUND
    question = _question_of(post)
    if action == "edit":
        if post.deleted_at is not None:
            return 400, N_("Tulisan ini sudah dihapus.")
        if user.id != post.author_id and not user.can("moderate"):
            return 403, N_("Hanya penulis atau moderator yang dapat menyunting tulisan ini.")
        if question.is_locked and not user.can("moderate"):
            return LOCKED
        return None
    if not is_public(post):
        return 400, N_("Tulisan ini disembunyikan moderator; tidak dapat ditanggapi.")
    if action in ("answer", "comment", "vote", "accept") and question.is_locked and not user.can("moderate"):
        return LOCKED
    if action == "answer" and question.is_closed:
        return 400, N_("Pertanyaan ini sudah ditutup dan tidak menerima jawaban baru.")
    if action == "vote":
        if post.author_id == user.id:
            return 400, N_("Anda tidak dapat memberi suara pada tulisan sendiri.")
        if trust_level(user) < 1:
            return 403, N_("Anda dapat memberi suara setelah ikut berdiskusi: reputasi minimal %(reputation)s, atau "
                           "akun berumur %(days)s hari dengan %(posts)s tulisan.",
                           reputation=TL1_REPUTATION, days=TL1_DAYS, posts=TL1_POSTS)
    if action in ("flag", "flag-private"):
        if post.author_id == user.id:
            return 400, N_("Anda tidak dapat menandai tulisan sendiri.")
        if action == "flag" and trust_level(user) < 1:
            return 403, N_("Akun baru hanya dapat menandai tulisan yang memuat data pribadi. Alasan lain dapat dipakai "
                           "setelah Anda ikut berdiskusi.")
    if action == "accept":
        if not isinstance(post, Answer):
            return NOT_FOUND
        if question.author_id != user.id:
            return 403, N_("Hanya penanya yang dapat menerima jawaban.")
    if action == "close" and not (user.can("moderate") or user.id == question.author_id):
        return 403, N_("Hanya penanya atau moderator yang dapat menutup pertanyaan ini.")
    return None


def may(user, post: Post, action: str) -> bool:
    return refusal(user, post, action) is None


def can_edit(user, post: Post) -> bool:
    return may(user, post, "edit")


def visible_refs(user, kind: str, refs: list[str]) -> set[str]:
    """:func:`can_see_ref` for many search results at once (one query)."""
    if kind != "question":
        return set(refs)
    ids = [int(r) for r in refs if r.isdigit()]
    if not ids:
        return set()
    rows = db.session.scalars(sa.select(Question.id).where(Question.id.in_(ids), visible_clause(user, Question)))
    return {str(i) for i in rows}


def can_see_ref(user, kind: str, ref: str) -> bool:
    """For search results and other places that hold only a document id."""
    if kind != "question":
        return True
    if not ref.isdigit():
        return False
    question = db.session.get(Question, int(ref))
    return question is not None and can_see_post(user, question)
