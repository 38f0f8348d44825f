from flask import Blueprint

bp = Blueprint("forum", __name__, template_folder="templates")


@bp.record_once
def _register(state):
    # The forum's own templates use the flag reasons; other packages reach
    # the forum through core.signals (forum.subscribers), not globals.
    from .models import FLAG_REASONS

    state.app.jinja_env.globals.update(flag_reasons=FLAG_REASONS)

    from search.registry import register

    from . import search_docs

    from .policy import can_see_ref

    register("question", search_docs.load, search_docs.all_refs,
             visible=lambda viewer, ref: can_see_ref(viewer, "question", ref))


from . import moderation_views, profile_views, resumable, views  # noqa: E402,F401
