"""Turning notification rows into what a person reads, in the inbox and in
e-mail.  Titles, names and excerpts are read now (not stored with the
notification), and anything the person may no longer see is left out."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from core.extensions import db
from core.i18n import N_, _
from core.urls import path_for

from .models import Notification

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")

FIELD_NAMES = {
    "requirements": N_("persyaratan"), "fees": N_("biaya"), "duration": N_("waktu penyelesaian"), "steps": N_("prosedur"),
    "channels": N_("tempat dan cara pengajuan"), "legal_basis": N_("dasar hukum"), "contact": N_("kontak"),
    "summary": N_("ringkasan"), "title": N_("judul"), "notes": N_("catatan"), "faq": N_("FAQ"),
}


@dataclass
class Entry:
    id: int
    kind: str
    text: str
    url: str
    created_at: datetime
    read: bool
    excerpt: str = ""
    reason: str = ""          # why the person got it (shown in e-mail)
    extra: dict = field(default_factory=dict)


def plain_excerpt(cooked_html: str, limit: int = 400) -> str:
    """What readers see of a cooked post, as plain text, cut at ``limit``;
    personal data is redacted once more (it was redacted before storage)."""
    from core.pii import redact_text

    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", cooked_html or ""))).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return redact_text(text)


def describe(rows: list[Notification], viewer, *, excerpts: bool = False) -> list[Entry]:
    """Entries for ``rows`` that ``viewer`` may still see, in the given order."""
    from forum.models import Comment, Post, Question
    from forum.policy import can_see_post, is_public
    from kb.models import Service, ServiceDraft

    def load(model, ids):
        ids = {i for i in ids if i is not None}
        return {o.id: o for o in db.session.scalars(sa.select(model).where(model.id.in_(ids)))} if ids else {}

    questions = load(Question, (r.question_id for r in rows))
    posts = load(Post, (r.post_id for r in rows))
    comments = load(Comment, (r.comment_id for r in rows))
    services = load(Service, (r.service_id for r in rows))
    drafts = load(ServiceDraft, (r.draft_id for r in rows))
    from core.models import User

    actors = load(User, (r.actor_id for r in rows))

    out = []
    for row in rows:
        actor = actors.get(row.actor_id)
        who = actor.name if actor is not None else _("Seseorang")
        question = questions.get(row.question_id)
        post = posts.get(row.post_id)
        if row.question_id is not None and (question is None or not is_public(question)
                                            or not can_see_post(viewer, question)):
            continue
        if row.post_id is not None and (post is None or not is_public(post) or not can_see_post(viewer, post)):
            continue
        comment = comments.get(row.comment_id)
        service = services.get(row.service_id)
        draft = drafts.get(row.draft_id)
        d = row.detail or {}
        excerpt = ""
        reason = ""
        if row.kind in ("answer", "comment", "accepted", "mention", "new_question"):
            anchor = f"#jawaban-{post.id}" if post is not None and post.kind == "answer" else ""
            url = path_for("forum.question", question_id=question.id) + anchor
            title = question.title
            if row.kind == "answer":
                text = _("%(who)s menjawab pertanyaan yang Anda ikuti: %(title)s", who=who, title=title)
                reason = _("Anda mengikuti pertanyaan ini.")
            elif row.kind == "comment":
                if d.get("yours"):
                    text = _("%(who)s mengomentari tulisan Anda di: %(title)s", who=who, title=title)
                    reason = _("Ini tulisan Anda.")
                else:
                    text = _("%(who)s berkomentar di pertanyaan yang Anda ikuti: %(title)s", who=who, title=title)
                    reason = _("Anda mengikuti pertanyaan ini.")
            elif row.kind == "accepted":
                text = _("Jawaban Anda diterima penanya: %(title)s", title=title)
                reason = _("Ini jawaban Anda.")
            elif row.kind == "mention":
                text = _("%(who)s menyebut Anda di: %(title)s", who=who, title=title)
                reason = _("Nama pengguna Anda disebut.")
            else:
                if d.get("via") == "tag":
                    where = "#" + str(d.get("tag", ""))
                else:
                    where = str(d.get("service", ""))
                text = _("Pertanyaan baru tentang %(where)s: %(title)s", where=where, title=title)
                reason = _("Anda mengikuti %(where)s.", where=where)
            if excerpts:
                excerpt = plain_excerpt(comment.body_html if comment is not None else
                                        (post.body_html if post is not None else question.body_html))
        elif row.kind in ("page_updated", "regulation"):
            if service is None:
                continue
            url = path_for("kb.service", slug=service.slug)
            reason = _("Anda mengikuti halaman %(title)s.", title=service.title)
            if row.kind == "page_updated":
                fields = ", ".join(_(FIELD_NAMES.get(f, f)) for f in d.get("fields", [])[:6])
                text = _("Halaman %(title)s diperbarui (%(fields)s).", title=service.title, fields=fields or "-")
            else:
                status = _("dicabut") if d.get("status") == "repealed" else _("diubah")
                text = _("%(regulation)s yang dikutip halaman %(title)s %(status)s; halaman ini sedang ditinjau ulang.",
                         regulation=d.get("regulation", ""), title=service.title, status=status)
        elif row.kind in ("draft_review", "draft_outcome"):
            if draft is None or service is None:
                continue
            if row.kind == "draft_review":
                if not (viewer.can("curate")):
                    continue
                url = path_for("kb.curation_draft", draft_id=draft.id)
                text = _("Draf %(title)s dari %(who)s menunggu tinjauan Anda.", title=service.title, who=who)
                reason = _("Anda pengelola pengetahuan; draf perlu ditinjau orang lain selain penulisnya.")
            else:
                url = (path_for("kb.service", slug=service.slug) if d.get("outcome") == "published"
                       else path_for("kb.curation_draft", draft_id=draft.id))
                text = (_("Draf Anda untuk %(title)s diterbitkan oleh %(who)s.", title=service.title, who=who)
                        if d.get("outcome") == "published" else
                        _("Draf Anda untuk %(title)s ditolak oleh %(who)s.", title=service.title, who=who))
                reason = _("Ini draf Anda.")
        else:
            continue
        out.append(Entry(row.id, row.kind, text, url, row.created_at, row.read_at is not None, excerpt, reason))
    return out
