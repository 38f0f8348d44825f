"""Error pages: HTML for people, JSON under /api/."""
from __future__ import annotations

from flask import jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .i18n import N_, _

MESSAGES = {
    400: N_("Permintaan tidak dapat diproses. Periksa kembali isian Anda."),
    401: N_("Silakan masuk terlebih dahulu."),
    403: N_("Anda tidak memiliki izin untuk tindakan ini."),
    404: N_("Halaman yang Anda cari tidak ditemukan."),
    405: N_("Metode permintaan tidak diizinkan."),
    409: N_("Terjadi konflik dengan perubahan lain. Muat ulang halaman lalu coba lagi."),
    413: N_("Isian terlalu besar."),
    429: N_("Terlalu banyak permintaan. Coba lagi sebentar lagi."),
    500: N_("Terjadi kesalahan pada server. Tim kami sudah dicatat untuk memeriksanya."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(code: int, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": _(message)}}
    if fields:
        body["error"]["fields"] = {k: _(v) for k, v in fields.items()}
    return jsonify(body), code


def render_error(code: int, message: str | None = None):
    message = _(message) if message else _(MESSAGES.get(code, N_("Terjadi kesalahan.")))
    if wants_json():
        return json_error(code, message)
    return render_template("core/error.html", code=code, message=message), code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return render_error(400, _("Sesi formulir kedaluwarsa atau tidak sah. Muat ulang halaman lalu kirim lagi."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        # abort(404, "pesan") carries a message for the visitor; werkzeug's
        # own English default descriptions are replaced by ours.
        custom = exc.description if exc.description != type(exc).description else None
        response, code = render_error(exc.code, custom)
        response = make_response(response, code)
        if code == 429 and getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        if code == 405 and getattr(exc, "valid_methods", None):
            # RFC 9110 15.5.6: a 405 says which methods the resource supports.
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)
