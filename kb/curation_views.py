"""Knowledge-manager pages: /kelola."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.extensions import db
from core.http import parse_int
from core.i18n import _
from core.security import require_capability

from . import bp
from . import curation as cur
from .models import ServiceDraft, ServiceFaq
from .presenters import KIND_LABELS, snapshot_diff
from .queries import service_or_none
from .services import record_from_service

KIND_WORDS = {"office": "kantor", "online": "online", "phone": "telepon"}
INPUT_FIELDS = {"duration_text": ("duration.text", "duration"), "duration_days": ("duration.max_days",),
                "contact_phone": ("contact.phone", "contact"), "contact_email": ("contact.email",),
                "contact_website": ("contact.website",), "contact_note": ("contact.note",)}


def _errors_for(errors: dict):
    def lookup(name: str) -> list[str]:
        prefixes = INPUT_FIELDS.get(name, (name,))
        return [f"{field}: {message}" if field not in prefixes else message for field, message in errors.items()
                if any(field == p or field.startswith(p + "[") or field.startswith(p + ".") for p in prefixes)]
    return lookup


@bp.errorhandler(cur.CurationError)
def _curation_error(exc: cur.CurationError):
    details = [f"{k}: {v}" for k, v in exc.fields.items()]
    return render_template("forum/problem.html", message=" ".join([_(exc.message)] + details),
                           back=request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                           else url_for("kb.curation_home")), exc.status


# ---------------------------------------------------------------- form <-> snapshot

def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def form_from_snapshot(s: dict) -> dict:
    def fee(f):
        amount = {"free": "gratis", "variable": "variabel"}.get(f["kind"], str(f.get("amount") or ""))
        return " | ".join([f["label"], amount, f.get("legal_basis") or "", f.get("note") or ""]).rstrip(" |")

    def channel(c):
        return " | ".join([KIND_WORDS.get(c["kind"], c["kind"]), c["name"]] +
                          [c.get(k) or "" for k in ("address", "url", "hours", "note")]).rstrip(" |")

    return {
        "title": s["title"], "summary": s["summary"], "aliases": ", ".join(s.get("aliases") or []),
        "requirements": "\n".join(s["requirements"]), "fees": "\n".join(fee(f) for f in s["fees"]),
        "duration_text": s["duration"]["text"],
        "duration_days": "" if s["duration"].get("max_days") is None else str(s["duration"]["max_days"]),
        "steps": "\n".join(s["steps"]), "channels": "\n".join(channel(c) for c in s["channels"]),
        "legal_basis": "\n".join(s["legal_basis"]), "contact_phone": s["contact"].get("phone") or "",
        "contact_email": s["contact"].get("email") or "", "contact_website": s["contact"].get("website") or "",
        "contact_note": s["contact"].get("note") or "", "last_reviewed": s["last_reviewed"], "notes": s.get("notes") or "",
    }


def _number_or_text(raw: str):
    """Digits become a number for the record checker; anything else is passed
    on as written, so the checker names it in its error message."""
    value = parse_int(raw, high=10**15)
    return raw if value is None else value


def snapshot_from_form(form, base: dict) -> dict:
    def fee(line):
        parts = [p.strip() for p in line.split("|")] + ["", "", ""]
        amount = parts[1]
        return {"label": parts[0], "amount": _number_or_text(amount),
                "legal_basis": parts[2] or None, "note": parts[3] or None}

    def channel(line):
        parts = [p.strip() for p in line.split("|")] + [""] * 6
        return {"type": parts[0], "name": parts[1], "address": parts[2] or None, "url": parts[3] or None,
                "hours": parts[4] or None, "note": parts[5] or None}

    days = (form.get("duration_days") or "").strip()
    return {
        "slug": base["slug"], "agency": base["agency"], "category": base["category"],
        "title": form.get("title", ""), "summary": form.get("summary", ""),
        "aliases": [a.strip() for a in form.get("aliases", "").split(",") if a.strip()],
        "requirements": _lines(form.get("requirements")), "fees": [fee(x) for x in _lines(form.get("fees"))],
        "duration": {"text": form.get("duration_text", ""), "max_days": _number_or_text(days) if days else None},
        "steps": _lines(form.get("steps")), "channels": [channel(x) for x in _lines(form.get("channels"))],
        "legal_basis": _lines(form.get("legal_basis")),
        "contact": {k: (form.get(f"contact_{k}") or "").strip() or None for k in ("phone", "email", "website", "note")},
        "last_reviewed": form.get("last_reviewed", ""), "notes": form.get("notes", ""),
    }


# ---------------------------------------------------------------- pages

@bp.route("/kelola")
@require_capability("curate")
def curation_home():
    drafts = db.session.scalars(sa.select(ServiceDraft).where(ServiceDraft.status.in_(("draft", "in_review")))
                                .order_by(ServiceDraft.submitted_at.desc().nulls_last(), ServiceDraft.id.desc())).all()
    stale_faqs = db.session.scalars(sa.select(ServiceFaq).where(ServiceFaq.stale_since.is_not(None))).all()
    from flask import current_app

    stale_answers = current_app.jinja_env.globals.get("stale_answers", lambda: [])()
    return render_template("kb/kelola/home.html", drafts=drafts, overdue=cur.overdue_services(),
                           stale_faqs=stale_faqs, stale_answers=stale_answers)


@bp.route("/kelola/layanan/<slug>/sunting", methods=["GET", "POST"])
@require_capability("curate")
def curation_edit(slug: str):
    service = service_or_none(slug)
    if service is None:
        abort(404, _("Layanan tidak ditemukan."))
    current = record_from_service(service).to_dict()
    draft_id = request.values.get("draf", "")
    draft_id = parse_int(draft_id)
    draft = db.session.get(ServiceDraft, draft_id) if draft_id else None
    if draft is not None and draft.service_id != service.id:
        abort(404)
    errors = {}
    if request.method == "POST":
        snapshot = snapshot_from_form(request.form, current)
        summary = request.form.get("summary_change", "")
        try:
            if draft is None:
                draft = cur.create_draft(current_user, slug, snapshot, summary=summary)
            else:
                draft = cur.update_draft(current_user, draft.id, snapshot, summary)
            if request.form.get("submit") == "review":
                cur.submit_draft(current_user, draft.id)
                flash(_("Draf diajukan untuk ditinjau."), "success")
            else:
                flash(_("Draf disimpan."), "success")
            return redirect(url_for("kb.curation_draft", draft_id=draft.id))
        except cur.CurationError as exc:
            if not exc.fields:
                raise
            errors = exc.fields
            values = dict(request.form)
    else:
        values = form_from_snapshot(draft.snapshot if draft else current)
    return render_template("kb/kelola/edit.html", service=service, draft=draft, values=values, errors=errors,
                           errors_for=_errors_for(errors), kind_labels=KIND_LABELS), (400 if errors else 200)


@bp.route("/kelola/draf/<int:draft_id>", methods=["GET", "POST"])
@require_capability("curate")
def curation_draft(draft_id: int):
    draft = db.session.get(ServiceDraft, draft_id)
    if draft is None:
        abort(404, _("Draf tidak ditemukan."))
    if request.method == "POST":
        action = request.form.get("action")
        note = request.form.get("note", "")
        if action == "submit":
            cur.submit_draft(current_user, draft.id)
        elif action == "withdraw":
            cur.withdraw_draft(current_user, draft.id)
        elif action == "publish":
            cur.publish_draft(current_user, draft.id, note)
            flash(_("Draf diterbitkan sebagai versi baru."), "success")
            return redirect(url_for("kb.service", slug=draft.service.slug))
        elif action == "reject":
            cur.reject_draft(current_user, draft.id, note)
        else:
            abort(400)
        return redirect(url_for("kb.curation_draft", draft_id=draft.id))
    current = record_from_service(draft.service).to_dict()
    return render_template("kb/kelola/draft.html", draft=draft, diff=snapshot_diff(current, draft.snapshot))


@bp.route("/kelola/layanan/<slug>/tinjau", methods=["POST"])
@require_capability("curate")
def curation_reviewed(slug: str):
    days = request.form.get("days", "")
    if days:
        if parse_int(days) is None:
            raise cur.CurationError("Interval tinjauan harus angka hari.")
        cur.set_review_interval(current_user, slug, int(days))
        flash(_("Interval tinjauan disimpan."), "success")
    else:
        cur.mark_reviewed(current_user, slug)
        flash(_("Ditandai sudah ditinjau hari ini."), "success")
    return redirect(url_for("kb.curation_home"))


@bp.route("/kelola/faq/<int:faq_id>/konfirmasi", methods=["POST"])
@require_capability("curate")
def curation_confirm_faq(faq_id: int):
    faq = cur.confirm_faq(current_user, faq_id)
    flash(_("Entri FAQ dikonfirmasi masih berlaku."), "success")
    return redirect(url_for("kb.service", slug=faq.service.slug) + f"#faq-{faq.id}")
