"""The mail worker: compose and send what ``mail_outbox`` holds, outside any
request (``flask notify send`` once, ``flask notify worker`` in a loop).

* **Claimed, never sent twice by two workers.**  A worker claims a batch of
  due rows in one write transaction (writers are serialized: SQLite's
  ``BEGIN IMMEDIATE``, PostgreSQL's advisory lock), stamping its id and a
  lease; other workers skip leased rows.  A worker that dies mid-batch
  leaves its rows to be claimed again when the lease runs out.
* **Retried with back-off.**  A refused connection or a temporary (4xx)
  answer puts the row back with ``next_attempt_at`` 1, 5, 30 minutes, 2, 6
  then 12 hours later; after :data:`MAX_ATTEMPTS` it is ``failed``.  A
  permanent (5xx) refusal fails at once.  Every attempt and the last error
  are recorded on the row.
* **Recognisable when repeated.**  The Message-ID is derived from the row
  (``<layanan-mail-<id>@host>``), so the rare mail sent again after a crash
  between sending and recording is the same message to the receiving side.
* **Composed from the current state.**  A post hidden, a setting turned off
  or an address removed before sending means no mail (``skipped``).  No
  e-mail address but the recipient's own is ever written into a mail;
  excerpts come from stored (already redacted) text and are redacted again.
* **No SMTP host configured** (``LAYANAN_SMTP_HOST`` empty): nothing is
  claimed; mail stays queued and the commands say so.
"""
from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template

from core.db import write_transaction
from core.extensions import db
from core.i18n import _, ngettext
from core.models import User, utcnow
from core.urls import path_for

from .models import MailOutbox, NotificationSettings

log = logging.getLogger("layanan.mail")

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (60, 300, 1800, 7200, 21600, 43200)
LEASE = timedelta(minutes=10)
DIGEST_LIMIT = 30


def config_from_env(app) -> None:
    """Mail settings from the environment (README: Configuration)."""
    env = os.environ.get
    app.config.setdefault("SMTP_HOST", env("LAYANAN_SMTP_HOST", "") or None)
    app.config.setdefault("SMTP_PORT", int(env("LAYANAN_SMTP_PORT", "25") or 25))
    app.config.setdefault("SMTP_USER", env("LAYANAN_SMTP_USER", "") or None)
    app.config.setdefault("SMTP_PASSWORD", env("LAYANAN_SMTP_PASSWORD", "") or None)
    app.config.setdefault("SMTP_STARTTLS", env("LAYANAN_SMTP_STARTTLS", "0") == "1")
    app.config.setdefault("SMTP_TIMEOUT", float(env("LAYANAN_SMTP_TIMEOUT", "20") or 20))
    app.config.setdefault("MAIL_FROM", env("LAYANAN_MAIL_FROM", "") or "Layanan <noreply@localhost>")
    app.config.setdefault("BASE_URL", (env("LAYANAN_BASE_URL", "") or "http://127.0.0.1:5000").rstrip("/"))


def smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _mail_domain() -> str:
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def message_id(row_id: int) -> str:
    return f"<layanan-mail-{row_id}@{_mail_domain()}>"


# ---------------------------------------------------------------- composing

class Skip(Exception):
    """Nothing to send for this row any more (the reason is recorded)."""


@dataclass
class Composed:
    to: str
    subject: str
    body: str
    unsubscribe_url: str
    language: str = "id"


def compose(row: MailOutbox) -> Composed:
    """The mail for ``row`` from the current state of the database, in the
    recipient's e-mail language; raises Skip when there is nothing (left)
    to send."""
    from flask_babel import force_locale

    from .services import email_language

    user = db.session.get(User, row.user_id)
    if user is None:
        raise Skip("akun tidak ada lagi")
    language = email_language(user.id)
    with force_locale(language):
        composed = _compose(row, user)
    composed.language = language
    return composed


def _compose(row: MailOutbox, user: User) -> Composed:
    from core.auth.email import address_hash, unsubscribe_token, verification_token
    if row.kind == "verify":
        hashed = (row.payload or {}).get("h", "")
        if not user.pending_email or address_hash(user.pending_email) != hashed:
            raise Skip("alamat yang menunggu verifikasi sudah berubah")
        link = absolute(path_for("notify.verify_email", token=verification_token(user.id, hashed)))
        unsubscribe = absolute(path_for("notify.unsubscribe", token=unsubscribe_token(user.id, hashed)))
        body = render_template("notify/email/verify.txt", user=user, link=link, unsubscribe=unsubscribe)
        return Composed(user.pending_email, _("Verifikasi alamat email Anda di Layanan"), body, unsubscribe)

    if not user.email:
        raise Skip("tidak ada alamat email terverifikasi")
    unsubscribe = absolute(path_for("notify.unsubscribe", token=unsubscribe_token(user.id)))
    settings_url = absolute(path_for("notify.account"))
    if row.kind == "address_taken":
        body = render_template("notify/email/address_taken.txt", user=user, settings_url=settings_url,
                               unsubscribe=unsubscribe)
        return Composed(user.email, _("Ada yang mencoba memakai alamat email Anda di Layanan"), body, unsubscribe)

    mode = db.session.scalar(sa.select(NotificationSettings.email_mode)
                             .where(NotificationSettings.user_id == user.id)) or "instant"
    if user.is_suspended:
        raise Skip("akun ditangguhkan")
    from .models import Notification
    from .present import describe
    from .services import notifications_between

    if row.kind == "notification":
        if mode != "instant":
            raise Skip(f"pengaturan email: {mode}")
        notification = db.session.get(Notification, (row.payload or {}).get("notification"))
        if notification is None or notification.read_at is not None:
            raise Skip("notifikasi sudah dibaca atau tidak ada")
        entries = describe([notification], user, excerpts=True)
        if not entries:
            raise Skip("isi tidak lagi dapat dilihat")
        entry = entries[0]
        body = render_template("notify/email/notification.txt", user=user, entry=entry, link=absolute(entry.url),
                               inbox=absolute(path_for("notify.inbox")), settings_url=settings_url,
                               unsubscribe=unsubscribe)
        return Composed(user.email, _subject(entry.text), body, unsubscribe)

    if row.kind == "digest":
        if mode != "daily":
            raise Skip(f"pengaturan email: {mode}")
        payload = row.payload or {}
        since = _parse_time(payload.get("since"))
        until = _parse_time(payload.get("until")) or utcnow()
        rows = notifications_between(user.id, since, until, limit=DIGEST_LIMIT + 1)
        entries = describe(rows[:DIGEST_LIMIT], user)
        if not entries:
            raise Skip("tidak ada kabar baru yang belum dibaca")
        more = max(0, len(rows) - DIGEST_LIMIT)
        body = render_template("notify/email/digest.txt", user=user, entries=entries, more=more, absolute=absolute,
                               inbox=absolute(path_for("notify.inbox")), settings_url=settings_url,
                               unsubscribe=unsubscribe)
        subject = ngettext("Ringkasan harian Layanan: %(num)s kabar baru",
                           "Ringkasan harian Layanan: %(num)s kabar baru", len(entries) + more)
        return Composed(user.email, subject, body, unsubscribe)
    raise Skip(f"jenis email tidak dikenal: {row.kind}")


def _subject(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 140 else text[:139] + "…"


def _parse_time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# Headers are not folded below the RFC 5322 hard limit, so the unsubscribe
# URL reaches every client in one piece.
_POLICY = email_policy.SMTP.clone(max_line_length=998)


def build_message(row_id: int, composed: Composed) -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = formataddr(("", composed.to))
    msg["Subject"] = composed.subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id(row_id)
    msg["Auto-Submitted"] = "auto-generated"
    # RFC 2369 and RFC 8058: one-click unsubscribe from the mail client.
    msg["List-Unsubscribe"] = f"<{composed.unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(composed.body, charset="utf-8")
    msg["Content-Language"] = composed.language  # (set_content drops Content-* headers set before it)
    return msg


# ---------------------------------------------------------------- claiming and sending

@dataclass
class SendReport:
    configured: bool = True
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(worker: str, limit: int = 50, now: datetime | None = None) -> list[int]:
    """Claim up to ``limit`` due rows for ``worker`` (one write transaction,
    so no other worker can claim the same rows)."""
    now = now or utcnow()
    with write_transaction():
        ids = list(db.session.scalars(
            sa.select(MailOutbox.id).where(MailOutbox.status.in_(("pending", "sending")),
                                           MailOutbox.next_attempt_at <= now,
                                           sa.or_(MailOutbox.claimed_until.is_(None), MailOutbox.claimed_until < now))
            .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(limit)))
        if ids:
            db.session.execute(sa.update(MailOutbox).where(MailOutbox.id.in_(ids)).values(
                status="sending", claimed_by=worker, claimed_until=now + LEASE, attempts=MailOutbox.attempts + 1))
    return ids


def _finish(row_id: int, worker: str, **values) -> None:
    with write_transaction():
        db.session.execute(sa.update(MailOutbox).where(MailOutbox.id == row_id, MailOutbox.claimed_by == worker)
                           .values(claimed_by=None, claimed_until=None, **values))


def _retry_later(row_id: int, worker: str, attempts: int, error: str, now: datetime) -> str:
    if attempts >= MAX_ATTEMPTS:
        _finish(row_id, worker, status="failed", last_error=error[:500])
        return "failed"
    delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
    _finish(row_id, worker, status="pending", last_error=error[:500], next_attempt_at=now + timedelta(seconds=delay))
    return "retried"


class _Connection:
    """One SMTP connection per batch, opened on the first mail."""

    def __init__(self):
        self.smtp: smtplib.SMTP | None = None

    def send(self, msg: EmailMessage, to: str) -> None:
        cfg = current_app.config
        if self.smtp is None:
            smtp = smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=float(cfg["SMTP_TIMEOUT"]))
            try:
                smtp.ehlo()
                if cfg.get("SMTP_STARTTLS"):
                    smtp.starttls()
                    smtp.ehlo()
                if cfg.get("SMTP_USER"):
                    smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        from_addr = parseaddr(cfg["MAIL_FROM"])[1] or "noreply@localhost"
        self.smtp.send_message(msg, from_addr=from_addr, to_addrs=[to])

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _permanent(exc: Exception) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _m in exc.recipients.values()]
        return bool(codes) and all(c >= 500 for c in codes)
    return isinstance(code, int) and code >= 500


def send_due(limit: int = 50, *, worker: str | None = None, now: datetime | None = None) -> SendReport:
    """Claim and send one batch of due mail."""
    report = SendReport(configured=smtp_configured())
    if not report.configured:
        report.pending = pending_count()
        return report
    worker = worker or worker_id()
    now = now or utcnow()
    ids = claim(worker, limit, now)
    report.claimed = len(ids)
    conn = _Connection()
    try:
        for position, row_id in enumerate(ids):
            row = db.session.get(MailOutbox, row_id, populate_existing=True)
            if row is None or row.claimed_by != worker:
                continue
            try:
                composed = compose(row)
            except Skip as why:
                _finish(row_id, worker, status="skipped", last_error=str(why)[:500])
                report.skipped += 1
                continue
            msg = build_message(row.id, composed)
            attempts = row.attempts
            db.session.rollback()  # end the read transaction before talking to the server
            try:
                conn.send(msg, composed.to)
            except (smtplib.SMTPException, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                report.errors.append(error)
                if _permanent(exc):
                    _finish(row_id, worker, status="failed", last_error=error[:500])
                    report.failed += 1
                else:
                    outcome = _retry_later(row_id, worker, attempts, error, now)
                    setattr(report, outcome, getattr(report, outcome) + 1)
                if not isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)):
                    # The connection is gone: the rest of the batch waits for the next round.
                    conn.close()
                    for other in ids[position + 1:]:
                        other_row = db.session.get(MailOutbox, other, populate_existing=True)
                        if other_row is not None and other_row.claimed_by == worker:
                            outcome = _retry_later(other, worker, other_row.attempts, error, now)
                            setattr(report, outcome, getattr(report, outcome) + 1)
                    break
                continue
            _finish(row_id, worker, status="sent", sent_at=utcnow(), last_error=None)
            report.sent += 1
    finally:
        conn.close()
        db.session.rollback()
    report.pending = pending_count()
    return report


def send_all(limit: int = 50, now: datetime | None = None) -> SendReport:
    """Send batches until nothing due is left (``flask notify send``)."""
    total = SendReport(configured=smtp_configured())
    worker = worker_id()
    while True:
        report = send_due(limit, worker=worker, now=now)
        for name in ("claimed", "sent", "skipped", "retried", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.errors += report.errors
        total.pending = report.pending
        if not report.configured or report.claimed < limit or report.retried:
            return total


def pending_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(MailOutbox.id))
                             .where(MailOutbox.status.in_(("pending", "sending")))) or 0


def status_counts() -> dict[str, int]:
    return dict(db.session.execute(sa.select(MailOutbox.status, sa.func.count(MailOutbox.id))
                                   .group_by(MailOutbox.status)).all())


def run_worker(app, interval: float = 10.0, stop: threading.Event | None = None, echo=print) -> None:
    """Send due mail every ``interval`` seconds until ``stop`` is set."""
    stop = stop or threading.Event()
    worker = worker_id()
    said_unconfigured = False
    while not stop.is_set():
        try:
            with app.app_context():
                report = send_due(worker=worker)
                if not report.configured:
                    if not said_unconfigured:
                        echo(f"SMTP belum diatur (LAYANAN_SMTP_HOST kosong): {report.pending} email tetap dalam antrean.")
                        said_unconfigured = True
                elif report.claimed:
                    echo(f"terkirim {report.sent}, dilewati {report.skipped}, dicoba lagi nanti {report.retried}, "
                         f"gagal {report.failed}; antre {report.pending}")
                db.session.remove()
                if report.configured and report.claimed >= 50 and not report.retried:
                    continue  # more is due: no pause
        except Exception:
            log.exception("mail worker round failed; retrying")
        stop.wait(interval)


# ---------------------------------------------------------------- daily digest

def queue_digests(now: datetime | None = None) -> int:
    """Queue one digest per person who chose the daily summary, covering
    their notifications since the previous digest (at most one a day: the
    outbox key names the day).  Returns how many were queued."""
    from .models import Notification

    now = now or utcnow()
    queued = 0
    last_id = 0
    while True:
        with write_transaction():
            batch = db.session.execute(
                sa.select(NotificationSettings, User.email).join(User, User.id == NotificationSettings.user_id)
                .where(NotificationSettings.email_mode == "daily", NotificationSettings.user_id > last_id)
                .order_by(NotificationSettings.user_id).limit(200)).all()
            for settings, email in batch:
                last_id = settings.user_id
                if not email:
                    continue
                since = settings.digest_sent_until
                has_news = db.session.scalar(
                    sa.select(Notification.id).where(Notification.user_id == settings.user_id,
                                                     Notification.read_at.is_(None), Notification.created_at <= now,
                                                     *([Notification.created_at > since] if since else [])).limit(1))
                if not has_news:
                    continue
                key = f"digest:{settings.user_id}:{now:%Y-%m-%d}"
                if db.session.scalar(sa.select(MailOutbox.id).where(MailOutbox.dedupe_key == key)):
                    continue
                db.session.add(MailOutbox(kind="digest", user_id=settings.user_id, dedupe_key=key, payload={
                    "since": since.isoformat() if since else None, "until": now.isoformat()}))
                settings.digest_sent_until = now
                queued += 1
        if len(batch) < 200:
            return queued
