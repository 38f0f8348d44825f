"""Lexical engines side by side on the same documents, terms and queries:
whoosh (BM25F, pure Python; the first engine), tantivy (compiled, used now)
and SQLite FTS5 (bm25 with the same field weights).  Every engine receives
the same Sastrawi terms (search/analysis.py), so only the engine differs.

* thread index: the real threads plus N synthetic ones (the generator of
  bench/search_latency.py): build time, size on disk, p50/p95 of a full
  top-50 search (no time budget), and how often each engine's top 10
  agrees with whoosh's (BM25 variants differ slightly);
* official pages: R@1, R@5 and MRR@10 of the labelled page on
  bench/data/dev_queries.yml (lexical only, normalization map applied), the
  quality figures of the search issue.

    .venv/bin/python bench/search_engines.py [--threads 100000] [--engines whoosh,tantivy,fts5] [--cache DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FIELDS = ("title", "keywords", "body")
BOOSTS = {"title": 1.5, "keywords": 1.5, "body": 1.0}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


# ---------------------------------------------------------------------- engines

class Whoosh:
    name = "whoosh 2.7.5 (BM25F)"

    def build(self, folder: Path, docs) -> None:
        from whoosh import index
        from whoosh.fields import ID, STORED, TEXT, Schema

        from search.analysis import indonesian_analyzer

        ana = indonesian_analyzer()
        schema = Schema(doc_id=ID(stored=True, unique=True), title=TEXT(analyzer=ana, field_boost=1.5),
                        keywords=TEXT(analyzer=ana, field_boost=1.5), body=TEXT(analyzer=ana), meta=STORED)
        folder.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(folder), schema)
        writer = ix.writer(limitmb=256, procs=1)
        for d in docs:
            writer.add_document(doc_id=d.doc_id, title=d.title, keywords=" ".join(d.keywords), body=d.body)
        writer.commit(optimize=True)

    def open(self, folder: Path) -> None:
        from whoosh import index, scoring

        self.searcher = index.open_dir(str(folder)).searcher(weighting=scoring.BM25F())

    def search(self, terms, limit):
        from whoosh.query import Or, Term

        query = Or([Term(f, t) for t in terms for f in FIELDS])
        return [h["doc_id"] for h in self.searcher.search(query, limit=limit, terms=False)]


class Tantivy:
    name = "tantivy 0.27 (BM25)"

    def build(self, folder: Path, docs) -> None:
        from search.lexical import LexicalIndex

        ix = LexicalIndex(folder)
        ix.swap_to(ix.bulk_build(docs))

    def open(self, folder: Path) -> None:
        from search.lexical import LexicalIndex

        self.ix = LexicalIndex(folder)

    def search(self, terms, limit):
        return [d for d, _ in self.ix.search(terms, limit)]


class FTS5:
    name = f"SQLite {sqlite3.sqlite_version} FTS5 (bm25)"

    def build(self, folder: Path, docs) -> None:
        from search.analysis import analyze

        folder.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(folder / "fts.sqlite3")
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, title, keywords, body, "
                    "tokenize = 'unicode61 remove_diacritics 0')")
        batch = []
        for d in docs:
            batch.append((d.doc_id, " ".join(analyze(d.title)), " ".join(analyze(" ".join(d.keywords))),
                          " ".join(analyze(d.body))))
            if len(batch) >= 5000:
                con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", batch)
                batch = []
        con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", batch)
        con.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        con.commit()
        con.close()

    def open(self, folder: Path) -> None:
        self.con = sqlite3.connect(folder / "fts.sqlite3", check_same_thread=False)

    def search(self, terms, limit):
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        rows = self.con.execute("SELECT doc_id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 0, 1.5, 1.5, 1.0) "
                                "LIMIT ?", (match, limit)).fetchall()
        return [r[0] for r in rows]


ENGINES = {"whoosh": Whoosh, "tantivy": Tantivy, "fts5": FTS5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--engines", default="whoosh,tantivy,fts5")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", default=None, help="keep built indexes (and their build times) here")
    args = parser.parse_args()
    print(f"# {' '.join(sys.argv)}\n# {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} cores, {load()}")

    from core import create_app
    from core.cli import init_db
    from core.contentio import load_content
    from search.analysis import terms as analyze_query
    from search.normalize import Normalizer
    from search.registry import load_documents, providers
    from search_latency import synthetic_documents

    work = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="layanan-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SEARCH_ENCODER": "none", "SEARCH_DRAIN": "manual",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'content.sqlite3'}",
                      "SEARCH_DIR": str(work / "app-search")})
    with app.app_context():
        if not (work / "content-loaded").exists():
            init_db()
            load_content(ROOT / "content")
            (work / "content-loaded").touch()
        real = {}
        for p in providers():
            real.update({k: v for k, v in load_documents([f"{p.kind}:{r}" for r in p.all_refs()]).items() if v})
    services = [d for d in real.values() if d.kind == "service"]
    questions = [d for d in real.values() if d.kind == "question"]
    normalizer = Normalizer.from_file()
    dev = yaml.safe_load((ROOT / "bench" / "data" / "dev_queries.yml").read_text(encoding="utf-8"))
    query_terms = [analyze_query(normalizer.normalize(q["q"]))[:32] for q in dev]

    results = {}
    for key in [e for e in args.engines.split(",") if e]:
        engine = ENGINES[key]()
        row = {"name": engine.name}
        # official pages: quality
        sfolder = work / key / "service"
        if not (sfolder / "built.json").exists():
            engine.build(sfolder / "index", iter(services))
            (sfolder / "built.json").write_text("{}")
        engine.open(sfolder / "index")
        ranks = []
        for q, terms in zip(dev, query_terms):
            slugs = [d.partition(":")[2] for d in engine.search(terms, 10)]
            ranks.append(slugs.index(q["service"]) + 1 if q["service"] in slugs else None)
        n = len(ranks)
        row["R@1"] = sum(r == 1 for r in ranks) / n
        row["R@5"] = sum(1 for r in ranks if r and r <= 5) / n
        row["MRR@10"] = sum(1 / r for r in ranks if r and r <= 10) / n
        # threads: build, size, latency
        tfolder = work / key / f"threads-{args.threads}"
        meta_file = tfolder / "built.json"
        if meta_file.exists():
            meta = json.loads(meta_file.read_text())
        else:
            started = time.perf_counter()
            engine.build(tfolder / "index", iter([*questions, *synthetic_documents(real, args.threads)]))
            meta = {"build_s": time.perf_counter() - started, "load": load()}
            meta_file.write_text(json.dumps(meta))
        row["build_s"], row["build_load"] = meta["build_s"], meta["load"]
        row["size_mb"] = size_mb(tfolder / "index")
        engine.open(tfolder / "index")
        for terms in query_terms[:5]:
            engine.search(terms, 50)
        times, tops = [], []
        for _ in range(args.repeat):
            tops = []
            for terms in query_terms:
                t = time.perf_counter()
                hits = engine.search(terms, 50)
                times.append((time.perf_counter() - t) * 1000)
                tops.append(hits[:10])
        row["p50"], row["p95"], row["max"] = statistics.median(times), pct(times, 95), max(times)
        row["tops"], row["search_load"] = tops, load()
        results[key] = row
        print(f"{key}: built in {row['build_s']:.1f} s ({row['build_load']}), searched ({row['search_load']}): "
              f"p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms; official pages MRR@10 {row['MRR@10']:.3f}", flush=True)

    print(f"\n{args.threads} synthetic + {len(questions)} real threads; {len(dev)} dev queries x {args.repeat}, "
          "top 50, whole index (no time budget)")
    print(f"{'engine':34} {'index s':>8} {'MB':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'top10=whoosh':>12}"
          f"   {'R@1':>5} {'R@5':>5} {'MRR@10':>6}")
    ref = results.get("whoosh")
    for key, r in results.items():
        agree = "-"
        if ref is not None:
            overlaps = [len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(r["tops"], ref["tops"]) if b]
            agree = f"{statistics.mean(overlaps):.3f}"
        print(f"{r['name']:34} {r['build_s']:8.1f} {r['size_mb']:7.0f} {r['p50']:7.1f} {r['p95']:7.1f} "
              f"{r['max']:7.1f} {agree:>12}   {r['R@1']:5.3f} {r['R@5']:5.3f} {r['MRR@10']:6.3f}")
    print("(top10=whoosh: mean share of whoosh's top 10 threads that the engine also returns in its top 10;"
          " quality columns: official pages, lexical only, normalization map on)")


if __name__ == "__main__":
    main()
