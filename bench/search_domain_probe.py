"""How well the ``domain`` probe separates in-domain from out-of-domain
queries, out of fold (bench/results/search_quality_domain_probe.md).

The probe is a logistic regression on the query's e5 vector (see
``search_fit.cross_fit_domain``).  Reads the tuning records cached by the
last fitting run of bench/search_quality.py (no held-out data) and prints
the out-of-fold AUC per kind of in-domain query, for one fold per kind
(what the calibrator's bar is chosen with) and for random folds.

    .venv/bin/python bench/search_domain_probe.py
"""
from __future__ import annotations

import pickle
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import datasets  # noqa: E402
import search_fit  # noqa: E402
import search_quality  # noqa: E402,F401  (the pickled records hold its Query objects)


def random_folds(records: list[dict], n: int = 5) -> list[list[dict]]:
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    return [shuffled[i::n] for i in range(n)]


def main() -> None:
    sys.modules["__main__"].Query = search_quality.Query
    with open(datasets.CACHE / "tuning-records.pkl", "rb") as fh:
        records = [r for r in pickle.load(fh)["citizen"] if r.get("qvec") is not None]
    kinds = sorted({r["query"].kind for r in records if r["query"].relevant})
    print(f"{len(records)} tuning queries with a vector; AUC of the out-of-fold probe logit, in-domain (per kind) "
          f"against all out-of-domain and gibberish queries")
    print(f"{'folds':16} {'L2':>5} {'all':>6} " + " ".join(f"{k:>7}" for k in kinds))
    for name, make in (("one per kind", search_fit._kind_folds), ("random (5)", random_folds)):
        folds = make(records)
        for lam in search_fit.DOMAIN_LAMBDAS:
            logit = search_fit._oof_logits(records, folds, lam)
            neg = np.array([logit[id(r)] for r in records if not r["query"].relevant])

            def pos(kind=None):
                return np.array([logit[id(r)] for r in records
                                 if r["query"].relevant and (kind is None or r["query"].kind == kind)])
            print(f"{name:16} {lam:5} {search_fit.auc(pos(), neg):6.3f} "
                  + " ".join(f"{search_fit.auc(pos(k), neg):7.3f}" for k in kinds))


if __name__ == "__main__":
    main()
