"""The lexical index: tantivy (a compiled inverted index, memory-mapped)
fed with terms analyzed here in Python (:func:`search.analysis.analyze`:
Sastrawi stems, Porter fallback, our stoplist).  Queries are built in code
as an OR of term queries over title, keywords and body (BM25, title and
keywords boosted 1.5); user text never reaches a query parser.  Every query
searches the whole index (tantivy's top-k collection skips blocks that
cannot enter the top k, so this is fast without a time budget).

The live index lives in ``<root>/<name>/``; ``<root>/CURRENT`` names it.
A rebuild writes a new directory and swaps CURRENT atomically; readers in
every process notice and reopen.  Each index directory records the last
search-outbox row applied to it (``OUTBOX_CURSOR``), so every host with its
own index folder catches up from the shared outbox on its own.  Workers of
one host share the folder: the files are memory-mapped, so the page cache
holds one copy, and writes are serialized by a lock file.

Why tantivy and not whoosh (the first engine): see the README, "Search at
scale", and bench/search_engines.py.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import tantivy

from .analysis import analyze, spelling_words
from .documents import Document

TERMS = "terms"            # whitespace tokenizer: the text is already analyzed
FIELD_BOOSTS = {"title": 1.5, "keywords": 1.5, "body": 1.0}
SCHEMA_VERSION = "tantivy-1"


@lru_cache(maxsize=1)
def make_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("doc_id", stored=True, tokenizer_name="raw", index_option="basic")
    for name in FIELD_BOOSTS:
        b.add_text_field(name, stored=False, tokenizer_name=TERMS, index_option="freq")
    b.add_text_field("spell", stored=False, tokenizer_name=TERMS, index_option="basic")
    b.add_bytes_field("payload", stored=True)  # JSON: kind, title, body, url, meta
    return b.build()


def _analyzer():
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def _open(path: Path) -> tantivy.Index:
    ix = tantivy.Index(make_schema(), path=str(path), reuse=True)
    ix.register_tokenizer(TERMS, _analyzer())
    return ix


def to_tantivy(doc: Document) -> tantivy.Document:
    # The term sets are not stored with the payload: that made the store 31%
    # larger (71 -> 93 MB at 100k threads) and each worker's RSS 25 MB larger
    # (599 -> 625 MB, over the 600 MB target), to save about 1 ms a search
    # (bench/results/search_latency.txt, stop 19).
    payload = {"kind": doc.kind, "title": doc.title, "body": doc.body, "url": doc.url, "meta": doc.extra}
    return tantivy.Document(
        doc_id=doc.doc_id,
        title=" ".join(analyze(doc.title)),
        keywords=" ".join(analyze(" ".join(doc.keywords))),
        body=" ".join(analyze(doc.body)),
        spell=" ".join(spelling_words(f"{doc.title} {' '.join(doc.keywords)} {doc.body}")),
        payload=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
    )


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with adjacent transpositions counted as one
    edit; returns ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class LexicalIndex:
    WRITE_LOCK_TIMEOUT = 60.0
    CHECK_EVERY = 0.05  # seconds between looks at the folder for new commits
    ADDRESS_MEMO = 5_000  # doc_id -> address entries kept for the current searcher (about 100 searches)

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._state: tuple[Path, tantivy.Index, tuple] | None = None  # (dir, index, meta.json stamp)
        self._checked = 0.0
        self._addresses: tuple[object, dict] = (None, {})

    # ------------------------------------------------------------ locations
    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current_dir(self) -> Path:
        try:
            name = self.pointer.read_text().strip()
        except FileNotFoundError:
            name = ""
        if name and (self.root / name).is_dir():
            return self.root / name
        with self._lock, self._host_lock("CURRENT"):
            try:  # another process of this host may have just made it
                name = self.pointer.read_text().strip()
            except FileNotFoundError:
                name = ""
            if name and (self.root / name).is_dir():
                return self.root / name
            path = self.new_dir()
            self.swap_to(path)
            return path

    def exists(self) -> bool:
        """Whether this host already has an index here (a new host has none)."""
        try:
            return (self.root / self.pointer.read_text().strip()).is_dir()
        except (FileNotFoundError, OSError):
            return False

    def new_dir(self) -> Path:
        path = self.root / f"lex-{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        (path / "ENGINE").write_text(SCHEMA_VERSION)
        _open(path)  # writes meta.json
        return path

    def swap_to(self, path: Path) -> None:
        tmp = self.root / f".CURRENT.{uuid.uuid4().hex}"
        tmp.write_text(path.name)
        os.replace(tmp, self.pointer)
        for old in self.root.glob("lex-*"):
            if old != path and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    @contextmanager
    def _host_lock(self, name: str, path: Path | None = None, timeout: float | None = None):
        """An exclusive lock shared by the processes of this host (flock;
        released by the kernel if a process dies)."""
        folder = path or self.root
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f".lock-{name}", "a+") as fh:
            deadline = time.monotonic() + (timeout if timeout is not None else self.WRITE_LOCK_TIMEOUT)
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"lexical index {folder} is locked by another process") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------ outbox cursor
    CURSOR_FILE = "OUTBOX_CURSOR"

    def cursor(self, path: Path | None = None) -> int:
        """Id of the last outbox row applied to this index (0: none)."""
        try:
            return int((path or self.current_dir()).joinpath(self.CURSOR_FILE).read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def set_cursor(self, value: int, path: Path | None = None) -> None:
        """Move the cursor forward (never back: a slower worker sharing this
        folder may finish an older batch after a newer one)."""
        path = path or self.current_dir()
        if value <= self.cursor(path):
            return
        tmp = path / f".{self.CURSOR_FILE}.{uuid.uuid4().hex}"
        tmp.write_text(str(value))
        os.replace(tmp, path / self.CURSOR_FILE)

    def open(self, path: Path | None = None) -> tantivy.Index:
        return _open(path or self.current_dir())

    # ------------------------------------------------------------ writing
    def apply(self, docs: dict[str, Document | None], path: Path | None = None, after: int | None = None) -> bool:
        """Upsert or delete documents (idempotent).  With ``after`` (an
        outbox id), nothing is written if another process of this host has
        meanwhile moved the folder's cursor to or past it; returns whether
        this call wrote."""
        path = path or self.current_dir()
        with self._host_lock("write", path):
            if after is not None and self.cursor(path) >= after:
                return False
            ix = _open(path)
            writer = ix.writer(heap_size=30_000_000, num_threads=1)
            try:
                for doc_id, doc in docs.items():
                    writer.delete_documents_by_term("doc_id", doc_id)
                    if doc is not None:
                        writer.add_document(to_tantivy(doc))
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()
        self._checked = 0.0
        return True

    def bulk_build(self, docs, progress=None, threads: int = 1) -> Path:
        """Write every document into a fresh directory; the caller swaps."""
        path = self.new_dir()
        ix = _open(path)
        writer = ix.writer(heap_size=200_000_000 * max(1, threads), num_threads=max(1, threads))
        n = 0
        for doc in docs:
            writer.add_document(to_tantivy(doc))
            n += 1
            if progress and n % 10_000 == 0:
                progress(n)
        writer.commit()
        writer.wait_merging_threads()
        if progress:
            progress(n)
        return path

    # ------------------------------------------------------------ reading
    def _index(self) -> tantivy.Index:
        """This process's reader, reloaded when CURRENT moved or a commit
        (from any process) changed meta.json."""
        now = time.monotonic()
        state = self._state
        if state is not None and now - self._checked < self.CHECK_EVERY:
            return state[1]
        current = self.current_dir()
        try:
            st = os.stat(current / "meta.json")
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            state = self._state
            if state is None or state[0] != current:
                ix = _open(current)
                ix.config_reader(reload_policy="Manual")
                self._state = state = (current, ix, stamp, ix.searcher())
            elif state[2] != stamp:
                state[1].reload()
                self._state = state = (current, state[1], stamp, state[1].searcher())
            self._checked = now
        return state[1]

    def searcher(self) -> tantivy.Searcher:
        """The searcher of the current reader, kept until the reader reloads
        (a search asks for it twenty times: one per term statistic)."""
        index = self._index()
        state = self._state
        return state[3] if state is not None and state[1] is index else index.searcher()

    def query(self, query_terms: list[str]) -> tantivy.Query:
        schema = make_schema()
        subqueries = []
        for t in query_terms:
            for name, boost in FIELD_BOOSTS.items():
                q = tantivy.Query.term_query(schema, name, t, index_option="freq")
                if boost != 1.0:
                    q = tantivy.Query.boost_query(q, boost)
                subqueries.append((tantivy.Occur.Should, q))
        return tantivy.Query.boolean_query(subqueries)

    def search(self, query_terms: list[str], limit: int) -> list[tuple[str, float]]:
        """BM25 over title, keywords and body; the whole index, every time."""
        if not query_terms or limit <= 0:
            return []
        searcher = self.searcher()
        hits = searcher.search(self.query(query_terms), limit, count=False).hits
        memo = self._memo(searcher)
        out = []
        for score, address in hits:
            doc_id = searcher.doc(address)["doc_id"][0]
            memo[doc_id] = address
            out.append((doc_id, score))
        return out

    def _memo(self, searcher) -> dict:
        """doc_id -> address for this searcher (addresses hold only within
        one searcher): what a search found needs no second lookup when its
        stored fields are read."""
        memo = self._addresses
        if memo[0] is not searcher or len(memo[1]) > self.ADDRESS_MEMO:
            memo = self._addresses = (searcher, {})
        return memo[1]

    def _address(self, searcher, doc_id: str):
        address = self._memo(searcher).get(doc_id)
        if address is not None:
            return address
        hits = searcher.search(tantivy.Query.term_query(make_schema(), "doc_id", doc_id, index_option="basic"),
                               1, count=False).hits
        return hits[0][1] if hits else None

    def stored(self, doc_ids: list[str]) -> dict[str, dict]:
        searcher = self.searcher()
        out = {}
        for doc_id in doc_ids:
            address = self._address(searcher, doc_id)
            if address is None:
                continue
            fields = json.loads(bytes(searcher.doc(address)["payload"][0]).decode("utf-8"))
            fields["doc_id"] = doc_id
            out[doc_id] = fields
        return out

    def doc_count(self) -> int:
        return self.searcher().num_docs

    # ------------------------------------------------------------ vocabulary ("did you mean")
    def doc_frequency(self, term: str) -> int:
        """Documents whose title, keywords or body hold this analyzed term
        (a document is counted once per field it appears in)."""
        searcher = self.searcher()
        return sum(searcher.doc_freq(name, term) for name in FIELD_BOOSTS)

    def has_term(self, term: str) -> bool:
        return self.doc_frequency(term) > 0

    def word_frequency(self, word: str) -> int:
        """Documents holding this unstemmed word (the spelling vocabulary)."""
        return self.searcher().doc_freq("spell", word)

    def spelling_candidates(self, word: str, maxdist: int = 2, prefix: int = 1,
                            limit: int = 10) -> list[tuple[str, int, int]]:
        """Indexed words within ``maxdist`` edits of ``word`` that share its
        first ``prefix`` letters: ``(word, distance, document frequency)``,
        closest first, then most frequent."""
        word = word.lower()
        if len(word) < prefix:
            return []
        out = []
        for candidate, freq in self.searcher().terms_with_prefix("spell", word[:prefix]):
            if candidate == word or abs(len(candidate) - len(word)) > maxdist:
                continue
            dist = edit_distance(word, candidate, maxdist)
            if dist <= maxdist:
                out.append((candidate, dist, freq))
        out.sort(key=lambda c: (c[1], -c[2], c[0]))
        return out[:limit]

    def suggest(self, word: str) -> str | None:
        candidates = self.spelling_candidates(word, maxdist=2, prefix=1, limit=1)
        return candidates[0][0] if candidates else None

    def close(self) -> None:
        self._state = None
        self._addresses = (None, {})
