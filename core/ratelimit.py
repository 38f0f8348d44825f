"""Rate limits shared by every worker process: the ledger lives in the
database, not in process memory (an in-memory limiter lets N workers each
allow the full limit)."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from math import ceil

import sqlalchemy as sa
from flask import current_app, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import TooManyRequests

from .db import write_transaction
from .extensions import db
from .models import utcnow

# action: list of (scope, limit, window seconds); scope "ip" or "user"
DEFAULT_LIMITS = {
    "login": [("ip", 10, 60), ("ip", 30, 3600)],
    "register": [("ip", 5, 3600)],
    "post": [("user", 6, 60), ("user", 30, 3600)],
    "vote": [("user", 40, 60)],
    "search": [("ip", 60, 60)],
}


class RateEvent(db.Model):
    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(120), index=True)
    created_at: Mapped[object] = mapped_column(sa.DateTime, default=utcnow, index=True)


def client_ip() -> str:
    return request.remote_addr or "unknown"


def hit(bucket: str, limit: int, window: int) -> int:
    """Record one event; return 0 if allowed, else seconds until allowed."""
    now = utcnow()
    start = now - timedelta(seconds=window)
    with write_transaction():
        db.session.execute(sa.delete(RateEvent).where(RateEvent.bucket == bucket, RateEvent.created_at < start))
        count, oldest = db.session.execute(
            sa.select(sa.func.count(RateEvent.id), sa.func.min(RateEvent.created_at))
            .where(RateEvent.bucket == bucket)).one()
        if count >= limit:
            return max(1, ceil((oldest + timedelta(seconds=window) - now).total_seconds()))
        db.session.add(RateEvent(bucket=bucket, created_at=now))
    return 0


def check(action: str) -> None:
    """Raise 429 (with Retry-After) if ``action`` is over any of its limits."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    limits = current_app.config.get("RATELIMITS", DEFAULT_LIMITS).get(action, [])
    for scope, limit, window in limits:
        if scope == "user":
            if not current_user.is_authenticated:
                continue
            who = f"u{current_user.id}"
        else:
            who = client_ip()
        wait = hit(f"{action}:{scope}:{who}:{window}", limit, window)
        if wait:
            exc = TooManyRequests()
            exc.retry_after = wait
            raise exc


def limited(action: str, methods: tuple[str, ...] = ("POST",)):
    """View decorator: count requests with these methods against ``action``."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method in methods:
                check(action)
            return view(*args, **kwargs)
        return wrapped
    return decorator
