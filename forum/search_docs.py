"""How a question thread becomes a search document: the question plus its
accepted answer and best-voted answers (that is what deflects the next
person asking)."""
from __future__ import annotations

import sqlalchemy as sa
from core.urls import path_for
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.markup import plain_text
from search.documents import Document, Section

from .models import Question
from .queries import sorted_answers


def question_document(q: Question) -> Document | None:
    if not q.is_visible:
        return None  # hidden or deleted threads leave the index
    sections = [Section("Pertanyaan", plain_text(q.body_html))]
    for a in sorted_answers(q)[:2]:
        label = "Jawaban diterima" if a.id == q.accepted_answer_id else "Jawaban"
        sections.append(Section(label, plain_text(a.body_html)))
    return Document(doc_id=f"question:{q.id}", kind="question", title=q.title,
                    url=path_for("forum.question", question_id=q.id), sections=sections,
                    keywords=[t.name for t in q.tags],
                    extra={"answer_count": q.answer_count, "accepted": q.accepted_answer_id is not None,
                           "closed": q.is_closed})


def load(refs: list[str]) -> dict[str, Document | None]:
    ids = [int(r) for r in refs if r.isdigit()]
    rows = db.session.scalars(sa.select(Question).where(Question.id.in_(ids)).options(
        selectinload(Question.tags), selectinload(Question.answers)))
    found = {str(q.id): question_document(q) for q in rows}
    return {r: found.get(r) for r in refs}


def all_refs():
    return [str(i) for i in db.session.scalars(sa.select(Question.id).order_by(Question.id))]
