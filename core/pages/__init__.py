"""Pages that earn trust: about, privacy notice (UU 27/2022), terms; the
favicon.  Each page exists in Indonesian and English as its own template
(long prose is easier to keep right as a whole page than as catalogue
strings)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template

from ..i18n import current_language

bp = Blueprint("pages", __name__, template_folder="templates")


def _page(name: str, **context):
    from .. import retention

    lang = "en" if current_language() == "en" else "id"
    return render_template(f"pages/{name}.{lang}.html", name=name, periods=retention.periods(),
                           rules={r.name: r for r in retention.RULES},
                           operator=current_app.config.get("OPERATOR_NAME"),
                           contact=current_app.config.get("PRIVACY_CONTACT"), **context)


@bp.route("/tentang")
def about():
    return _page("about")


@bp.route("/privasi")
def privacy():
    return _page("privacy")


@bp.route("/ketentuan")
def terms():
    return _page("terms")


@lru_cache(maxsize=1)
def _favicon(folder: str) -> bytes:
    return (Path(folder) / "favicon.ico").read_bytes()


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says (1 kB, kept in memory)."""
    return Response(_favicon(current_app.static_folder), mimetype="image/vnd.microsoft.icon",
                    headers={"Cache-Control": "public, max-age=604800"})
