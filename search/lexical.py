"""The whoosh index.  Queries are built in code as an OR of terms; user text
never reaches whoosh's query parser (no field, wildcard or range syntax).

The live index lives in ``<root>/<name>/``; ``<root>/CURRENT`` names it.
A rebuild writes a new directory and swaps CURRENT atomically; readers in
every process notice and reopen.  Each index directory records the last
search-outbox row applied to it (``OUTBOX_CURSOR``), so every host with its
own index folder catches up from the shared outbox on its own.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from pathlib import Path

from whoosh import index, scoring
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.query import Or, Term

from .analysis import indonesian_analyzer, spelling_analyzer
from .documents import Document


def make_schema() -> Schema:
    ana = indonesian_analyzer()
    return Schema(
        doc_id=ID(stored=True, unique=True),
        kind=ID(stored=True),
        title=TEXT(analyzer=ana, stored=True, field_boost=1.5),
        keywords=TEXT(analyzer=ana, field_boost=1.5),
        body=TEXT(analyzer=ana, stored=True),
        spell=TEXT(analyzer=spelling_analyzer()),
        url=STORED,
        meta=STORED,
    )


def _fields(doc: Document) -> dict:
    return {
        "doc_id": doc.doc_id, "kind": doc.kind, "title": doc.title, "keywords": " ".join(doc.keywords),
        "body": doc.body, "spell": f"{doc.title} {' '.join(doc.keywords)} {doc.body}", "url": doc.url,
        "meta": json.dumps(doc.extra, ensure_ascii=False),
    }


class LexicalIndex:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._local = threading.local()
        self._lock = threading.Lock()

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
        with self._lock:
            path = self.new_dir()
            self.swap_to(path)
            return path

    def new_dir(self) -> Path:
        path = self.root / f"lex-{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        index.create_in(str(path), make_schema())
        return path

    def swap_to(self, path: Path) -> None:
        tmp = self.root / f".CURRENT.{uuid.uuid4().hex}"
        tmp.write_text(path.name)
        os.replace(tmp, self.pointer)
        for old in self.root.glob("lex-*"):
            if old != path and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

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

    def open(self, path: Path | None = None):
        return index.open_dir(str(path or self.current_dir()))

    # ------------------------------------------------------------ writing
    def apply(self, docs: dict[str, Document | None], path: Path | None = None) -> None:
        """Upsert or delete documents (idempotent)."""
        ix = self.open(path)
        writer = ix.writer(timeout=10.0)
        try:
            for doc_id, doc in docs.items():
                if doc is None:
                    writer.delete_by_term("doc_id", doc_id)
                else:
                    writer.update_document(**_fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def bulk_build(self, docs) -> Path:
        """Write every document into a fresh directory; the caller swaps."""
        path = self.new_dir()
        ix = index.open_dir(str(path))
        writer = ix.writer(limitmb=256, procs=1)
        for doc in docs:
            writer.add_document(**_fields(doc))
        writer.commit(optimize=True)
        return path

    # ------------------------------------------------------------ reading
    def searcher(self):
        """A per-thread searcher, reopened when the index or CURRENT changed.

        (whoosh's own Searcher.refresh() reuses segment readers and misses
        deletions made in an existing segment, so it is not used.)"""
        state = getattr(self._local, "state", None)
        current = self.current_dir()
        if state is not None and state[0] == current:
            ix, searcher = state[1], state[2]
            if ix.latest_generation() == searcher.reader().generation():
                return searcher
            searcher.close()
        elif state is not None:
            state[2].close()
        ix = self.open(current)
        searcher = ix.searcher(weighting=scoring.BM25F())
        self._local.state = (current, ix, searcher)
        return searcher

    def search(self, query_terms: list[str], limit: int, budget_ms: float | None = None) -> tuple[list[tuple[str, float]], bool]:
        """BM25F over title, keywords and body.  With ``budget_ms`` the scan
        stops when the time is up and the best documents seen so far are
        returned; the flag says whether it stopped early."""
        if not query_terms:
            return [], False
        subqueries = []
        for t in query_terms:
            subqueries += [Term("title", t), Term("keywords", t), Term("body", t)]
        query = Or(subqueries)
        searcher = self.searcher()
        if budget_ms is None:
            hits = searcher.search(query, limit=limit, terms=False)
            return [(hit["doc_id"], hit.score) for hit in hits], False
        collector = TimeLimitCollector(searcher.collector(limit=limit), timelimit=budget_ms / 1000.0,
                                       use_alarm=False)  # a timer thread, so it works outside the main thread
        stopped = False
        try:
            searcher.search_with_collector(query, collector)
        except TimeLimit:
            stopped = True
        hits = collector.results()
        return [(hit["doc_id"], hit.score) for hit in hits], stopped

    def stored(self, doc_ids: list[str]) -> dict[str, dict]:
        searcher = self.searcher()
        out = {}
        for doc_id in doc_ids:
            fields = searcher.document(doc_id=doc_id)
            if fields:
                fields["meta"] = json.loads(fields.get("meta") or "{}")
                out[doc_id] = fields
        return out

    def doc_count(self) -> int:
        return self.searcher().doc_count()

    def has_term(self, term: str) -> bool:
        searcher = self.searcher()
        return any(searcher.doc_frequency(field, term) for field in ("title", "keywords", "body"))

    def suggest(self, word: str) -> str | None:
        suggestions = self.searcher().suggest("spell", word, limit=1, maxdist=2, prefix=1)
        return suggestions[0] if suggestions else None

    def close(self) -> None:
        state = getattr(self._local, "state", None)
        if state is not None:
            state[2].close()
            self._local.state = None
