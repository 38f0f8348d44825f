from flask import Blueprint

bp = Blueprint("kb", __name__, template_folder="templates")


@bp.record_once
def _register_search_provider(state):
    from search.registry import register, register_pins

    from . import best_bets, search_docs

    register("service", search_docs.load, search_docs.all_refs)
    register_pins(best_bets.pins)

from . import curation_views, views  # noqa: E402,F401
