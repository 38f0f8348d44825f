"""How a question thread becomes a search document: the question plus the
answers that deflect the next person asking: the accepted answer, answers
promoted into an official page, then the best-voted ones.  Answers stale
after a change of the official page still count (they are labelled).

The metadata tells ranking whether the thread is answered (``accepted``,
``answer_count``) and how the community rated it (``score``)."""
from __future__ import annotations

import sqlalchemy as sa
from core.urls import path_for
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.markup import plain_text
from search.documents import Document, Section

from .models import Question
from .queries import sorted_answers

MAX_ANSWERS = 3


def _label(q: Question, a) -> str:
    if a.id == q.accepted_answer_id:
        return "Jawaban diterima"
    if a.promoted_at is not None:
        return "Jawaban terpilih"
    return "Jawaban"


def question_document(q: Question) -> Document | None:
    if not q.is_visible:
        return None  # hidden or deleted threads leave the index
    sections = [Section("Pertanyaan", plain_text(q.body_html))]
    answers = sorted_answers(q)
    chosen = [a for a in answers if a.id == q.accepted_answer_id or a.promoted_at is not None]
    chosen += [a for a in answers if a not in chosen and a.score >= 0]
    for a in chosen[:MAX_ANSWERS]:
        sections.append(Section(_label(q, a), plain_text(a.body_html)))
    return Document(doc_id=f"question:{q.id}", kind="question", title=q.title,
                    url=path_for("forum.question", question_id=q.id), sections=sections,
                    keywords=[t.name for t in q.tags],
                    extra={"answer_count": q.answer_count, "accepted": q.accepted_answer_id is not None,
                           "closed": q.is_closed, "score": q.score})


def load(refs: list[str]) -> dict[str, Document | None]:
    ids = [int(r) for r in refs if r.isdigit()]
    rows = db.session.scalars(sa.select(Question).where(Question.id.in_(ids)).options(
        selectinload(Question.tags), selectinload(Question.answers)))
    found = {str(q.id): question_document(q) for q in rows}
    return {r: found.get(r) for r in refs}


def all_refs():
    return [str(i) for i in db.session.scalars(sa.select(Question.id).order_by(Question.id))]
