"""Read-side helpers for the knowledge base."""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.extensions import db

from .models import Agency, Category, Service, ServiceVersion

FULL_LOAD = (
    selectinload(Service.requirements), selectinload(Service.fees), selectinload(Service.steps),
    selectinload(Service.channels), selectinload(Service.legal_bases), selectinload(Service.agency),
    selectinload(Service.category),
)


def service_or_none(slug: str) -> Service | None:
    return db.session.scalar(sa.select(Service).where(Service.slug == slug).options(*FULL_LOAD))


def categories_with_counts() -> list[tuple[Category, int]]:
    rows = db.session.execute(
        sa.select(Category, sa.func.count(Service.id))
        .outerjoin(Service, Service.category_id == Category.id)
        .group_by(Category.id)
        .order_by(Category.position, Category.name)
    )
    return [(c, n) for c, n in rows]


def agencies_with_counts() -> list[tuple[Agency, int]]:
    rows = db.session.execute(
        sa.select(Agency, sa.func.count(Service.id))
        .outerjoin(Service, Service.agency_id == Agency.id)
        .group_by(Agency.id)
        .order_by(Agency.name)
    )
    return [(a, n) for a, n in rows if n]


def services_query(category: Category | None = None, agency: Agency | None = None):
    stmt = sa.select(Service).options(selectinload(Service.agency), selectinload(Service.category),
                                      selectinload(Service.fees)).order_by(Service.title)
    if category is not None:
        stmt = stmt.where(Service.category_id == category.id)
    if agency is not None:
        stmt = stmt.where(Service.agency_id == agency.id)
    return stmt


def recently_updated(limit: int = 6) -> list[Service]:
    return list(db.session.scalars(
        sa.select(Service).options(selectinload(Service.agency)).order_by(Service.updated_at.desc(), Service.id.desc()).limit(limit)
    ))


def version_or_none(service: Service, number: int) -> ServiceVersion | None:
    return db.session.scalar(
        sa.select(ServiceVersion).where(ServiceVersion.service_id == service.id, ServiceVersion.number == number)
    )


_WORD = re.compile(r"[0-9a-zA-Z\u00C0-\u024F]+")


def simple_search(query: str, limit: int = 20) -> list[Service]:
    """Word-match ranking over titles, alternative names and summaries.
    Small and exact; the search/ package provides the full ranking."""
    words = {w.lower() for w in _WORD.findall(query[:200]) if len(w) >= 2}
    if not words:
        return []
    services = db.session.scalars(sa.select(Service).options(selectinload(Service.agency))).all()
    scored = []
    for s in services:
        title = set(w.lower() for w in _WORD.findall(s.title + " " + " ".join(s.aliases or [])))
        body = set(w.lower() for w in _WORD.findall(s.summary + " " + s.agency.name + " " + (s.agency.short_name or "")))
        score = 3 * len(words & title) + len(words & body)
        if score:
            scored.append((score, s.title, s))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [s for _, _, s in scored[:limit]]
