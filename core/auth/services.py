"""Account writes.  Views call these; these own the transaction."""
from __future__ import annotations

import sqlalchemy as sa

from ..db import write_transaction
from ..extensions import db
from ..models import Role, User

RESERVED_USERNAMES = {"admin", "administrator", "moderator", "system", "layanan", "root", "support", "cs"}


class AccountError(ValueError):
    """A user-facing reason an account could not be created or changed."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def find_by_login(login: str) -> User | None:
    login = login.strip()
    return db.session.scalar(
        sa.select(User).where(sa.or_(sa.func.lower(User.username) == login.lower(), sa.func.lower(User.email) == login.lower()))
    )


def create_user(username: str, password: str, *, email: str | None = None, role: Role = Role.MEMBER,
                allow_reserved: bool = False) -> User:
    username = username.strip()
    email = (email or "").strip().lower() or None
    if not allow_reserved and username.lower() in RESERVED_USERNAMES:
        raise AccountError("username", "Nama pengguna ini dicadangkan. Pilih nama lain.")
    if len(password) < 10:
        raise AccountError("password", "Kata sandi minimal 10 karakter.")
    with write_transaction():
        taken = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower()))
        if taken:
            raise AccountError("username", "Nama pengguna sudah dipakai.")
        if email and db.session.scalar(sa.select(User.id).where(User.email == email)):
            raise AccountError("email", "Email sudah terdaftar.")
        user = User(username=username, email=email, role=role)
        user.set_password(password)
        db.session.add(user)
    return user


def end_all_sessions(user: User) -> None:
    """Invalidate every cookie issued to this user (logout everywhere)."""
    with write_transaction():
        db.session.execute(
            sa.update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
        )


def change_password(user: User, current: str, new: str) -> User:
    """Set a new password and end every other session (their cookies carry
    the old session version)."""
    if not user.check_password(current):
        raise AccountError("current", "Kata sandi sekarang salah.")
    if len(new) < 10:
        raise AccountError("password", "Kata sandi minimal 10 karakter.")
    if current == new:
        raise AccountError("password", "Kata sandi baru harus berbeda.")
    from ..models import audit

    with write_transaction():
        row = db.session.get(User, user.id, with_for_update=True)
        row.set_password(new)
        row.session_version += 1
        audit(row, "user.password_change", "user", row.id)
    return row
