"""People pages: public profiles and "my questions".  Thin: read, render."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.extensions import db
from core.http import page_arg
from core.i18n import _
from core.security import require_capability

from . import bp, officials, profiles
from .services import ValidationFailed

TABS = ("pertanyaan", "jawaban")


@bp.route("/pengguna/<username>")
def profile(username: str, form_error: str | None = None, typed_title: str | None = None):
    user = profiles.user_by_name(username)
    if user is None:
        abort(404, _("Pengguna tidak ditemukan."))
    tab = request.args.get("tab", "pertanyaan")
    if tab not in TABS:
        tab = "pertanyaan"
    stmt = profiles.questions_of(current_user, user) if tab == "pertanyaan" else profiles.answers_of(current_user, user)
    pagination = db.paginate(stmt, page=page_arg(), per_page=20, error_out=False)
    s = profiles.stats(user)
    return render_template("forum/profile.html", user=user, stats=s, earned=profiles.badges(s),
                           all_badges=profiles.BADGES, tab=tab, pagination=pagination,
                           is_me=current_user.is_authenticated and current_user.id == user.id,
                           form_error=form_error, typed_title=typed_title)


@bp.route("/pengguna/<username>/resmi", methods=["POST"])
@require_capability("curate")
def official(username: str):
    """A knowledge manager verifies an account as official, or revokes it."""
    user = profiles.user_by_name(username)
    if user is None:
        abort(404, _("Pengguna tidak ditemukan."))
    if request.form.get("action") == "cabut":
        officials.revoke_official(current_user, user.id, request.form.get("reason", ""))
        flash(_("Lencana resmi dicabut."), "success")
    else:
        typed = request.form.get("official_title", "")
        try:
            officials.verify_official(current_user, user.id, typed)
        except ValidationFailed as exc:
            # The form again, open, with what was typed and why it was refused.
            message = " ".join(_(m) for m in exc.errors.values())
            return profile(username, form_error=message, typed_title=typed[:200]), 400
        flash(_("Akun diverifikasi sebagai akun resmi."), "success")
    return redirect(url_for("forum.profile", username=user.username))


@bp.route("/saya/pertanyaan")
@login_required
def my_questions():
    rows = profiles.my_questions(current_user)
    page = page_arg()
    per_page = 20
    pages = max(1, -(-len(rows) // per_page))
    page = min(page, pages)
    return render_template("forum/my_questions.html", rows=rows[(page - 1) * per_page:page * per_page],
                           unread=sum(1 for r in rows if r.new_answers), total=len(rows), page=page, pages=pages)
