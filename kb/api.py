"""JSON API for official service pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request, url_for

from core.errors import json_error as _error
from core.extensions import db

from .models import Agency, Category, Service
from .queries import FULL_LOAD, service_or_none
from .services import record_from_service

bp = Blueprint("kb_api", __name__, url_prefix="/api/v1")


def service_json(service: Service) -> dict:
    data = record_from_service(service).to_dict()
    data["agency"] = {"slug": service.agency.slug, "name": service.agency.name,
                      "short_name": service.agency.short_name}
    data["category"] = {"slug": service.category.slug, "name": service.category.name}
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
            return _error(400, f"Kategori '{category[:80]}' tidak dikenal.")
        stmt = stmt.where(Service.category_id == cat_id)
    if agency:
        ag_id = db.session.scalar(sa.select(Agency.id).where(Agency.slug == agency))
        if ag_id is None:
            return _error(400, f"Instansi '{agency[:80]}' tidak dikenal.")
        stmt = stmt.where(Service.agency_id == ag_id)
    services = db.session.scalars(stmt).all()
    return jsonify({"count": len(services), "services": [service_json(s) for s in services]})


@bp.get("/services/<slug>")
def service_detail(slug: str):
    service = service_or_none(slug)
    if service is None:
        return _error(404, "Layanan tidak ditemukan.")
    return jsonify(service_json(service))
