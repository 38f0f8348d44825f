"""Keeping the index in step with the database.

Writers call :func:`enqueue` inside their own write transaction, so an
outbox row exists exactly when the change committed.  :func:`drain` reads
pending rows, loads each document's *current* state from its provider,
updates the lexical index and the stored vectors, and marks the rows done.
Replaying a row is harmless, so a crash between indexing and marking only
causes a little repeated work.
"""
from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from flask import current_app, g, has_request_context

from core.db import write_transaction
from core.extensions import db
from core.models import utcnow

from .models import SearchOutbox, SearchVector
from .registry import load_documents, providers

log = logging.getLogger("layanan.search")


def engine():
    return current_app.extensions["search"]


def enqueue(*doc_ids: str) -> None:
    """Record that these documents changed.  Call inside the write transaction."""
    for doc_id in dict.fromkeys(doc_ids):
        db.session.add(SearchOutbox(doc_id=doc_id))
    if has_request_context():
        g.search_dirty = True


def pending_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(SearchOutbox.id)).where(SearchOutbox.processed_at.is_(None)))


def drain(limit: int = 200) -> int:
    """Process up to ``limit`` pending rows; returns how many were processed."""
    rows = db.session.execute(
        sa.select(SearchOutbox.id, SearchOutbox.doc_id).where(SearchOutbox.processed_at.is_(None))
        .order_by(SearchOutbox.id).limit(limit)).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    doc_ids = list(dict.fromkeys(r.doc_id for r in rows))
    try:
        docs = load_documents(doc_ids)
        eng = engine()
        for kind, index in eng.lexicals.items():
            part = {d: doc for d, doc in docs.items() if d.startswith(kind + ":")}
            if part:
                index.apply(part)
        with write_transaction():
            if eng.dense is not None:
                eng.dense.store(docs)
            gone = [d for d, doc in docs.items() if doc is None]
            if gone:
                db.session.execute(sa.delete(SearchVector).where(SearchVector.doc_id.in_(gone)))
            db.session.execute(sa.update(SearchOutbox).where(SearchOutbox.id.in_(ids))
                               .values(processed_at=utcnow(), attempts=SearchOutbox.attempts + 1))
    except Exception as exc:
        db.session.rollback()
        log.exception("search outbox drain failed; rows stay pending")
        with write_transaction():
            db.session.execute(sa.update(SearchOutbox).where(SearchOutbox.id.in_(ids))
                               .values(attempts=SearchOutbox.attempts + 1, last_error=str(exc)[:2000]))
        raise
    return len(ids)


def drain_all(batch: int = 200) -> int:
    total = 0
    while True:
        n = drain(batch)
        total += n
        if n < batch:
            return total


def reindex(progress=None) -> dict:
    """Rebuild the lexical index from every provider into a new directory,
    swap it in, and bring stored vectors up to date (only changed chunks
    are encoded)."""
    started = time.perf_counter()
    eng = engine()
    with write_transaction():  # everything queued before now is covered by the rebuild
        cutoff = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id))) or 0
    docs = {}
    for provider in providers():
        refs = list(provider.all_refs())
        for start in range(0, len(refs), 200):
            found = load_documents([f"{provider.kind}:{r}" for r in refs[start:start + 200]])
            docs.update({k: v for k, v in found.items() if v is not None})
    for kind, index in eng.lexicals.items():
        index.swap_to(index.bulk_build(d for d in docs.values() if d.kind == kind))
    encoded = 0
    if eng.dense is not None:
        items = list(docs.items())
        for start in range(0, len(items), 50):
            with write_transaction():
                encoded += eng.dense.store(dict(items[start:start + 50]))
            if progress:
                progress(min(start + 50, len(items)), len(items))
        with write_transaction():
            db.session.execute(sa.delete(SearchVector).where(SearchVector.model == eng.dense.model,
                                                             SearchVector.doc_id.not_in(list(docs))))
    with write_transaction():
        db.session.execute(sa.update(SearchOutbox).where(SearchOutbox.id <= cutoff,
                                                         SearchOutbox.processed_at.is_(None))
                           .values(processed_at=utcnow()))
    return {"documents": len(docs), "encoded_chunks": encoded, "seconds": round(time.perf_counter() - started, 2)}


class BackgroundDrainer:
    """One thread per process that drains the outbox shortly after writes."""

    def __init__(self, app):
        self.app = app
        self.wakeup = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = False

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the current drain and end the thread (tests, shutdown)."""
        self._stopping = True
        self.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-drainer", daemon=True)
                self._thread.start()
        self.wakeup.set()

    def _run(self) -> None:
        while not self._stopping:
            self.wakeup.wait(timeout=30)
            self.wakeup.clear()
            if self._stopping:
                return
            try:
                with self.app.app_context():
                    drain_all()
                    db.session.remove()
            except Exception:
                time.sleep(2)  # logged by drain(); rows stay pending and are retried
