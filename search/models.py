"""Tables owned by search: the outbox and stored chunk vectors."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import utcnow


class SearchOutbox(db.Model):
    """One row per change to a searchable document, written in the same
    transaction as the change.  Draining is idempotent: replaying a row
    re-reads the document's current state."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_id: Mapped[str] = mapped_column(sa.String(120), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class SearchVector(db.Model):
    """The embedding of one chunk of one document for one encoder.  Kept
    with the hash of the chunk text, so unchanged chunks are never
    re-encoded."""

    __tablename__ = "search_vectors"
    __table_args__ = (sa.UniqueConstraint("model", "doc_id", "chunk_no", name="uq_search_vectors_chunk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(sa.String(60))
    doc_id: Mapped[str] = mapped_column(sa.String(120), index=True)
    chunk_no: Mapped[int] = mapped_column()
    text_hash: Mapped[str] = mapped_column(sa.String(64))
    vector: Mapped[bytes] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
