"""People pages: public profiles and "my questions".  Thin: read, render."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from core.extensions import db
from core.http import page_arg
from core.i18n import _

from . import bp, profiles

TABS = ("pertanyaan", "jawaban")


@bp.route("/pengguna/<username>")
def profile(username: str):
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
                           is_me=current_user.is_authenticated and current_user.id == user.id)


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
