"""Rate limits shared by every worker process and app host.

Counts live in :mod:`core.ledger` (a separate SQLite file, or row-level
upserts on PostgreSQL), never under the main database's write lock, so a
search or a login attempt never waits behind a slow write, and an in-memory
limiter's "N workers each allow the full limit" cannot happen.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, request
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests

from .ledger import ledger

# action: list of (scope, limit, window seconds); scope "ip" or "user".
DEFAULT_LIMITS = {
    # Per address the login limit is loose (a whole office or campus may sit
    # behind one NAT address); per account there is back-off (core.auth).
    "login": [("ip", 30, 60), ("ip", 300, 3600)],
    "register": [("ip", 5, 3600), ("ip", 20, 86400)],
    "post": [("user", 6, 60), ("user", 30, 3600)],
    "vote": [("user", 40, 60), ("user", 200, 86400)],
    "flag": [("user", 10, 3600), ("user", 30, 86400)],
    "search": [("ip", 60, 60)],
    "feedback": [("ip", 20, 3600), ("ip", 60, 86400)],
    "feedback_page": [("ip", 3, 86400)],     # with key=<page>: one address, one page
    "survey_service": [("ip", 3, 86400)],    # with key=<service>
    "escalate": [("ip", 10, 3600), ("ip", 30, 86400)],
    "survey": [("ip", 10, 86400)],
    "click": [("ip", 120, 60)],
    "email": [("user", 5, 3600), ("user", 20, 86400)],      # verification links sent (notify)
    "follow": [("user", 60, 3600)],
    "verify": [("ip", 30, 3600)],
    "unsubscribe": [("ip", 60, 3600)],
    "defer": [("ip", 30, 3600)],             # actions kept for after login (core.resume)
    "feedback_user": [("user", 30, 3600), ("user", 100, 86400)],  # feedback from an account
}


def client_ip() -> str:
    return request.remote_addr or "unknown"


def refuse(wait: int):
    exc = TooManyRequests()
    exc.retry_after = wait
    raise exc


def check(action: str, key: str | None = None) -> None:
    """Raise 429 (with Retry-After) if ``action`` is over any of its limits.
    ``key`` narrows the bucket (e.g. one page, for one feedback per address
    and page)."""
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
        bucket = f"{action}:{scope}:{who}:{window}" + (f":{key[:60]}" if key else "")
        result = ledger().hit(bucket, limit, window)
        if not result.allowed:
            refuse(result.retry_after)


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
