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
    description: Mapped[str] = mapped_column(sa.Text, default="")

    services: Mapped[list[Service]] = relationship(back_populates="agency", order_by="Service.title")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.short_name})" if self.short_name else self.name


class Service(db.Model):
    __tablename__ = "kb_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_agencies.id"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_categories.id"), index=True)
    summary: Mapped[str] = mapped_column(sa.Text)
    aliases: Mapped[list] = mapped_column(sa.JSON, default=list)
    duration_text: Mapped[str] = mapped_column(sa.String(300))
    duration_days: Mapped[int | None] = mapped_column()
    contact_phone: Mapped[str | None] = mapped_column(sa.String(100))
    contact_email: Mapped[str | None] = mapped_column(sa.String(200))
    contact_website: Mapped[str | None] = mapped_column(sa.String(300))
    contact_note: Mapped[str | None] = mapped_column(sa.Text)
    notes_md: Mapped[str] = mapped_column(sa.Text, default="")
    notes_html: Mapped[str] = mapped_column(sa.Text, default="")  # rendered once, on write
    last_reviewed: Mapped[date] = mapped_column()
    review_interval_days: Mapped[int] = mapped_column(default=180)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="services")
    category: Mapped[Category] = relationship(back_populates="services")
    requirements: Mapped[list[Requirement]] = relationship(
        order_by="Requirement.position", cascade="all, delete-orphan")
    fees: Mapped[list[Fee]] = relationship(order_by="Fee.position", cascade="all, delete-orphan")
    steps: Mapped[list[Step]] = relationship(order_by="Step.position", cascade="all, delete-orphan")
    channels: Mapped[list[Channel]] = relationship(order_by="Channel.position", cascade="all, delete-orphan")
    legal_bases: Mapped[list[LegalBasis]] = relationship(
        order_by="LegalBasis.position", cascade="all, delete-orphan")
    versions: Mapped[list[ServiceVersion]] = relationship(
        back_populates="service", order_by="ServiceVersion.number.desc()", cascade="all, delete-orphan")

    @property
    def review_due(self) -> date:
        from datetime import timedelta

        return self.last_reviewed + timedelta(days=self.review_interval_days)

    @property
    def is_free(self) -> bool:
        return bool(self.fees) and all(f.kind == "free" for f in self.fees)

    @property
    def lowest_fee(self) -> int | None:
        """Smallest fixed amount, for the "from RpX" summary (None if none is fixed)."""
        amounts = [f.amount for f in self.fees if f.kind == "fixed"]
        return min(amounts) if amounts else None


class Requirement(db.Model):
    __tablename__ = "kb_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(sa.Text)


FEE_KINDS = ("fixed", "free", "variable")


class Fee(db.Model):
    __tablename__ = "kb_fees"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('fixed', 'free', 'variable')", name="fee_kind"),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="fee_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[str] = mapped_column(sa.String(10))
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)  # rupiah; NULL unless kind == fixed
    legal_basis: Mapped[str | None] = mapped_column(sa.String(300))
    note: Mapped[str | None] = mapped_column(sa.Text)


class Step(db.Model):
    __tablename__ = "kb_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(sa.Text)


CHANNEL_KINDS = ("office", "online", "phone")


class Channel(db.Model):
    """Where and how to apply: an office, an online channel or a phone line."""

    __tablename__ = "kb_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(300))
    address: Mapped[str | None] = mapped_column(sa.Text)
    url: Mapped[str | None] = mapped_column(sa.String(300))
    hours: Mapped[str | None] = mapped_column(sa.String(300))
    note: Mapped[str | None] = mapped_column(sa.Text)


class LegalBasis(db.Model):
    __tablename__ = "kb_legal_bases"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("kb_services.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.Text)


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
    snapshot: Mapped[dict] = mapped_column(sa.JSON)
    base_version: Mapped[int] = mapped_column()
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_note: Mapped[str] = mapped_column(sa.Text, default="")
    source_answer_id: Mapped[int | None] = mapped_column()  # a community answer this proposal came from
    credited_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_version: Mapped[int | None] = mapped_column()
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
