"""How a service page becomes a search document: its record, read through
the same text lines as the version history, plus its official FAQ entries
(kb.curation enqueues the page again when an FAQ entry is added or
confirmed)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.markup import plain_text
from core.urls import path_for
from search.documents import Document, Section

from .models import Regulation, Service, ServiceFaq
from .presenters import field_lines, item_line
from .record import parse_source


def _legal_basis(texts: list[str], regulations: dict[str, Regulation]) -> str:
    out = []
    for text in texts:
        src = parse_source(text)
        reg = regulations.get(src.ref) if src is not None and src.kind == "regulation" else None
        out.append(f"{reg.label} {src.locator} tentang {reg.title}".replace("  ", " ") if reg else text)
    return "; ".join(out)


def service_document(s: Service, regulations: dict[str, Regulation], faqs: list[ServiceFaq]) -> Document:
    r = s.record
    sections = [
        Section("Ringkasan", f"{s.summary} Instansi: {s.agency.name}. Kategori: {s.category.name}."
                + (f" Perbedaan antardaerah: {r['local_variation']}" if r.get("local_variation") else "")),
        Section("Persyaratan", "; ".join(item_line(i) for i in r.get("requirements") or [])),
        Section("Biaya", "; ".join(line.strip() for line in field_lines("fees", r.get("fees")))),
        Section("Waktu Penyelesaian", "; ".join(field_lines("duration", r.get("duration")))),
        Section("Prosedur", " ".join(f"{i}. {item_line(st)}" for i, st in enumerate(r.get("steps") or [], start=1))),
        Section("Tempat & Cara Pengajuan", "; ".join(field_lines("channels", r.get("channels")))),
        Section("Dasar Hukum", _legal_basis(r.get("legal_basis") or [], regulations)),
    ]
    if s.notes_html:
        sections.append(Section("Keterangan", plain_text(s.notes_html)))
    for faq in faqs:
        sections.append(Section("Tanya jawab resmi", f"{faq.question} {plain_text(faq.answer_html)}"))
    return Document(doc_id=f"service:{s.slug}", kind="service", title=s.title,
                    url=path_for("kb.service", slug=s.slug), sections=sections, keywords=list(r.get("aliases") or []),
                    extra={"agency": s.agency.short_name or s.agency.name})


def load(refs: list[str]) -> dict[str, Document | None]:
    rows = db.session.scalars(sa.select(Service).where(Service.slug.in_(refs))
                              .options(selectinload(Service.agency), selectinload(Service.category))).all()
    keys = {src.ref for s in rows for text in (s.record.get("legal_basis") or [])
            if (src := parse_source(text)) is not None and src.kind == "regulation"}
    regulations = {reg.key: reg for reg in db.session.scalars(sa.select(Regulation).where(Regulation.key.in_(keys)))}
    faqs: dict[int, list[ServiceFaq]] = {}
    for faq in db.session.scalars(sa.select(ServiceFaq).where(ServiceFaq.service_id.in_([s.id for s in rows]))
                                  .order_by(ServiceFaq.id)):
        faqs.setdefault(faq.service_id, []).append(faq)
    return {s.slug: service_document(s, regulations, faqs.get(s.id, [])) for s in rows}


def all_refs():
    return db.session.scalars(sa.select(Service.slug).order_by(Service.slug)).all()
