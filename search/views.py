"""/cari and /api/v1/search.  Results are generic (type, title, url,
snippet, confidence), one list best first (official pages and threads
ranked together, an official page winning a tie), holding only what clears
the calibrated confidence bar: when nothing does, the API answers
``"results": []`` with ``"abstained": true`` and /cari says that no official
page matches and what to do next, naming the topic when the question is
close to one we know our pages do not answer (``"topic"``) and who handles
that topic instead (its ``"referrals"``, from content/referrals.yml through
``registry.referrals``: an agency, a sentence and its sources).  Results that
clear the bar but not the confident one (``"certain": false``) are shown as
"possibly related" under a notice that we are not sure they answer the
question.  A typo whose correction is answered with confidence, where the
typed query is not, gets the correction's results ("showing results for",
``"corrected"``), with a way back to exactly what was typed (``persis=1``
on /cari, ``exact=1`` in the API)."""
from __future__ import annotations

import logging
import time
from urllib.parse import urljoin

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from core import signals
from core.errors import json_error
from core.i18n import N_, current_language
from core.ratelimit import limited

from .normalize import clean_query
from .outbox import engine
from .registry import filter_visible, referrals

bp = Blueprint("search", __name__, template_folder="templates")
api = Blueprint("search_api", __name__, url_prefix="/api/v1")

KINDS = ("service", "question")


def _notify(q: str, response, source: str):
    """Send ``core.signals.search_performed`` (analytics logs the search) and
    return the token of the logged search, if a subscriber answered one.  A
    failing subscriber never breaks search."""
    try:
        return signals.first_result(signals.search_performed, response, query=q, source=source)
    except Exception:  # analytics must never break search
        logging.getLogger("layanan.search").exception("search_performed subscriber failed")
        return None


def topic_referrals(response, language: str) -> list[dict]:
    """Who handles the topic of an unanswered question, each with its
    sentence in the reader's language ([] without a topic)."""
    if response is None or response.topic is None:
        return []
    out = []
    for r in referrals(response.topic.key, f"{response.query} {response.normalized}"):
        text = r["text_en"] if language == "en" else r["text"]
        out.append({"agency": r["agency"], "name": r["name"], "website": r["website"], "text": text,
                    "sources": r["sources"], "last_reviewed": r["last_reviewed"]})
    return out


def topic_json(response, language: str) -> dict | None:
    if response.topic is None:
        return None
    return {**response.topic.to_json(language),
            "referrals": [{**r, "last_reviewed": r["last_reviewed"].isoformat()}
                          for r in topic_referrals(response, language)]}


def result_json(result) -> dict:
    """A result as the API sends it: ``url`` absolute, like every other
    ``url`` in /api/v1."""
    data = result.to_json()
    data["url"] = urljoin(request.host_url, data["url"])
    return data


@bp.route("/cari")
@limited("search", methods=("GET",))
def results():
    q = request.args.get("q", "")
    exact = request.args.get("persis") == "1"  # "search for exactly what I typed": no correction
    response = engine().search(q, k=10, autocorrect=not exact) if q.strip() else None
    if response is not None:
        response.results = filter_visible(current_user, response.results)
    search_id = _notify(q, response, "page") if response else None
    return render_template("search/results.html", q=q.strip()[:200], search_query=q.strip()[:200],
                           response=response, results=response.results if response else [], search_id=search_id,
                           referrals=topic_referrals(response, current_language()))


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
    if not clean_query(q):  # empty, spaces or control characters only
        return _bad(N_("Parameter q wajib diisi."))
    try:
        k = parse_k()
    except ValueError as exc:
        return _bad(exc.args[0])
    kinds = [t for t in request.args.get("types", "").split(",") if t]
    if any(t not in KINDS for t in kinds):
        return _bad(N_("types hanya boleh berisi service dan/atau question."))
    exact = request.args.get("exact", "0")
    if exact not in ("0", "1"):
        return _bad(N_("exact harus 0 atau 1."))
    started = time.perf_counter()
    response = engine().search(q, k=k, kinds=kinds or None, autocorrect=exact == "0")
    response.results = filter_visible(current_user, response.results)
    _notify(q, response, "api")
    out = jsonify({"query": response.query, "normalized": response.normalized, "mode": response.mode,
                   "did_you_mean": response.did_you_mean, "corrected": response.corrected,
                   "abstained": response.abstained,
                   "certain": bool(response.results) and response.certain,
                   "official_match": response.official_match, "confidence": round(response.confidence, 4),
                   # no official answer, and the question looks like a topic we know we do not
                   # answer: which one, and who handles it
                   "topic": topic_json(response, current_language()),
                   "results": [result_json(r) for r in response.results]})
    # Where the time went, for operators and bench/search_latency.py: the
    # search, its stages (the lexical side overlaps query encoding; "dense"
    # is what is left of the encoding, then the graph search) and the whole
    # view (visibility, search log, JSON).
    stages = "".join(f", {name};dur={response.timings[name]:.1f}"
                     for name in ("lexical", "dense", "fusion", "suggest") if name in response.timings)
    out.headers["Server-Timing"] = (f"search;dur={response.took_ms:.1f}{stages}, "
                                    f"view;dur={(time.perf_counter() - started) * 1000:.1f}")
    return out
