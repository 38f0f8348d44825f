from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, Email

from ..i18n import _


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[DataRequired("Nama pengguna wajib diisi."), Length(max=254)])
    password = PasswordField("Kata sandi", validators=[DataRequired("Kata sandi wajib diisi."), Length(max=256)])
    remember = BooleanField("Ingat saya di perangkat ini")


class NewPasswordForm(FlaskForm):
    """A new password typed twice (registration, password change)."""

    password = PasswordField(
        "Kata sandi",
        validators=[DataRequired("Kata sandi wajib diisi."), Length(min=10, max=128, message="Kata sandi 10 sampai 128 karakter.")],
    )
    confirm = PasswordField(
        "Ulangi kata sandi",
        validators=[DataRequired("Ulangi kata sandi."), EqualTo("password", message="Kedua kata sandi tidak sama.")],
    )


class RegisterForm(NewPasswordForm):
    username = StringField(
        "Nama pengguna",
        validators=[
            DataRequired("Nama pengguna wajib diisi."),
            Length(min=3, max=40, message="Nama pengguna 3 sampai 40 karakter."),
            Regexp(r"^[A-Za-z0-9_.-]+$", message="Gunakan huruf, angka, titik, garis bawah, atau tanda hubung."),
        ],
    )
    email = EmailField(
        "Email (opsional)",
        validators=[Optional(), Email("Alamat email tidak valid.", check_deliverability=False), Length(max=254)],
    )


def translate_errors(form) -> None:
    """Field error messages are written in Indonesian; show English on request."""
    for field in form:
        field.errors = [_(e) for e in field.errors]


class PasswordForm(NewPasswordForm):
    current = PasswordField("Kata sandi sekarang", validators=[DataRequired("Kata sandi sekarang wajib diisi."),
                                                                Length(max=256)])
