"""Account writes and login checks.  Views call these; these own the
transaction."""
from __future__ import annotations

import math
import time

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import write_transaction
from ..extensions import db
from ..i18n import N_
from ..ledger import ledger
from ..models import Role, User
from ..pii import contains_pii
from ..usernames import imitates_official

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


def check_username(username: str) -> None:
    """Refuse names that are reserved, carry personal data (a NIK, phone
    number or e-mail as a public name), or pass for an official: only
    accounts a knowledge manager verified may appear as officials."""
    if username.lower() in RESERVED_USERNAMES or imitates_official(username):
        raise AccountError("username", N_("Nama pengguna ini dicadangkan atau meniru petugas/instansi resmi. Pilih nama lain."))
    if contains_pii(username) or contains_pii(username.replace("_", " ").replace(".", " ").replace("-", " ")) \
            or sum(ch.isdigit() for ch in username) >= 10:
        raise AccountError("username", N_("Jangan gunakan NIK, nomor HP, atau email sebagai nama pengguna."))


def create_user(username: str, password: str, *, email: str | None = None, role: Role = Role.MEMBER,
                allow_reserved: bool = False, email_verified: bool = True) -> User:
    """Create an account.  ``email_verified=False`` (self-registration)
    keeps the address as pending: it is never checked against other
    accounts here, so registering says nothing about whether an address is
    already in use, and it cannot be used to log in until verified."""
    username = username.strip()[:40]
    email = (email or "").strip().lower()[:254] or None
    if not allow_reserved:
        check_username(username)
    if len(password) < 10:
        raise AccountError("password", N_("Kata sandi minimal 10 karakter."))
    user = User(username=username, role=role)
    user.set_password(password)  # hashing is slow: outside the write transaction
    if email_verified:
        user.email = email
    else:
        user.pending_email = email
    with write_transaction():
        taken = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower()))
        if taken:
            raise AccountError("username", N_("Nama pengguna sudah dipakai."))
        if user.email and db.session.scalar(sa.select(User.id).where(User.email == user.email)):
            raise AccountError("email", N_("Email sudah terdaftar."))
        db.session.add(user)
        if user.pending_email:
            from .email import announce_pending

            announce_pending(user)  # a verification link, sent by the mail worker
    return user


# ---------------------------------------------------------------- login

FREE_FAILURES = 5          # failed logins per account before back-off starts
MAX_BACKOFF = 3600         # seconds


class LoginLocked(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _dummy_hash() -> str:
    """A hash made with the configured method, so checking a password for
    an unknown account costs what checking a real one costs."""
    app = current_app._get_current_object()
    found = app.extensions.get("dummy_password_hash")
    if found is None:
        found = generate_password_hash("tidak-ada-akun-ini", method=app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
        app.extensions["dummy_password_hash"] = found
    return found


def backoff_seconds(failures: int) -> int:
    """Lock after FREE_FAILURES failures: 1, 2, 4, ... minutes, at most an hour."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_BACKOFF, 60 * 2 ** (failures - FREE_FAILURES))


def authenticate(login: str, password: str) -> User | None:
    """The account for ``login`` (username or verified e-mail) if the
    password is right, else None.

    Timing does not tell whether an account exists: unknown names check the
    password against a dummy hash.  Each account (or, for unknown names,
    each typed name) backs off after repeated failures, whatever the
    address: the per-address limit can stay loose for people behind one
    NAT.  Raises :class:`LoginLocked` while backing off, before the
    password is looked at, so a locked account gives no oracle."""
    login = (login or "").strip()[:254]
    user = find_by_login(login) if login else None
    key = f"login:acct:{user.id}" if user is not None else f"login:name:{login.lower()[:120]}"
    count, last = ledger().failures(key)
    wait = backoff_seconds(count) - (time.time() - last)
    if wait > 0:
        raise LoginLocked(math.ceil(wait))
    if user is None or not user.password_hash or user.password_hash.startswith("!"):
        check_password_hash(_dummy_hash(), password or "")
        ok = False
    else:
        ok = user.check_password(password or "")
    if not ok:
        ledger().fail(key)
        return None
    if count:
        ledger().clear(key)
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
        raise AccountError("current", N_("Kata sandi sekarang salah."))
    if len(new) < 10:
        raise AccountError("password", N_("Kata sandi minimal 10 karakter."))
    if current == new:
        raise AccountError("password", N_("Kata sandi baru harus berbeda."))
    from ..models import audit

    scratch = User()
    scratch.set_password(new)  # hashing is slow: outside the write transaction
    with write_transaction():
        row = db.session.get(User, user.id, with_for_update=True)
        row.password_hash = scratch.password_hash
        row.session_version += 1
        audit(row, "user.password_change", "user", row.id)
    return row
