"""Would a non-linear abstention calibrator separate better?  (tuning data only)

    .venv/bin/python -m pip install scikit-learn     # optional; not a project dependency
    .venv/bin/python bench/search_calibrator_models.py

The query calibrator (search/fusion.py) is a logistic regression over a
dozen query features.  This compares it with a logistic regression over
every query feature the engine computes and with gradient-boosted trees
(scikit-learn's HistGradientBoostingClassifier) on the same features, on
the cached citizen TUNING records (bench/search_quality.py writes them;
the held-out queries are never read).  The committed hybrid ranker orders
the candidates; only the calibrator changes.

Two validations, as the fit uses (bench/search_fit.py):
- out of fold: one fold per kind of in-domain query, out-of-domain and
  gibberish queries dealt round-robin;
- forward: fit on the query files written before each later file, apply to it.

Printed per model: ROC AUC (in-domain vs out-of-domain/gibberish) and the
share of out-of-domain and gibberish queries refused at the bar that loses
0%, 1% and 5% of the in-domain queries the ranker answers (relevant page in
the top 5).  Writes nothing.
"""
from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import datasets  # noqa: E402
import search_fit as sf  # noqa: E402
import search_quality  # noqa: E402

from search.fusion import QUERY_FEATURES, FusionParams  # noqa: E402


def auc(p: np.ndarray, y: np.ndarray) -> float:
    return sf.auc(p[y == 1], p[y == 0])


def main() -> None:
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        raise SystemExit("scikit-learn is not installed: .venv/bin/python -m pip install scikit-learn")
    sys.modules["__main__"].Query = search_quality.Query  # the pickle names the class from the writing script
    with open(datasets.CACHE / "tuning-records.pkl", "rb") as fh:
        records = [r for r in pickle.load(fh)["citizen"] if sf.says_something(r)]
    sf.cross_fit_domain(records)  # the domain probe's out-of-fold logit, as the fit computes it
    model = FusionParams.load().hybrid
    committed = [k for k in model.calibration["query"] if k != "bias"]
    X, y, answered, kind, source = [], [], [], [], []
    for rec in records:
        qf, scores = sf.query_features(model, rec)
        if not scores:
            continue
        X.append([qf[f] for f in QUERY_FEATURES])
        y.append(1 if rec["query"].relevant else 0)
        order = sf.apply(model, rec)[0]
        answered.append(bool(rec["query"].relevant) and bool(sf.first_rank(order, rec["query"].relevant, 5)))
        kind.append(rec["query"].kind)
        source.append(sf._source(rec))
    X, y, answered = np.array(X), np.array(y), np.array(answered)
    kind, source = np.array(kind), np.array(source)
    kinds = sorted(set(kind[y == 1]))
    fold, negatives = np.zeros(len(y), int), 0
    for i in range(len(y)):
        if y[i]:
            fold[i] = kinds.index(kind[i])
        else:
            fold[i], negatives = negatives % len(kinds), negatives + 1

    def logistic(columns):
        def fit_predict(train, test):
            w, b = sf.fit_logistic(X[train][:, columns], y[train].astype(float), 1e-3)
            return 1 / (1 + np.exp(-(X[test][:, columns] @ w + b)))
        return fit_predict

    def trees(columns):
        def fit_predict(train, test):
            clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=8,
                                                 min_samples_leaf=20, l2_regularization=1.0, random_state=0)
            clf.fit(X[train][:, columns], y[train])
            return clf.predict_proba(X[test][:, columns])[:, 1]
        return fit_predict

    cur = [QUERY_FEATURES.index(f) for f in committed]
    every = list(range(len(QUERY_FEATURES)))
    models = {"logistic, committed features": logistic(cur), "logistic, every feature": logistic(every),
              "boosted trees, committed features": trees(cur), "boosted trees, every feature": trees(every)}
    print(f"{len(y)} citizen tuning queries: {int(y.sum())} in-domain ({int(answered.sum())} answered in the top 5), "
          f"{int((y == 0).sum())} out-of-domain or gibberish")
    print(f"committed calibrator features: {', '.join(committed)}\n")
    print("| model | validation | AUC | refused at 0% loss | at 1% | at 5% |")
    print("|---|---|---|---|---|---|")
    for name, fit_predict in models.items():
        oof = np.zeros(len(y))
        for f in range(len(kinds)):
            test = fold == f
            oof[test] = fit_predict(~test, test)
        forward = np.full(len(y), np.nan)
        for later in sf.FORWARD_SITTINGS:
            train = np.isin(source, sf.SITTINGS[:sf.SITTINGS.index(later)])
            test = source == later
            if test.any() and train.any():
                forward[test] = fit_predict(train, test)
        for label, p in (("out of fold (kinds)", oof), ("forward (later files)", forward)):
            mask = ~np.isnan(p)
            kept = np.sort(p[mask & answered])
            refused = []
            for loss in (0.0, 0.01, 0.05):
                k = int(loss * len(kept))
                bar = kept[k] if k < len(kept) else 1.0
                refused.append(float((p[mask & (y == 0)] < bar).mean()))
            print(f"| {name} | {label} | {auc(p[mask], y[mask]):.4f} | "
                  + " | ".join(f"{r:.3f}" for r in refused) + " |")


if __name__ == "__main__":
    main()
