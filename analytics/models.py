from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.i18n import N_
from core.models import utcnow


class SearchLog(db.Model):
    """One search, with NIK, phone numbers and e-mail addresses redacted.
    Written in batches (analytics.buffer); ``key`` is a random id the result
    links carry, signed, so a click can only be attributed to the search
    that showed it."""

    __tablename__ = "analytics_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    query: Mapped[str] = mapped_column(sa.String(200), index=True)
    normalized: Mapped[str] = mapped_column(sa.String(400), default="")
    # 0 when nothing cleared the confidence bar (the content-gap table).
    result_count: Mapped[int] = mapped_column(default=0)
    abstained: Mapped[bool] = mapped_column(default=False)
    # Results shown, but hedged: they cleared the bar, not the confident one
    # (the low-confidence half of the content-gap tables).
    uncertain: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Nothing official answered, and the query was close to a topic we know
    # our pages do not answer: its key (search.engine.Topic; the content-gap
    # tables group by it).
    topic: Mapped[str | None] = mapped_column(sa.String(80))
    source: Mapped[str] = mapped_column(sa.String(10), default="page")  # page | api | ask
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SearchClick(db.Model):
    """A click on a search result (append-only; the first per search counts)."""

    __tablename__ = "analytics_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    search_key: Mapped[str] = mapped_column(sa.String(32), index=True)
    doc: Mapped[str] = mapped_column(sa.String(120))
    rank: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Feedback(db.Model):
    """"Did this answer your question?" on a service page or a thread."""

    __tablename__ = "analytics_feedback"
    __table_args__ = (sa.UniqueConstraint("visitor", "target", name="uq_analytics_feedback_visitor_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(120), index=True)  # "service:skck" | "question:42"
    helpful: Mapped[bool] = mapped_column()
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    visitor: Mapped[str] = mapped_column(sa.String(64))  # random per-browser id, not a person
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


FUNNEL_STEPS = ("opened", "suggested", "clicked", "posted", "escalated")


class FunnelEvent(db.Model):
    """The ask funnel: opened the form -> saw suggestions -> clicked one
    (deflected) or posted; escalations are recorded here too."""

    __tablename__ = "analytics_funnel"

    id: Mapped[int] = mapped_column(primary_key=True)
    funnel: Mapped[str] = mapped_column(sa.String(64), index=True)
    step: Mapped[str] = mapped_column(sa.String(12), index=True)
    service: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    doc: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Escalation(db.Model):
    """A hand-off to the official channel when self-service failed."""

    __tablename__ = "analytics_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    target: Mapped[str] = mapped_column(sa.String(120), index=True)
    service: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    # What the citizen searched and read in this session before asking for
    # help (redacted), if they chose to attach it: [{"kind", "ref", "at"}].
    trail: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


SKM_ELEMENTS = (
    ("u1", N_("Persyaratan")), ("u2", N_("Sistem, mekanisme, dan prosedur")), ("u3", N_("Waktu penyelesaian")),
    ("u4", N_("Biaya/tarif")), ("u5", N_("Produk spesifikasi jenis pelayanan")), ("u6", N_("Kompetensi pelaksana")),
    ("u7", N_("Perilaku pelaksana")), ("u8", N_("Penanganan pengaduan, saran, dan masukan")), ("u9", N_("Sarana dan prasarana")),
)


class SkmResponse(db.Model):
    """One Survei Kepuasan Masyarakat response (PermenPANRB 14/2017): nine
    elements, each scored 1 (tidak baik) to 4 (sangat baik).  One per
    respondent (an account, or a verified device) per service per month: a
    second answer replaces the first."""

    __tablename__ = "analytics_skm"
    __table_args__ = tuple(sa.CheckConstraint(f"{k} BETWEEN 1 AND 4", name=f"skm_{k}") for k, _ in SKM_ELEMENTS) + (
        sa.UniqueConstraint("service", "respondent", "period", name="uq_analytics_skm_respondent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(sa.String(80), index=True)
    respondent: Mapped[str | None] = mapped_column(sa.String(80))  # "u:<user id>" | "d:<device id>"
    period: Mapped[str | None] = mapped_column(sa.String(7))       # "2026-11"
    u1: Mapped[int] = mapped_column(sa.SmallInteger)
    u2: Mapped[int] = mapped_column(sa.SmallInteger)
    u3: Mapped[int] = mapped_column(sa.SmallInteger)
    u4: Mapped[int] = mapped_column(sa.SmallInteger)
    u5: Mapped[int] = mapped_column(sa.SmallInteger)
    u6: Mapped[int] = mapped_column(sa.SmallInteger)
    u7: Mapped[int] = mapped_column(sa.SmallInteger)
    u8: Mapped[int] = mapped_column(sa.SmallInteger)
    u9: Mapped[int] = mapped_column(sa.SmallInteger)
    comment: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
