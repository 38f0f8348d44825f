"""Fusion and abstention: one small fitted model instead of equal-weight RRF.

Every candidate found by either list (lexical BM25F per kind, dense e5)
gets a handful of *scale-free* features, so the fit survives a change of
lexical engine (another BM25 implementation has other score scales) and
of corpus size:

==============  ===========================================================
lex_norm        lexical score / best lexical score in the same list (0..1)
lex_rr          1 / lexical rank (0 when the list did not return it)
dense_cos       cosine of the best chunk (same encoder as the fit)
dense_rr        1 / dense rank (0 when not in the dense list)
cover           share of the query's words (after the normalization map:
                one group per word or phrase) found anywhere in the document
title_cover     the same share in the title and keywords only
idf_cover       ``cover`` with each word group weighted by its inverse
                document frequency over both indexes (rare words count more)
name_sim        character-trigram Dice similarity between the query (as
                typed and as normalized) and the closest of the title and
                the keywords
is_service      official page (1) or community thread (0)
short_service   ``is_service`` times how short the query is
                (``search.analysis.shortness``: 0.73 for one word, 0 from
                12): a lookup of a word or two wants the official page
prior_rr        1 / rank in an earlier retrieval stage's order, when the
                caller re-ranks such a list (``search(prior=...)``); 0 in
                ordinary searches, so it never changes them
*_thread        the same value as ``lex_norm``, ``lex_rr``, ``dense_cos``,
                ``dense_rr``, ``cover``, ``title_cover``, ``idf_cover`` or
                ``name_sim`` for a community thread, 0 for an official page:
                a thread's own weights, so a question matched against other
                questions can lean on the dense list while official pages
                keep the title and keyword evidence (stop 32)
==============  ===========================================================

A linear **ranker** ``score = w . x`` orders the candidates (fitted by a
listwise softmax loss, cross-validated, in bench/search_fit.py).  Two
logistic **calibrators** give a result's confidence: P(the query is one our
content answers), from the best candidate's score, cosine and coverage
(``top_idf_cover``: the same coverage with each word group weighted by its
inverse document frequency, so "renew *singapore* passport" misses its
rarest word; ``top_name_sim``: character-trigram similarity between the
query and the best title or keyword), ``known`` (the share of the query's
word groups found in any index at all: gibberish and unknown topics score
low), ``english`` (the share of English words, so an English query is not
read as unknown), ``foreign`` (1 when the query names another country,
from ``data/foreign_places.txt``, that the best page does not mention:
"visa jepang", "renew singapore passport"), ``foreign_subject`` (the same,
but only for a country that owns the thing asked about: "renew *singapore*
passport", not "paspor hilang *di* malaysia"), ``brand`` (the query names a
company from ``data/brands.txt`` that the best page does not: "lupa pin
mobile banking bri"), ``top_miss_idf`` (the rarest word group some index
knows that the best page lacks), ``unexplained`` (the share of the query's
words that are Indonesian dictionary words no index holds: "harga
*cabai*", a subject none of our pages mention; search.suggest.unexplained),
``top_central`` (how characteristic of the best page the query's most
characteristic word for it is: its tf-idf weight in the page over the
page's heaviest term, 0 outside the page's 50 heaviest: "*paspor* rusak"
on the passport page is central, "*kode pos*" on a tax-account page is
not), ``central_share`` (the mean of that centrality over all the query's
word groups: "cara *blokir* kartu atm" has one word central to the
vehicle-sale page and the thing asked about outside it; stop 29),
``outside`` (the query vector's cosine to the closest of ~660 topics our
pages do not answer, ``data/outside_topics.txt``: "blokir kartu atm bank",
"ganti kartu sim hp yang hilang"; read beside ``top_cos``, a query closer
to one of them than to any page is likely not ours; stop 30),
``outside_cover`` (its lexical side, for lexical-only search too: the
share of the query's word groups found in the one outside topic that holds
the most of them; "resep rendang" 1.0; stop 31),
``cos_margin`` / ``cos_median`` (best cosine minus the
fifth best / the median of the top 20: a query about something we cover
has a clear winner, an unrelated one a flat list) and ``domain`` (a linear
probe on the query's e5 vector, in-domain against unrelated tuning queries:
offered by the fit, not chosen by the committed one,
bench/results/search_quality_domain_probe.md); and P(this candidate is
an answer), from its score's gap to the best.  A query whose first
probability is below the calibrated **bar** gets no result at all (the
search abstains); otherwise the candidates whose second probability clears
``result_bar`` are shown.  A result's ``confidence`` is the product.  A
third bar on the first probability, ``sure_bar`` (at least ``bar``), tells
a confident answer from a hedged one: a query between the two bars gets
its results under "we are not sure these answer your question"
(``Response.certain`` is false; see bench/search_fit.py, HEDGE_SHARE).
There is a second model for lexical-only search (encoder unavailable) with
the dense features left out.

The fitted parameters live in ``search/data/fusion.json``; without that
file the defaults below reproduce plain RRF ranking and never abstain.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Candidate features that also get a thread-only copy (``<name>_thread``).
THREAD_FEATURES = ("lex_norm", "lex_rr", "dense_cos", "dense_rr", "cover", "title_cover", "idf_cover", "name_sim")
FEATURES = ("lex_norm", "lex_rr", "dense_cos", "dense_rr", "cover", "title_cover", "is_service", "prior_rr",
            "idf_cover", "name_sim", "short_service", *(f"{f}_thread" for f in THREAD_FEATURES))
DENSE_FEATURES = frozenset({"dense_cos", "dense_rr", "dense_cos_thread", "dense_rr_thread"})
QUERY_FEATURES = ("top_score", "top_cos", "top_cover", "known", "cos_margin", "cos_median", "top_idf_cover",
                  "top_name_sim", "english", "foreign", "foreign_subject", "brand", "top_miss_idf", "domain",
                  "unexplained", "top_central", "length", "long_partial", "central_share", "outside",
                  "outside_cover")
DEFAULT_PATH = Path(__file__).with_name("data") / "fusion.json"


def add_thread_features(x: dict[str, float], is_service: bool) -> dict[str, float]:
    """``x`` with the thread-only copies of THREAD_FEATURES (0 for an
    official page; a feature missing from ``x`` is missing from the copy)."""
    for name in THREAD_FEATURES:
        if name in x:
            x[f"{name}_thread"] = 0.0 if is_service else x[name]
    return x


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass
class Model:
    """One ranker + calibrator pair ("hybrid" or "lexical").

    ``calibration["query"]``: logistic weights (and "bias") over the query
    features: the best candidate's score, cosine and coverage, and the share
    of known words; gives P(some page answers this query).
    ``calibration["result"]``: logistic weights over ``gap`` (score minus the
    best score) and "bias"; gives P(this candidate answers it | some does).
    A result's confidence is the product."""
    weights: dict[str, float]
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)
    bar: float = 0.0          # on P(some page answers this query): below it the search abstains
    result_bar: float = 0.0   # on P(this candidate answers it | some does): below it a result is cut
    # On P(some page answers this query): from ``bar`` up to here the results
    # are shown hedged ("we are not sure"); None = no hedged band (= bar).
    sure_bar: float | None = None
    # Linear probe on the query's e5 vector: {"weights": [dim floats], "bias": b, "encoder": name}.
    domain: dict | None = None
    # A query none of whose words any index holds (``known`` 0: "jjjj kkkk",
    # "lorem ipsum") is never answered; set by the fit only when no in-domain
    # tuning query is such a query (a typo still gets its correction's results).
    known_gate: bool = False

    @property
    def confident_bar(self) -> float:
        """The bar on P(answered) above which results are shown as a
        confident answer (never below ``bar``)."""
        return max(self.bar, self.sure_bar if self.sure_bar is not None else self.bar)

    def domain_logit(self, vector, encoder: str | None = None) -> float:
        """The ``domain`` query feature: w . q + b, how much the query's
        vector looks like the questions our content answers rather than
        unrelated ones (0 without a probe, a vector, or the same encoder)."""
        probe = self.domain
        if (not probe or vector is None or len(vector) != len(probe["weights"])
                or probe.get("encoder") not in (None, encoder)):
            return 0.0
        w = probe.get("_array")
        if w is None:
            w = probe["_array"] = np.asarray(probe["weights"], dtype=np.float64)
        return float(w @ np.asarray(vector, dtype=np.float64) + probe["bias"])

    def score(self, x: dict[str, float]) -> float:
        return sum(w * x.get(name, 0.0) for name, w in self.weights.items())

    def query_probability(self, q: dict[str, float]) -> float:
        weights = self.calibration.get("query")
        if not weights:
            return 1.0
        return sigmoid(weights.get("bias", 0.0) + sum(w * q.get(k, 0.0) for k, w in weights.items() if k != "bias"))

    def result_probability(self, gap: float) -> float:
        weights = self.calibration.get("result")
        if not weights:
            return 1.0
        return sigmoid(weights.get("bias", 0.0) + weights.get("gap", 0.0) * gap)

    def to_json(self) -> dict:
        out = {"weights": self.weights, "calibration": self.calibration, "bar": self.bar,
               "result_bar": self.result_bar}
        if self.sure_bar is not None:
            out["sure_bar"] = self.sure_bar
        if self.known_gate:
            out["known_gate"] = True
        if self.domain:
            out["domain"] = {**{k: v for k, v in self.domain.items() if not k.startswith("_")},
                             "weights": [round(float(w), 6) for w in self.domain["weights"]]}
        return out

    @classmethod
    def from_json(cls, data: dict) -> Model:
        weights = {k: float(v) for k, v in (data.get("weights") or {}).items() if k in FEATURES}
        raw = data.get("calibration") or {}
        calibration = {}
        if raw.get("query"):
            calibration["query"] = {k: float(v) for k, v in raw["query"].items() if k in QUERY_FEATURES or k == "bias"}
        if raw.get("result"):
            calibration["result"] = {k: float(v) for k, v in raw["result"].items() if k in ("gap", "bias")}
        domain = data.get("domain")
        if domain:
            domain = {**domain, "weights": [float(w) for w in domain["weights"]], "bias": float(domain["bias"])}
        sure_bar = data.get("sure_bar")
        return cls(weights, calibration, float(data.get("bar", 0.0)), float(data.get("result_bar", 0.0)),
                   float(sure_bar) if sure_bar is not None else None, domain or None,
                   bool(data.get("known_gate", False)))


# Plain reciprocal-rank-like behaviour and no abstention: used only when no
# fitted file exists (a fresh checkout before `bench/search_quality.py fit`).
DEFAULT_HYBRID = Model({"lex_rr": 1.0, "dense_rr": 1.0, "is_service": 0.01})
DEFAULT_LEXICAL = Model({"lex_rr": 1.0, "is_service": 0.01})


@dataclass
class FusionParams:
    hybrid: Model
    lexical: Model
    encoder: str | None = None
    info: dict = field(default_factory=dict)

    def model(self, mode: str) -> Model:
        return self.hybrid if mode == "hybrid" else self.lexical

    @classmethod
    def load(cls, path: str | Path | None = None) -> FusionParams:
        path = Path(path or DEFAULT_PATH)
        if not path.exists():
            return cls(DEFAULT_HYBRID, DEFAULT_LEXICAL, None, {"source": "built-in defaults"})
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(Model.from_json(data["hybrid"]), Model.from_json(data["lexical"]), data.get("encoder"),
                   data.get("info") or {})

    def to_json(self) -> dict:
        return {"encoder": self.encoder, "hybrid": self.hybrid.to_json(), "lexical": self.lexical.to_json(),
                "info": self.info}

    def save(self, path: str | Path | None = None) -> None:
        Path(path or DEFAULT_PATH).write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
