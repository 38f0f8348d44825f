"""Official service pages as typed records, with every change kept as a version."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import User, utcnow


class Category(db.Model):
    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    services: Mapped[list[Service]] = relationship(back_populates="category", order_by="Service.title")


class Agency(db.Model):
    __tablename__ = "kb_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    short_name: Mapped[str | None] = mapped_column(sa.String(60))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    parent: Mapped[str | None] = mapped_column(sa.String(200))  # ministry or body it belongs to
    description: Mapped[str] = mapped_column(sa.Text, default="")

    services: Mapped[list[Service]] = relationship(back_populates="agency", order_by="Service.title")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.short_name})" if self.short_name else self.name


class Service(db.Model):
    """A service page.  ``record`` holds the whole page in the content
    file's shape (``kb.record.ServiceRecord.to_dict``); the other columns are
    copies that listings, joins and sorting need."""

    __tablename__ = "kb_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_agencies.id"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_categories.id"), index=True)
    summary: Mapped[str] = mapped_column(sa.Text)
    record: Mapped[dict] = mapped_column(sa.JSON)
    notes_html: Mapped[str] = mapped_column(sa.Text, default="")  # record["notes"], rendered once, on write
    last_reviewed: Mapped[date] = mapped_column()
    review_interval_days: Mapped[int] = mapped_column(default=180)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="services")
    category: Mapped[Category] = relationship(back_populates="services")
    citations: Mapped[list[ServiceCitation]] = relationship(cascade="all, delete-orphan")
    versions: Mapped[list[ServiceVersion]] = relationship(
        back_populates="service", order_by="ServiceVersion.number.desc()", cascade="all, delete-orphan")

    @property
    def review_due(self) -> date:
        from datetime import timedelta

        return self.last_reviewed + timedelta(days=self.review_interval_days)

    # Read-only views of the record for listings and other packages.
    @property
    def aliases(self) -> list[str]:
        return list(self.record.get("aliases") or [])

    @property
    def fees(self) -> list[dict]:
        return list(self.record.get("fees") or [])

    @property
    def is_free(self) -> bool:
        return bool(self.fees) and all(f.get("kind") == "free" for f in self.fees)

    @property
    def lowest_fee(self) -> int | None:
        """Smallest fixed amount or range minimum, for "from RpX" (None if none)."""
        amounts = [f["amount"] for f in self.fees if f.get("kind") == "fixed" and f.get("amount") is not None]
        amounts += [f["min"] for f in self.fees if f.get("kind") == "range" and f.get("min") is not None]
        return min(amounts) if amounts else None

    def _contact(self, key: str) -> str | None:
        return (self.record.get("contact") or {}).get(key)

    @property
    def contact_phone(self) -> str | None:
        return self._contact("phone")

    @property
    def contact_email(self) -> str | None:
        return self._contact("email")

    @property
    def contact_website(self) -> str | None:
        return self._contact("website")

    @property
    def contact_note(self) -> str | None:
        return self._contact("note")


REG_STATUSES = ("in_force", "amended", "repealed")


class Regulation(db.Model):
    """One entry of the regulation registry (content/regulations/*.yml);
    ``key`` is the registry id (``pp-76-2020``)."""

    __tablename__ = "kb_regulations"
    __table_args__ = (
        sa.CheckConstraint("status IN ('in_force', 'amended', 'repealed')", name="regulation_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    number: Mapped[str] = mapped_column(sa.String(60))
    year: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.Text)
    issuer: Mapped[str | None] = mapped_column(sa.String(200))
    url: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(10))
    amended_by: Mapped[list] = mapped_column(sa.JSON, default=list)
    replaced_by: Mapped[list | None] = mapped_column(sa.JSON)
    checked: Mapped[date] = mapped_column()
    note: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        return f"{self.type} {self.number}/{self.year}"

    def entry(self):
        from .registry import RegulationEntry

        return RegulationEntry(id=self.key, type=self.type, number=self.number, year=self.year, title=self.title,
                               status=self.status, checked=self.checked, issuer=self.issuer, url=self.url,
                               amended_by=tuple(self.amended_by or ()),
                               replaced_by=None if self.replaced_by is None else tuple(self.replaced_by),
                               note=self.note)


class ServiceCitation(db.Model):
    """Which field groups of which page cite which regulation (an index of
    ``Service.record``, rebuilt on every save), for "which pages cite X"."""

    __tablename__ = "kb_service_citations"

    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), primary_key=True)
    field_group: Mapped[str] = mapped_column(sa.String(20), primary_key=True)  # legal_basis, requirements, fees, ...
    regulation_key: Mapped[str] = mapped_column(sa.ForeignKey("kb_regulations.key"), primary_key=True, index=True)


class ReviewFlag(db.Model):
    """"This page needs a review": a regulation it cites was amended or
    repealed.  Open until the page is published again after review or
    confirmed still valid."""

    __tablename__ = "kb_review_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    regulation_key: Mapped[str | None] = mapped_column(sa.String(80))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    service: Mapped[Service] = relationship()


class ServiceVersion(db.Model):
    """A full snapshot of a service record after one change."""

    __tablename__ = "kb_service_versions"
    __table_args__ = (sa.UniqueConstraint("service_id", "number", name="uq_kb_service_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    snapshot: Mapped[dict] = mapped_column(sa.JSON)
    changed_fields: Mapped[list] = mapped_column(sa.JSON, default=list)
    source: Mapped[str] = mapped_column(sa.String(300))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship(back_populates="versions")
    author: Mapped[User | None] = relationship()


DRAFT_STATES = ("draft", "in_review", "published", "rejected", "withdrawn")


class ServiceDraft(db.Model):
    """A proposed new version of a service: draft -> in_review -> published
    (or rejected).  Publishing needs a reviewer other than the author."""

    __tablename__ = "kb_service_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="draft", index=True)
    # "page": a new version of the record (snapshot in the record's shape);
    # "faq": a new FAQ entry ({"question", "answer_md", "answer_html"}),
    # reviewed the same way before it appears on the page.
    kind: Mapped[str] = mapped_column(sa.String(10), default="page", server_default="page")
    snapshot: Mapped[dict] = mapped_column(sa.JSON)
    base_version: Mapped[int] = mapped_column()
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_note: Mapped[str] = mapped_column(sa.Text, default="")
    source_answer_id: Mapped[int | None] = mapped_column()  # a community answer this proposal came from
    credited_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_version: Mapped[int | None] = mapped_column()
    published_faq_id: Mapped[int | None] = mapped_column()  # the FAQ entry a published "faq" draft became
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()

    service: Mapped[Service] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    credited_user: Mapped[User | None] = relationship(foreign_keys=[credited_user_id])


class ServiceFaq(db.Model):
    """An official FAQ entry on a service page, often promoted from a
    community answer (whose author is credited)."""

    __tablename__ = "kb_service_faqs"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(sa.String(200))
    answer_md: Mapped[str] = mapped_column(sa.Text)
    answer_html: Mapped[str] = mapped_column(sa.Text)
    source_answer_id: Mapped[int | None] = mapped_column()
    credited_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a fee, requirement or duration of the service changed after
    # this entry was written; cleared when a knowledge manager confirms it.
    stale_since: Mapped[datetime | None] = mapped_column()

    service: Mapped[Service] = relationship()
    credited_user: Mapped[User | None] = relationship(foreign_keys=[credited_user_id])


class BestBet(db.Model):
    """A best bet: for one short query (stored as typed, looked up by its
    ``key``, ``search.engine.SearchEngine.pin_key``), an official page a
    knowledge manager put at the top of the results.  Several pages may
    share a query, in ``position`` order.  ``source`` is "content" for
    entries of ``content/best_bets.yml`` (replaced on each load) or
    "kelola" for entries added at /kelola/pencarian."""

    __tablename__ = "kb_best_bets"
    __table_args__ = (sa.UniqueConstraint("key", "service_id", name="uq_kb_best_bets_key_service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(sa.String(120))
    key: Mapped[str] = mapped_column(sa.String(200), index=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    source: Mapped[str] = mapped_column(sa.String(10), default="kelola")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship()
    created_by: Mapped[User | None] = relationship()


class TopicReferral(db.Model):
    """Where to go with a question on a topic our pages do not answer (a
    heading of search/data/outside_topics.txt, by its key): an agency, one
    plain sentence in Indonesian and English, and the sources that back the
    sentence.  From ``content/referrals.yml``, replaced on each load; shown
    beside "no official page matches" (``kb.referrals``)."""

    __tablename__ = "kb_topic_referrals"
    __table_args__ = (sa.UniqueConstraint("topic", "agency_id", name="uq_kb_topic_referrals_topic_agency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(80), index=True)
    position: Mapped[int] = mapped_column(default=0)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_agencies.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    text_en: Mapped[str] = mapped_column(sa.Text)
    sources: Mapped[list] = mapped_column(sa.JSON, default=list)
    last_reviewed: Mapped[date] = mapped_column()

    agency: Mapped[Agency] = relationship()
