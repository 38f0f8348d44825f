"""Every forum write.  Each public function is one transaction.

Votes, accepts and reputation change together in that transaction, so a
post's score always equals the sum of its votes and a user's reputation
equals :func:`compute_reputation`.  Edits carry the version the editor
started from; a stale version raises :class:`EditConflict` instead of
overwriting someone else's change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core import signals
from core.db import write_transaction
from core.extensions import db
from core.i18n import N_
from core.markup import clean_text, render_markdown
from core.mentions import mentioned_names
from core.pii import KIND_NAMES, contains_pii, find_in_html, protect_markdown, redact
from core.models import User, utcnow

from . import policy
from .models import FLAG_REASONS, Answer, Comment, Flag, Post, Question, Revision, Tag, Vote

REP_QUESTION_UP = 5
REP_ANSWER_UP = 10
REP_DOWN = -2
REP_ACCEPTED = 15
REP_ACCEPTER = 2

TITLE_MIN, TITLE_MAX = 15, 150
BODY_MIN, BODY_MAX = 20, 30_000
COMMENT_MIN, COMMENT_MAX = 5, 600
MAX_TAGS, MAX_SERVICES = 5, 5
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,29}$")


class ForumError(Exception):
    """A rule refused the action; ``message`` is shown to the user."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(ForumError):
    status = 404


class Forbidden(ForumError):
    status = 403


class ValidationFailed(ForumError):
    def __init__(self, errors: dict[str, str]):
        super().__init__(N_("Periksa kembali isian Anda."))
        self.errors = errors


class EditConflict(ForumError):
    status = 409

    def __init__(self, post: Post):
        super().__init__(N_("Tulisan ini sudah diubah orang lain sejak Anda mulai menyunting."))
        self.current_version = post.version
        self.current_body = post.body_md
        self.current_title = getattr(post, "title", None)


# ---------------------------------------------------------------- validation

def _clean(text: str | None, limit: int) -> str:
    """User text made storable and capped *before* any other processing:
    one character over ``limit`` is kept so validation can still say "too
    long", and nothing downstream ever sees more."""
    return clean_text(text).strip()[:limit + 1]


def _private(*texts: str) -> tuple[list[str], list[str]]:
    """Redact personal data in plain-text fields before anything is stored
    (post, revision, index, API): returns the texts and the kinds removed."""
    out, found = [], []
    for text in texts:
        text, kinds = redact(text)
        out.append(text)
        found += [k for k in kinds if k not in found]
    return out, found


def stored_title(title: str) -> str:
    """What ask/edit would store for this title (seed reloads compare with it)."""
    return redact(_clean(title, TITLE_MAX))[0]


def stored_body(body: str, limit: int = BODY_MAX) -> str:
    """What ask/answer/edit would store for this Markdown body."""
    return protect_markdown(_clean(body, limit))[0]


PII_REFUSED = N_("Tulisan ini tampaknya memuat data pribadi (NIK, nomor HP, atau email) dalam bentuk yang tidak dapat "
               "kami samarkan otomatis. Hapus data tersebut, lalu kirim lagi.")


def _cook(body: str, field: str, pii: list[str]) -> tuple[str, str]:
    """Markdown source -> (source with personal data replaced, sanitised HTML).

    Personal data is judged on what readers will see (entities decoded,
    markup removed) and the rendered HTML is checked once more; anything
    that still shows a number is refused, with the author's text kept.
    Runs before the write transaction: rendering never holds the lock."""
    body, kinds = protect_markdown(body)
    html = render_markdown(body)
    if find_in_html(html):
        raise ValidationFailed({field: PII_REFUSED})
    pii += [k for k in kinds if k not in pii]
    return body, html


def _private_tags(names: list[str], pii: list[str]) -> list[str]:
    """Tags are public labels: a tag that is personal data is dropped."""
    kept = []
    for name in names:
        kinds = contains_pii(name) or contains_pii(name.replace("-", ""))
        if kinds:
            pii += [k for k in kinds if k not in pii]
        else:
            kept.append(name)
    return kept


def pii_message(kinds: list[str]) -> str:
    """Shown after posting (kind names in the visitor's language)."""
    from core.i18n import _

    names = ", ".join(_(KIND_NAMES[k]) for k in kinds)
    return N_("Demi keamanan data pribadi Anda, %(names)s dalam tulisan ini kami samarkan sebelum diterbitkan.",
              names=names)


def parse_tags(raw) -> list[str]:
    if isinstance(raw, str):
        items = re.split(r"[,\s]+", raw)
    elif isinstance(raw, (list, tuple)):
        items = [str(t) for t in raw]
    else:
        items = []
    out = []
    for item in items:
        tag = item.strip().lower().lstrip("#")
        if tag and tag not in out:
            out.append(tag)
    return out


def _check_question(title: str, body: str, tags: list[str], service_slugs: list[str]) -> dict[str, str]:
    errors = {}
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        errors["title"] = N_("Judul %(min)s–%(max)s karakter; tulis pertanyaan Anda dalam satu kalimat.",
                             min=TITLE_MIN, max=TITLE_MAX)
    errors.update(_check_body(body))
    bad = [t for t in tags if not TAG_RE.match(t)]
    if bad:
        errors["tags"] = N_("Tag tidak valid: %(tags)s. Gunakan huruf kecil, angka, dan tanda hubung (2–30 karakter).",
                            tags=", ".join(bad[:3]))
    elif len(tags) > MAX_TAGS:
        errors["tags"] = N_("Paling banyak %(n)s tag.", n=MAX_TAGS)
    if len(service_slugs) > MAX_SERVICES:
        errors["services"] = N_("Paling banyak %(n)s layanan terkait.", n=MAX_SERVICES)
    return errors


def _check_body(body: str, field: str = "body") -> dict[str, str]:
    if not BODY_MIN <= len(body) <= BODY_MAX:
        return {field: N_("Isi %(min)s–%(max)s karakter; ceritakan apa yang sudah Anda coba.",
                          min=BODY_MIN, max=f"{BODY_MAX:,}".replace(",", "."))}
    return {}


def _services_by_slug(slugs: list[str]):
    from kb.models import Service

    if not slugs:
        return [], []
    found = db.session.scalars(sa.select(Service).where(Service.slug.in_(slugs))).all()
    known = {s.slug for s in found}
    return found, [s for s in slugs if s not in known]


def _tags(names: list[str]) -> list[Tag]:
    existing = {t.name: t for t in db.session.scalars(sa.select(Tag).where(Tag.name.in_(names)))} if names else {}
    out = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        out.append(tag)
    return out


def _require_active(user: User | None) -> None:
    if user is None or not user.is_authenticated:
        raise Forbidden(N_("Silakan masuk terlebih dahulu."))
    if user.is_suspended:
        raise Forbidden(N_("Akun Anda sedang ditangguhkan."))


def _is_first_post(author: User) -> bool:
    return not db.session.scalar(sa.select(Post.id).where(Post.author_id == author.id).limit(1))


def enforce(user: User, post: Post, action: str) -> None:
    """Raise the policy's refusal (forum.policy is the only judge)."""
    refused = policy.refusal(user, post, action)
    if refused is None:
        return
    status, message = refused
    raise {404: NotFound, 403: Forbidden, 401: Forbidden}.get(status, ForumError)(message)


def _announce_mentions(author: User, post: Post, question: Question, comment: Comment | None, cooked: str,
                       seeded: bool) -> None:
    """Send ``user_mentioned`` for the existing accounts named in ``cooked``
    (the rendered text: nothing inside code counts), the author excepted.
    Sent before the post's own event, so a mentioned follower is told once,
    as mentioned."""
    names = mentioned_names(cooked)
    if not names:
        return
    user_ids = db.session.scalars(sa.select(User.id).where(sa.func.lower(User.username).in_(names),
                                                           User.id != author.id)).all()
    if user_ids:
        signals.user_mentioned.send(post, post=post, question=question, comment=comment, user_ids=list(user_ids),
                                    actor=author, seeded=seeded, doc_ids=[])


def _locked_post(post_id: int, cls=Post):
    post = db.session.get(cls, post_id, with_for_update=True, populate_existing=True)
    if post is None:
        raise NotFound(N_("Tulisan tidak ditemukan."))
    return post


# ---------------------------------------------------------------- posting

def ask_question(author: User, title: str, body: str, tags=(), service_slugs=(), *, created_at=None,
                 seed_key: str | None = None) -> Question:
    _require_active(author)
    (title,), pii = _private(_clean(title, TITLE_MAX))
    body = _clean(body, BODY_MAX)
    raw_tags = tags[:400] if isinstance(tags, str) else list(tags)[:MAX_TAGS * 4]
    tag_names = _private_tags(parse_tags(raw_tags), pii)
    slugs = [s.strip()[:80] for s in list(service_slugs)[:MAX_SERVICES * 4] if s and s.strip()]
    errors = _check_question(title, body, tag_names, slugs)
    if errors:
        raise ValidationFailed(errors)
    body, body_html = _cook(body, "body", pii)
    with write_transaction():
        services, unknown = _services_by_slug(slugs)
        if unknown:
            raise ValidationFailed({"services": N_("Layanan tidak dikenal: %(slugs)s", slugs=", ".join(unknown[:3]))})
        now = created_at or utcnow()
        question = Question(author_id=author.id, title=title, body_md=body, body_html=body_html,
                            created_at=now, last_activity_at=now, seed_key=seed_key,
                            needs_review=seed_key is None and _is_first_post(author))
        question.tags = _tags(tag_names)
        question.services = list(services)
        db.session.add(question)
        db.session.flush()
        db.session.add(Revision(post_id=question.id, number=1, title=title, tags=" ".join(tag_names), body_md=body,
                                author_id=author.id, created_at=now, comment="Pertanyaan awal"))
        seeded = seed_key is not None
        _announce_mentions(author, question, question, None, body_html, seeded)
        signals.question_asked.send(question, question=question, actor=author, seeded=seeded,
                                    doc_ids=[f"question:{question.id}"])
    question.pii_found = pii
    return question


def post_answer(author: User, question_id: int, body: str, *, created_at=None, seed_key: str | None = None) -> Answer:
    _require_active(author)
    pii: list[str] = []
    body = _clean(body, BODY_MAX)
    errors = _check_body(body)
    body_html = ""
    if not errors:
        body, body_html = _cook(body, "body", pii)
    with write_transaction():
        question = _locked_post(question_id, Question)
        enforce(author, question, "answer")
        if errors:
            raise ValidationFailed(errors)
        now = created_at or utcnow()
        answer = Answer(author_id=author.id, question_id=question.id, body_md=body, body_html=body_html,
                        created_at=now, seed_key=seed_key, needs_review=seed_key is None and _is_first_post(author))
        db.session.add(answer)
        db.session.flush()
        db.session.add(Revision(post_id=answer.id, number=1, body_md=body, author_id=author.id, created_at=now,
                                comment="Jawaban awal"))
        question.answer_count = db.session.scalar(
            sa.select(sa.func.count(Answer.id)).where(Answer.question_id == question.id, Answer.hidden_at.is_(None),
                                                      Answer.deleted_at.is_(None)))
        question.last_activity_at = max(question.last_activity_at, now)
        seeded = seed_key is not None
        _announce_mentions(author, answer, question, None, body_html, seeded)
        signals.answer_posted.send(answer, answer=answer, question=question, actor=author, seeded=seeded,
                                   doc_ids=[f"question:{question.id}"])
    answer.pii_found = pii
    return answer


def add_comment(author: User, post_id: int, body: str, *, created_at=None, seed_key: str | None = None) -> Comment:
    _require_active(author)
    pii: list[str] = []
    body = _clean(body, COMMENT_MAX)
    if not COMMENT_MIN <= len(body) <= COMMENT_MAX:
        raise ValidationFailed({"comment": N_("Komentar %(min)s–%(max)s karakter.", min=COMMENT_MIN, max=COMMENT_MAX)})
    body, body_html = _cook(body, "comment", pii)
    with write_transaction():
        post = _locked_post(post_id)
        question = post if isinstance(post, Question) else post.question
        enforce(author, post, "comment")
        comment = Comment(post_id=post.id, author_id=author.id, body_md=body, body_html=body_html,
                          created_at=created_at or utcnow(), seed_key=seed_key)
        db.session.add(comment)
        db.session.flush()
        question.last_activity_at = max(question.last_activity_at, comment.created_at)
        seeded = seed_key is not None
        _announce_mentions(author, post, question, comment, body_html, seeded)
        signals.comment_posted.send(comment, comment=comment, post=post, question=question, actor=author,
                                    seeded=seeded, doc_ids=[])
    comment.pii_found = pii
    return comment


can_edit = policy.can_edit


def edit_post(editor: User, post_id: int, base_version: int, body: str, *, title: str | None = None,
              tags=None, comment: str = "") -> Post:
    _require_active(editor)
    (comment,), pii = _private(_clean(comment, 300)[:300])
    body = _clean(body, BODY_MAX)
    if title is not None:
        (title,), title_pii = _private(_clean(title, TITLE_MAX))
        pii += [k for k in title_pii if k not in pii]
    new_tags = None
    if tags is not None:
        new_tags = _private_tags(parse_tags(tags[:400] if isinstance(tags, str) else list(tags)[:MAX_TAGS * 4]), pii)
    errors = _check_body(body)
    body_html = ""
    if not errors:
        body, body_html = _cook(body, "body", pii)
    with write_transaction():
        post = _locked_post(post_id)
        enforce(editor, post, "edit")
        if post.version != base_version:
            raise EditConflict(post)
        if isinstance(post, Question):
            new_title = title if title is not None else post.title
            tag_names = new_tags if new_tags is not None else [t.name for t in post.tags]
            errors = _check_question(new_title, body, tag_names, [])
        else:
            new_title, tag_names = None, None
        if errors:
            raise ValidationFailed(errors)
        old_tags = [t.name for t in post.tags] if isinstance(post, Question) else None
        if body == post.body_md and new_title == getattr(post, "title", None) and tag_names == old_tags:
            post.pii_found = pii
            return post  # nothing changed: no new revision
        now = utcnow()
        post.body_md = body
        post.body_html = body_html
        post.version += 1
        post.edited_at = now
        if isinstance(post, Question):
            post.title = new_title
            post.tags = _tags(tag_names)
            post.last_activity_at = now
        else:
            post.question.last_activity_at = now
        number = db.session.scalar(sa.select(sa.func.max(Revision.number)).where(Revision.post_id == post.id)) or 0
        db.session.add(Revision(post_id=post.id, number=number + 1, title=new_title,
                                tags=" ".join(tag_names) if tag_names is not None else None, body_md=body,
                                author_id=editor.id, created_at=now, comment=comment))
        question = post if isinstance(post, Question) else post.question
        # Only the post's author can mention people by editing (a moderator's
        # fix of a typo does not notify anyone); each person once per post.
        if editor.id == post.author_id:
            _announce_mentions(editor, post, question, None, body_html, post.seed_key is not None)
        signals.post_edited.send(post, post=post, question=question, actor=editor,
                                 doc_ids=[f"question:{question.id}"])
    post.pii_found = pii
    return post


# ---------------------------------------------------------------- votes, accepts, reputation

def _vote_rep(post: Post, value: int) -> int:
    if value > 0:
        return REP_QUESTION_UP if isinstance(post, Question) else REP_ANSWER_UP
    if value < 0:
        return REP_DOWN
    return 0


def _add_rep(user_id: int, delta: int) -> None:
    if delta:
        db.session.execute(sa.update(User).where(User.id == user_id).values(reputation=User.reputation + delta))


@dataclass
class VoteResult:
    score: int
    my_vote: int


def cast_vote(user: User, post_id: int, value: int) -> VoteResult:
    """Set the user's vote on a post to +1, -1 or 0 (withdrawn).

    Setting (rather than toggling) makes a repeated request harmless: a
    double-clicked "up" leaves exactly one up-vote."""
    _require_active(user)
    if value not in (1, 0, -1):
        raise ForumError(N_("Nilai suara harus naik, turun, atau batal."))
    for attempt in (1, 2):
        try:
            return _cast_vote_once(user, post_id, value)
        except IntegrityError:
            # Another request by the same user inserted first (possible on
            # databases without SQLite's single writer); the retry sees it.
            if attempt == 2:
                raise ForumError(N_("Suara Anda sedang diproses. Muat ulang halaman."))
    raise AssertionError("unreachable")


def _cast_vote_once(user: User, post_id: int, value: int) -> VoteResult:
    with write_transaction():
        post = _locked_post(post_id)
        enforce(user, post, "vote")
        vote = db.session.scalar(sa.select(Vote).where(Vote.post_id == post.id, Vote.user_id == user.id))
        old = vote.value if vote else 0
        new = value
        if old == new:
            return VoteResult(score=post.score, my_vote=new)
        if vote is not None and new == 0:
            db.session.delete(vote)
        elif vote is not None:
            vote.value = new
        else:
            db.session.add(Vote(post_id=post.id, user_id=user.id, value=new))
        db.session.flush()
        post.score = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Vote.value), 0)).where(Vote.post_id == post.id))
        _add_rep(post.author_id, _vote_rep(post, new) - _vote_rep(post, old))
        if isinstance(post, Answer):  # answer order in the thread document may change
            signals.content_changed.send(post, actor=user, doc_ids=[f"question:{post.question_id}"])
        return VoteResult(score=post.score, my_vote=new)


def accept_answer(user: User, answer_id: int) -> Question:
    """The asker marks an answer as accepted; accepting it again withdraws it."""
    _require_active(user)
    with write_transaction():
        answer = _locked_post(answer_id, Answer)
        question = db.session.get(Question, answer.question_id, with_for_update=True)
        enforce(user, answer, "accept")
        previous = db.session.get(Answer, question.accepted_answer_id) if question.accepted_answer_id else None
        if previous is not None:
            _accept_rep(question, previous, -1)
        if previous is not None and previous.id == answer.id:
            question.accepted_answer_id = None
        else:
            question.accepted_answer_id = answer.id
            _accept_rep(question, answer, +1)
        signals.answer_accepted.send(answer, answer=answer, question=question, actor=user,
                                     accepted=question.accepted_answer_id == answer.id,
                                     seeded=question.seed_key is not None, doc_ids=[f"question:{question.id}"])
    return question


def _accept_rep(question: Question, answer: Answer, sign: int) -> None:
    if answer.author_id == question.author_id:
        return  # accepting your own answer earns nothing
    _add_rep(answer.author_id, sign * REP_ACCEPTED)
    _add_rep(question.author_id, sign * REP_ACCEPTER)


def compute_reputation(user_id: int) -> int:
    """Reputation from scratch: 1 + votes on the user's posts + accepts."""
    rows = db.session.execute(
        sa.select(Post.kind, Vote.value, sa.func.count(Vote.id)).join(Post, Post.id == Vote.post_id)
        .where(Post.author_id == user_id).group_by(Post.kind, Vote.value))
    total = 1
    for kind, value, n in rows:
        if value > 0:
            total += n * (REP_QUESTION_UP if kind == "question" else REP_ANSWER_UP)
        else:
            total += n * REP_DOWN
    questions = Question.__table__
    asked = Post.__table__.alias("asked")
    answered = Post.__table__.alias("answered")
    accepted = (sa.select(sa.func.count()).select_from(
        questions.join(asked, asked.c.id == questions.c.id)
        .join(answered, answered.c.id == questions.c.accepted_answer_id)))
    total += REP_ACCEPTED * db.session.scalar(
        accepted.where(answered.c.author_id == user_id, asked.c.author_id != user_id))
    total += REP_ACCEPTER * db.session.scalar(
        accepted.where(asked.c.author_id == user_id, answered.c.author_id != user_id))
    return total


# ---------------------------------------------------------------- flags, closing

def flag_post(user: User, post_id: int, reason: str, note: str = "") -> Flag:
    _require_active(user)
    (note,), _pii = _private(_clean(note, 500)[:500])
    if reason not in FLAG_REASONS:
        raise ValidationFailed({"reason": N_("Pilih alasan penandaan.")})
    if reason == "lainnya" and len(note) < 10:
        raise ValidationFailed({"note": N_("Jelaskan alasannya (minimal 10 karakter).")})
    with write_transaction():
        post = _locked_post(post_id)
        enforce(user, post, "flag-private" if reason == "data-pribadi" else "flag")
        if db.session.scalar(sa.select(Flag.id).where(Flag.post_id == post.id, Flag.user_id == user.id)):
            raise ForumError(N_("Anda sudah menandai tulisan ini; moderator akan memeriksanya."))
        flag = Flag(post_id=post.id, user_id=user.id, reason=reason, note=note)
        db.session.add(flag)
    return flag


def close_as_duplicate(user: User, question_id: int, target_id: int) -> Question:
    _require_active(user)
    with write_transaction():
        question = _locked_post(question_id, Question)
        enforce(user, question, "close")
        if question.is_closed:
            raise ForumError(N_("Pertanyaan ini sudah ditutup."))
        target = db.session.get(Question, target_id)
        # A hidden or deleted question is "not found" as a target, whoever
        # asks: its title would otherwise show on the closed question.
        if target is None or not policy.is_public(target):
            raise ValidationFailed({"target": N_("Pertanyaan tujuan tidak ditemukan.")})
        seen = {question.id}
        cursor = target
        while cursor is not None:
            if cursor.id in seen:
                raise ValidationFailed({"target": N_("Pertanyaan tidak dapat menjadi duplikat dari dirinya sendiri.")})
            seen.add(cursor.id)
            cursor = cursor.duplicate_of
        question.duplicate_of_id = target.id
        question.closed_at = utcnow()
        question.closed_by_id = user.id
        question.last_activity_at = question.closed_at
        signals.content_changed.send(question, actor=user, doc_ids=[f"question:{question.id}"])
    return question


def reopen_question(user: User, question_id: int) -> Question:
    _require_active(user)
    if not user.can("moderate"):
        raise Forbidden(N_("Hanya moderator yang dapat membuka kembali pertanyaan."))
    with write_transaction():
        question = _locked_post(question_id, Question)
        question.closed_at = None
        question.closed_by_id = None
        question.duplicate_of_id = None
        question.last_activity_at = utcnow()
        signals.content_changed.send(question, actor=user, doc_ids=[f"question:{question.id}"])
    return question
