"""Configuration: embedded defaults, overridable from the environment."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = ROOT / "content"


def default_config(instance_path: str) -> dict:
    db_url = os.environ.get("DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "layanan.sqlite3")
    # SQLAlchemy wants postgresql://, Heroku-style URLs say postgres://
    if db_url.startswith("postgres://"):
        db_url = "postgresql://" + db_url[len("postgres://"):]
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CONTENT_DIR": os.environ.get("LAYANAN_CONTENT_DIR", str(DEFAULT_CONTENT_DIR)),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("LAYANAN_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("LAYANAN_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,  # token lives as long as the session
        "PAGE_SIZE": 20,
        "PASSWORD_HASH_METHOD": "scrypt",  # werkzeug's default; tests use a cheap one
        "RATELIMIT_ENABLED": os.environ.get("LAYANAN_RATELIMIT", "1") != "0",
        # Keep the (redacted) search log that feeds the dashboard's content-gap
        # table; an operator may switch it off (LAYANAN_SEARCH_LOG=0).
        "SEARCH_LOG_ENABLED": os.environ.get("LAYANAN_SEARCH_LOG", "1") != "0",
        # Who runs this site and answers privacy requests (shown on /tentang and /privasi).
        "OPERATOR_NAME": os.environ.get("LAYANAN_OPERATOR") or None,
        "PRIVACY_CONTACT": os.environ.get("LAYANAN_PRIVACY_CONTACT") or None,
    }


def _instance_secret(instance_path: str) -> str:
    """A random secret kept in instance/, so sessions survive restarts
    without anyone having to configure SECRET_KEY for a local run."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        os.chmod(path, 0o600)
        return key
