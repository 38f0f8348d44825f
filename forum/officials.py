"""Verified official accounts.

A knowledge manager who has checked who a person is (an official letter,
a call to the agency's published number) marks the account as a verified
official with the role and agency it speaks for, e.g. "Petugas Disdukcapil
Kota Bandung".  The badge shows next to the name on every post and on the
profile; it is the only way an account appears official: usernames that
pass for one are refused at registration (``core.usernames``).  Both
actions are audited; revoking removes the badge everywhere at once.
"""
from __future__ import annotations

from core.db import write_transaction
from core.extensions import db
from core.models import User, audit, utcnow
from core.i18n import N_
from core.pii import contains_pii

from .moderation import _require
from .services import ForumError, NotFound, ValidationFailed

TITLE_MIN, TITLE_MAX = 5, 120


def clean_title(title: str | None) -> str:
    title = " ".join((title or "")[:TITLE_MAX * 4].split())  # capped before any work
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise ValidationFailed({"official_title": N_("Tulis jabatan dan instansi, 5–120 karakter "
                                                     "(mis. Petugas Disdukcapil Kota Bandung).")})
    if contains_pii(title):
        raise ValidationFailed({"official_title": N_("Jabatan dan instansi tidak boleh memuat data pribadi "
                                                     "(NIK, nomor telepon, email).")})
    return title


def verify_official(actor: User, user_id: int, title: str) -> User:
    """Give ``user_id`` the verified-official badge with ``title``."""
    _require(actor, "curate")
    title = clean_title(title)
    with write_transaction():
        user = db.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(N_("Pengguna tidak ditemukan."))
        if user.is_suspended:
            raise ForumError(N_("Akun yang sedang ditangguhkan tidak dapat diverifikasi."))
        before = user.official_title
        user.official_title, user.official_verified_at = title, utcnow()
        audit(actor, "user.verify_official", "user", user.id, title=title, before=before)
    return user


def revoke_official(actor: User, user_id: int, reason: str = "") -> User:
    _require(actor, "curate")
    reason = " ".join((reason or "")[:600].split())[:300]
    with write_transaction():
        user = db.session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(N_("Pengguna tidak ditemukan."))
        if not user.official_title:
            raise ForumError(N_("Akun ini bukan akun resmi terverifikasi."))
        before = user.official_title
        user.official_title, user.official_verified_at = None, None
        audit(actor, "user.revoke_official", "user", user.id, title=before, reason=reason)
    return user
