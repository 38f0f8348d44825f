"""Analytics reacts to domain events (``core.signals``): the ask funnel
ends at "posted" when a question is really asked, whichever page or API
asked it, and every search (/cari or /api/v1/search) is logged, redacted,
through the per-process buffer."""
from __future__ import annotations

import logging

from core import signals


def _question_asked(_sender, question=None, seeded=False, **_kw) -> None:
    from flask import has_request_context, session

    if seeded or not has_request_context() or not session.get("ask_funnel"):
        return
    try:
        from .services import funnel_event

        service = question.services[0].slug if question.services else None
        # Appended to the per-process buffer (no write here); popped so one
        # funnel ends once.
        funnel_event(session.pop("ask_funnel"), "posted", service=service)
    except Exception:  # analytics must never break an ask
        logging.getLogger("layanan.analytics").exception("funnel event failed")


def _search_performed(response, query: str = "", source: str = "page", **_kw) -> str | None:
    """Queue the search for the log; the signed token it returns goes on the
    result links (``/klik?s=...``)."""
    try:
        from .services import log_search

        return log_search(query, response, source)
    except Exception:  # analytics must never break search
        logging.getLogger("layanan.analytics").exception("search log failed")
        return None


def _best_bets_shown(_sender, days: int = 90, max_words: int = 6, **_kw) -> dict:
    """Short queries searched often, with the official page their searchers
    clicked most (read only)."""
    from datetime import timedelta

    from core.models import utcnow

    from .services import frequent_short_queries

    today = utcnow().date()
    try:
        return {"frequent_short_queries": frequent_short_queries(today - timedelta(days=days - 1), today, max_words)}
    except Exception:  # analytics must never break the curation page
        logging.getLogger("layanan.analytics").exception("best-bet suggestions failed")
        return {}


def subscribe() -> None:
    signals.question_asked.connect(_question_asked)
    signals.search_performed.connect(_search_performed)
    signals.best_bets_shown.connect(_best_bets_shown)
