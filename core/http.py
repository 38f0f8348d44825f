"""Request plumbing that keeps bad input from reaching the database as a 500.

PostgreSQL is stricter than SQLite in two ways that arrive straight from a
URL or a form: text may not contain NUL characters, and ``INTEGER`` stops at
2**31-1.  NULs are dropped from every query string, form field and JSON
string (no browser sends one on purpose, so nothing a person typed is lost);
lone surrogates (``"\ud800"`` in JSON, which no UTF-8 encoder accepts)
become U+FFFD; JSON nested deeper than ``MAX_JSON_DEPTH`` is a 400, as is
JSON Python cannot parse without recursing too deep; ids in URLs outside
the integer range are "not found".  A ``DataError`` that still gets through
becomes a 400 with a plain message, never a 500.
"""
from __future__ import annotations

from typing import Any

from flask import Request, abort, request
from sqlalchemy.exc import DataError
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.routing import IntegerConverter

from .i18n import N_

MAX_DB_INT = 2**31 - 1


MAX_JSON_DEPTH = 32


class TooDeep(ValueError):
    pass


def clean_string(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def strip_nul(value: Any, depth: int = 0) -> Any:
    """``value`` with NUL characters removed and lone surrogates replaced in
    every string inside it.  Deeper than MAX_JSON_DEPTH raises TooDeep."""
    if isinstance(value, str):
        return clean_string(value)
    if depth > MAX_JSON_DEPTH:
        raise TooDeep()
    if isinstance(value, list):
        return [strip_nul(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {strip_nul(k, depth + 1): strip_nul(v, depth + 1) for k, v in value.items()}
    return value


class NulFreeMultiDict(ImmutableMultiDict):
    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [(strip_nul(k), strip_nul(v)) for k, v in iter_multi_items(mapping)]
        super().__init__(mapping)


class LayananRequest(Request):
    parameter_storage_class = NulFreeMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):  # type: ignore[override]
        try:
            return strip_nul(super().get_json(force=force, silent=silent, cache=cache))
        except (RecursionError, TooDeep):
            if silent:
                return None
            from werkzeug.exceptions import BadRequest

            raise BadRequest(N_("JSON terlalu dalam bersarang."))


class DbIntConverter(IntegerConverter):
    """``<int:...>`` limited to what an INTEGER column can hold."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_DB_INT if max is None else max,
                         signed=signed)


def parse_int(raw: str | None, low: int = 0, high: int = MAX_DB_INT) -> int | None:
    """``raw`` as an int in ``[low, high]``, or None.  Only ASCII digits count
    (``"²".isdigit()`` is true, but ``int("²")`` fails)."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 19 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def page_arg() -> int:
    """``?page=`` as a page number 1-9999; anything else is page 1."""
    return parse_int(request.args.get("page"), 1, 9_999) or 1


def init_app(app) -> None:
    app.request_class = LayananRequest
    app.url_map.converters["int"] = DbIntConverter

    @app.before_request
    def _nul_in_path():
        if "\x00" in request.path:
            abort(404)

    @app.errorhandler(DataError)
    def _data_error(exc: DataError):
        from .errors import render_error
        from .extensions import db
        from .i18n import _

        db.session.rollback()
        app.logger.warning("Rejected input the database cannot store on %s %s: %s", request.method, request.path,
                           exc.orig)
        return render_error(400, _("Isian tidak dapat disimpan: ada nilai yang terlalu panjang, terlalu besar, "
                                   "atau berisi karakter yang tidak diizinkan. Periksa kembali isian Anda."))
