"""Admin pages."""
import sqlalchemy as sa
from flask import Blueprint, render_template, request
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..http import page_arg
from ..models import AuditLog
from ..security import require_capability

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.route("/audit")
@require_capability("admin")
def audit_log():
    page = page_arg()
    action = (request.args.get("action") or "")[:40]
    stmt = sa.select(AuditLog).options(selectinload(AuditLog.actor)).order_by(AuditLog.id.desc())
    if action:
        stmt = stmt.where(AuditLog.action == action)
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    actions = db.session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    return render_template("admin/audit.html", pagination=pagination, actions=actions, action=action)
