"""Search keeps its index in step by subscribing to the domain events
(``core.signals``): every event carries the ids of the documents it changed
(``doc_ids``), and they are queued in ``search_outbox`` inside the writer's
own transaction, so an outbox row exists exactly when the change committed.
kb/ and forum/ never import search to get their changes indexed."""
from __future__ import annotations

from core import signals

from .outbox import enqueue


def index_changed_documents(sender, doc_ids=(), **_kwargs) -> None:
    if doc_ids:
        enqueue(*doc_ids)


def subscribe() -> None:
    for signal in signals.WRITE_EVENTS:
        signal.connect(index_changed_documents)
