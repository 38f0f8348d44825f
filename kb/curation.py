"""Knowledge curation: drafts and review, review intervals, FAQ entries,
"may be outdated" flags.  Every action checks the ``curate`` capability on
the server, runs in one transaction and writes an audit row."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from core.markup import render_markdown
from core.models import User, audit, utcnow

from .models import Service, ServiceDraft, ServiceFaq
from .record import RecordError, ServiceRecord, parse_record
from .services import get_service, record_from_service, save_service

STALE_FIELDS = {"fees", "requirements", "duration"}

# Other packages (the forum) subscribe without kb importing them.
on_fields_changed: list[Callable[[Service, list[str]], None]] = []
on_draft_published: list[Callable[[ServiceDraft], None]] = []


class CurationError(Exception):
    status = 400

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class CurationForbidden(CurationError):
    status = 403


class CurationConflict(CurationError):
    status = 409


def _require(user: User) -> None:
    if user is None or not user.is_authenticated or user.is_suspended or not user.can("curate"):
        raise CurationForbidden("Hanya pengelola pengetahuan yang dapat melakukan ini.")


def _service(slug: str) -> Service:
    service = get_service(slug)
    if service is None:
        raise CurationError("Layanan tidak ditemukan.")
    return service


def _draft(draft_id: int) -> ServiceDraft:
    draft = db.session.get(ServiceDraft, draft_id, with_for_update=True)
    if draft is None:
        raise CurationError("Draf tidak ditemukan.")
    return draft


def _as_front_matter(snapshot: dict) -> dict:
    """Canonical snapshots (ServiceRecord.to_dict) use fee/channel "kind";
    the validator reads the content-file shape ("amount" words, "type")."""
    meta = dict(snapshot)
    meta["fees"] = [
        {"label": f.get("label"), "legal_basis": f.get("legal_basis"), "note": f.get("note"),
         "amount": {"free": "gratis", "variable": "variabel"}.get(f["kind"], f.get("amount"))}
        if isinstance(f, dict) and "kind" in f else f for f in snapshot.get("fees") or []]
    meta["channels"] = [
        {**{k: v for k, v in c.items() if k != "kind"}, "type": c["kind"]} if isinstance(c, dict) and "kind" in c
        else c for c in snapshot.get("channels") or []]
    return meta


def validate(snapshot: dict) -> ServiceRecord:
    meta = {k: v for k, v in _as_front_matter(snapshot).items() if k != "notes"}
    try:
        return parse_record(meta, snapshot.get("notes") or "")
    except RecordError as exc:
        raise CurationError("Periksa kembali isian draf.", dict(exc.problems))


def notify_published_change(service: Service, changed: list[str]) -> None:
    """Called by kb.services.save_service after a published change."""
    if not STALE_FIELDS & set(changed):
        return
    db.session.execute(sa.update(ServiceFaq).where(ServiceFaq.service_id == service.id,
                                                   ServiceFaq.stale_since.is_(None)).values(stale_since=utcnow()))
    for listener in on_fields_changed:
        listener(service, changed)


# ---------------------------------------------------------------- drafts

def create_draft(user: User, slug: str, snapshot: dict | None = None, *, summary: str = "",
                 source_answer_id: int | None = None, credited_user_id: int | None = None) -> ServiceDraft:
    _require(user)
    with write_transaction():
        service = _service(slug)
        current = record_from_service(service).to_dict()
        if snapshot is not None:
            snapshot = {**validate({**snapshot, "slug": service.slug}).to_dict()}
        draft = ServiceDraft(service_id=service.id, snapshot=snapshot or current, base_version=service.version,
                             summary=summary.strip()[:300], author_id=user.id, source_answer_id=source_answer_id,
                             credited_user_id=credited_user_id)
        db.session.add(draft)
        db.session.flush()
        audit(user, "draft.create", "service", service.id, draft=draft.id, from_answer=source_answer_id)
    return draft


def update_draft(user: User, draft_id: int, snapshot: dict, summary: str = "") -> ServiceDraft:
    _require(user)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "draft":
            raise CurationError("Draf ini sudah diajukan; tarik kembali dulu untuk menyunting.")
        if draft.author_id != user.id and not user.can("admin"):
            raise CurationForbidden("Hanya penulis draf yang dapat menyuntingnya.")
        draft.snapshot = validate({**snapshot, "slug": draft.service.slug}).to_dict()
        draft.summary = summary.strip()[:300] or draft.summary
        audit(user, "draft.update", "service", draft.service_id, draft=draft.id)
    return draft


def submit_draft(user: User, draft_id: int) -> ServiceDraft:
    _require(user)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "draft":
            raise CurationError("Hanya draf yang dapat diajukan untuk ditinjau.")
        if draft.author_id != user.id and not user.can("admin"):
            raise CurationForbidden("Hanya penulis draf yang dapat mengajukannya.")
        if draft.snapshot == record_from_service(draft.service).to_dict():
            raise CurationError("Draf ini sama dengan versi yang terbit; tidak ada yang perlu ditinjau.")
        draft.status, draft.submitted_at = "in_review", utcnow()
        audit(user, "draft.submit", "service", draft.service_id, draft=draft.id)
    return draft


def withdraw_draft(user: User, draft_id: int) -> ServiceDraft:
    _require(user)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "in_review":
            raise CurationError("Hanya draf yang sedang ditinjau yang dapat ditarik kembali.")
        if draft.author_id != user.id and not user.can("admin"):
            raise CurationForbidden("Hanya penulis draf yang dapat menariknya kembali.")
        draft.status = "draft"
        audit(user, "draft.withdraw", "service", draft.service_id, draft=draft.id)
    return draft


def publish_draft(reviewer: User, draft_id: int, note: str = "") -> ServiceDraft:
    """Reviewer sign-off: publish the draft as the service's next version."""
    _require(reviewer)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "in_review":
            raise CurationError("Hanya draf yang sedang ditinjau yang dapat diterbitkan.")
        if draft.author_id == reviewer.id and not reviewer.can("admin"):
            raise CurationForbidden("Peninjau harus orang lain, bukan penulis draf.")
        service = db.session.get(Service, draft.service_id, with_for_update=True)
        if service.version != draft.base_version:
            raise CurationConflict(f"Halaman ini sudah berubah (versi {service.version}) sejak draf dibuat dari versi "
                                   f"{draft.base_version}. Buat draf baru dari versi terbaru.")
        record = validate(draft.snapshot)
        credit = f" Usulan dari jawaban warga @{draft.credited_user.username}." if draft.credited_user else ""
        result = save_service(record, source=f"review:draf-{draft.id}", author=reviewer,
                              note=(f"Ditinjau dan disetujui oleh {reviewer.name}. {note.strip()}".strip() + credit)[:2000])
        draft.status, draft.reviewer_id, draft.reviewed_at = "published", reviewer.id, utcnow()
        draft.review_note, draft.published_version = note.strip()[:2000], service.version
        audit(reviewer, "draft.publish", "service", service.id, draft=draft.id, version=service.version,
              fields=result.changed)
        for listener in on_draft_published:
            listener(draft)
    return draft


def reject_draft(reviewer: User, draft_id: int, note: str) -> ServiceDraft:
    _require(reviewer)
    if len(note.strip()) < 5:
        raise CurationError("Tulis alasan penolakan.", {"note": "minimal 5 karakter"})
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "in_review":
            raise CurationError("Hanya draf yang sedang ditinjau yang dapat ditolak.")
        draft.status, draft.reviewer_id, draft.reviewed_at = "rejected", reviewer.id, utcnow()
        draft.review_note = note.strip()[:2000]
        audit(reviewer, "draft.reject", "service", draft.service_id, draft=draft.id, note=draft.review_note)
    return draft


# ---------------------------------------------------------------- review intervals

def mark_reviewed(user: User, slug: str) -> Service:
    """Confirm the page is still correct today (a new version with the date)."""
    _require(user)
    with write_transaction():
        service = _service(slug)
        record = record_from_service(service).to_dict()
        record["last_reviewed"] = date.today().isoformat()
        if record_from_service(service).last_reviewed != date.today():
            save_service(ServiceRecord.from_dict(record), source="review:konfirmasi", author=user,
                         note=f"Isi diperiksa dan masih berlaku ({user.name}).")
        audit(user, "service.reviewed", "service", service.id)
    return service


def set_review_interval(user: User, slug: str, days: int) -> Service:
    _require(user)
    if not 7 <= days <= 1095:
        raise CurationError("Interval tinjauan 7–1095 hari.", {"days": "7–1095"})
    with write_transaction():
        service = _service(slug)
        service.review_interval_days = days
        audit(user, "service.interval", "service", service.id, days=days)
    return service


def overdue_services(today: date | None = None) -> list[Service]:
    today = today or date.today()
    services = db.session.scalars(sa.select(Service).order_by(Service.last_reviewed)).all()
    return [s for s in services if s.review_due < today]


# ---------------------------------------------------------------- FAQ

def add_faq(user: User, slug: str, question: str, answer_md: str, *, source_answer_id: int | None = None,
            credited_user_id: int | None = None) -> ServiceFaq:
    _require(user)
    question, answer_md = (question or "").strip(), (answer_md or "").strip()
    errors = {}
    if not 10 <= len(question) <= 200:
        errors["question"] = "Pertanyaan FAQ 10–200 karakter."
    if not 20 <= len(answer_md) <= 5000:
        errors["answer"] = "Jawaban FAQ 20–5.000 karakter."
    if errors:
        raise CurationError("Periksa kembali isian FAQ.", errors)
    with write_transaction():
        service = _service(slug)
        faq = ServiceFaq(service_id=service.id, question=question, answer_md=answer_md,
                         answer_html=render_markdown(answer_md), source_answer_id=source_answer_id,
                         credited_user_id=credited_user_id, created_by_id=user.id)
        db.session.add(faq)
        db.session.flush()
        audit(user, "faq.add", "service", service.id, faq=faq.id, from_answer=source_answer_id)
    return faq


def confirm_faq(user: User, faq_id: int) -> ServiceFaq:
    _require(user)
    with write_transaction():
        faq = db.session.get(ServiceFaq, faq_id, with_for_update=True)
        if faq is None:
            raise CurationError("Entri FAQ tidak ditemukan.")
        faq.stale_since = None
        audit(user, "faq.confirm", "service", faq.service_id, faq=faq.id)
    return faq
