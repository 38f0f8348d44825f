"""Public pages of the knowledge base.  Thin: read, render."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template

from core import signals
from core.extensions import db
from core.http import page_arg
from core.i18n import _

from . import bp
from .models import Agency, Category, ServiceVersion
from .presenters import PageView, snapshot_diff
from .queries import (agencies_with_counts, categories_with_counts, credits_for, faqs_for, open_flags_for,
                      recently_updated, service_or_none, services_query, version_or_none)
from .record import FIELD_LABELS


@bp.route("/")
def home():
    return render_template("kb/home.html", categories=categories_with_counts(), recent=recently_updated(),
                           agencies=agencies_with_counts()[:12])


@bp.route("/layanan")
def service_index():
    pagination = db.paginate(services_query(), page=page_arg(), per_page=50, error_out=False)
    return render_template("kb/service_list.html", pagination=pagination, heading=_("Semua layanan"),
                           description=None)


@bp.route("/kategori/<slug>")
def category(slug: str):
    cat = db.first_or_404(sa.select(Category).where(Category.slug == slug),
                          description=_("Kategori tidak ditemukan."))
    pagination = db.paginate(services_query(category=cat), page=page_arg(), per_page=50, error_out=False)
    return render_template("kb/service_list.html", pagination=pagination, heading=cat.name,
                           description=cat.description, crumb=("kategori", cat))


@bp.route("/instansi")
def agency_index():
    return render_template("kb/agency_list.html", agencies=agencies_with_counts())


@bp.route("/instansi/<slug>")
def agency(slug: str):
    ag = db.first_or_404(sa.select(Agency).where(Agency.slug == slug), description=_("Instansi tidak ditemukan."))
    pagination = db.paginate(services_query(agency=ag), page=page_arg(), per_page=50, error_out=False)
    return render_template("kb/service_list.html", pagination=pagination, heading=ag.label,
                           description=ag.description, crumb=("instansi", ag), agency=ag)


@bp.route("/layanan/<slug>")
def service(slug: str):
    svc = service_or_none(slug)
    if svc is None:
        abort(404, _("Layanan tidak ditemukan."))
    # Other packages add their panels (the forum: related questions).
    extras = signals.collect(signals.service_page_shown, svc)
    return render_template("kb/service.html", service=svc, page=PageView(svc, flags=open_flags_for(svc)),
                           faqs=faqs_for(svc), credits=credits_for(svc), **extras)


@bp.route("/layanan/<slug>/riwayat")
def history(slug: str):
    svc = service_or_none(slug)
    if svc is None:
        abort(404, _("Layanan tidak ditemukan."))
    versions = db.session.scalars(
        sa.select(ServiceVersion).where(ServiceVersion.service_id == svc.id).order_by(ServiceVersion.number.desc())
    ).all()
    return render_template("kb/history.html", service=svc, versions=versions, labels=FIELD_LABELS)


@bp.route("/layanan/<slug>/riwayat/<int:number>")
def version(slug: str, number: int):
    svc = service_or_none(slug)
    ver = version_or_none(svc, number) if svc else None
    if ver is None:
        abort(404, _("Versi tidak ditemukan."))
    previous = version_or_none(svc, number - 1) if number > 1 else None
    diff = snapshot_diff(previous.snapshot if previous else None, ver.snapshot)
    return render_template("kb/version.html", service=svc, version=ver, previous=previous, diff=diff)
