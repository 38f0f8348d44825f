"""JSON API for official service pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request, url_for

from core.errors import json_error as _error
from core.extensions import db
from core.i18n import N_

from .models import Agency, Category, Regulation, Service
from .presenters import PageView
from .queries import FULL_LOAD, service_or_none

bp = Blueprint("kb_api", __name__, url_prefix="/api/v1")


def regulation_json(reg: Regulation) -> dict:
    return {**reg.entry().to_dict(), "label": reg.label}


def service_json(service: Service, regulations: dict | None = None) -> dict:
    """The canonical record (the content file's shape: ``agency`` and
    ``category`` are slugs) plus what it refers to, resolved: ``citations``
    (every registry id it cites -> the registry entry), ``agency_info``,
    ``category_info``), which groups are unverified, and links."""
    page = PageView(service, regulations)
    data = dict(service.record)
    data["citations"] = {key: regulation_json(page.regs[key]) for key in page.cited_keys if key in page.regs}
    data["unverified_groups"] = page.unsourced_groups
    data["agency_info"] = {"slug": service.agency.slug, "name": service.agency.name,
                           "short_name": service.agency.short_name, "website": service.agency.website}
    data["category_info"] = {"slug": service.category.slug, "name": service.category.name}
    data["notes_html"] = service.notes_html
    data["version"] = service.version
    data["updated_at"] = service.updated_at.isoformat() + "Z"
    data["url"] = url_for("kb.service", slug=service.slug, _external=True)
    data["api_url"] = url_for("kb_api.service_detail", slug=service.slug, _external=True)
    return data


@bp.get("/services")
def service_list():
    stmt = sa.select(Service).options(*FULL_LOAD).order_by(Service.title)
    category = request.args.get("category")
    agency = request.args.get("agency")
    if category:
        cat_id = db.session.scalar(sa.select(Category.id).where(Category.slug == category))
        if cat_id is None:
            return _error(400, N_("Kategori '%(slug)s' tidak dikenal.", slug=category[:80]))
        stmt = stmt.where(Service.category_id == cat_id)
    if agency:
        ag_id = db.session.scalar(sa.select(Agency.id).where(Agency.slug == agency))
        if ag_id is None:
            return _error(400, N_("Instansi '%(slug)s' tidak dikenal.", slug=agency[:80]))
        stmt = stmt.where(Service.agency_id == ag_id)
    services = db.session.scalars(stmt).all()
    regulations = {r.key: r for r in db.session.scalars(sa.select(Regulation))}
    return jsonify({"count": len(services), "services": [service_json(s, regulations) for s in services]})


@bp.get("/services/<slug>")
def service_detail(slug: str):
    service = service_or_none(slug)
    if service is None:
        return _error(404, N_("Layanan tidak ditemukan."))
    return jsonify(service_json(service))
