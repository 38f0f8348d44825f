"""Would a stronger L2 on the thread-only ranking features help?
(issue 13, stop 33; bench/results/search_ranker_l2.md)

Stop 32's ranker weighs eight thread-only copies of its features
(``<name>_thread``) under one L2 strength, chosen by cross-validation; that
strength (1.0 in hybrid mode) also shrank the base features' weights.  This
script offers a separate strength for the copies (the base strength times
1, 3, 10, 30 or 100) and prints, per pair, the fit's own cross-validation
criterion (the mean over sets of best-answer MRR@10, SemEval MAP, Quora
MRR@10: what ``search_fit.cv_ranker`` maximizes) and, for reading, the
citizen queries' first-relevant MRR@10 and R@1 in the same folds.  Reads the
tuning records cached by the last fitting run of bench/search_quality.py
(no held-out data); needs the committed search/data/fusion.json.

    .venv/bin/python bench/search_ranker_l2.py [--mode hybrid|lexical]
"""
from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import datasets  # noqa: E402
import search_fit as sf  # noqa: E402
import search_quality  # noqa: E402  (the pickled records hold its Query objects)

FACTORS = (1, 3, 10, 30, 100)


def first_relevant(records: list[dict], features: list[str], w: np.ndarray) -> tuple[float, float]:
    """MRR@10 and R@1 of the first relevant document (the issue's measure)."""
    rr, at1 = [], []
    for rec in records:
        q = rec["query"]
        if not q.relevant:
            continue
        r = sf.first_rank(sf.ranked_order(rec, features, w), q.relevant)
        rr.append(1 / r if r else 0.0)
        at1.append(1.0 if r == 1 else 0.0)
    return statistics.mean(rr), statistics.mean(at1)


def cross_validate(sets: dict[str, list[dict]], features: list[str], lam: np.ndarray) -> tuple[dict, float, float]:
    """``search_fit.cv_ranker``'s folds and criterion for one (per-feature) L2."""
    per_set = {name: [] for name in sets}
    mrr, at1 = [], []
    for f in range(sf.FOLDS):
        groups, held = [], {}
        for name, records in sets.items():
            folds = sf._folds(records)
            train = [r for g, fold in enumerate(folds) if g != f for r in fold]
            n = sum(1 for r in train if r["query"].relevant) or 1
            groups += sf._groups(train, features, 1.0 / n, sf.SPREAD.get(name, False))
            held[name] = folds[f]
        w = sf.fit_ranker(groups, len(features), lam)
        for name, recs in held.items():
            per_set[name].append(sf.ranker_metric(recs, features, w, name))
        a, b = first_relevant(held["citizen"], features, w)
        mrr.append(a)
        at1.append(b)
    return {name: statistics.mean(v) for name, v in per_set.items()}, statistics.mean(mrr), statistics.mean(at1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("hybrid", "lexical"), default="hybrid")
    args = parser.parse_args()
    sys.modules["__main__"].Query = search_quality.Query
    with open(datasets.CACHE / "tuning-records.pkl", "rb") as fh:
        tuning = pickle.load(fh)
    fitted = json.loads((ROOT / "search" / "data" / "fusion.json").read_text())
    features = list(fitted[args.mode]["weights"])
    committed = fitted["info"]["lambda"][args.mode]
    copies = np.array([1.0 if f.endswith("_thread") else 0.0 for f in features])
    if not copies.any():
        sys.exit("the committed ranker has no thread-only features")
    sets = ({n: tuning[n] for n in ("citizen", "semeval", "quora")} if args.mode == "hybrid"
            else {"citizen": tuning["citizen-lexical"]})
    print(f"{args.mode}: {len(features)} features, {int(copies.sum())} thread-only; committed L2 {committed}")
    print("| L2 | thread copies | CV criterion | " + " | ".join(sets) + " | citizen first-relevant MRR@10 | R@1 |")
    print("|---|---|---|" + "---|" * len(sets) + "---|---|")
    best = None
    for lam in sf.LAMBDAS:
        for factor in FACTORS:
            row, mrr, at1 = cross_validate(sets, features, lam * (1 - copies) + lam * factor * copies)
            criterion = statistics.mean(row.values())
            best = max(best or (criterion, lam, factor), (criterion, lam, factor))
            print(f"| {lam} | x{factor} | {criterion:.4f} | " + " | ".join(f"{v:.4f}" for v in row.values())
                  + f" | {mrr:.4f} | {at1:.4f} |", flush=True)
    print(f"\nbest by the fit's criterion: L2 {best[1]}, thread copies x{best[2]} ({best[0]:.4f})")


if __name__ == "__main__":
    main()
