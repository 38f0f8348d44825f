"""E-mail addresses: typed addresses wait in ``users.pending_email`` until
the person opens a signed, expiring link sent to that address; only then
does it become ``users.email`` (used to log in and to receive mail).

Typing an address reveals nothing about other accounts.  Verifying an
address that another account has already verified does not move it: the
person is told neutrally, and the owner of that account is told by e-mail
that someone tried (``core.signals.email_address_taken``)."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from .. import signals
from ..i18n import N_
from ..db import write_transaction
from ..extensions import db
from ..models import User, audit
from .services import AccountError

VERIFY_MAX_AGE = 3 * 24 * 3600   # a verification link works for three days
_VERIFY_SALT = "layanan-verifikasi-email"
_UNSUBSCRIBE_SALT = "layanan-berhenti-langganan"


def address_hash(address: str) -> str:
    """A keyed hash of an address: links and outbox rows name the address
    without carrying it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def normalize_address(raw: str | None) -> str:
    raw = (raw or "").strip()[:254]
    if not raw:
        raise AccountError("email", N_("Alamat email wajib diisi."))
    try:
        found = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError("email", N_("Alamat email tidak valid."))
    return found.normalized.lower()


def verification_token(user_id: int, hashed: str) -> str:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_VERIFY_SALT).dumps({"u": user_id, "h": hashed})


def unsubscribe_token(user_id: int, hashed: str | None = None) -> str:
    """For the unsubscribe link in every e-mail (works without logging in):
    plain, or for a verification mail, naming the pending address it was sent
    to (unsubscribing then cancels that address)."""
    data = {"u": user_id} if hashed is None else {"u": user_id, "h": hashed}
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).dumps(data)


def read_unsubscribe_token(token: str) -> dict | None:
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).loads(token[:300])
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    return data


def request_address(user: User, raw: str) -> User:
    """Set the address ``user`` wants; it waits for verification (a link is
    queued for the mail worker in the same transaction)."""
    address = normalize_address(raw)
    with write_transaction():
        row = db.session.get(User, user.id, with_for_update=True)
        if row.email == address:
            row.pending_email = None
            return row
        row.pending_email = address
        announce_pending(row)
    return row


def announce_pending(user: User) -> None:
    """Inside a write transaction: ask for a verification mail to the
    user's pending address (registration and the account page)."""
    if user.pending_email:
        db.session.flush()
        signals.email_verification_requested.send(user, user=user, address_hash=address_hash(user.pending_email),
                                                  doc_ids=[])


def resend_verification(user: User) -> bool:
    with write_transaction():
        row = db.session.get(User, user.id)
        if not row.pending_email:
            return False
        announce_pending(row)
    return True


def remove_address(user: User) -> User:
    """Forget the verified address (no more e-mail) and any pending one."""
    with write_transaction():
        row = db.session.get(User, user.id, with_for_update=True)
        row.email = None
        row.pending_email = None
        audit(row, "user.email_removed", "user", row.id)
    return row


@dataclass
class Verification:
    status: str          # ok (not yet verified) | verified | already | taken | stale | expired | invalid
    user: User | None = None
    hashed: str = ""


def check_token(token: str) -> Verification:
    """What the link says, without changing anything (the GET page)."""
    try:
        data = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_VERIFY_SALT).loads(
            token[:300], max_age=VERIFY_MAX_AGE)
    except SignatureExpired:
        return Verification("expired")
    except BadSignature:
        return Verification("invalid")
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("h"), str):
        return Verification("invalid")
    user = db.session.get(User, data["u"])
    if user is None:
        return Verification("invalid")
    if user.email and address_hash(user.email) == data["h"] and not user.pending_email:
        return Verification("already", user)
    if not user.pending_email or address_hash(user.pending_email) != data["h"]:
        return Verification("stale", user)
    return Verification("ok", user, data["h"])


def verify(token: str) -> Verification:
    """Move the pending address to ``users.email`` if the link is for it and
    no other account has verified the same address."""
    found = check_token(token)
    if found.status != "ok":
        return found
    with write_transaction():
        user = db.session.get(User, found.user.id, with_for_update=True, populate_existing=True)
        address = user.pending_email
        if not address or address_hash(address) != found.hashed:
            return Verification("stale", user)
        owner = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == address, User.id != user.id))
        user.pending_email = None
        if owner is not None:
            audit(user, "user.email_taken", "user", user.id)
            signals.email_address_taken.send(owner, owner=owner, doc_ids=[])
            return Verification("taken", user)
        user.email = address
        audit(user, "user.email_verified", "user", user.id)
    return Verification("verified", user)


def cancel_pending(user_id: int, hashed: str) -> bool:
    """Stop verification mail to an address someone typed (the unsubscribe
    link of a verification mail): forget it if it is still pending."""
    with write_transaction():
        user = db.session.get(User, user_id, with_for_update=True)
        if user is None or not user.pending_email or address_hash(user.pending_email) != hashed:
            return False
        user.pending_email = None
    return True

