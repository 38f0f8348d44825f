from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, Email

from ..forms import Form
from ..i18n import N_, _


class LoginForm(Form):
    username = StringField(N_("Nama pengguna"), validators=[DataRequired(N_("Nama pengguna wajib diisi.")), Length(max=254)])
    password = PasswordField(N_("Kata sandi"), validators=[DataRequired(N_("Kata sandi wajib diisi.")), Length(max=256)])
    remember = BooleanField(N_("Ingat saya di perangkat ini"))


class NewPasswordForm(Form):
    """A new password typed twice (registration, password change)."""

    password = PasswordField(
        N_("Kata sandi"),
        validators=[DataRequired(N_("Kata sandi wajib diisi.")), Length(min=10, max=128, message=N_("Kata sandi 10 sampai 128 karakter."))],
    )
    confirm = PasswordField(
        N_("Ulangi kata sandi"),
        validators=[DataRequired(N_("Ulangi kata sandi.")), EqualTo("password", message=N_("Kedua kata sandi tidak sama."))],
    )


class RegisterForm(NewPasswordForm):
    username = StringField(
        N_("Nama pengguna"),
        validators=[
            DataRequired(N_("Nama pengguna wajib diisi.")),
            Length(min=3, max=40, message=N_("Nama pengguna 3 sampai 40 karakter.")),
            Regexp(r"^[A-Za-z0-9_.-]+$", message=N_("Gunakan huruf, angka, titik, garis bawah, atau tanda hubung.")),
        ],
    )
    email = EmailField(
        N_("Email (opsional)"),
        validators=[Optional(), Email(N_("Alamat email tidak valid."), check_deliverability=False), Length(max=254)],
    )


def translate_errors(form) -> None:
    """Field error messages are written in Indonesian; show English on request."""
    for field in form:
        field.errors = [_(e) for e in field.errors]


class PasswordForm(NewPasswordForm):
    current = PasswordField(N_("Kata sandi sekarang"), validators=[DataRequired(N_("Kata sandi sekarang wajib diisi.")),
                                                                Length(max=256)])
