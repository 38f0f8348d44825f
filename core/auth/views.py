from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from .. import resume
from ..i18n import _
from ..ratelimit import limited
from ..security import is_safe_next
from . import bp
from .forms import LoginForm, PasswordForm, RegisterForm, translate_errors
from .services import AccountError, LoginLocked, authenticate, change_password, create_user, end_all_sessions


def start_session(user, remember: bool = False) -> None:
    """Log in with a fresh session: nothing from before the login (including
    the CSRF token an attacker may have planted or seen) carries over, except
    the action the visitor started before logging in (core.resume)."""
    waiting = resume.carry_over()
    session.clear()
    login_user(user, remember=remember)
    resume.restore(waiting)


def _next_url() -> str:
    target = request.values.get("next")
    return target if is_safe_next(target) else url_for("kb.home")


@bp.route("/masuk", methods=["GET", "POST"])
@limited("login")
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    status = 200
    headers = {}
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except LoginLocked as exc:
            user = None
            minutes = max(1, -(-exc.retry_after // 60))
            form.password.errors.append(_("Terlalu banyak percobaan masuk yang gagal untuk akun ini. Coba lagi dalam "
                                          "%(n)s menit, atau hubungi admin bila ini bukan Anda.", n=minutes))
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        else:
            if user is None:
                form.password.errors.append(_("Nama pengguna atau kata sandi salah."))
            elif user.is_suspended:
                form.username.errors.append(_("Akun ini sedang ditangguhkan."))
            else:
                start_session(user, remember=form.remember.data)
                flash(_("Selamat datang, %(name)s.", name=user.name), "success")
                return redirect(resume.resume(user) or _next_url())
    translate_errors(form)
    if status == 200 and form.is_submitted() and form.errors:
        status = 400
    return render_template("auth/login.html", form=form, next=request.values.get("next", ""),
                           waiting=resume.pending_description()), status, headers


@bp.route("/daftar", methods=["GET", "POST"])
@limited("register")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("kb.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data, email=form.email.data, email_verified=False)
        except AccountError as exc:
            getattr(form, exc.field).errors.append(_(exc.message))
        else:
            start_session(user)
            flash(_("Akun dibuat. Selamat bergabung!"), "success")
            if user.pending_email:
                flash(_("Email Anda akan dipakai untuk masuk setelah diverifikasi."), "info")
            return redirect(resume.resume(user) or _next_url())
    translate_errors(form)
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("auth/register.html", form=form, next=request.values.get("next", ""),
                           waiting=resume.pending_description()), status


@bp.route("/keluar", methods=["POST"])
@login_required
def logout():
    # Bump the session version first: a copied cookie stops working too.
    end_all_sessions(current_user)
    logout_user()
    flash(_("Anda telah keluar."), "info")
    return redirect(url_for("kb.home"))


@bp.route("/akun/kata-sandi", methods=["GET", "POST"])
@login_required
@limited("login")
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = change_password(current_user, form.current.data, form.password.data)
        except AccountError as exc:
            getattr(form, exc.field).errors.append(_(exc.message))
        else:
            start_session(user)  # this browser continues with the new session version
            flash(_("Kata sandi diganti. Sesi di perangkat lain telah diakhiri."), "success")
            return redirect(url_for("kb.home"))
    translate_errors(form)
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("auth/password.html", form=form), status
