"""Writes to the knowledge base.  Callers hold a write transaction
(``core.db.write_transaction``); these functions only flush."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from core import signals
from core.extensions import db
from core.markup import render_markdown
from core.models import User, utcnow

from .models import Agency, Category, Regulation, ReviewFlag, Service, ServiceCitation, ServiceVersion
from .record import ServiceRecord, changed_fields
from .registry import Registry, RegulationEntry


class UnknownReference(ValueError):
    def __init__(self, field: str, value: str):
        super().__init__(f"{field}: '{value}' tidak dikenal")
        self.field = field
        self.value = value


def get_service(slug: str) -> Service | None:
    return db.session.scalar(sa.select(Service).where(Service.slug == slug))


def record_from_service(service: Service) -> ServiceRecord:
    """The typed record of a page (validated; raises RecordError for a row
    that no longer passes, e.g. one migrated from format 1)."""
    return ServiceRecord.from_dict(service.record)


def current_registry() -> Registry:
    """Regulations, agencies and categories in the database, and the
    official domains of the configured content folder."""
    from .loader import db_registry

    return db_registry()


@dataclass
class SaveResult:
    service: Service
    created: bool
    changed: list[str]


def save_service(record: ServiceRecord, *, source: str, author: User | None = None, note: str = "",
                 notes_html: str | None = None, reviewed_in_file: bool = False) -> SaveResult:
    """Create or update a service from a record.  A new version is stored
    only when something changed, so saving the same record twice is a no-op.
    ``notes_html``: the notes already rendered (render before the write
    transaction); ``reviewed_in_file``: a content file whose own
    ``last_reviewed`` is on or after an open review flag settles it."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.slug == record.agency))
    if agency is None:
        raise UnknownReference("agency", record.agency)
    category = db.session.scalar(sa.select(Category).where(Category.slug == record.category))
    if category is None:
        raise UnknownReference("category", record.category)

    service = get_service(record.slug)
    created = service is None
    new = record.to_dict()
    changed = changed_fields(None if created else service.record, new)
    if not changed:
        return SaveResult(service, False, [])
    if created:
        service = Service(slug=record.slug, version=0)
        db.session.add(service)

    service.title = record.title
    service.agency = agency
    service.category = category
    service.summary = record.summary
    service.record = new
    service.last_reviewed = record.last_reviewed
    if created or "notes" in changed:
        service.notes_html = notes_html if notes_html is not None else render_markdown(record.notes)
    cited = record.cited_regulations()
    for row in list(service.citations):
        if (row.field_group, row.regulation_key) not in cited:
            service.citations.remove(row)
    present = {(row.field_group, row.regulation_key) for row in service.citations}
    service.citations.extend(ServiceCitation(field_group=group, regulation_key=key)
                             for group, key in sorted(cited - present))
    service.version += 1
    service.updated_at = utcnow()
    db.session.add(ServiceVersion(
        service=service, number=service.version, snapshot=new, changed_fields=changed,
        source=source, note=note, author=author,
    ))
    db.session.flush()
    if reviewed_in_file:
        resolve_flags(service, None, before=record.last_reviewed)
    if not created:
        from .curation import mark_faqs_stale

        mark_faqs_stale(service, changed)
    signals.page_published.send(service, service=service, created=created, changed=list(changed), source=source,
                                actor=author, doc_ids=[f"service:{record.slug}"])
    return SaveResult(service, created, changed)


def resolve_flags(service: Service, user: User | None, *, before=None) -> int:
    """Close the service's open review flags (only those raised on or
    before the date ``before``, when given).  Returns how many."""
    from datetime import datetime, time

    stmt = sa.update(ReviewFlag).where(ReviewFlag.service_id == service.id, ReviewFlag.resolved_at.is_(None))
    if before is not None:
        stmt = stmt.where(ReviewFlag.created_at < datetime.combine(before, time.max))
    result = db.session.execute(stmt.values(resolved_at=utcnow(), resolved_by_id=user.id if user else None)
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0


@dataclass
class RegulationResult:
    regulation: Regulation
    created: bool
    changed: bool
    old_status: str | None
    old_links: tuple = field(default=())
    flagged: list[str] = field(default_factory=list)  # pages flagged for review by this change

    @property
    def status_changed(self) -> bool:
        """Amended or repealed (again): pages that cite it need a review."""
        reg = self.regulation
        if self.created or reg.status == "in_force":
            return False
        return self.old_status != reg.status or self.old_links != _links(reg)


def _links(reg: Regulation) -> tuple:
    return tuple(reg.amended_by or ()), tuple(reg.replaced_by or ())


def save_regulation(entry: RegulationEntry, *, propagate: bool = True) -> RegulationResult:
    """Create or update a registry entry.  With ``propagate``, a change to
    amended or repealed flags every page that cites it (see
    kb.curation.propagate_regulation_change)."""
    reg = db.session.scalar(sa.select(Regulation).where(Regulation.key == entry.id))
    created = reg is None
    values = {"type": entry.type, "number": entry.number, "year": entry.year, "title": entry.title,
              "issuer": entry.issuer, "url": entry.url, "status": entry.status,
              "amended_by": list(entry.amended_by),
              "replaced_by": None if entry.replaced_by is None else list(entry.replaced_by),
              "checked": entry.checked, "note": entry.note}
    if created:
        reg = Regulation(key=entry.id, **values)
        db.session.add(reg)
        db.session.flush()
        return RegulationResult(reg, True, True, None)
    old_status, old_links = reg.status, _links(reg)
    if all(getattr(reg, k) == v for k, v in values.items()):
        return RegulationResult(reg, False, False, old_status, old_links)
    for k, v in values.items():
        setattr(reg, k, v)
    reg.updated_at = utcnow()
    db.session.flush()
    result = RegulationResult(reg, False, True, old_status, old_links)
    if propagate and result.status_changed:
        from .curation import propagate_regulation_change

        result.flagged = propagate_regulation_change(reg, old_status)
    return result


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
                  parent: str | None = None, description: str = "") -> bool:
    return _upsert(Agency, slug, {"name": name, "short_name": short_name, "website": website, "parent": parent,
                                  "description": description})
