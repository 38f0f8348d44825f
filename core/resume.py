"""Actions that survive login.

A visitor who is not logged in votes, writes an answer, gives feedback or
follows a question: instead of losing that (or landing on a 405 because a
login ``next`` pointed at a POST-only route), the view calls :func:`defer`.
The action is kept server-side (``pending_actions``, named by a random
token in the visitor's session, so a 30,000-character draft never rides in
a cookie), the visitor is sent to log in with ``next`` set to the *page*
they were on, and right after login or registration :func:`resume`
completes it through the package's normal service function, with all its
checks, and says what was done.

Packages plug in by registering a kind once, at import::

    from core import resume

    resume.register("vote", perform=_vote, describe=_describe_vote)

``perform(user, payload)`` runs inside the login (or registration) request,
which passed its own CSRF check, as did the request that started the
action; it returns an :class:`Outcome` (message and where to go).  Raising
is allowed: a refusal becomes an error message and the visitor goes back
to the page, and ``keep`` lets a refused draft wait for its owner
(:func:`kept`) so nothing typed is lost.  ``describe(payload)`` says, on the
login page, what will happen after login.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import sqlalchemy as sa
from flask import flash, redirect, session, url_for

from .db import write_transaction
from .extensions import db
from .i18n import N_, _
from .models import PendingAction, utcnow
from .security import is_safe_next

log = logging.getLogger("layanan.resume")

SESSION_KEY = "pending_action"
TTL = timedelta(hours=2)  # a login or a registration takes minutes; older actions are dropped
MAX_PAYLOAD_TEXT = 31_000  # characters in one payload value (an answer draft is capped at 30,000)


@dataclass
class Outcome:
    message: str  # already translated for the visitor
    url: str  # where to go next (a same-site path)
    category: str = "success"


@dataclass(frozen=True)
class Kind:
    perform: Callable[[Any, dict], Outcome]
    describe: Callable[[dict], str]


_kinds: dict[str, Kind] = {}


def register(kind: str, *, perform: Callable[[Any, dict], Outcome], describe: Callable[[dict], str]) -> None:
    """Make ``kind`` resumable (idempotent: re-registering replaces it)."""
    if len(kind) > 30:
        raise ValueError("kind names are at most 30 characters")
    _kinds[kind] = Kind(perform, describe)


def registered() -> list[str]:
    return sorted(_kinds)


def _clip(value):
    if isinstance(value, str):
        return value[:MAX_PAYLOAD_TEXT]
    if isinstance(value, dict):
        return {str(k)[:60]: _clip(v) for k, v in list(value.items())[:20]}
    if isinstance(value, (list, tuple)):
        return [_clip(v) for v in list(value)[:20]]
    return value


def _store(kind: str, payload: dict, back: str, user_id: int | None = None) -> str:
    token = secrets.token_urlsafe(24)
    with write_transaction():
        # Expired rows go as new ones arrive (and with `flask retention prune`).
        db.session.execute(sa.delete(PendingAction).where(PendingAction.created_at < utcnow() - TTL,
                                                          PendingAction.user_id.is_(None)))
        db.session.add(PendingAction(token=token, kind=kind, payload=_clip(payload), back=back, user_id=user_id))
    return token


def defer(kind: str, payload: dict, back: str, *, login: str = "auth.login"):
    """Keep ``kind`` with ``payload`` for after login and send the visitor
    to log in (or, with ``login="auth.register"``, to register); ``back``
    is the page (a GET path) to return to.  Only one action waits at a
    time: a newer one replaces it."""
    if kind not in _kinds:
        raise KeyError(f"unknown resumable action {kind!r}")
    from .ratelimit import check

    check("defer")  # anonymous writes: bounded per address
    back = back if is_safe_next(back) else "/"
    old = session.get(SESSION_KEY)
    session[SESSION_KEY] = _store(kind, payload, back)
    if old:
        _discard(old)
    flash(_("Masuk atau daftar dulu. Setelah itu kami lanjutkan: %(what)s.", what=_kinds[kind].describe(payload)),
          "info")
    return redirect(url_for(login, next=back))


def pending() -> PendingAction | None:
    """The action this visitor's session is waiting to complete, if any (read only)."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) > 64:
        return None
    row = db.session.get(PendingAction, token)
    if row is None or row.user_id is not None or row.created_at < utcnow() - TTL or row.kind not in _kinds:
        return None
    return row


def pending_description() -> str | None:
    """What will happen after login, for the login and registration pages."""
    row = pending()
    if row is None:
        return None
    try:
        return _kinds[row.kind].describe(row.payload or {})
    except Exception:  # a description must never break the login page
        log.exception("describing pending action %s failed", row.kind)
        return None


def carry_over() -> str | None:
    """The pending token, read before the session is reset at login."""
    token = session.get(SESSION_KEY)
    return token if isinstance(token, str) and len(token) <= 64 else None


def restore(token: str | None) -> None:
    """Put the pending token back into the fresh session (after login)."""
    if token:
        session[SESSION_KEY] = token


def _claim(token: str) -> PendingAction | None:
    """Take the row (delete it) in one transaction; None if gone or expired."""
    with write_transaction():
        row = db.session.get(PendingAction, token, with_for_update=True)
        if row is None or row.user_id is not None:
            return None
        db.session.delete(row)
        if row.created_at < utcnow() - TTL:
            return None
        return PendingAction(token=row.token, kind=row.kind, payload=dict(row.payload or {}), back=row.back)


def _discard(token: str) -> None:
    with write_transaction():
        db.session.execute(sa.delete(PendingAction).where(PendingAction.token == token,
                                                          PendingAction.user_id.is_(None)))


def resume(user) -> str | None:
    """Complete the waiting action for ``user`` (just logged in or
    registered), flash what was done, and return where to go next (None if
    nothing was waiting)."""
    token = session.pop(SESSION_KEY, None)
    if not isinstance(token, str) or len(token) > 64:
        return None
    row = _claim(token)
    if row is None or row.kind not in _kinds:
        return None
    try:
        outcome = _kinds[row.kind].perform(user, row.payload)
    except Exception as exc:  # the service refused (or failed): say so, go back, keep nothing half-done
        db.session.rollback()
        message = getattr(exc, "message", None) or getattr(exc, "description", None)
        if not isinstance(message, str) or not message:
            log.exception("resuming %s failed", row.kind)
            message = N_("Tindakan Anda sebelum masuk tidak dapat diselesaikan. Silakan ulangi.")
        flash(_(message), "error")
        return row.back if is_safe_next(row.back) else None
    flash(outcome.message, outcome.category)
    return outcome.url if is_safe_next(outcome.url) else row.back


def keep(user, kind: str, payload: dict, back: str) -> str:
    """Keep a refused action's payload for its owner (e.g. an answer draft
    whose thread was closed while they logged in); returns a token for
    :func:`kept`."""
    return _store(kind, payload, back, user_id=user.id)


def kept(user, token: str | None, kind: str) -> dict | None:
    """A payload kept for ``user`` by :func:`keep` (read only)."""
    if not token or not isinstance(token, str) or len(token) > 64 or not getattr(user, "is_authenticated", False):
        return None
    row = db.session.get(PendingAction, token)
    if row is None or row.user_id != user.id or row.kind != kind or row.created_at < utcnow() - timedelta(days=1):
        return None
    return dict(row.payload or {})
