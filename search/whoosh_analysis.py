"""The whoosh analyzers of search/analysis.py (bench/search_engines.py
compares whoosh with tantivy on the same terms).  whoosh pickles
``search.analysis.IndonesianStemFilter`` into an index schema, and that
name still resolves: search.analysis hands these out on first use."""
from __future__ import annotations

from whoosh.analysis import Composable, Filter, LowercaseFilter, RegexTokenizer, StopFilter

from .analysis import STOPWORDS, TOKEN_PATTERN, stem


class IndonesianStemFilter(Filter):
    def __call__(self, tokens):
        for t in tokens:
            t.text = stem(t.text)
            yield t


IndonesianStemFilter.__module__ = "search.analysis"  # the name whoosh pickles


def indonesian_analyzer() -> Composable:
    return (RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter()
            | StopFilter(stoplist=STOPWORDS, minsize=1) | IndonesianStemFilter())


def spelling_analyzer() -> Composable:
    """Unstemmed words, for "did you mean" suggestions."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOPWORDS, minsize=3)
