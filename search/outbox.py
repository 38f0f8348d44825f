"""Keeping the index in step with the database.

Writers call :func:`enqueue` inside their own write transaction, so an
outbox row exists exactly when the change committed.  :func:`drain` loads
each changed document's *current* state from its provider and applies it
to two places:

* the stored vectors, shared by every process and host through the
  database: rows are marked ``processed_at`` once their vectors are stored;
* the lexical index, a folder local to one host: each index folder keeps
  the id of the last row it applied (see ``LexicalIndex.cursor``), so a
  second app host with its own folder replays the same rows itself.

Ids are a safe cursor because writers are serialized (``write_transaction``
takes SQLite's write lock or PostgreSQL's advisory lock before writing), so
rows become visible in id order.  Replaying a row is harmless, so a crash
between indexing and recording only causes a little repeated work.
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


def _pending_clause(low_cursor: int):
    return sa.or_(SearchOutbox.id > low_cursor, SearchOutbox.processed_at.is_(None))


def pending_count() -> int:
    """Rows this process still has to apply: not yet in the shared vectors,
    or not yet in this host's lexical index."""
    low = min(ix.cursor() for ix in engine().lexicals.values())
    return db.session.scalar(sa.select(sa.func.count(SearchOutbox.id)).where(_pending_clause(low)))


def drain(limit: int = 200) -> int:
    """Process up to ``limit`` pending rows; returns how many were processed."""
    eng = engine()
    cursors = {kind: index.cursor() for kind, index in eng.lexicals.items()}
    rows = db.session.execute(
        sa.select(SearchOutbox.id, SearchOutbox.doc_id, SearchOutbox.processed_at)
        .where(_pending_clause(min(cursors.values()))).order_by(SearchOutbox.id).limit(limit)).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    fresh = [r for r in rows if r.processed_at is None]  # vectors not stored yet
    try:
        docs = load_documents(list(dict.fromkeys(r.doc_id for r in rows)))
        for kind, index in eng.lexicals.items():
            changed = {r.doc_id for r in rows if r.id > cursors[kind] and r.doc_id.startswith(kind + ":")}
            if changed:
                index.apply({d: docs[d] for d in changed})
            index.set_cursor(max(ids))
        if fresh:
            fresh_docs = {r.doc_id: docs[r.doc_id] for r in fresh}
            with write_transaction():
                if eng.dense is not None:
                    eng.dense.store(fresh_docs)
                gone = [d for d, doc in fresh_docs.items() if doc is None]
                if gone:
                    db.session.execute(sa.delete(SearchVector).where(SearchVector.doc_id.in_(gone)))
                db.session.execute(sa.update(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in fresh]))
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
        path = index.bulk_build(d for d in docs.values() if d.kind == kind)
        index.set_cursor(cutoff, path)  # rows after the cutoff are replayed by the next drain
        index.swap_to(path)
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
    """One thread per process that drains the outbox right after this
    process's writes, and every ``poll_seconds`` for writes made by other
    processes or hosts (whose index folders are not this one)."""

    def __init__(self, app, poll_seconds: float = 5.0):
        self.app = app
        self.poll_seconds = poll_seconds
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

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-drainer", daemon=True)
                self._thread.start()
        self.wakeup.set()

    def _run(self) -> None:
        while not self._stopping:
            self.wakeup.wait(timeout=self.poll_seconds)
            self.wakeup.clear()
            if self._stopping:
                return
            try:
                with self.app.app_context():
                    drain_all()
                    db.session.remove()
            except Exception:
                time.sleep(2)  # logged by drain(); rows stay pending and are retried
