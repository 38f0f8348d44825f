"""Indonesian first, English second, through Flask-Babel (gettext catalogs).

Every UI string is written in Indonesian (the msgid) in templates and code;
``translations/en/LC_MESSAGES/messages.po`` holds the English.  Indonesian
needs no catalog for our own messages; ``translations/id/LC_MESSAGES/
wtforms.po`` gives WTForms' built-in (English) messages in Indonesian.
Placeholders use gettext's named form: ``_("Halo %(name)s,", name=...)``; a
count goes through ``ngettext("%(num)s layanan", "%(num)s layanan", count)``
(Indonesian has one form, English two: "1 service", "2 services").

E-mails are written in the recipient's chosen language
(``notify_settings.language``), not the worker's: ``notify.mailer.compose``
renders them inside ``flask_babel.force_locale``.

``_`` is a thin wrapper around Flask-Babel's ``gettext`` for two reasons:

* Service functions raise their messages before (or without) a request, and
  what they raise may be stored or logged.  They mark it with :func:`N_`,
  which returns a :class:`Msg`: a ``str`` whose value is the Indonesian text
  (so ``str(exc)``, logs, the audit log and tests see Indonesian, and it
  works in CLI commands and the mail worker), carrying its msgid and
  parameters so ``_(exc.message)`` translates it where it is shown.
* In templates ``_`` returns a plain string that Jinja autoescapes, as
  before; Jinja's "newstyle" gettext would return Markup and trust the
  translation (a quote in an English placeholder attribute would break it).

The locale is ``?lang=`` (remembered in the ``lang`` cookie), then that
cookie, then Indonesian.  Compiled catalogs (``.mo``) are build output, not
committed: :func:`compile_catalogs` builds any that are missing or older
than their ``.po`` when the app starts (``make i18n`` does it too).
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import flask_babel
from flask import current_app, has_request_context, request

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
COOKIE = "lang"
TIMEZONE = "Asia/Jakarta"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

log = logging.getLogger(__name__)


class Msg(str):
    """A message marked for translation, deferred until it is shown.

    Its value is the Indonesian text with its parameters filled in; ``_()``
    translates :attr:`msgid` and fills the same parameters in.
    """

    msgid: str
    params: dict

    def __new__(cls, msgid: str, **params):
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):  # pickling (e.g. a cached exception) keeps the msgid
        return _rebuild_msg, (self.msgid, self.params)


def _rebuild_msg(msgid, params):
    return Msg(msgid, **params)


class Translated(str):
    """Text already in the visitor's language: ``_()`` leaves it as it is,
    so translating twice (a view, then a template) is harmless."""


def N_(msgid: str, **params) -> Msg:
    """Mark ``msgid`` for extraction; translate it later with ``_()``."""
    return Msg(msgid, **params)


def select_language() -> str:
    if not has_request_context():
        return DEFAULT_LANGUAGE  # CLI, mail worker, service calls in tests
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    locale = flask_babel.get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def _missing(text: str, translations) -> None:
    """Tests: remember a message shown in English that has no English."""
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    seen = app.extensions.get("i18n_missing")
    if seen is not None and text not in getattr(translations, "_catalog", {}):
        seen.add(text)


def gettext(text: str, **params) -> str:
    if isinstance(text, Translated):
        return text
    if isinstance(text, Msg):
        params = {**text.params, **params}
        text = text.msgid
    if not text:
        return text
    translations = flask_babel.get_translations()
    translated = translations.ugettext(text)
    if translated is text and current_language() == "en":
        _missing(text, translations)
    return Translated(translated % params if params else translated)


def ngettext(singular: str, plural: str, num: int, **params) -> str:
    params.setdefault("num", num)
    return Translated(flask_babel.get_translations().ungettext(singular, plural, num) % params)


_ = gettext


# ------------------------------------------------------------------- catalogs

def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalogs(directory: Path = TRANSLATIONS_DIR, force: bool = False) -> list[Path]:
    """Compile every ``.po`` under ``directory`` whose ``.mo`` is missing or
    older; written to a temporary file and renamed, so concurrent workers
    never read half a catalog.  Returns the catalogs compiled."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    done = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not force and not _stale(po, mo):
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        fd, tmp = tempfile.mkstemp(dir=po.parent, prefix=".", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog, use_fuzzy=False)
            os.replace(tmp, mo)
        except BaseException:
            os.unlink(tmp)
            raise
        done.append(mo)
    return done


# ------------------------------------------------------------------ WTForms

class WTFormsTranslations:
    """WTForms' own messages (e.g. a too long field) in the visitor's
    language: WTForms writes them in English and ships no Indonesian, so
    ``translations/id/LC_MESSAGES/wtforms.po`` has them."""

    def _translations(self):
        if not has_request_context():
            return None
        cached = getattr(request, "_layanan_wtforms_translations", None)
        if cached is None:
            from babel import support

            language = current_language()
            cached = (support.Translations.load(str(TRANSLATIONS_DIR), [language], domain="wtforms")
                      if language != "en" else support.NullTranslations())
            request._layanan_wtforms_translations = cached
        return cached

    def gettext(self, string):
        t = self._translations()
        return Translated(string if t is None else t.ugettext(string))

    def ngettext(self, singular, plural, n):
        t = self._translations()
        if t is None:
            return Translated(singular if n == 1 else plural)
        return Translated(t.ungettext(singular, plural, n))


wtforms_translations = WTFormsTranslations()


# ---------------------------------------------------------------------- app

def switch_url(language: str) -> str:
    """This page (path and query) in ``language``: ``lang`` replaced."""
    from urllib.parse import urlencode

    rule = request.url_rule
    if request.method not in ("GET", "HEAD") and (rule is None or "GET" not in (rule.methods or ())):
        return "/?" + urlencode([("lang", language)])  # a form's POST-only address: start from home
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    pairs.append(("lang", language))
    return request.path + "?" + urlencode(pairs)


def id_lang():
    """` lang="id"` for Indonesian-only content (service pages, threads,
    posts) when the interface is English, so screen readers pronounce it as
    Indonesian and browsers offer to translate it."""
    from markupsafe import Markup

    return Markup(' lang="id"') if current_language() == "en" else Markup("")


def content_notice():
    """Once per page, in English: a short note that the content below is
    Indonesian (empty in Indonesian, and on the second call)."""
    from flask import g
    from markupsafe import Markup, escape

    if current_language() != "en" or g.get("_content_notice_shown"):
        return Markup("")
    g._content_notice_shown = True
    return Markup('<p class="content-lang-notice" role="note">%s</p>') % escape(_("Isi ini dalam bahasa Indonesia."))


def init_app(app) -> None:
    try:
        compile_catalogs()
    except OSError as exc:  # a read-only checkout: `make i18n` builds them
        log.warning("could not compile translation catalogs: %s", exc)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    flask_babel.Babel(app, locale_selector=select_language, configure_jinja=False)
    if app.config.get("I18N_TRACK_MISSING"):
        app.extensions["i18n_missing"] = set()

    @app.after_request
    def _remember_language(response):
        chosen = request.args.get("lang")
        if chosen in LANGUAGES:
            response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response

    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext,
                                 current_language=current_language, switch_url=switch_url,
                                 id_lang=id_lang, content_notice=content_notice)
