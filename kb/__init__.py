from flask import Blueprint

bp = Blueprint("kb", __name__, template_folder="templates")


@bp.record_once
def _register_search_provider(state):
    from search.registry import register, register_pins, register_referrals

    from . import best_bets, referrals, search_docs

    register("service", search_docs.load, search_docs.all_refs)
    register_pins(best_bets.pins)
    register_referrals(referrals.for_topic)

from . import curation_views, views  # noqa: E402,F401
