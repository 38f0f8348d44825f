"""Forum pages.  Views parse input, call forum.services, render."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.diffing import line_diff
from core.extensions import db
from core.http import page_arg, parse_int
from core.i18n import N_, _
from core.ratelimit import limited

from . import bp, policy, profiles, resumable
from .forms import AnswerForm, AskForm, CloseForm, CommentForm, EditForm, FlagForm
from .models import FLAG_REASONS, Answer, Question
from .queries import (SORTS, my_votes, open_flag_counts, popular_tags, post_or_none, question_or_none,
                      questions_stmt, revisions)
from .services import (EditConflict, ForumError, ValidationFailed, accept_answer, add_comment, ask_question,
                       can_edit, cast_vote, close_as_duplicate, edit_post, flag_post, pii_message, post_answer,
                       reopen_question)
from .services import _check_body  # the same length rule, before a draft is kept for after login


def _warn_pii(obj) -> None:
    kinds = getattr(obj, "pii_found", None)
    if kinds:
        flash(_(pii_message(kinds)), "warning")


@bp.errorhandler(ForumError)
def _forum_error(exc: ForumError):
    back = request.form.get("back") or request.referrer
    from core.security import is_safe_next

    if back and not is_safe_next(back):
        back = url_for("forum.index")
    message = _(exc.message)
    if isinstance(exc, ValidationFailed):
        message = " ".join(_(m) for m in exc.errors.values())
    return render_template("problem.html", message=message, back=back), exc.status


def _service_choices():
    from kb.models import Category, Service

    rows = db.session.execute(sa.select(Service.slug, Service.title).join(Category)
                              .order_by(Category.position, Service.title))
    return rows.all()


def question_url(question: Question, **kw) -> str:
    return url_for("forum.question", question_id=question.id, **kw)


def post_anchor(post) -> str:
    if isinstance(post, Answer):
        return url_for("forum.question", question_id=post.question_id) + f"#jawaban-{post.id}"
    return url_for("forum.question", question_id=post.id)


# ---------------------------------------------------------------- listing

@bp.route("/pertanyaan")
def index():
    sort = request.args.get("urut", "terbaru")
    if sort not in SORTS:
        sort = "terbaru"
    tag = (request.args.get("tag") or "").strip().lower()[:40] or None
    service = None
    slug = request.args.get("layanan")
    if slug:
        from kb.models import Service

        service = db.session.scalar(sa.select(Service).where(Service.slug == slug[:80]))
        if service is None:
            abort(404, _("Layanan tidak ditemukan."))
    pagination = db.paginate(questions_stmt(sort, tag=tag, service_id=service.id if service else None),
                             page=page_arg(), per_page=20, error_out=False)
    return render_template("forum/index.html", pagination=pagination, sort=sort, sorts=SORTS, tag=tag,
                           service=service, tags=popular_tags(20))


@bp.route("/pertanyaan/tag/<name>")
def tag(name: str):
    return redirect(url_for("forum.index", tag=name, urut=request.args.get("urut")), code=301)


# ---------------------------------------------------------------- thread

@bp.route("/pertanyaan/<int:question_id>")
@bp.route("/pertanyaan/<int:question_id>/<slug>")
def question(question_id: int, slug: str | None = None):
    q = question_or_none(question_id)
    if q is None or not policy.can_see_post(current_user, q):
        abort(404, _("Pertanyaan tidak ditemukan."))
    answers = policy.visible_answers(current_user, q)
    ids = [q.id] + [a.id for a in answers]
    flags = open_flag_counts(ids) if current_user.is_authenticated and current_user.can("moderate") else {}
    form = AnswerForm()
    draft = resumable.kept_answer(current_user, request.args.get("draf"), q.id)
    if draft is not None:
        form.body.data = draft
    # The asker's "last looked" marker (outside the write lock): answers
    # newer than the previous visit are marked new, and "my questions" counts them.
    seen_before = profiles.mark_seen(current_user, q)
    return _render_thread(q, answers, flags, form, seen_before=seen_before)


def _render_thread(q, answers, flags, answer_form, status=200, seen_before=None):
    ids = [q.id] + [a.id for a in answers]
    return render_template("forum/question.html", q=q, answers=answers, votes=my_votes(current_user, ids),
                           flags=flags, answer_form=answer_form, flag_reasons=FLAG_REASONS,
                           can_edit=can_edit, duplicate=policy.duplicate_target(current_user, q),
                           may=policy.may, seen_before=seen_before), status


def _visible_post_or_404(post_id: int):
    """The post, if the visitor may see it (forum.policy); else 404, the same
    answer as for a post that never existed."""
    post = post_or_none(post_id)
    if post is None or not policy.can_see_post(current_user, post):
        abort(404, _("Tulisan tidak ditemukan."))
    return post


@bp.route("/pertanyaan/tanya", methods=["GET", "POST"])
@login_required
@limited("post")
def ask():
    form = AskForm()
    if request.method == "GET":
        selected = [request.args["layanan"][:80]] if request.args.get("layanan") else []
        if request.args.get("judul"):
            form.title.data = request.args["judul"][:200]
    else:
        selected = [s[:80] for s in request.form.getlist("services")][:20]
    errors = {}
    if form.validate_on_submit():
        try:
            q = ask_question(current_user, form.title.data, form.body.data, form.tags.data or "", selected)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(_("Pertanyaan Anda sudah terbit."), "success")
            _warn_pii(q)
            return redirect(question_url(q))
    services_error = errors.pop("services", None)
    _attach_errors(form, errors)
    status = 400 if form.is_submitted() and (form.errors or errors or services_error) else 200
    return render_template("forum/ask.html", form=form, service_choices=_service_choices(), selected=selected,
                           services_error=_(services_error) if services_error else None), status


def _attach_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [_(message)]
        else:
            flash(_(message), "error")


@bp.route("/pertanyaan/<int:question_id>/jawab", methods=["POST"])
@limited("post")
def answer(question_id: int):
    form = AnswerForm()
    q = question_or_none(question_id)
    if q is None or not policy.can_see_post(current_user, q):
        abort(404, _("Pertanyaan tidak ditemukan."))
    if not current_user.is_authenticated:
        # The draft is kept server-side and published right after login.
        if form.validate_on_submit():
            problem = _check_body(form.body.data.strip())
            if not problem:
                return resumable.defer_answer(q, form.body.data, question_url(q) + "#jawab-h")
            _attach_errors(form, problem)
    elif form.validate_on_submit():
        try:
            a = post_answer(current_user, q.id, form.body.data)
        except ValidationFailed as exc:
            _attach_errors(form, {"body": exc.errors["body"]})
        else:
            flash(_("Jawaban Anda sudah terbit. Terima kasih!"), "success")
            _warn_pii(a)
            return redirect(post_anchor(a))
    # Re-show the thread with the draft kept in the form.
    return _render_thread(q, policy.visible_answers(current_user, q), {}, form, 400)


@bp.route("/pos/<int:post_id>/komentar", methods=["POST"])
@login_required
@limited("post")
def comment(post_id: int):
    form = CommentForm()
    post = _visible_post_or_404(post_id)
    if not form.validate_on_submit():
        raise ValidationFailed({"comment": N_("Komentar wajib diisi.")})
    _warn_pii(add_comment(current_user, post.id, form.body.data))
    return redirect(post_anchor(post))


@bp.route("/pos/<int:post_id>/suara", methods=["POST"])
@limited("vote")
def vote(post_id: int):
    raw = request.form.get("value", "")
    if raw not in ("1", "0", "-1"):
        raise ForumError(N_("Nilai suara harus naik, turun, atau batal."))
    post = _visible_post_or_404(post_id)
    if not current_user.is_authenticated:  # kept for after login (core.resume), never a 405
        if raw == "0":
            return redirect(url_for("auth.login", next=post_anchor(post)))
        return resumable.defer_vote(post, int(raw), post_anchor(post))
    cast_vote(current_user, post.id, int(raw))
    return redirect(post_anchor(post))


@bp.route("/jawaban/<int:answer_id>/terima", methods=["POST"])
@login_required
def accept(answer_id: int):
    _visible_post_or_404(answer_id)
    q = accept_answer(current_user, answer_id)
    flash(_("Status jawaban diterima diperbarui."), "success")
    return redirect(question_url(q) + f"#jawaban-{answer_id}")


@bp.route("/pos/<int:post_id>/tandai", methods=["POST"])
@login_required
def flag(post_id: int):
    form = FlagForm()
    post = _visible_post_or_404(post_id)
    if not form.validate_on_submit():
        raise ValidationFailed({"reason": N_("Pilih alasan penandaan.")})
    flag_post(current_user, post.id, form.reason.data, form.note.data or "")
    flash(_("Terima kasih, moderator akan memeriksa tulisan ini."), "success")
    return redirect(post_anchor(post))


_QUESTION_REF = re.compile(r"(?:/pertanyaan/)?(\d{1,12})(?:[/#?].*)?$")


@bp.route("/pertanyaan/<int:question_id>/tutup", methods=["POST"])
@login_required
def close(question_id: int):
    _visible_post_or_404(question_id)
    form = CloseForm()
    if not form.validate_on_submit():
        raise ValidationFailed({"target": N_("Isi nomor pertanyaan asli.")})
    match = _QUESTION_REF.search(form.target.data.strip())
    if not match:
        raise ForumError(N_("Tulis nomor pertanyaan asli (mis. 42) atau tempel alamatnya."))
    close_as_duplicate(current_user, question_id, int(match.group(1)))
    flash(_("Pertanyaan ditutup sebagai duplikat."), "success")
    return redirect(url_for("forum.question", question_id=question_id))


@bp.route("/pertanyaan/<int:question_id>/buka", methods=["POST"])
@login_required
def reopen(question_id: int):
    _visible_post_or_404(question_id)
    reopen_question(current_user, question_id)
    flash(_("Pertanyaan dibuka kembali."), "success")
    return redirect(url_for("forum.question", question_id=question_id))


# ---------------------------------------------------------------- editing and history

@bp.route("/pos/<int:post_id>/sunting", methods=["GET", "POST"])
@login_required
def edit(post_id: int):
    post = _visible_post_or_404(post_id)
    if not can_edit(current_user, post):
        abort(403)
    form = EditForm()
    conflict = None
    if request.method == "GET":
        form.version.data = str(post.version)
        form.body.data = post.body_md
        if isinstance(post, Question):
            form.title.data = post.title
            form.tags.data = ", ".join(t.name for t in post.tags)
    elif form.validate_on_submit():
        version = form.version.data or ""
        if parse_int(version) is None:
            raise ForumError(N_("Formulir tidak lengkap. Muat ulang halaman penyuntingan."))
        try:
            edited = edit_post(current_user, post.id, int(version), form.body.data,
                      title=form.title.data if isinstance(post, Question) else None,
                      tags=form.tags.data if isinstance(post, Question) else None, comment=form.comment.data or "")
        except EditConflict as exc:
            conflict = exc
            # Keep the editor's text; move the base to the current version so
            # a deliberate re-submit after reading the conflict goes through.
            form.version.data = str(exc.current_version)
        except ValidationFailed as exc:
            _attach_errors(form, exc.errors)
        else:
            flash(_("Perubahan disimpan."), "success")
            _warn_pii(edited)
            return redirect(post_anchor(post))
    status = 409 if conflict else (400 if form.is_submitted() and form.errors else 200)
    return render_template("forum/edit.html", post=post, form=form, conflict=conflict,
                           is_question=isinstance(post, Question)), status


@bp.route("/pos/<int:post_id>/riwayat")
def history(post_id: int):
    post = _visible_post_or_404(post_id)
    revs = revisions(post.id)
    entries = []
    previous = None
    for rev in revs:
        diff = {
            "title": line_diff([previous.title] if previous and previous.title else [],
                               [rev.title] if rev.title else []),
            "tags": line_diff([previous.tags] if previous and previous.tags else [], [rev.tags] if rev.tags else []),
            "body": line_diff(previous.body_md.splitlines() if previous else [], rev.body_md.splitlines()),
        }
        entries.append((rev, diff))
        previous = rev
    entries.reverse()
    return render_template("forum/history.html", post=post, entries=entries, back=post_anchor(post))
