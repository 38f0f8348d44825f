"""Deflection, feedback and satisfaction analytics."""
from flask import Blueprint

bp = Blueprint("analytics", __name__, template_folder="templates")


@bp.record_once
def _hook_into_search(state):
    from search import views as search_views

    from .services import log_search

    if log_search not in search_views.on_search:
        search_views.on_search.append(log_search)


from . import views  # noqa: E402,F401
