from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..i18n import _
from ..ratelimit import limited
from ..security import is_safe_next
from . import bp
from .forms import LoginForm, PasswordForm, RegisterForm, translate_errors
from .services import AccountError, change_password, create_user, end_all_sessions, find_by_login


def _next_url() -> str:
    target = request.values.get("next")
    return target if is_safe_next(target) else url_for("kb.home")


@bp.route("/masuk", methods=["GET", "POST"])
@limited("login")
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = find_by_login(form.username.data)
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append(_("Nama pengguna atau kata sandi salah."))
        elif user.is_suspended:
            form.username.errors.append(_("Akun ini sedang ditangguhkan."))
        else:
            login_user(user, remember=form.remember.data)
            flash(_("Selamat datang, {name}.", name=user.name), "success")
            return redirect(_next_url())
    translate_errors(form)
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("auth/login.html", form=form, next=request.values.get("next", "")), status


@bp.route("/daftar", methods=["GET", "POST"])
@limited("register")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("kb.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data, email=form.email.data)
        except AccountError as exc:
            getattr(form, exc.field).errors.append(_(exc.message))
        else:
            login_user(user)
            flash(_("Akun dibuat. Selamat bergabung!"), "success")
            return redirect(_next_url())
    translate_errors(form)
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("auth/register.html", form=form, next=request.values.get("next", "")), status


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
            login_user(user)  # this browser continues with the new session version
            flash(_("Kata sandi diganti. Sesi di perangkat lain telah diakhiri."), "success")
            return redirect(url_for("kb.home"))
    translate_errors(form)
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("auth/password.html", form=form), status
