"""/cari and /api/v1/search.  Results are generic (type, title, url,
snippet, confidence), one list best first (official pages and threads
ranked together, an official page winning a tie), holding only what clears
the calibrated confidence bar: when nothing does, the API answers
``"results": []`` with ``"abstained": true`` and /cari says that no official
page matches and what to do next."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from core.errors import json_error
from core.i18n import N_
from core.ratelimit import limited

from .outbox import engine
from .registry import filter_visible

bp = Blueprint("search", __name__, template_folder="templates")
api = Blueprint("search_api", __name__, url_prefix="/api/v1")

KINDS = ("service", "question")

# Listeners called as listener(query, response, source) -> id of the logged
# search (or None); analytics subscribes without search importing it.
on_search: list = []


def _notify(q: str, response, source: str):
    search_id = None
    for listener in on_search:
        try:
            search_id = listener(q, response, source) or search_id
        except Exception:  # analytics must never break search
            import logging

            logging.getLogger("layanan.search").exception("search listener failed")
    return search_id


@bp.route("/cari")
@limited("search", methods=("GET",))
def results():
    q = request.args.get("q", "")
    response = engine().search(q, k=10) if q.strip() else None
    if response is not None:
        response.results = filter_visible(current_user, response.results)
    search_id = _notify(q, response, "page") if response else None
    return render_template("search/results.html", q=q.strip()[:200], search_query=q.strip()[:200],
                           response=response, results=response.results if response else [], search_id=search_id)


def _bad(message: str, status: int = 400):
    return json_error(status, message)


def parse_k(default: int = 10, high: int = 50):
    raw = request.args.get("k")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= high:
        raise ValueError(N_("k harus bilangan 1–%(high)s.", high=high))
    return int(raw)


@api.get("/search")
@limited("search", methods=("GET",))
def search_api():
    q = request.args.get("q", "")
    if not q.strip():
        return _bad(N_("Parameter q wajib diisi."))
    try:
        k = parse_k()
    except ValueError as exc:
        return _bad(exc.args[0])
    kinds = [t for t in request.args.get("types", "").split(",") if t]
    if any(t not in KINDS for t in kinds):
        return _bad(N_("types hanya boleh berisi service dan/atau question."))
    response = engine().search(q, k=k, kinds=kinds or None)
    response.results = filter_visible(current_user, response.results)
    _notify(q, response, "api")
    return jsonify({"query": response.query, "normalized": response.normalized, "mode": response.mode,
                    "did_you_mean": response.did_you_mean, "abstained": response.abstained,
                    "official_match": response.official_match, "confidence": round(response.confidence, 4),
                    "results": [r.to_json() for r in response.results]})
