"""Feedback, hand-off, survey and tracking endpoints, and the dashboard."""
from __future__ import annotations

import csv
import io
import secrets
from datetime import date, datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, session, url_for

from core.http import parse_int
from core.i18n import _
from core.ratelimit import check as rate_check
from core.security import require_capability

from . import bp
from . import services as svc
from .models import SKM_ELEMENTS

VISITOR_COOKIE = "vid"


def _visitor() -> str:
    vid = request.cookies.get(VISITOR_COOKIE, "")
    return vid if len(vid) == 32 and vid.isalnum() else secrets.token_hex(16)


def _with_visitor(response, vid: str):
    response.set_cookie(VISITOR_COOKIE, vid, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return response


def _known_service(slug: str | None) -> str | None:
    """A real service slug, or None: free text never becomes a "service"."""
    from kb.queries import service_or_none

    slug = (slug or "").strip()[:80]
    return slug if slug and service_or_none(slug) is not None else None


def _target(raw: str | None) -> tuple[str, str | None, str] | None:
    """("service:skck", "skck", url) or ("question:42", None, url) for a real target, else None."""
    from core.urls import path_for
    from kb.queries import service_or_none

    kind, _, ref = (raw or "").partition(":")
    if kind == "service" and service_or_none(ref[:80]) is not None:
        return f"service:{ref}", ref, path_for("kb.service", slug=ref)
    if kind == "question" and parse_int(ref):
        from forum.queries import question_or_none

        from forum.policy import is_public

        q = question_or_none(parse_int(ref))
        if q is not None and is_public(q):
            return f"question:{q.id}", (q.services[0].slug if q.services else None), path_for(
                "forum.question", question_id=q.id)
    return None


# ---------------------------------------------------------------- session trail (for the contact centre)

TRAIL_LENGTH = 12


def _remember(kind: str, ref: str) -> None:
    """What this visitor searched and read, newest last, kept in their own
    session cookie; attached to an escalation only if they agree."""
    from datetime import datetime, timezone

    trail = list(session.get("trail") or [])[-(TRAIL_LENGTH - 1):]
    if trail and trail[-1][:2] == [kind, ref]:
        return
    trail.append([kind, ref, datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M")])
    session["trail"] = trail


def trail_for_display(raw) -> list[dict]:
    """The trail with titles and links, for the citizen's preview and the
    agent's page (only what exists and may be shown)."""
    from core.urls import path_for
    from kb.queries import service_or_none

    out = []
    for item in raw or []:
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            continue
        kind, ref, at = (str(x)[:200] for x in item)
        try:  # recorded in UTC; shown in WIB like every other time
            at = datetime.strptime(at, "%Y-%m-%dT%H:%M")
        except ValueError:
            at = None
        if kind == "search":
            out.append({"kind": kind, "label": ref, "url": path_for("search.results") + "?q=" + ref, "at": at})
        elif kind == "page":
            service = service_or_none(ref[:80])
            if service is not None:
                out.append({"kind": kind, "label": service.title, "url": path_for("kb.service", slug=service.slug),
                            "at": at})
        elif kind == "thread" and parse_int(ref):
            from forum.policy import is_public
            from forum.queries import question_or_none

            q = question_or_none(parse_int(ref))
            if q is not None and is_public(q):
                out.append({"kind": kind, "label": q.title, "url": path_for("forum.question", question_id=q.id),
                            "at": at})
    return out


# ---------------------------------------------------------------- ask funnel (observed, not intrusive)
# "posted" is recorded by analytics.subscribers on core.signals.question_asked.

@bp.after_app_request
def _observe_funnel(response):
    endpoint, method = request.endpoint, request.method
    try:
        if method == "GET" and response.status_code == 200:
            if endpoint == "kb.service":
                _remember("page", request.view_args.get("slug", "")[:80])
            elif endpoint == "forum.question":
                _remember("thread", str(request.view_args.get("question_id", "")))
            elif endpoint == "search.results" and (request.args.get("q") or "").strip():
                _remember("search", svc.redact(request.args["q"].strip()[:200])[:200])
        if endpoint == "forum.ask" and method == "GET" and response.status_code == 200:
            session["ask_funnel"] = secrets.token_hex(16)
            svc.funnel_event(session["ask_funnel"], "opened", service=_known_service(request.args.get("layanan")))
        elif endpoint == "forum_api.similar" and response.status_code == 200 and session.get("ask_funnel") \
                and not session.get("ask_funnel_suggested") == session["ask_funnel"]:
            data = response.get_json(silent=True) or {}
            if data.get("results") or data.get("services"):
                svc.funnel_event(session["ask_funnel"], "suggested")
                session["ask_funnel_suggested"] = session["ask_funnel"]
    except Exception:  # analytics must never break the page
        import logging

        logging.getLogger("layanan.analytics").exception("funnel event failed")
    return response


# ---------------------------------------------------------------- clicks

@bp.route("/klik")
def click():
    """Record a click on a search result or ask-form suggestion, then go to
    the document (only to a document the index knows: never an open
    redirect).  The search is named by the signed token its result page
    carried, so nobody can write clicks into other people's searches."""
    from search.outbox import engine

    doc_id = (request.args.get("d") or "")[:120]
    kind = doc_id.partition(":")[0]
    eng = engine()
    fields = eng.lexicals[kind].stored([doc_id]).get(doc_id) if kind in eng.lexicals else None
    if fields is None:
        abort(404, _("Halaman tidak ditemukan."))
    rate_check("click")
    svc.log_click(request.args.get("s"), doc_id, parse_int(request.args.get("r", ""), 0, 1000))
    if request.args.get("f") and session.get("ask_funnel"):
        svc.funnel_event(session["ask_funnel"], "clicked", doc=doc_id)
    return redirect(fields["url"])


# ---------------------------------------------------------------- feedback

FEEDBACK_STATES = ("ya", "tidak", "terkirim", "kosong")
FEEDBACK_ANCHOR = "umpan-balik"


def feedback_url(target_url: str, state: str) -> str:
    """Back to the page, at the feedback box, which then shows ``state``
    next to the buttons the citizen pressed (no JavaScript needed)."""
    return f"{target_url}?{FEEDBACK_ANCHOR}={state}#{FEEDBACK_ANCHOR}"


def _account_visitor(user) -> str:
    """A pseudonymous per-account key (one answer per account and page),
    not the account id itself."""
    import hashlib
    import hmac

    from flask import current_app

    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"feedback-account:{user.id}".encode(), hashlib.sha256).hexdigest()[:32]


@bp.route("/umpan-balik", methods=["POST"])
def feedback():
    """"Did this answer your question?": yes/no, then (after "no") what was
    missing, in free text (capped, redacted before storage).  Visitors are
    counted per address; over that limit (many citizens share one mobile
    carrier address) they may log in and their answer is recorded for the
    account (core.resume)."""
    from flask_login import current_user
    from werkzeug.exceptions import TooManyRequests

    target = _target(request.form.get("target"))
    if target is None:
        abort(400, _("Halaman yang dinilai tidak dikenal."))
    answer = request.form.get("helpful")
    if answer not in ("ya", "tidak"):
        abort(400, _("Pilih ya atau tidak."))
    comment = request.form.get("comment", "")
    second_step = "comment" in request.form
    if second_step and not comment.strip():
        return redirect(feedback_url(target[2], "kosong"))
    if current_user.is_authenticated:
        rate_check("feedback_user")
        svc.record_feedback(target[0], answer == "ya", _account_visitor(current_user), comment)
        return redirect(feedback_url(target[2], "terkirim" if second_step else answer))
    # Counted per address (a cleared cookie is a new visitor, not a new
    # person): overall, and per page.
    try:
        rate_check("feedback")
        rate_check("feedback_page", key=target[0])
    except TooManyRequests:
        from core import resume

        return resume.defer("feedback", {"target": target[0], "helpful": answer == "ya",
                                         "comment": comment[:500]}, target[2] + f"#{FEEDBACK_ANCHOR}")
    vid = _visitor()
    svc.record_feedback(target[0], answer == "ya", vid, comment)
    return _with_visitor(redirect(feedback_url(target[2], "terkirim" if second_step else answer)), vid)


def _describe_feedback(payload: dict) -> str:
    return _("penilaian Anda (“ya”) untuk halaman ini") if payload.get("helpful") else \
        _("penilaian Anda (“tidak”) untuk halaman ini")


def _perform_feedback(user, payload: dict):
    from core import resume

    target = _target(payload.get("target"))
    if target is None:
        raise LookupError("target gone")
    rate_check("feedback_user")
    comment = str(payload.get("comment") or "")
    helpful = bool(payload.get("helpful"))
    svc.record_feedback(target[0], helpful, _account_visitor(user), comment)
    state = "terkirim" if comment.strip() else ("ya" if helpful else "tidak")
    return resume.Outcome(_("Penilaian Anda tercatat. Terima kasih!"), feedback_url(target[2], state))


def _register_resumable() -> None:
    from core import resume

    resume.register("feedback", perform=_perform_feedback, describe=_describe_feedback)


_register_resumable()


# ---------------------------------------------------------------- escalation

@bp.route("/hubungi", methods=["GET", "POST"])
def contact():
    from kb.queries import service_or_none

    target = _target(request.values.get("target"))
    if target is None:
        abort(404, _("Halaman yang dirujuk tidak dikenal."))
    service = service_or_none(target[1]) if target[1] else None
    reference = None
    trail = trail_for_display(session.get("trail"))
    if request.method == "POST":
        rate_check("escalate")
        attach = request.form.get("lampirkan") == "1"
        row = svc.escalate(target[0], target[1], request.form.get("summary", ""),
                           trail=list(session.get("trail") or []) if attach else [])
        reference = row.reference
        if session.get("ask_funnel"):
            svc.funnel_event(session.pop("ask_funnel"), "escalated", service=target[1])
    return render_template("analytics/contact.html", target=target, service=service, reference=reference,
                           trail=trail)


# ---------------------------------------------------------------- contact-centre lookup

REFERENCE_RE = __import__("re").compile(r"^LYN-\d{4}-[0-9A-F]{6}$")


@bp.route("/agen", methods=["GET"])
@require_capability("assist")
def agent_lookup():
    """Contact-centre staff type the reference number a citizen reads out."""
    raw = (request.args.get("rujukan") or "").strip().upper()[:20]
    if raw:
        if REFERENCE_RE.match(raw):
            return redirect(url_for("analytics.agent_escalation", reference=raw))
        flash(_("Nomor rujukan berbentuk LYN-YYMM-XXXXXX, misalnya LYN-2611-3FA9C2."), "error")
    return render_template("analytics/agent_lookup.html", recent=svc.recent_escalations()), (400 if raw else 200)


@bp.route("/agen/rujukan/<reference>")
@require_capability("assist")
def agent_escalation(reference: str):
    from flask_login import current_user

    from kb.queries import service_or_none

    row = svc.escalation_by_reference(reference.strip().upper()[:20])
    if row is None:
        abort(404, _("Nomor rujukan tidak ditemukan. Periksa kembali dengan warga."))
    svc.log_escalation_view(current_user, row)
    service = service_or_none(row.service) if row.service else None
    return render_template("analytics/agent_escalation.html", row=row, service=service,
                           target=_target(row.target), trail=trail_for_display(row.trail))


# ---------------------------------------------------------------- SKM survey

DEVICE_COOKIE = "perangkat"
SURVEY_MIN_SECONDS = 20        # a person reads nine questions before answering
SURVEY_DEVICE_MAX_AGE = 30 * 86400


def _device_signer():
    from flask import current_app
    from itsdangerous import TimestampSigner

    return TimestampSigner(current_app.config["SECRET_KEY"], salt="layanan-survey-device")


def _device(max_age: int | None = None) -> tuple[str | None, int | None]:
    """(device id, seconds since the survey form was first shown) from the
    signed device cookie, or (None, None)."""
    from itsdangerous import BadSignature

    raw = request.cookies.get(DEVICE_COOKIE, "")[:200]
    if not raw:
        return None, None
    try:
        value, issued = _device_signer().unsign(raw, max_age=max_age, return_timestamp=True)
    except BadSignature:
        return None, None
    from datetime import datetime, timezone

    return value.decode(), int((datetime.now(timezone.utc) - issued).total_seconds())


@bp.route("/survei/<slug>", methods=["GET", "POST"])
def survey(slug: str):
    """SKM: one response per person (an account, or a device that opened the
    form at least SURVEY_MIN_SECONDS earlier) per service per month, plus
    per-address limits; IKM is always shown with its number of respondents."""
    from flask import make_response
    from flask_login import current_user

    from kb.queries import service_or_none

    service = service_or_none(slug[:80])
    if service is None:
        abort(404, _("Layanan tidak ditemukan."))
    errors, values, problem = [], {}, None
    device, age = _device(SURVEY_DEVICE_MAX_AGE)
    if request.method == "POST":
        for key, label in SKM_ELEMENTS:
            raw = request.form.get(key, "")
            if raw not in ("1", "2", "3", "4"):
                errors.append(key)
            else:
                values[key] = int(raw)
        if current_user.is_authenticated:
            respondent = f"u:{current_user.id}"
        elif device and age is not None and age >= SURVEY_MIN_SECONDS:
            respondent = f"d:{device}"
        else:
            respondent = None
            problem = _("Isian survei belum dapat diterima: buka formulir ini, baca pertanyaannya, lalu kirim "
                        "(atau masuk dengan akun Anda). Isian Anda di bawah tetap tersimpan di formulir.")
        if not errors and respondent:
            rate_check("survey")
            rate_check("survey_service", key=service.slug)
            _row, replaced = svc.submit_skm(service.slug, values, request.form.get("comment", ""), respondent=respondent)
            flash(_("Penilaian Anda untuk bulan ini diperbarui.") if replaced
                  else _("Terima kasih, penilaian Anda tercatat."), "success")
            return redirect(url_for("kb.service", slug=service.slug))
    status = 400 if (errors or problem) else 200
    response = make_response(render_template(
        "analytics/survey.html", service=service, elements=SKM_ELEMENTS, errors=errors, values=values,
        comment=request.form.get("comment", "")[:1000], problem=problem), status)
    if device is None:
        response.set_cookie(DEVICE_COOKIE, _device_signer().sign(secrets.token_hex(16)).decode(),
                            max_age=SURVEY_DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


# ---------------------------------------------------------------- dashboard

EARLIEST = date(2020, 1, 1)


def _period():
    """?dari=&sampai= as dates within 2020-01-01 .. a year from today;
    anything else falls back to the last 30 days (never an OverflowError)."""
    latest = date.today() + timedelta(days=366)

    def parse(name, default):
        try:
            value = date.fromisoformat((request.args.get(name) or "")[:10])
        except ValueError:
            return default
        return value if EARLIEST <= value <= latest else default

    end = parse("sampai", date.today())
    start = parse("dari", max(EARLIEST, end - timedelta(days=29)))
    if start > end:
        start, end = end, start
    return start, end


def _named_topics(rows: list[dict]) -> list[dict]:
    """Gap topics with their name in the reader's language (the key itself
    for a topic whose heading was renamed or removed since) and the agencies
    their searchers are referred to (content/referrals.yml; none yet: a
    referral worth writing)."""
    from core.i18n import current_language
    from search.engine import outside_topic
    from search.registry import referrals

    language = current_language()
    for row in rows:
        topic = outside_topic(row["topic"])
        row["name"] = topic.name(language) if topic else row["topic"]
        row["referred_to"] = [r["name"] for r in referrals(row["topic"])] if topic else []
    return rows


def _tables(start: date, end: date) -> dict:
    return {
        "top": svc.top_queries(start, end),
        "zero": svc.top_queries(start, end, zero_only=True),
        "uncertain": svc.top_queries(start, end, uncertain_only=True),
        "topics": _named_topics(svc.gap_topics(start, end)),
        "deflection": svc.deflection_by_service(start, end),
        "funnel": svc.funnel_totals(start, end),
        "ikm": svc.ikm_by_service(start, end),
        "unanswered": svc.unanswered_by_age(),
        "first_answer": svc.time_to_first_answer(start, end),
        "missing": svc.missing_comments(start, end),
    }


@bp.route("/kelola/analitik")
@require_capability("curate")
def dashboard():
    start, end = _period()
    return render_template("analytics/dashboard.html", start=start, end=end, t=_tables(start, end))


CSV_TABLES = {
    "pencarian-teratas": (["kueri", "jumlah"], lambda t: t["top"]),
    "tanpa-hasil": (["kueri", "jumlah"], lambda t: t["zero"]),
    "kurang-yakin": (["kueri", "jumlah"], lambda t: t["uncertain"]),
    "topik-di-luar": (["topik", "kunci", "jumlah", "contoh_kueri", "dirujuk_ke"],
                      lambda t: [(d["name"], d["topic"], d["searches"], " | ".join(d["examples"]),
                                  " | ".join(d["referred_to"])) for d in t["topics"]]),
    "defleksi": (["layanan", "terbantu_ya", "tidak_terbantu", "klik_saran", "bertanya", "eskalasi", "tingkat_defleksi"],
                 lambda t: [(d["service"], d["yes"], d["no"], d["deflected"], d["posted"], d["escalated"],
                             "" if d["rate"] is None else f"{d['rate']:.3f}") for d in t["deflection"]]),
    "ikm": (["layanan", "responden", "ikm", "mutu"] + [k for k, _ in SKM_ELEMENTS],
            lambda t: [(d["service"], d["respondents"], d["ikm"], d["grade"]) +
                       tuple(round(d["nrr"][k], 3) for k, _ in SKM_ELEMENTS) for d in t["ikm"]]),
    "belum-terjawab": (["umur", "jumlah"], lambda t: t["unanswered"]),
}


def csv_cell(value):
    """Neutralise spreadsheet formulas (OWASP CSV injection): a text cell
    that starts with = + - @, a tab or a line break, even after spaces, gets
    a leading apostrophe."""
    if isinstance(value, str) and value and (value[0] in "\t\r\n" or value.lstrip(" ")[:1] in ("=", "+", "-", "@")):
        return "'" + value
    return value


@bp.route("/kelola/analitik/<name>.csv")
@require_capability("curate")
def export_csv(name: str):
    if name not in CSV_TABLES:
        abort(404)
    start, end = _period()
    header, rows = CSV_TABLES[name]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows(_tables(start, end)):
        writer.writerow([csv_cell(c) for c in row])
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}-{start}-{end}.csv"'})
