from flask import Blueprint

bp = Blueprint("forum", __name__, template_folder="templates")


@bp.record_once
def _register_template_helpers(state):
    # The knowledge base shows related threads without importing the forum:
    # it calls these globals only when the forum is installed.
    from .queries import related_question_count, related_questions

    from .models import FLAG_REASONS
    from .queries import stale_answers

    state.app.jinja_env.globals.update(related_questions=related_questions,
                                       related_question_count=related_question_count, flag_reasons=FLAG_REASONS,
                                       stale_answers=stale_answers)

    from search.registry import register

    from . import promotion, search_docs

    from .policy import can_see_ref

    register("question", search_docs.load, search_docs.all_refs,
             visible=lambda viewer, ref: can_see_ref(viewer, "question", ref))
    promotion.register()


from . import moderation_views, profile_views, resumable, views  # noqa: E402,F401
