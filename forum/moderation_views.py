"""Moderator pages: the review queue and the actions behind its buttons."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.extensions import db
from core.http import parse_int
from core.i18n import N_, _
from core.models import User
from core.security import is_safe_next, require_capability

from . import bp
from . import moderation as mod
from .models import FLAG_REASONS
from .queries import post_or_none, review_queue
from .services import ForumError
from .views import _QUESTION_REF, post_anchor


def _back(default: str) -> str:
    target = request.form.get("back")
    return target if is_safe_next(target) else default


@bp.route("/moderasi")
@require_capability("moderate")
def queue():
    flagged, reasons, first_posts = review_queue()
    return render_template("forum/queue.html", flagged=flagged, reasons=reasons, first_posts=first_posts,
                           flag_reasons=FLAG_REASONS)


def _post_or_404(post_id: int):
    post = post_or_none(post_id)
    if post is None:
        abort(404, _("Tulisan tidak ditemukan."))
    return post


# URL action -> (service call taking (user, post_id, reason), message on success)
POST_ACTIONS = {
    "sembunyikan": (mod.hide_post, N_("Tulisan disembunyikan.")),
    "pulihkan": (lambda user, post_id, _reason: mod.restore_post(user, post_id), N_("Tulisan dipulihkan.")),
    "hapus": (mod.delete_post, N_("Tulisan dihapus.")),
    "abaikan-tanda": (lambda user, post_id, _reason: mod.dismiss_flags(user, post_id), N_("Tanda diabaikan.")),
    "setujui": (lambda user, post_id, _reason: mod.approve_post(user, post_id), N_("Tulisan disetujui.")),
}


@bp.route("/moderasi/pos/<int:post_id>/<action>", methods=["POST"])
@require_capability("moderate")
def post_action(post_id: int, action: str):
    post = _post_or_404(post_id)
    if action not in POST_ACTIONS:
        abort(404)
    call, message = POST_ACTIONS[action]
    call(current_user, post.id, request.form.get("reason", ""))
    flash(_(message), "success")
    return redirect(_back(post_anchor(post)))


@bp.route("/moderasi/pertanyaan/<int:question_id>/<action>", methods=["POST"])
@require_capability("moderate")
def thread_action(question_id: int, action: str):
    if action == "kunci":
        mod.set_lock(current_user, question_id, True)
        flash(_("Utas dikunci."), "success")
    elif action == "buka-kunci":
        mod.set_lock(current_user, question_id, False)
        flash(_("Kunci utas dibuka."), "success")
    elif action == "gabung":
        match = _QUESTION_REF.search(request.form.get("target", "").strip())
        if not match:
            raise ForumError(N_("Tulis nomor pertanyaan tujuan (mis. 42) atau tempel alamatnya."))
        target = mod.merge_questions(current_user, question_id, int(match.group(1)))
        flash(_("Utas digabung; semua jawaban dipindahkan."), "success")
        return redirect(url_for("forum.question", question_id=target.id))
    else:
        abort(404)
    return redirect(url_for("forum.question", question_id=question_id))


@bp.route("/moderasi/pengguna/<int:user_id>", methods=["GET", "POST"])
@require_capability("moderate")
def user_admin(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, _("Pengguna tidak ditemukan."))
    if request.method == "POST":
        if request.form.get("action") == "pulihkan":
            mod.unsuspend_user(current_user, user.id)
            flash(_("Penangguhan dicabut."), "success")
        else:
            days = request.form.get("days", "")
            if parse_int(days) is None:
                raise ForumError(N_("Lama penangguhan harus berupa angka hari."))
            mod.suspend_user(current_user, user.id, int(days), request.form.get("reason", ""))
            flash(_("Akun ditangguhkan; semua sesinya berakhir."), "success")
        return redirect(url_for("forum.user_admin", user_id=user.id))
    from .models import Post

    posts = db.session.scalars(db.select(Post).where(Post.author_id == user.id).order_by(Post.created_at.desc())
                               .limit(20)).all()
    return render_template("forum/user_admin.html", user=user, posts=posts)


@bp.route("/jawaban/<int:answer_id>/promosikan", methods=["GET", "POST"])
@require_capability("curate")
def promote(answer_id: int):
    from kb.models import Service

    from . import promotion
    from .models import Answer

    from .policy import is_public

    answer = db.session.get(Answer, answer_id)
    if answer is None or not is_public(answer):  # a hidden thread is nobody's official knowledge
        abort(404, _("Jawaban tidak ditemukan."))
    question = answer.question
    services = db.session.scalars(db.select(Service).order_by(Service.title)).all()
    linked = [s.slug for s in question.services]
    values = {"service": linked[0] if linked else "", "kind": "faq", "question": question.title,
              "answer": answer.body_md, "summary": ""}
    if request.method == "POST":
        values.update({k: request.form.get(k, "") for k in values})
        if values["kind"] == "change":
            draft = promotion.propose_change(current_user, answer.id, values["service"], values["summary"])
            flash(_("Draf usulan dibuat. Sunting bagian yang diubah, lalu ajukan untuk ditinjau."), "success")
            return redirect(url_for("kb.curation_edit", slug=draft.service.slug, draf=draft.id))
        draft = promotion.promote_to_faq(current_user, answer.id, values["service"], values["question"],
                                         values["answer"])
        flash(_("Usulan FAQ diajukan. Entri ini terbit setelah ditinjau pengelola lain."), "success")
        return redirect(url_for("kb.curation_draft", draft_id=draft.id))
    return render_template("forum/promote.html", answer=answer, question=question, services=services, values=values,
                           linked=linked)


@bp.route("/jawaban/<int:answer_id>/konfirmasi", methods=["POST"])
@require_capability("curate")
def confirm_answer(answer_id: int):
    from . import promotion

    answer = promotion.confirm_answer(current_user, answer_id)
    flash(_("Jawaban dikonfirmasi masih berlaku."), "success")
    return redirect(url_for("forum.question", question_id=answer.question_id) + f"#jawaban-{answer.id}")
