from flask import Blueprint

bp = Blueprint("forum", __name__, template_folder="templates")


@bp.record_once
def _register(state):
    # Search asks the forum for its documents through this registry (a
    # provider, not an event); other packages react to the forum through
    # core.signals (forum.subscribers).
    from search.registry import register

    from . import search_docs
    from .policy import can_see_ref, visible_refs

    register("question", search_docs.load, search_docs.all_refs,
             visible=lambda viewer, ref: can_see_ref(viewer, "question", ref),
             visible_many=lambda viewer, refs: visible_refs(viewer, "question", refs))


from . import moderation_views, profile_views, resumable, views  # noqa: E402,F401
