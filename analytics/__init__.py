"""Deflection, feedback and satisfaction analytics."""
from flask import Blueprint

bp = Blueprint("analytics", __name__, template_folder="templates")


@bp.record_once
def _hook_into_search(state):
    from search import views as search_views

    from .buffer import EventBuffer
    from .services import log_search

    app = state.app
    app.config.setdefault("ANALYTICS_FLUSH", "background")  # or "inline" (tests: after each request)
    buffer = EventBuffer(app, seconds=float(app.config.get("ANALYTICS_FLUSH_SECONDS", 1.0)))
    app.extensions["analytics_buffer"] = buffer

    @app.after_request
    def _flush_inline(response):
        if app.config["ANALYTICS_FLUSH"] == "inline":
            buffer.flush()
        return response

    if log_search not in search_views.on_search:
        search_views.on_search.append(log_search)


from . import views  # noqa: E402,F401
