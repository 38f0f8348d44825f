"""Indonesian first, English second.

UI strings are written in Indonesian in the templates and code; ``_()``
returns the English text when the visitor chose English.  Service content
itself is Indonesian only.  The catalogue lives in ``core/i18n_en.yml`` so
translators edit data, not code.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from flask import g, request

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
COOKIE = "lang"


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, str]:
    path = Path(__file__).with_name("i18n_en.yml")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def select_language() -> str:
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    return getattr(g, "lang", DEFAULT_LANGUAGE)


def gettext(text: str, **params) -> str:
    if current_language() == "en":
        text = _catalogue().get(text, text)
    return text.format(**params) if params else text


_ = gettext


def init_app(app) -> None:
    @app.before_request
    def _pick_language():
        g.lang = select_language()

    @app.after_request
    def _remember_language(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES:
            response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response

    app.jinja_env.globals.update(_=gettext, current_language=current_language)
