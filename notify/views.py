"""Inbox, follow buttons, account settings (e-mail address and how to hear),
e-mail verification and one-click unsubscribe.  Thin: parse, call the
services, render."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.auth.services import AccountError
from core.extensions import csrf, db
from core.models import User
from core.http import page_arg
from core.i18n import N_, _, current_language, ngettext
from core.ratelimit import limited
from core.security import is_safe_next

from . import bp
from . import services as svc
from .models import EMAIL_MODES

MODE_LABELS = {
    "instant": N_("Setiap ada kabar (email langsung)"),
    "daily": N_("Ringkasan harian (satu email sehari)"),
    "off": N_("Tidak usah kirim email (hanya di situs)"),
}
# Each language is named in itself, as on the language switch.
EMAIL_LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}


def login_first(page_endpoint: str):
    """For POST-only routes: a visitor whose session ended is sent to log in
    and then back to a page (``page_endpoint``, or the form's ``back``), never
    to this POST-only address (which would answer "method not allowed")."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                flash(_("Silakan masuk untuk melanjutkan."), "info")
                return redirect(url_for("auth.login", next=_back(url_for(page_endpoint))))
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _back(default: str) -> str:
    target = request.form.get("back") or request.args.get("back")
    return target if target and is_safe_next(target) else default


@bp.errorhandler(svc.NotifyError)
def _notify_error(exc: svc.NotifyError):
    return render_template("problem.html", message=_(exc.message), back=_back(url_for("notify.inbox"))), \
        exc.status


# ---------------------------------------------------------------- inbox

@bp.route("/notifikasi")
@login_required
def inbox():
    from .present import describe

    pagination = db.paginate(svc.inbox_stmt(current_user), page=page_arg(), per_page=svc.INBOX_PAGE,
                             error_out=False)
    entries = describe(list(pagination.items), current_user)
    return render_template("notify/inbox.html", entries=entries, pagination=pagination)


@bp.route("/notifikasi/<int:notification_id>", methods=["POST"])
@login_first("notify.inbox")
def open_one(notification_id: int):
    from .present import describe

    row = svc.open_notification(current_user, notification_id)
    entries = describe([row], current_user)
    if not entries:
        flash(_("Isi yang diberitahukan tidak lagi tersedia."), "info")
        return redirect(url_for("notify.inbox"))
    return redirect(entries[0].url)


@bp.route("/notifikasi/baca-semua", methods=["POST"])
@login_first("notify.inbox")
def read_all():
    n = svc.mark_all_read(current_user)
    flash(ngettext("%(num)s notifikasi ditandai sudah dibaca.", "%(num)s notifikasi ditandai sudah dibaca.", n), "success")
    return redirect(url_for("notify.inbox"))


# ---------------------------------------------------------------- follow

@bp.route("/ikuti", methods=["POST"])
@login_first("notify.account")
@limited("follow")
def follow():
    mode = request.form.get("mode", "follow")
    if mode not in ("follow", "unfollow"):
        abort(400, _("Permintaan tidak dikenal."))
    target = svc.set_following(current_user, request.form.get("target"), mode == "follow")
    if mode == "follow":
        flash(_("Anda mengikuti %(what)s. Kabar barunya muncul di Notifikasi.", what=target.label), "success")
    else:
        flash(_("Anda berhenti mengikuti %(what)s.", what=target.label), "info")
    return redirect(_back(target.url))


# ---------------------------------------------------------------- account

def _account_page(email_value: str | None = None, email_error: str | None = None, status: int = 200):
    user = current_user
    return render_template("notify/account.html", user=user, mode=svc.email_mode(user), modes=EMAIL_MODES,
                           language=svc.email_language(user.id, default=current_language()),
                           languages=EMAIL_LANGUAGES,
                           mode_labels=MODE_LABELS, follows=svc.following(user),
                           email_value=email_value if email_value is not None else (user.pending_email or ""),
                           email_error=email_error), status


@bp.route("/akun")
@login_required
def account():
    return _account_page()


@bp.route("/akun/email", methods=["POST"])
@login_first("notify.account")
@limited("email")
def set_email():
    from core.auth.email import request_address

    typed = (request.form.get("email") or "")[:254]
    try:
        user = request_address(current_user, typed)
    except AccountError as exc:
        return _account_page(email_value=typed, email_error=_(exc.message), status=400)
    if user.pending_email:
        flash(_("Tautan verifikasi dikirim ke alamat itu. Buka email tersebut untuk memakai alamatnya."), "success")
    else:
        flash(_("Alamat ini sudah terverifikasi di akun Anda."), "info")
    return redirect(url_for("notify.account"))


@bp.route("/akun/email/kirim-ulang", methods=["POST"])
@login_first("notify.account")
@limited("email")
def resend_email():
    from core.auth.email import resend_verification

    if resend_verification(current_user):
        flash(_("Tautan verifikasi dikirim ulang."), "success")
    else:
        flash(_("Tidak ada alamat yang menunggu verifikasi."), "info")
    return redirect(url_for("notify.account"))


@bp.route("/akun/email/hapus", methods=["POST"])
@login_first("notify.account")
def remove_email():
    from core.auth.email import remove_address

    remove_address(current_user)
    flash(_("Alamat email dihapus dari akun Anda. Kami tidak akan mengirim email lagi."), "info")
    return redirect(url_for("notify.account"))


@bp.route("/akun/notifikasi", methods=["POST"])
@login_first("notify.account")
def set_mode():
    mode = request.form.get("email_mode", "")
    if mode not in EMAIL_MODES:
        flash(_("Pilih salah satu: setiap ada kabar, ringkasan harian, atau tidak sama sekali."), "error")
        return _account_page(status=400)
    language = request.form.get("language") or None
    if language is not None and language not in EMAIL_LANGUAGES:
        flash(_("Pilih bahasa email: Bahasa Indonesia atau English."), "error")
        return _account_page(status=400)
    svc.set_email_mode(current_user.id, mode, language)
    flash(_("Pengaturan notifikasi disimpan."), "success")
    if mode != "off" and not current_user.email:
        flash(_("Email baru dikirim setelah Anda menambahkan dan memverifikasi alamat email."), "info")
    return redirect(url_for("notify.account"))


# ---------------------------------------------------------------- verification and unsubscribe (no login needed)

VERIFY_MESSAGES = {
    "verified": N_("Alamat email terverifikasi. Notifikasi akan dikirim ke alamat ini sesuai pengaturan Anda."),
    "already": N_("Alamat email ini sudah terverifikasi."),
    "taken": N_("Alamat email ini tidak dapat ditambahkan ke akun Anda karena sudah terverifikasi di akun lain. "
              "Pemilik akun tersebut sudah kami beri tahu lewat email."),
    "stale": N_("Tautan ini tidak berlaku lagi: alamat yang menunggu verifikasi sudah diganti atau dibatalkan."),
    "expired": N_("Tautan ini sudah kedaluwarsa. Minta tautan baru di halaman Akun."),
    "invalid": N_("Tautan verifikasi tidak valid. Salin seluruh tautan dari email, atau minta tautan baru di halaman Akun."),
}


@bp.route("/akun/email/verifikasi/<token>", methods=["GET", "POST"])
@limited("verify", methods=("GET", "POST"))
def verify_email(token: str):
    from core.auth.email import check_token, verify

    if request.method == "GET":
        found = check_token(token)
        if found.status == "ok":
            return render_template("notify/verify.html", token=token)
        return render_template("notify/verify.html", message=_(VERIFY_MESSAGES[found.status])), \
            200 if found.status == "already" else 400
    result = verify(token)
    status = 200 if result.status in ("verified", "already") else 400
    return render_template("notify/verify.html", message=_(VERIFY_MESSAGES[result.status]), done=True,
                           ok=status == 200), status


@bp.route("/berhenti/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without a form token
@limited("unsubscribe", methods=("GET", "POST"))
def unsubscribe(token: str):
    from core.auth.email import cancel_pending, read_unsubscribe_token

    data = read_unsubscribe_token(token)
    user = db.session.get(User, data["u"]) if data else None
    if user is None:
        return render_template("notify/unsubscribe.html", invalid=True), 404
    pending_only = "h" in data
    if request.method == "GET":
        return render_template("notify/unsubscribe.html", token=token, pending_only=pending_only)
    if pending_only:
        cancel_pending(user.id, data["h"])
    else:
        svc.set_email_mode(user.id, "off")
    return render_template("notify/unsubscribe.html", done=True, pending_only=pending_only)
