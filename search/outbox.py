"""Keeping the index in step with the database.

Writers call :func:`enqueue` inside their own write transaction, so an
outbox row exists exactly when the change committed.  :func:`drain` loads
each changed document's *current* state from its provider and applies it
to two places:

* the stored vectors, shared by every process and host through the
  database: rows are marked ``processed_at`` once their vectors are stored;
* the lexical index, a folder local to one host: each index folder keeps
  the id of the last row it applied (see ``LexicalIndex.cursor``), so a
  second app host with its own folder replays the same rows itself;
* the vector index of each host (``search.dense``): every worker reads the
  vectors of rows after its folder's cursor back from the database into a
  small delta, and the folder is rebuilt from the database when that delta
  grows or a ``*:vectors`` row says vectors changed in bulk.

Passages are encoded before a write transaction opens; the transaction only
writes.  A host without index folders builds them from the database
(:func:`ensure_local_state`, ``flask search reindex --local``), encoding
nothing.

Ids are a safe cursor because writers are serialized (``write_transaction``
takes SQLite's write lock or PostgreSQL's advisory lock before writing), so
rows become visible in id order.  Replaying a row is harmless, so a crash
between indexing and recording only causes a little repeated work.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

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


BULK_VECTORS = "*:vectors"  # an outbox row saying "stored vectors changed in bulk": hosts rebuild their vector index


def drain(limit: int = 200) -> int:
    """Process up to ``limit`` pending rows; returns how many were processed.

    Passages are encoded before the write transaction opens; the transaction
    only writes the vectors and marks the rows (short)."""
    eng = engine()
    cursors = {kind: index.cursor() for kind, index in eng.lexicals.items()}
    rows = db.session.execute(
        sa.select(SearchOutbox.id, SearchOutbox.doc_id, SearchOutbox.processed_at)
        .where(_pending_clause(min(cursors.values()))).order_by(SearchOutbox.id).limit(limit)).all()
    if not rows:
        _maintain(eng, [])
        return 0
    ids = [r.id for r in rows]
    fresh = [r for r in rows if r.processed_at is None]  # vectors not stored yet
    try:
        docs = load_documents([d for d in dict.fromkeys(r.doc_id for r in rows) if not d.startswith("*")])
        for kind, index in eng.lexicals.items():
            changed = {r.doc_id for r in rows if r.id > cursors[kind] and r.doc_id.startswith(kind + ":")}
            if changed:
                index.apply({d: docs[d] for d in changed}, after=max(ids))
            index.set_cursor(max(ids))
        if fresh:
            fresh_docs = {r.doc_id: docs[r.doc_id] for r in fresh if not r.doc_id.startswith("*")}
            dense = eng.dense
            todo, counts = dense.plan(fresh_docs) if dense is not None else ([], {})
            db.session.rollback()  # end the read transaction before the slow part
            encoded = dense.encode(todo) if dense is not None else []
            with write_transaction():
                if dense is not None:
                    dense.write(counts, encoded)
                gone = [d for d, doc in fresh_docs.items() if doc is None]
                if gone:
                    db.session.execute(sa.delete(SearchVector).where(SearchVector.doc_id.in_(gone)))
                db.session.execute(sa.update(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in fresh]),
                                                                 SearchOutbox.processed_at.is_(None))
                                   .values(processed_at=utcnow(), attempts=SearchOutbox.attempts + 1))
    except Exception as exc:
        db.session.rollback()
        log.exception("search outbox drain failed; rows stay pending")
        with write_transaction():
            db.session.execute(sa.update(SearchOutbox).where(SearchOutbox.id.in_(ids))
                               .values(attempts=SearchOutbox.attempts + 1, last_error=str(exc)[:2000]))
        raise
    _maintain(eng, rows)
    return len(ids)


def _maintain(eng, rows) -> None:
    """Rebuild this host's vector index from the database when vectors
    changed in bulk elsewhere (a reindex) or when this process's delta of
    recent changes has grown large."""
    dense = eng._dense if eng._dense_tried else None
    if dense is None or dense.root is None:
        return
    built = dense.built_cursor()
    bulk = [r.id for r in rows if r.doc_id == BULK_VECTORS and r.id > built]
    dense.sync(force=True)  # this process's delta now includes the rows just drained
    if bulk or (built >= 0 and dense.needs_compaction()):
        frontier = dense_frontier()
        log.info("rebuilding the vector index of this host (bulk change: %s, delta chunks: %s)",
                 bool(bulk), dense.delta_chunks())
        dense.build(if_older_than=max(bulk + [frontier]) if bulk else frontier)
        dense.sync(force=True)


def dense_frontier() -> int:
    from .dense import outbox_frontier

    return outbox_frontier()


def drain_all(batch: int = 200) -> int:
    total = 0
    while True:
        n = drain(batch)
        total += n
        if n < batch:
            return total


# ---------------------------------------------------------------------- rebuilding

def _state_path(eng) -> Path:
    return eng.root / "REINDEX.json"


def _save_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _iter_documents(kind: str, refs: list[str], page: int = 500):
    for start in range(0, len(refs), page):
        found = load_documents([f"{kind}:{r}" for r in refs[start:start + page]])
        db.session.rollback()
        yield from (doc for doc in found.values() if doc is not None)


def build_lexical(eng, kind: str, cutoff: int, progress=None) -> int:
    """Build one kind's lexical index from the database and swap it in."""
    provider = next((p for p in providers() if p.kind == kind), None)
    refs = [str(r) for r in provider.all_refs()] if provider else []
    index = eng.lexicals[kind]
    started = time.perf_counter()

    def report(n):
        if progress:
            progress(f"lexical {kind}", n, len(refs), time.perf_counter() - started)

    path = index.bulk_build(_iter_documents(kind, refs), progress=report)
    index.set_cursor(cutoff, path)  # rows after the cutoff are replayed by the next drain
    index.swap_to(path)
    return len(refs)


def reindex(progress=None, *, resume: bool = True, encode: bool = True, batch_docs: int = 256) -> dict:
    """Rebuild this host's search state from the database:

    1. the lexical index of each kind, into a new folder, swapped in;
    2. (``encode``) stored vectors brought up to date: only chunks whose
       text changed are encoded, in batches, outside the write transaction;
       the position is saved after each batch, so an interrupted reindex
       resumes where it stopped (``resume``);
    3. this host's vector index, built from the stored vectors.

    Without ``encode`` nothing is written to the database: this is how a
    host that joins late (or lost its disk) catches up."""
    started = time.perf_counter()
    eng = engine()
    state_path = _state_path(eng)
    state = None
    if resume and state_path.exists():
        try:
            state = json.loads(state_path.read_text())
        except ValueError:
            state = None
        if state and state.get("encode") != encode:
            state = None
    if state is None:
        with write_transaction():  # everything queued before now is covered by the rebuild
            cutoff = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id))) or 0
        state = {"cutoff": cutoff, "encode": encode, "lexical": [], "vectors": {}, "encoded": 0,
                 "started": time.time()}
        _save_state(state_path, state)
    elif progress:
        progress("resume", len(state["lexical"]), None, 0.0)
    cutoff = state["cutoff"]
    documents = 0
    for kind in eng.lexicals:
        if kind in state["lexical"] and eng.lexicals[kind].exists():
            documents += eng.lexicals[kind].doc_count()
            continue
        documents += build_lexical(eng, kind, cutoff, progress)
        state["lexical"].append(kind)
        _save_state(state_path, state)
    dense = eng.dense
    encoded = state["encoded"]
    if dense is not None and encode:
        encoded = _encode_all(eng, dense, state, state_path, progress, batch_docs)
    if encode:
        with write_transaction():
            db.session.execute(sa.update(SearchOutbox).where(SearchOutbox.id <= cutoff,
                                                             SearchOutbox.processed_at.is_(None))
                               .values(processed_at=utcnow()))
            if state.get("changed"):  # tell the other hosts to rebuild their vector index
                db.session.add(SearchOutbox(doc_id=BULK_VECTORS, processed_at=utcnow()))
    if dense is not None:
        def report(phase, done, total):
            if progress:
                progress(f"vector index: {phase}", done, total, time.perf_counter() - started)

        dense.build(progress=report, threads=0)  # all cores: a reindex is an operator's command
        dense.sync(force=True)
    state_path.unlink(missing_ok=True)
    return {"documents": documents, "encoded_chunks": encoded, "seconds": round(time.perf_counter() - started, 2)}


def _encode_all(eng, dense, state, state_path, progress, batch_docs) -> int:
    started = time.perf_counter()
    done_kinds = state["vectors"]
    all_ids: set[str] = set()
    plans = [(p.kind, [str(r) for r in p.all_refs()]) for p in providers()]
    total = sum(len(refs) for _, refs in plans)
    done = 0
    docs_now = 0
    encoded_now = 0
    for kind, refs in plans:
        all_ids.update(f"{kind}:{r}" for r in refs)
        position = 0
        last = done_kinds.get(kind)
        if last == "*":
            done += len(refs)
            continue
        if last is not None:
            try:
                position = refs.index(last) + 1
            except ValueError:
                position = 0  # that document is gone: re-plan the kind (hashes skip the encoded ones)
        done += position
        for start in range(position, len(refs), batch_docs):
            page = refs[start:start + batch_docs]
            docs = {k: v for k, v in load_documents([f"{kind}:{r}" for r in page]).items() if v is not None}
            todo, counts = dense.plan(docs)
            db.session.rollback()
            vectors = dense.encode(todo)
            with write_transaction():
                dense.write(counts, vectors)
            encoded_now += len(vectors)
            state["encoded"] += len(vectors)
            state["changed"] = state.get("changed") or bool(vectors)
            done_kinds[kind] = page[-1]
            _save_state(state_path, state)
            done += len(page)
            docs_now += len(page)
            if progress:
                elapsed = time.perf_counter() - started
                progress("vectors", done, total, elapsed, {"encoded": state["encoded"], "docs_now": docs_now,
                                                          "rate": encoded_now / elapsed if elapsed else 0.0})
        done_kinds[kind] = "*"
        _save_state(state_path, state)
    # Vectors of documents that no longer exist.
    stale: list[str] = []
    last = ""
    while True:
        ids = list(db.session.scalars(sa.select(SearchVector.doc_id).distinct()
                                      .where(SearchVector.model == dense.model, SearchVector.doc_id > last)
                                      .order_by(SearchVector.doc_id).limit(5000)))
        if not ids:
            break
        last = ids[-1]
        stale += [d for d in ids if d not in all_ids]
    db.session.rollback()
    for start in range(0, len(stale), 500):
        with write_transaction():
            db.session.execute(sa.delete(SearchVector).where(SearchVector.model == dense.model,
                                                             SearchVector.doc_id.in_(stale[start:start + 500])))
    if stale:
        state["changed"] = True
    return state["encoded"]


def ensure_local_state() -> None:
    """A host that has no index folders yet (it joined late, or its disk
    is new) builds them from the database, without encoding anything."""
    eng = engine()
    def fresh(index) -> bool:  # no folder, or only the empty one a request made meanwhile
        return not index.exists() or (index.cursor() == 0 and index.doc_count() == 0)

    for kind, index in eng.lexicals.items():
        if not fresh(index):
            continue
        try:
            # One worker of the host builds; the others go on serving (an empty
            # index meanwhile) instead of waiting for the lock.
            with index._host_lock("initial-build", timeout=0):
                if not fresh(index):
                    continue
                cutoff = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id))) or 0
                log.info("no lexical %s index on this host: building it from the database", kind)
                build_lexical(eng, kind, cutoff)
        except TimeoutError:
            continue
    dense = eng.dense
    if dense is not None and dense.current_name() is None:
        log.info("no vector index on this host: building it from stored vectors")
        dense.build(if_older_than=0)  # another worker of this host may have built it
        dense.sync(force=True)


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
        self._ensured = False

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
        first = True
        while not self._stopping:
            if not first:
                self.wakeup.wait(timeout=self.poll_seconds)
            first = False
            self.wakeup.clear()
            if self._stopping:
                return
            try:
                with self.app.app_context():
                    if not self._ensured:
                        ensure_local_state()
                        self._ensured = True
                        try:  # ahead of the first search that needs them
                            engine().prepare_outside()
                        except Exception:
                            log.exception("outside topics could not be prepared")
                    drain_all()
                    db.session.remove()
            except Exception:
                time.sleep(2)  # logged by drain(); rows stay pending and are retried
