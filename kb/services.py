"""Writes to the knowledge base.  Callers hold a write transaction
(``core.db.write_transaction``); these functions only flush."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from core.extensions import db
from core.markup import render_markdown
from core.models import User, utcnow
from search.outbox import enqueue as enqueue_search

from .models import Agency, Category, Channel, Fee, LegalBasis, Requirement, Service, ServiceVersion, Step
from .record import ChannelItem, Contact, Duration, FeeItem, ServiceRecord, changed_fields


class UnknownReference(ValueError):
    def __init__(self, field: str, value: str):
        super().__init__(f"{field}: '{value}' tidak dikenal")
        self.field = field
        self.value = value


def get_service(slug: str) -> Service | None:
    return db.session.scalar(sa.select(Service).where(Service.slug == slug))


def record_from_service(service: Service) -> ServiceRecord:
    return ServiceRecord(
        slug=service.slug, title=service.title, agency=service.agency.slug, category=service.category.slug,
        summary=service.summary, aliases=tuple(service.aliases or ()),
        requirements=tuple(r.text for r in service.requirements),
        fees=tuple(FeeItem(label=f.label, kind=f.kind, amount=f.amount, legal_basis=f.legal_basis, note=f.note)
                   for f in service.fees),
        duration=Duration(text=service.duration_text, max_days=service.duration_days),
        steps=tuple(s.text for s in service.steps),
        channels=tuple(ChannelItem(kind=c.kind, name=c.name, address=c.address, url=c.url, hours=c.hours,
                                   note=c.note) for c in service.channels),
        legal_basis=tuple(b.title for b in service.legal_bases),
        contact=Contact(phone=service.contact_phone, email=service.contact_email,
                        website=service.contact_website, note=service.contact_note),
        last_reviewed=service.last_reviewed, notes=service.notes_md,
    )


@dataclass
class SaveResult:
    service: Service
    created: bool
    changed: list[str]


def save_service(record: ServiceRecord, *, source: str, author: User | None = None, note: str = "") -> SaveResult:
    """Create or update a service from a record.  A new version is stored
    only when something changed, so saving the same record twice is a no-op."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.slug == record.agency))
    if agency is None:
        raise UnknownReference("agency", record.agency)
    category = db.session.scalar(sa.select(Category).where(Category.slug == record.category))
    if category is None:
        raise UnknownReference("category", record.category)

    service = get_service(record.slug)
    created = service is None
    new = record.to_dict()
    old = None if created else record_from_service(service).to_dict()
    changed = changed_fields(old, new)
    if not changed:
        return SaveResult(service, False, [])
    if created:
        service = Service(slug=record.slug, version=0)
        db.session.add(service)

    service.title = record.title
    service.agency = agency
    service.category = category
    service.summary = record.summary
    service.aliases = list(record.aliases)
    service.duration_text = record.duration.text
    service.duration_days = record.duration.max_days
    service.contact_phone = record.contact.phone
    service.contact_email = record.contact.email
    service.contact_website = record.contact.website
    service.contact_note = record.contact.note
    service.last_reviewed = record.last_reviewed
    if created or "notes" in changed:
        service.notes_md = record.notes
        service.notes_html = render_markdown(record.notes)
    if created or "requirements" in changed:
        service.requirements = [Requirement(position=i, text=t) for i, t in enumerate(record.requirements)]
    if created or "fees" in changed:
        service.fees = [Fee(position=i, label=f.label, kind=f.kind, amount=f.amount, legal_basis=f.legal_basis,
                            note=f.note) for i, f in enumerate(record.fees)]
    if created or "steps" in changed:
        service.steps = [Step(position=i, text=t) for i, t in enumerate(record.steps)]
    if created or "channels" in changed:
        service.channels = [Channel(position=i, kind=c.kind, name=c.name, address=c.address, url=c.url,
                                    hours=c.hours, note=c.note) for i, c in enumerate(record.channels)]
    if created or "legal_basis" in changed:
        service.legal_bases = [LegalBasis(position=i, title=t) for i, t in enumerate(record.legal_basis)]
    service.version += 1
    service.updated_at = utcnow()
    db.session.add(ServiceVersion(
        service=service, number=service.version, snapshot=new, changed_fields=changed,
        source=source, note=note, author=author,
    ))
    enqueue_search(f"service:{record.slug}")
    db.session.flush()
    if not created:
        from .curation import notify_published_change

        notify_published_change(service, changed)
    return SaveResult(service, created, changed)


def _upsert(model, slug: str, values: dict) -> bool:
    """Create or update a row keyed by slug; True if anything changed."""
    row = db.session.scalar(sa.select(model).where(model.slug == slug))
    if row is None:
        db.session.add(model(slug=slug, **values))
        return True
    if all(getattr(row, k) == v for k, v in values.items()):
        return False
    for k, v in values.items():
        setattr(row, k, v)
    return True


def upsert_category(slug: str, name: str, *, name_en: str | None = None, description: str = "",
                    position: int = 0) -> bool:
    return _upsert(Category, slug, {"name": name, "name_en": name_en, "description": description,
                                    "position": position})


def upsert_agency(slug: str, name: str, *, short_name: str | None = None, website: str | None = None,
                  description: str = "") -> bool:
    return _upsert(Agency, slug, {"name": name, "short_name": short_name, "website": website,
                                  "description": description})
