"""Deflection, feedback and satisfaction analytics."""
from flask import Blueprint

bp = Blueprint("analytics", __name__, template_folder="templates")


@bp.record_once
def _setup_buffer(state):
    # The per-process event buffer; analytics hears of searches and asks
    # through core.signals (analytics.subscribers), not through this hook.
    from .buffer import EventBuffer

    app = state.app
    app.config.setdefault("ANALYTICS_FLUSH", "background")  # or "inline" (tests: after each request)
    buffer = EventBuffer(app, seconds=float(app.config.get("ANALYTICS_FLUSH_SECONDS", 1.0)))
    app.extensions["analytics_buffer"] = buffer

    @app.after_request
    def _flush_inline(response):
        if app.config["ANALYTICS_FLUSH"] == "inline":
            buffer.flush()
        return response


from . import views  # noqa: E402,F401
