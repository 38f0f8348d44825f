"""Small security helpers shared by blueprints."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user


def is_safe_next(target: str | None) -> bool:
    """Only same-site absolute paths: "/layanan/x" yes; "//evil", "/\\evil",
    "https://evil", "javascript:..." no."""
    if not target or not isinstance(target, str):
        return False
    if any(ord(ch) < 32 or ch == "\x7f" for ch in target):
        return False
    normalized = target.replace("\\", "/")
    if not normalized.startswith("/") or normalized.startswith("//"):
        return False
    parts = urlsplit(normalized)
    return not parts.scheme and not parts.netloc


def require_capability(capability: str):
    """Decorator: 401 for anonymous visitors, 403 without the capability."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager

                return login_manager.unauthorized()
            if not current_user.can(capability):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
