""""Did you mean", offered only when it helps.

A word is a candidate for correction only if nothing knows it: not the
index, not the normalization map (any word of any phrase), not the English
word list (``data/english_words.txt.gz``), not Sastrawi's dictionary of
Indonesian root words (a real word such as "selamat", "menyetir" or "liga"
is never "corrected" into a look-alike the index happens to hold), and it
is at least four letters long.  Its correction comes from the index's
own spelling field (and must not be an English-only word there) or else
from the English words of the normalization map (the map reads them), and
must be a plausible typo (one edit, two for words of nine letters or
more).  Then the corrected query is searched,
and the suggestion is shown only when it has clearly more evidence than
what the citizen typed: the corrected query clears the confidence bar, its
confidence is at least ``FLOOR`` and beats the original's by at least
``MARGIN`` (or the original abstained).  "prakerja" is never turned into "pekerja", and "lost id card"
is never turned into "lost id care".  The corrected query reuses the typed
query's dense list (no second encoding).
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from .analysis import STOPWORDS, is_indonesian_word, stem, words

MARGIN = 0.15
FLOOR = 0.5   # the corrected query must be more likely answered than not
# Showing a correction's results instead of the typed query's (see
# SearchEngine.search) needs every corrected word, as typed and as
# corrected, to have at least this many letters: one edit to a word of four
# is a different word as often as a typo ("pdam", the water utility, is one
# edit from the abbreviation "pdm"; a tuning query, stop 27).
AUTOCORRECT_LETTERS = 5
ENGLISH = Path(__file__).with_name("data") / "english_words.txt.gz"


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    try:
        with gzip.open(ENGLISH, "rt", encoding="utf-8") as fh:
            return frozenset(line.strip() for line in fh if line.strip() and not line.startswith("#"))
    except OSError:
        return frozenset()


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def unseen(engine, word: str) -> bool:
    """A word of four letters or more that nothing of ours reads: no index
    holds its stem, the normalization map does not know it, and it is not
    an English word."""
    return (len(word) >= 4 and word not in STOPWORDS and not word.isdigit()
            and not engine.normalizer.knows(word) and word not in english_words()
            and not any(ix.has_term(stem(word)) for ix in engine.lexicals.values()))


def _unknown(engine, word: str) -> bool:
    """A candidate for correction: unseen and not an Indonesian word either."""
    return unseen(engine, word) and not is_indonesian_word(word)


def unexplained(engine, query_words: list[str]) -> float:
    """The share of the query's words that are real Indonesian words (in
    Sastrawi's dictionary) and yet unseen: a subject none of our pages or
    threads mention ("harga *cabai*", "ramalan *cuaca*"), not a typo or an
    English word.  A feature the abstention calibrator is offered."""
    if not query_words:
        return 0.0
    return sum(1 for w in query_words if is_indonesian_word(w) and unseen(engine, w)) / len(query_words)


def _deletes(word: str, depth: int) -> set[str]:
    """The word with up to ``depth`` letters deleted (itself included)."""
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _english_map_words(normalizer) -> tuple[dict[str, set[str]], int]:
    """The English words of the normalization map (four letters or more),
    indexed by every form with up to two letters deleted: a word within two
    edits of one of them shares such a form with it (symmetric deletion), so
    a lookup costs a few dozen dictionary reads, not an edit distance per
    word of the map; and the longest such word.  Built once per map."""
    built = getattr(normalizer, "_english_typo_index", None)
    if built is None:
        english = english_words()
        index: dict[str, set[str]] = {}
        longest = 0
        for known in normalizer.vocabulary():
            if len(known) >= 4 and known in english:
                longest = max(longest, len(known))
                for form in _deletes(known, 2):
                    index.setdefault(form, set()).add(known)
        built = normalizer._english_typo_index = (index, longest)
    return built


def correction(engine, word: str) -> str | None:
    """The closest plausible correction of an unknown word (one edit, two
    from nine letters): the index's spelling suggestion, unless it is an
    English word; or else an English word of the normalization map, which
    the map reads ("birth certificat" -> "certificate", "lisence" ->
    "licence").  Only English words of the map: its Indonesian keys are
    mostly casual forms, and an unknown casual word is more often another
    casual form than a typo ("pindahin" is not "pindahan").  Two map words
    equally close: none."""
    english = english_words()
    allowed = 2 if len(word) >= 9 else 1
    for kind in ("service", "question"):
        suggestion = engine.lexicals[kind].suggest(word)
        if not suggestion or suggestion == word or suggestion in english:
            continue
        if edit_distance(word, suggestion) <= allowed:
            return suggestion
    index, longest = _english_map_words(engine.normalizer)
    if len(word) > longest + allowed:  # nothing that long is within reach (and a pasted blob costs nothing)
        return None
    near: dict[int, set[str]] = {}
    seen: set[str] = {word}
    for form in _deletes(word, allowed):
        for known in index.get(form, ()):
            if known not in seen:
                seen.add(known)
                distance = edit_distance(word, known)
                if distance <= allowed:
                    near.setdefault(distance, set()).add(known)
    if near:
        closest = near[min(near)]
        if len(closest) == 1:
            return next(iter(closest))
    return None


def did_you_mean(engine, cleaned: str, response, kinds: list[str] | None = None, k: int = 1):
    """The suggestion for the typed query ``cleaned`` (whose search is
    ``response``) and the suggestion's own search with ``k`` results, which
    SearchEngine.search shows instead when it is certain and the typed one
    is not; (None, None) when there is nothing to suggest."""
    changed, out = False, []
    for word in words(cleaned):
        fixed = correction(engine, word) if _unknown(engine, word) else None
        out.append(fixed or word)
        changed = changed or fixed is not None
    if not changed:
        return None, None
    suggestion = " ".join(out)
    # The correction changes a word or two: its dense side is the typed
    # query's (e5 reads through typos), so only the lexical side is run
    # again and the second search costs no second encoding.
    alternative = engine.search(suggestion, k=k, kinds=kinds, mode=response.mode, suggest=False,
                                dense_hits=response.dense_hits, query_vector=response.query_vector)
    if alternative.abstained or alternative.confidence < FLOOR:
        return None, None
    if response.abstained or alternative.confidence >= response.confidence + MARGIN:
        return suggestion, alternative
    return None, None


def safe_to_apply(typed: str, suggestion: str) -> bool:
    """Whether a suggestion may replace the typed query's results: only
    words changed, each long enough (``AUTOCORRECT_LETTERS``) on both sides."""
    a, b = words(typed), words(suggestion)
    if len(a) != len(b):
        return False
    changed = [(x, y) for x, y in zip(a, b) if x != y]
    return bool(changed) and all(min(len(x), len(y)) >= AUTOCORRECT_LETTERS for x, y in changed)
