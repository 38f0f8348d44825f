"""How the forum reacts to the knowledge base (``core.signals``), without
kb/ knowing the forum exists."""
from __future__ import annotations

from core import signals


def _page_published(_sender, service=None, created=False, changed=(), **_kw) -> None:
    from kb.curation import STALE_FIELDS

    from .promotion import flag_linked_answers

    if not created and STALE_FIELDS & set(changed):
        flag_linked_answers(service)


def _regulation_changed(_sender, regulation=None, cited=(), **_kw) -> None:
    from .promotion import flag_linked_answers

    for service, _groups in cited:
        flag_linked_answers(service)


def _draft_reviewed(_sender, draft=None, outcome="", **_kw) -> None:
    from .promotion import mark_promoted

    if outcome == "published":
        mark_promoted(draft)


def _service_page(_service, **_kw) -> dict:
    """Community questions about this service, for its page."""
    from .queries import related_question_count, related_questions

    return {"related_questions": related_questions, "related_question_count": related_question_count}


def _curation_queue(_sender, **_kw) -> dict:
    from .queries import stale_answers

    return {"stale_answers": stale_answers()}


def subscribe() -> None:
    signals.page_published.connect(_page_published)
    signals.regulation_changed.connect(_regulation_changed)
    signals.draft_reviewed.connect(_draft_reviewed)
    signals.service_page_shown.connect(_service_page)
    signals.curation_queue_shown.connect(_curation_queue)
