"""Lexical search latency alone on an index folder that bench/search_latency.py
built (e.g. the 1M-thread one while its vector index is still building):
both kinds, top 50, whole index, the dev queries; plus one spelling lookup.

    .venv/bin/python bench/lexical_latency.py /tmp/lat-1m/search [--repeat 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("search_dir")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from search.analysis import terms
    from search.lexical import LexicalIndex
    from search.normalize import Normalizer

    load = lambda: "load %.2f %.2f %.2f" % os.getloadavg()  # noqa: E731
    print(f"# {' '.join(sys.argv)}\n# {time.strftime('%Y-%m-%d %H:%M:%S')}, {load()}")
    ixs = {k: LexicalIndex(Path(args.search_dir) / k) for k in ("service", "question")}
    print("documents:", {k: ix.doc_count() for k, ix in ixs.items()})
    normalizer = Normalizer.from_file()
    queries = [terms(normalizer.normalize(q["q"]))[:32]
               for q in yaml.safe_load((ROOT / "bench" / "data" / "dev_queries.yml").read_text(encoding="utf-8"))]
    for t in queries[:10]:
        for ix in ixs.values():
            ix.search(t, 50)
    times = []
    for _ in range(args.repeat):
        for t in queries:
            started = time.perf_counter()
            for ix in ixs.values():
                ix.search(t, 50)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"lexical, both kinds, top 50: p50 {statistics.median(times):.1f} ms, p95 "
          f"{times[int(round(0.95 * (len(times) - 1)))]:.1f} ms, max {times[-1]:.1f} ms over {len(times)} ({load()})")
    started = time.perf_counter()
    found = ixs["question"].spelling_candidates("sertifkat")
    print(f"spelling_candidates('sertifkat'): {found[:2]} in {(time.perf_counter() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
