"""Read-side helpers for the knowledge base."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.extensions import db

from .models import Agency, Category, Service, ServiceVersion

FULL_LOAD = (selectinload(Service.agency), selectinload(Service.category))


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
    stmt = sa.select(Service).options(selectinload(Service.agency), selectinload(Service.category)).order_by(Service.title)
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


def faqs_for(service: Service):
    from .models import ServiceFaq

    return list(db.session.scalars(sa.select(ServiceFaq).where(ServiceFaq.service_id == service.id)
                                   .options(selectinload(ServiceFaq.credited_user)).order_by(ServiceFaq.id)))


def credits_for(service: Service):
    """Community members whose answers became part of this page."""
    from core.models import User

    from .models import ServiceDraft, ServiceFaq

    ids = set(db.session.scalars(sa.select(ServiceFaq.credited_user_id).where(
        ServiceFaq.service_id == service.id, ServiceFaq.credited_user_id.is_not(None))))
    ids |= set(db.session.scalars(sa.select(ServiceDraft.credited_user_id).where(
        ServiceDraft.service_id == service.id, ServiceDraft.status == "published",
        ServiceDraft.credited_user_id.is_not(None))))
    return list(db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.username))) if ids else []


def open_flags_for(service: Service):
    from .models import ReviewFlag

    return list(db.session.scalars(sa.select(ReviewFlag).where(ReviewFlag.service_id == service.id,
                                                              ReviewFlag.resolved_at.is_(None))
                                   .order_by(ReviewFlag.id)))


def regulations_by_key(keys) -> dict:
    from .models import Regulation

    keys = set(keys)
    if not keys:
        return {}
    return {r.key: r for r in db.session.scalars(sa.select(Regulation).where(Regulation.key.in_(keys)))}
