"""How a service page becomes a search document."""
from __future__ import annotations

import sqlalchemy as sa
from core.urls import path_for

from core.extensions import db
from core.markup import plain_text
from search.documents import Document, Section

from .models import Service
from .presenters import fee_text, field_lines
from .queries import FULL_LOAD


def service_document(s: Service) -> Document:
    fees = [fee_text({"label": f.label, "kind": f.kind, "amount": f.amount, "legal_basis": f.legal_basis,
                      "note": f.note}) for f in s.fees]
    channels = field_lines("channels", [{"kind": c.kind, "name": c.name, "address": c.address, "url": c.url,
                                         "hours": c.hours, "note": c.note} for c in s.channels])
    sections = [
        Section("Ringkasan", f"{s.summary} Instansi: {s.agency.name}. Kategori: {s.category.name}."),
        Section("Persyaratan", "; ".join(r.text for r in s.requirements)),
        Section("Biaya", "; ".join(fees)),
        Section("Waktu Penyelesaian", s.duration_text),
        Section("Prosedur", " ".join(f"{i}. {st.text}" for i, st in enumerate(s.steps, start=1))),
        Section("Tempat & Cara Pengajuan", "; ".join(channels)),
        Section("Dasar Hukum", "; ".join(b.title for b in s.legal_bases)),
    ]
    if s.notes_html:
        sections.append(Section("Keterangan", plain_text(s.notes_html)))
    return Document(doc_id=f"service:{s.slug}", kind="service", title=s.title,
                    url=path_for("kb.service", slug=s.slug), sections=sections, keywords=list(s.aliases or []),
                    extra={"agency": s.agency.short_name or s.agency.name})


def load(refs: list[str]) -> dict[str, Document | None]:
    rows = db.session.scalars(sa.select(Service).where(Service.slug.in_(refs)).options(*FULL_LOAD))
    return {s.slug: service_document(s) for s in rows}


def all_refs():
    return db.session.scalars(sa.select(Service.slug).order_by(Service.slug)).all()
