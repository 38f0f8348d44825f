"""Turning community answers into official knowledge, and keeping promoted
or accepted answers honest when the official page changes."""
from __future__ import annotations

import sqlalchemy as sa

from core import signals
from core.db import write_transaction
from core.extensions import db
from core.i18n import N_
from core.models import User, audit, utcnow
from core.urls import path_for
from kb import curation

from .models import Answer, Question, question_services
from .services import NotFound


def _answer(answer_id: int) -> Answer:
    answer = db.session.get(Answer, answer_id, with_for_update=True)
    if answer is None or not answer.is_visible:
        raise NotFound(N_("Jawaban tidak ditemukan."))
    return answer


def promote_to_faq(user: User, answer_id: int, slug: str, question: str, answer_md: str):
    """Propose the answer as an FAQ entry: a draft that another knowledge
    manager reviews, as for page edits; the answer is marked promoted (and
    its author credited) when the entry is published."""
    curation._require(user)
    with write_transaction():
        answer = _answer(answer_id)
        draft = curation.propose_faq(user, slug, question, answer_md, source_answer_id=answer.id,
                                     credited_user_id=answer.author_id)
        audit(user, "answer.promote_faq", "answer", answer.id, service=slug, draft=draft.id)
    return draft


def propose_change(user: User, answer_id: int, slug: str, summary: str):
    """Start a draft of the service, crediting the answer's author; the
    knowledge manager edits the field it concerns and submits it for review."""
    curation._require(user)
    with write_transaction():
        answer = _answer(answer_id)
        draft = curation.create_draft(user, slug, summary=summary or f"Usulan dari jawaban #{answer.id}",
                                      source_answer_id=answer.id, credited_user_id=answer.author_id)
        audit(user, "answer.propose_change", "answer", answer.id, service=slug, draft=draft.id)
    return draft


def confirm_answer(user: User, answer_id: int) -> Answer:
    curation._require(user)
    with write_transaction():
        answer = _answer(answer_id)
        answer.stale_since = None
        audit(user, "answer.confirm", "answer", answer.id)
    return answer


def flag_linked_answers(service) -> None:
    """A fee, requirement or duration changed, or a regulation the page cites:
    accepted and promoted answers on threads about this service may be
    outdated.  Runs in the knowledge base's write transaction
    (forum.subscribers)."""
    question_ids = sa.select(question_services.c.question_id).where(question_services.c.service_id == service.id)
    accepted = sa.select(Question.accepted_answer_id).where(Question.id.in_(question_ids),
                                                            Question.accepted_answer_id.is_not(None))
    db.session.execute(sa.update(Answer).where(
        sa.or_(Answer.id.in_(accepted), sa.and_(Answer.promoted_at.is_not(None), Answer.question_id.in_(question_ids))),
        Answer.stale_since.is_(None)).values(stale_since=utcnow()).execution_options(synchronize_session=False))


def mark_promoted(draft) -> None:
    """A draft proposed from an answer was published: the answer links to
    the official page."""
    if draft.source_answer_id:
        answer = db.session.get(Answer, draft.source_answer_id)
        if answer is not None:
            answer.promoted_at = utcnow()
            anchor = f"#faq-{draft.published_faq_id}" if draft.published_faq_id else ""
            answer.promoted_to = path_for("kb.service", slug=draft.service.slug) + anchor
            signals.content_changed.send(answer, actor=None, doc_ids=[f"question:{answer.question_id}"])
