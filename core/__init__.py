"""Layanan: community knowledge base and Q&A for Indonesian public services."""
from __future__ import annotations

import os

from flask import Flask

from . import errors, http, i18n, templating
from .config import default_config
from .db import init_sqlite
from .extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the application.

    ``test_config`` overrides the embedded defaults (and the environment);
    tests pass a throw-away database URL through it.
    """
    instance = os.environ.get("LAYANAN_INSTANCE")  # absolute path; default: ./instance
    app = Flask(__name__, instance_relative_config=True, instance_path=os.path.abspath(instance) if instance else None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(default_config(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.update(test_config)

    proxies = int(os.environ.get("LAYANAN_PROXY_COUNT", "0") or 0)
    if proxies:
        # Behind nginx: take the client address from X-Forwarded-For (as set
        # by that many trusted proxies), so per-IP rate limits see citizens,
        # not the proxy.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    http.init_app(app)  # before any blueprint: it replaces the int converter
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    _init_login(app)
    with app.app_context():
        init_sqlite(db.engine)

    i18n.init_app(app)
    templating.init_app(app)
    errors.init_app(app)

    from api import bp as api_docs_bp
    from .auth import bp as auth_bp
    from kb import bp as kb_bp
    from kb.api import bp as kb_api_bp
    from forum import bp as forum_bp
    from forum.api import bp as forum_api_bp
    from search import service as search_service
    from search.views import api as search_api_bp
    from search.views import bp as search_bp

    from .admin import bp as admin_bp
    from .pages import bp as pages_bp
    from analytics import bp as analytics_bp
    from notify import bp as notify_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(kb_bp)
    app.register_blueprint(kb_api_bp)
    app.register_blueprint(forum_bp)
    app.register_blueprint(forum_api_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(search_api_bp)
    app.register_blueprint(api_docs_bp)  # GET /api/v1/openapi.json
    search_service.init_app(app)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(notify_bp)

    from . import signals

    signals.subscribe_all()  # search indexing, forum, analytics and notifications react to domain events

    from . import cli

    cli.init_app(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
        )
        return response

    return app


def _init_login(app: Flask) -> None:
    from .models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = i18n.N_("Silakan masuk untuk melanjutkan.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = i18n.gettext

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import flash, redirect, request, url_for

        from .errors import render_error, wants_json

        if wants_json():
            return render_error(401)
        flash(i18n.gettext(login_manager.login_message), "info")
        return redirect(url_for("auth.login", next=_page_to_return_to()))

    def _page_to_return_to():
        """``next`` for the login page: this page for a GET; for a form post,
        the page the form was on (never the POST-only route itself, which
        would answer the browser's GET after login with a 405)."""
        from urllib.parse import urlsplit

        from flask import request

        from .security import is_safe_next

        if request.method in ("GET", "HEAD"):
            return request.full_path.rstrip("?")
        ref = urlsplit(request.referrer or "")
        if ref.netloc == request.host:
            path = ref.path + (f"?{ref.query}" if ref.query else "")
            if is_safe_next(path):
                return path
        return None

    @login_manager.user_loader
    def load_user(token: str):
        uid, _, version = token.partition(":")
        if not uid.isdigit() or not version.lstrip("-").isdigit():
            return None
        user = db.session.get(User, int(uid))
        if user is None or not user.is_active or user.session_version != int(version):
            return None
        return user
