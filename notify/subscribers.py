"""Who hears about what (``core.signals``).  Each receiver runs inside the
event's write transaction and only reads a little and inserts rows
(notifications, follows, mail outbox rows); the mail worker composes and
sends later.

* An asker follows their question automatically; anyone may follow or stop
  following a question, a service page or a tag.
* A question's followers hear of new answers and of comments on the
  question; a post's author hears of comments on it; an answer's author
  hears when it is accepted; a mentioned person hears once per post or
  comment (and only as "mentioned", even when following).
* A service's followers hear of new questions about it, of a new published
  version (not of a bare "still valid" confirmation) and of a regulation it
  cites being amended or repealed; a tag's followers hear of new questions
  with that tag.
* Knowledge managers hear when a draft awaits review (its author excepted);
  the author hears when it was published or rejected.
* Nothing about seed content, and nothing about a post that is not public
  (forum.policy); a post hidden later disappears from the inbox and is
  never mailed (checked again when shown and when sent).
"""
from __future__ import annotations

from core import signals

from . import services as svc


def _public(post) -> bool:
    from forum.policy import is_public

    return is_public(post)


def _stamp(moment) -> str:
    return moment.strftime("%Y%m%d%H%M%S%f") if moment is not None else "0"


# ---------------------------------------------------------------- forum

def _mentioned(_sender, post=None, question=None, comment=None, user_ids=(), actor=None, seeded=False, **_kw) -> None:
    if seeded or not _public(post):
        return
    key = f"comment:{comment.id}" if comment is not None else f"post:{post.id}"
    svc.notify_users(user_ids, "mention", key, actor=actor, question_id=question.id, post_id=post.id,
                     comment_id=comment.id if comment is not None else None)


def _question_asked(_sender, question=None, actor=None, seeded=False, **_kw) -> None:
    if seeded:
        return
    svc._add_follow(question.author_id, "question", question.id)
    if not _public(question):
        return
    via: dict[int, dict] = {}
    for service in question.services:
        for uid in svc.followers("service", [service.id]):
            via.setdefault(uid, {"via": "service", "service": service.title})
    for tag in question.tags:
        if tag.id is None:
            continue
        for uid in svc.followers("tag", [tag.id]):
            via.setdefault(uid, {"via": "tag", "tag": tag.name})
    svc.notify_users(list(via), "new_question", f"post:{question.id}", actor=actor, question_id=question.id,
                     post_id=question.id, details=via)


def _answer_posted(_sender, answer=None, question=None, actor=None, seeded=False, **_kw) -> None:
    if seeded or not _public(answer):
        return
    svc.notify_users(svc.followers("question", [question.id]), "answer", f"post:{answer.id}", actor=actor,
                     question_id=question.id, post_id=answer.id)


def _comment_posted(_sender, comment=None, post=None, question=None, actor=None, seeded=False, **_kw) -> None:
    if seeded or not _public(post):
        return
    key = f"comment:{comment.id}"
    refs = {"actor": actor, "question_id": question.id, "post_id": post.id, "comment_id": comment.id}
    svc.notify_users([post.author_id], "comment", key, detail={"yours": True}, **refs)
    if post.id == question.id:
        svc.notify_users(svc.followers("question", [question.id]), "comment", key, **refs)


def _answer_accepted(_sender, answer=None, question=None, actor=None, accepted=True, seeded=False, **_kw) -> None:
    if seeded or not accepted or not _public(answer):
        return
    svc.notify_users([answer.author_id], "accepted", f"accept:{answer.id}", actor=actor, question_id=question.id,
                     post_id=answer.id)


# ---------------------------------------------------------------- knowledge base

def _page_published(_sender, service=None, created=False, changed=(), actor=None, **_kw) -> None:
    fields = [f for f in changed if f != "last_reviewed"]
    if created or not fields:
        return  # a new page has no followers; a bare "still valid" confirmation is no news
    svc.notify_users(svc.followers("service", [service.id]), "page_updated", f"page:{service.id}:v{service.version}",
                     actor=actor, service_id=service.id, detail={"fields": fields[:12], "version": service.version})


def _regulation_changed(_sender, regulation=None, cited=(), actor=None, **_kw) -> None:
    stamp = _stamp(regulation.updated_at)
    for service, groups in cited:
        svc.notify_users(svc.followers("service", [service.id]), "regulation",
                         f"reg:{regulation.id}:{regulation.status}:{stamp}:{service.id}", actor=actor,
                         service_id=service.id,
                         detail={"regulation": regulation.label, "status": regulation.status, "groups": list(groups)})


def _draft_awaiting_review(_sender, draft=None, service=None, actor=None, **_kw) -> None:
    reviewers = [uid for uid in svc.curators() if uid != draft.author_id]
    svc.notify_users(reviewers, "draft_review", f"draft:{draft.id}:{_stamp(draft.submitted_at)}", actor=actor,
                     service_id=draft.service_id, draft_id=draft.id)


def _draft_reviewed(_sender, draft=None, service=None, outcome="", actor=None, **_kw) -> None:
    svc.notify_users([draft.author_id], "draft_outcome", f"draft-{outcome}:{draft.id}:{_stamp(draft.reviewed_at)}",
                     actor=actor, service_id=draft.service_id, draft_id=draft.id, detail={"outcome": outcome})


# ---------------------------------------------------------------- accounts

def _verification_requested(_sender, user=None, address_hash="", **_kw) -> None:
    from flask import has_request_context

    from core.i18n import current_language

    # The mails to this address are written in the language the person is
    # using the site in now (registration or the account page), until they
    # choose another on the account page.
    if has_request_context():
        svc.adopt_language(user.id, current_language())
    svc.queue_mail("verify", user.id, {"h": address_hash})


def _address_taken(_sender, owner=None, **_kw) -> None:
    from core.models import utcnow

    # At most one such warning per account per day.
    svc.queue_mail("address_taken", owner.id, {}, dedupe_key=f"taken:{owner.id}:{utcnow():%Y-%m-%d}")


# ---------------------------------------------------------------- page chrome (read side)

def unread_notifications() -> str:
    """The header's unread count ("" when none; "99+" past the cap)."""
    from flask import current_app, g
    from flask_login import current_user
    from sqlalchemy.exc import SQLAlchemyError

    if not current_user or not current_user.is_authenticated:
        return ""
    if "_unread_notifications" not in g:
        try:
            n = svc.unread_count(current_user)
        except SQLAlchemyError:  # the header must not turn an error page into a 500
            current_app.logger.exception("unread count failed")
            n = 0
        g._unread_notifications = "" if not n else (f"{svc.COUNT_CAP}+" if n > svc.COUNT_CAP else str(n))
    return g._unread_notifications


def follow_state(raw_target: str):
    """(target, following) for the follow button; target None if unknown."""
    from flask_login import current_user

    try:
        target = svc.resolve_target(current_user, raw_target)
    except svc.NotifyError:
        return None, False
    return target, svc.is_following(current_user, target.type, target.id)


_CHROME = {"unread_notifications": unread_notifications, "follow_state": follow_state}


def _page_chrome(_sender, **_kw) -> dict:
    return _CHROME


def subscribe() -> None:
    signals.page_chrome_shown.connect(_page_chrome)
    signals.user_mentioned.connect(_mentioned)
    signals.question_asked.connect(_question_asked)
    signals.answer_posted.connect(_answer_posted)
    signals.comment_posted.connect(_comment_posted)
    signals.answer_accepted.connect(_answer_accepted)
    signals.page_published.connect(_page_published)
    signals.regulation_changed.connect(_regulation_changed)
    signals.draft_awaiting_review.connect(_draft_awaiting_review)
    signals.draft_reviewed.connect(_draft_reviewed)
    signals.email_verification_requested.connect(_verification_requested)
    signals.email_address_taken.connect(_address_taken)
