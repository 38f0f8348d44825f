"""Knowledge curation: drafts and review, review intervals, FAQ entries,
"may be outdated" flags, the regulation registry and what its changes set
off.  Every action checks the ``curate`` capability on the server, runs in
one transaction and writes an audit row.

"Review means checked": a page is published or confirmed still valid only
when every field group cites a source and nothing it cites is repealed
(``kb.lint.publish_blockers``); doing so sets its "Terakhir ditinjau" to
today.  The draft author never types that date."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from core import signals
from core.db import write_transaction
from core.extensions import db
from core.i18n import N_
from core.markup import render_markdown
from core.models import User, audit, utcnow

from .lint import ERROR, lint_record, lint_regulations, publish_blockers
from .models import Regulation, ReviewFlag, Service, ServiceCitation, ServiceDraft, ServiceFaq
from .record import FIELD_LABELS, Checker, RecordError, ServiceRecord
from .registry import parse_regulation
from .services import current_registry, get_service, record_from_service, resolve_flags, save_regulation, save_service

# A change to these marks FAQ entries (and, through core.signals.page_published,
# the forum's accepted and promoted answers) "may be outdated".
STALE_FIELDS = {"fees", "requirements", "duration"}


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
        raise CurationForbidden(N_("Hanya pengelola pengetahuan yang dapat melakukan ini."))


def _service(slug: str) -> Service:
    service = get_service(slug)
    if service is None:
        raise CurationError(N_("Layanan tidak ditemukan."))
    return service


def _draft(draft_id: int) -> ServiceDraft:
    draft = db.session.get(ServiceDraft, draft_id, with_for_update=True)
    if draft is None:
        raise CurationError(N_("Draf tidak ditemukan."))
    return draft


def validate(snapshot: dict) -> ServiceRecord:
    """A snapshot from the editor or a draft, checked like a content file:
    the record's shape, then the registry rules that refuse a load (unknown
    or repealed regulations, non-official links).  Missing sources are
    allowed in a draft; publishing refuses them."""
    record = _shape(snapshot)
    problems = {f.field: f.message for f in lint_record(record, current_registry())
                if f.severity == ERROR and f.field != "last_reviewed"}
    if problems:
        raise CurationError(N_("Periksa kembali isian draf."), problems)
    return record


def _shape(snapshot: dict) -> ServiceRecord:
    try:
        return ServiceRecord.from_dict(snapshot)
    except RecordError as exc:
        raise CurationError(N_("Periksa kembali isian draf."), dict(exc.problems))


def _refuse_unchecked(record: ServiceRecord, refusal: str) -> None:
    """``refusal``: a message with a %(blockers)s placeholder."""
    blockers = publish_blockers(record, current_registry())
    if blockers:
        raise CurationError(N_(refusal, blockers="; ".join(blockers)))


def mark_faqs_stale(service: Service, changed: list[str]) -> None:
    """Called by kb.services.save_service after a published change (other
    packages react to core.signals.page_published)."""
    if not STALE_FIELDS & set(changed):
        return
    db.session.execute(sa.update(ServiceFaq).where(ServiceFaq.service_id == service.id,
                                                   ServiceFaq.stale_since.is_(None)).values(stale_since=utcnow()))


# ---------------------------------------------------------------- drafts

def _fixed_keys(snapshot: dict, current: dict) -> dict:
    """What a draft cannot change: the slug, and the review date (set only
    when a reviewed change is published or the page is confirmed)."""
    return {**snapshot, "slug": current["slug"], "last_reviewed": current["last_reviewed"]}


def create_draft(user: User, slug: str, snapshot: dict | None = None, *, summary: str = "",
                 source_answer_id: int | None = None, credited_user_id: int | None = None) -> ServiceDraft:
    _require(user)
    with write_transaction():
        service = _service(slug)
        current = service.record
        if snapshot is not None:
            snapshot = validate(_fixed_keys(snapshot, current)).to_dict()
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
        if draft.kind != "page":
            raise CurationError(N_("Draf ini bukan perubahan halaman."))
        if draft.status != "draft":
            raise CurationError(N_("Draf ini sudah diajukan; tarik kembali dulu untuk menyunting."))
        if draft.author_id != user.id and not user.can("admin"):
            raise CurationForbidden(N_("Hanya penulis draf yang dapat menyuntingnya."))
        draft.snapshot = validate(_fixed_keys(snapshot, draft.service.record)).to_dict()
        draft.summary = summary.strip()[:300] or draft.summary
        audit(user, "draft.update", "service", draft.service_id, draft=draft.id)
    return draft


def submit_draft(user: User, draft_id: int) -> ServiceDraft:
    _require(user)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "draft":
            raise CurationError(N_("Hanya draf yang dapat diajukan untuk ditinjau."))
        if draft.author_id != user.id and not user.can("admin"):
            raise CurationForbidden(N_("Hanya penulis draf yang dapat mengajukannya."))
        if draft.snapshot == draft.service.record:
            raise CurationError(N_("Draf ini sama dengan versi yang terbit; tidak ada yang perlu ditinjau."))
        draft.status, draft.submitted_at = "in_review", utcnow()
        audit(user, "draft.submit", "service", draft.service_id, draft=draft.id)
        signals.draft_awaiting_review.send(draft, draft=draft, service=draft.service, actor=user, doc_ids=[])
    return draft


def withdraw_draft(user: User, draft_id: int) -> ServiceDraft:
    _require(user)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "in_review":
            raise CurationError(N_("Hanya draf yang sedang ditinjau yang dapat ditarik kembali."))
        if draft.author_id != user.id and not user.can("admin"):
            raise CurationForbidden(N_("Hanya penulis draf yang dapat menariknya kembali."))
        draft.status = "draft"
        audit(user, "draft.withdraw", "service", draft.service_id, draft=draft.id)
    return draft


def publish_draft(reviewer: User, draft_id: int, note: str = "") -> ServiceDraft:
    """Reviewer sign-off: publish the draft as the service's next version,
    reviewed today.  Refused while a field group has no source or a cited
    regulation is repealed."""
    _require(reviewer)
    notes_html = _rendered_notes(draft_id)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "in_review":
            raise CurationError(N_("Hanya draf yang sedang ditinjau yang dapat diterbitkan."))
        if draft.author_id == reviewer.id and not reviewer.can("admin"):
            raise CurationForbidden(N_("Peninjau harus orang lain, bukan penulis draf."))
        if draft.kind == "faq":
            return _publish_faq(reviewer, draft, note)
        service = db.session.get(Service, draft.service_id, with_for_update=True)
        if service.version != draft.base_version:
            raise CurationConflict(N_("Halaman ini sudah berubah (versi %(current)s) sejak draf dibuat dari versi "
                                      "%(base)s. Buat draf baru dari versi terbaru.",
                                      current=service.version, base=draft.base_version))
        record = _shape(draft.snapshot)
        _refuse_unchecked(record, N_("Draf ini belum dapat diterbitkan: setiap kelompok isian harus menyebut sumber "
                                     "dan tidak boleh mengutip peraturan yang dicabut. %(blockers)s."))
        record = ServiceRecord.from_dict({**record.to_dict(), "last_reviewed": date.today().isoformat()})
        credit = f" Usulan dari jawaban warga @{draft.credited_user.username}." if draft.credited_user else ""
        result = save_service(record, source=f"review:draf-{draft.id}", author=reviewer, notes_html=notes_html,
                              note=(f"Ditinjau dan disetujui oleh {reviewer.name}. {note.strip()}".strip() + credit)[:2000])
        resolve_flags(service, reviewer)
        draft.status, draft.reviewer_id, draft.reviewed_at = "published", reviewer.id, utcnow()
        draft.review_note, draft.published_version = note.strip()[:2000], service.version
        audit(reviewer, "draft.publish", "service", service.id, draft=draft.id, version=service.version,
              fields=result.changed)
        signals.draft_reviewed.send(draft, draft=draft, service=service, outcome="published", actor=reviewer,
                                    doc_ids=[])
    return draft


def draft_blockers(draft: ServiceDraft) -> list[str]:
    """What stops this draft from being published (shown before anyone tries)."""
    if draft.kind == "faq":
        return []
    try:
        record = ServiceRecord.from_dict(draft.snapshot)
    except RecordError as exc:
        return [f"{f}: {m}" for f, m in exc.problems]
    return publish_blockers(record, current_registry())


def _rendered_notes(draft_id: int) -> str | None:
    """The draft's notes rendered before the write lock is taken (None if
    the draft is gone; save_service then renders them itself)."""
    draft = db.session.get(ServiceDraft, draft_id)
    if draft is None:
        return None
    return render_markdown(((draft.snapshot or {}).get("notes") or "").strip())


def reject_draft(reviewer: User, draft_id: int, note: str) -> ServiceDraft:
    _require(reviewer)
    if len(note.strip()) < 5:
        raise CurationError(N_("Tulis alasan penolakan."), {"note": N_("minimal 5 karakter")})
    with write_transaction():
        draft = _draft(draft_id)
        if draft.status != "in_review":
            raise CurationError(N_("Hanya draf yang sedang ditinjau yang dapat ditolak."))
        draft.status, draft.reviewer_id, draft.reviewed_at = "rejected", reviewer.id, utcnow()
        draft.review_note = note.strip()[:2000]
        audit(reviewer, "draft.reject", "service", draft.service_id, draft=draft.id, note=draft.review_note)
        signals.draft_reviewed.send(draft, draft=draft, service=draft.service, outcome="rejected", actor=reviewer,
                                    doc_ids=[])
    return draft


# ---------------------------------------------------------------- review intervals

def mark_reviewed(user: User, slug: str) -> Service:
    """Confirm the page is still correct today: a new version with today's
    review date, and its review flags closed.  Refused while a field group
    has no source or a cited regulation is repealed."""
    _require(user)
    with write_transaction():
        service = _service(slug)
        try:
            record = record_from_service(service)
        except RecordError as exc:
            raise CurationError(N_("Halaman ini perlu disunting dulu: %(problems)s",
                                   problems="; ".join(f"{f}: {m}" for f, m in exc.problems)))
        _refuse_unchecked(record, N_("Halaman ini belum dapat ditandai sudah ditinjau: setiap kelompok isian harus "
                                     "menyebut sumber dan tidak boleh mengutip peraturan yang dicabut. %(blockers)s."))
        if record.last_reviewed != date.today():
            save_service(ServiceRecord.from_dict({**record.to_dict(), "last_reviewed": date.today().isoformat()}),
                         source="review:konfirmasi", author=user, note=f"Isi diperiksa dan masih berlaku ({user.name}).")
        closed = resolve_flags(service, user)
        audit(user, "service.reviewed", "service", service.id, flags_closed=closed)
    return service


def set_review_interval(user: User, slug: str, days: int) -> Service:
    _require(user)
    if not 7 <= days <= 1095:
        raise CurationError(N_("Interval tinjauan 7–1095 hari."), {"days": "7–1095"})
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
    question, answer_md = _faq_text(question, answer_md)
    answer_html = render_markdown(answer_md)
    with write_transaction():
        service = _service(slug)
        faq = ServiceFaq(service_id=service.id, question=question, answer_md=answer_md,
                         answer_html=answer_html, source_answer_id=source_answer_id,
                         credited_user_id=credited_user_id, created_by_id=user.id)
        db.session.add(faq)
        db.session.flush()
        # FAQ entries are part of the page's search document.
        signals.content_changed.send(faq, actor=user, doc_ids=[f"service:{service.slug}"])
        audit(user, "faq.add", "service", service.id, faq=faq.id, from_answer=source_answer_id)
    return faq


def _faq_text(question: str, answer_md: str) -> tuple[str, str]:
    question, answer_md = (question or "").strip(), (answer_md or "").strip()
    errors = {}
    if not 10 <= len(question) <= 200:
        errors["question"] = N_("Pertanyaan FAQ 10–200 karakter.")
    if not 20 <= len(answer_md) <= 5000:
        errors["answer"] = N_("Jawaban FAQ 20–5.000 karakter.")
    if errors:
        raise CurationError(N_("Periksa kembali isian FAQ."), errors)
    return question, answer_md


def propose_faq(user: User, slug: str, question: str, answer_md: str, *, source_answer_id: int | None = None,
                credited_user_id: int | None = None) -> ServiceDraft:
    """A new FAQ entry goes through the same review as a page edit: a draft
    (kind "faq") submitted at once, published by another knowledge manager."""
    _require(user)
    question, answer_md = _faq_text(question, answer_md)
    answer_html = render_markdown(answer_md)  # before the write lock
    with write_transaction():
        service = _service(slug)
        draft = ServiceDraft(service_id=service.id, kind="faq", base_version=service.version,
                             snapshot={"question": question, "answer_md": answer_md, "answer_html": answer_html},
                             summary=f"FAQ: {question}"[:300], author_id=user.id, source_answer_id=source_answer_id,
                             credited_user_id=credited_user_id)
        db.session.add(draft)
        db.session.flush()
        audit(user, "draft.create", "service", service.id, draft=draft.id, kind="faq", from_answer=source_answer_id)
        submit_draft(user, draft.id)  # joins this transaction
    return draft


def update_faq_draft(user: User, draft_id: int, question: str, answer_md: str) -> ServiceDraft:
    _require(user)
    question, answer_md = _faq_text(question, answer_md)
    answer_html = render_markdown(answer_md)
    with write_transaction():
        draft = _draft(draft_id)
        if draft.kind != "faq":
            raise CurationError(N_("Draf ini bukan entri FAQ."))
        if draft.status != "draft":
            raise CurationError(N_("Draf ini sudah diajukan; tarik kembali dulu untuk menyunting."))
        if draft.author_id != user.id and not user.can("admin"):
            raise CurationForbidden(N_("Hanya penulis draf yang dapat menyuntingnya."))
        draft.snapshot = {"question": question, "answer_md": answer_md, "answer_html": answer_html}
        draft.summary = f"FAQ: {question}"[:300]
        audit(user, "draft.update", "service", draft.service_id, draft=draft.id, kind="faq")
    return draft


def _publish_faq(reviewer: User, draft: ServiceDraft, note: str) -> ServiceDraft:
    """A reviewed FAQ draft becomes an entry on the page (caller holds the
    transaction and checked the reviewer)."""
    snap = draft.snapshot or {}
    faq = ServiceFaq(service_id=draft.service_id, question=snap["question"], answer_md=snap["answer_md"],
                     answer_html=snap["answer_html"], source_answer_id=draft.source_answer_id,
                     credited_user_id=draft.credited_user_id, created_by_id=draft.author_id)
    db.session.add(faq)
    db.session.flush()
    draft.status, draft.reviewer_id, draft.reviewed_at = "published", reviewer.id, utcnow()
    draft.review_note, draft.published_faq_id = note.strip()[:2000], faq.id
    audit(reviewer, "draft.publish", "service", draft.service_id, draft=draft.id, faq=faq.id)
    # FAQ entries are part of the page's search document; the forum marks the source answer promoted.
    signals.content_changed.send(faq, actor=reviewer, doc_ids=[f"service:{draft.service.slug}"])
    signals.draft_reviewed.send(draft, draft=draft, service=draft.service, outcome="published", actor=reviewer,
                                doc_ids=[])
    return draft


def confirm_faq(user: User, faq_id: int) -> ServiceFaq:
    _require(user)
    with write_transaction():
        faq = db.session.get(ServiceFaq, faq_id, with_for_update=True)
        if faq is None:
            raise CurationError(N_("Entri FAQ tidak ditemukan."))
        faq.stale_since = None
        signals.content_changed.send(faq, actor=user, doc_ids=[f"service:{faq.service.slug}"])
        audit(user, "faq.confirm", "service", faq.service_id, faq=faq.id)
    return faq


# ---------------------------------------------------------------- regulations

def propagate_regulation_change(reg: Regulation, old_status: str | None) -> list[str]:
    """A regulation became amended or repealed (or got another amendment or
    successor): every page citing it gets an open review flag naming it,
    its FAQ entries are marked "may be outdated", and
    ``core.signals.regulation_changed`` tells the subscribers (the forum:
    accepted and promoted answers on linked threads; notifications:
    the pages' followers) which field groups of which pages cite it.
    Returns the slugs flagged.  The caller holds the write transaction."""
    rows = db.session.execute(sa.select(ServiceCitation.service_id, ServiceCitation.field_group)
                              .where(ServiceCitation.regulation_key == reg.key)).all()
    groups: dict[int, set[str]] = {}
    for service_id, group in rows:
        groups.setdefault(service_id, set()).add(group)
    if reg.status == "repealed":
        successor = ", ".join(reg.replaced_by or ()) or "tanpa pengganti"
        reason = f"{reg.label} ({reg.key}) dicabut; penggantinya: {successor}."
    else:
        reason = f"{reg.label} ({reg.key}) diubah oleh {', '.join(reg.amended_by or ())}."
    flagged, cited = [], []
    for service_id, cited_in in sorted(groups.items()):
        service = db.session.get(Service, service_id)
        where = ", ".join(FIELD_LABELS[g] for g in sorted(cited_in))
        db.session.add(ReviewFlag(service_id=service_id, regulation_key=reg.key,
                                  reason=f"{reason} Dikutip di: {where}."))
        db.session.execute(sa.update(ServiceFaq).where(ServiceFaq.service_id == service_id,
                                                       ServiceFaq.stale_since.is_(None))
                           .values(stale_since=utcnow()).execution_options(synchronize_session=False))
        cited.append((service, sorted(cited_in)))
        flagged.append(service.slug)
    db.session.flush()
    if cited:
        signals.regulation_changed.send(reg, regulation=reg, cited=cited, old_status=old_status, actor=None,
                                        doc_ids=[])
    return flagged


def open_flags() -> list[ReviewFlag]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(sa.select(ReviewFlag).where(ReviewFlag.resolved_at.is_(None))
                                   .options(selectinload(ReviewFlag.service))
                                   .order_by(ReviewFlag.created_at.desc(), ReviewFlag.id.desc())))


def save_regulation_form(user: User, key: str | None, raw: dict):
    """Create (``key`` None) or edit a registry entry from the browser, with
    the content file's validation; a change to amended or repealed flags
    the pages citing it, as a content load would."""
    _require(user)
    c = Checker()
    entry = parse_regulation({**raw, "id": key or raw.get("id")}, "regulation", c)
    problems = {f.removeprefix("regulation.").removeprefix("regulation"): m for f, m in c.problems}
    with write_transaction():
        registry = current_registry()
        existing = db.session.scalar(sa.select(Regulation).where(Regulation.key == (key or raw.get("id"))))
        if key is None and existing is not None:
            problems["id"] = N_("'%(key)s' sudah ada di registri", key=existing.key)
        if key is not None and existing is None:
            raise CurationError(N_("Peraturan tidak ditemukan."))
        if entry is not None:
            registry.regulations[entry.id] = entry
            for _rel, finding in lint_regulations([("", "", entry)], registry):
                if finding.severity == ERROR:
                    problems[finding.field.lstrip(".")] = finding.message
        if problems:
            raise CurationError(N_("Periksa kembali isian peraturan."), problems)
        old_status = existing.status if existing else None
        result = save_regulation(entry, propagate=True)
        if result.changed:
            audit(user, "regulation.create" if result.created else "regulation.update", "regulation",
                  result.regulation.id, key=entry.id, status=entry.status, old_status=old_status,
                  flagged=result.flagged)
    return result

