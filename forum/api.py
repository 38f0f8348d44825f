"""JSON API for questions.  Writes need a logged-in session and the CSRF
token (``X-CSRFToken`` header; get it from ``GET /api/v1/csrf``)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core.errors import json_error as _error
from core.extensions import db
from core.i18n import N_
from core.http import parse_int
from core.ratelimit import limited

from . import policy
from .models import Answer, Question
from .queries import SORTS, question_or_none, questions_stmt
from .services import ForumError, ValidationFailed, ask_question, post_answer

bp = Blueprint("forum_api", __name__, url_prefix="/api/v1")


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _author(user):
    return {"username": user.username, "name": user.name, "reputation": user.reputation}


def _comments(post):
    return [{"id": c.id, "author": _author(c.author), "body": c.body_md, "body_html": c.body_html,
             "created_at": _iso(c.created_at)} for c in post.comments]


def question_summary(q: Question) -> dict:
    return {
        "id": q.id, "title": q.title, "score": q.score, "answer_count": q.answer_count,
        "accepted_answer_id": q.accepted_answer_id, "tags": [t.name for t in q.tags],
        "services": [s.slug for s in q.services], "author": _author(q.author),
        "created_at": _iso(q.created_at), "last_activity_at": _iso(q.last_activity_at),
        "closed": q.is_closed,
        "duplicate_of": q.duplicate_of_id if q.duplicate_of is not None and policy.is_public(q.duplicate_of) else None,
        "url": url_for("forum.question", question_id=q.id, _external=True),
    }


def answer_json(a: Answer, accepted_id: int | None) -> dict:
    return {"id": a.id, "question_id": a.question_id, "body": a.body_md, "body_html": a.body_html, "score": a.score,
            "accepted": a.id == accepted_id, "author": _author(a.author), "created_at": _iso(a.created_at),
            "edited_at": _iso(a.edited_at), "version": a.version, "comments": _comments(a)}


def question_json(q: Question) -> dict:
    data = question_summary(q)
    duplicate = policy.duplicate_target(current_user, q)
    data.update(body=q.body_md, body_html=q.body_html, version=q.version, edited_at=_iso(q.edited_at),
                duplicate_of=duplicate.id if duplicate else None, comments=_comments(q),
                answers=[answer_json(a, q.accepted_answer_id) for a in policy.visible_answers(current_user, q)])
    return data


@bp.errorhandler(ForumError)
def _forum_error(exc: ForumError):
    return _error(exc.status, exc.message, getattr(exc, "errors", None))


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = parse_int(raw, low, high)
    if value is None:
        raise ValidationFailed({name: N_("harus bilangan %(low)s–%(high)s", low=low, high=high)})
    return value


@bp.get("/csrf")
def csrf_token():
    return jsonify({"csrf_token": generate_csrf()})


@bp.get("/questions")
def questions():
    sort = request.args.get("sort", "terbaru")
    if sort not in SORTS:
        return _error(400, N_("sort harus salah satu dari: %(sorts)s", sorts=", ".join(SORTS)))
    page = _int_arg("page", 1, 1, 10_000)
    per_page = _int_arg("per_page", 20, 1, 100)
    service_id = None
    if request.args.get("service"):
        from kb.queries import service_or_none

        service = service_or_none(request.args["service"][:80])
        if service is None:
            return _error(400, N_("Layanan tidak dikenal."))
        service_id = service.id
    stmt = questions_stmt(sort, tag=(request.args.get("tag") or "").lower()[:40] or None, service_id=service_id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return jsonify({"count": pagination.total, "page": page, "per_page": per_page,
                    "questions": [question_summary(q) for q in pagination.items]})


@bp.get("/questions/similar")
@limited("search", methods=("GET",))
def similar():
    """Questions (and, under "services", official pages) like a draft question."""
    from search.normalize import clean_query
    from search.outbox import engine
    from search.views import parse_k, result_json

    title = clean_query((request.args.get("title") or "")[:200])
    body = clean_query((request.args.get("body") or "")[:300])
    if len(title) < 3:
        return _error(400, N_("Parameter title wajib diisi (minimal 3 karakter)."))
    try:
        k = parse_k(default=5, high=20)
    except ValueError as exc:
        return _error(400, exc.args[0])
    text = f"{title} {body}".strip()
    from flask_login import current_user as viewer
    from search.registry import filter_visible

    questions = engine().search(text, k=k, kinds=["question"])
    questions.results = filter_visible(viewer, questions.results)
    services = engine().search(title, k=3, kinds=["service"])
    return jsonify({"results": [result_json(r) for r in questions.results],
                    "services": [result_json(r) for r in services.results]})


@bp.get("/questions/<int:question_id>")
def question_detail(question_id: int):
    q = question_or_none(question_id)
    if q is None or not policy.can_see_post(current_user, q):
        return _error(404, N_("Pertanyaan tidak ditemukan."))
    return jsonify(question_json(q))


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ForumError(N_("Kirim badan permintaan JSON berupa objek."))
    return data


def _require_login():
    if not current_user.is_authenticated:
        return _error(401, N_("Silakan masuk terlebih dahulu."))
    return None


@bp.post("/questions")
@limited("post")
def create_question():
    if (denied := _require_login()) is not None:
        return denied
    data = _json_body()
    title, body = data.get("title"), data.get("body")
    tags, services = data.get("tags", []), data.get("services", [])
    if not isinstance(title, str) or not isinstance(body, str):
        raise ValidationFailed({k: N_("wajib berupa teks") for k in ("title", "body") if not isinstance(data.get(k), str)})
    if not isinstance(tags, (list, str)) or not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise ValidationFailed({"tags": N_("daftar teks"), "services": N_("daftar slug layanan")})
    q = ask_question(current_user, title, body, tags, services)
    q = question_or_none(q.id)
    resp = jsonify(question_json(q))
    resp.status_code = 201
    resp.headers["Location"] = url_for("forum_api.question_detail", question_id=q.id)
    return resp


@bp.post("/questions/<int:question_id>/answers")
@limited("post")
def create_answer(question_id: int):
    if (denied := _require_login()) is not None:
        return denied
    data = _json_body()
    if not isinstance(data.get("body"), str):
        raise ValidationFailed({"body": N_("wajib berupa teks")})
    a = post_answer(current_user, question_id, data["body"])
    q = question_or_none(a.question_id)
    answer = next(x for x in q.answers if x.id == a.id)
    resp = jsonify(answer_json(answer, q.accepted_answer_id))
    resp.status_code = 201
    resp.headers["Location"] = url_for("forum.question", question_id=q.id) + f"#jawaban-{a.id}"
    return resp
