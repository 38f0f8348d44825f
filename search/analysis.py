"""Indonesian text analysis for the lexical index.

Lowercase word tokens, a small hand-picked stopword list (Sastrawi's 809-word
list drops domain words such as *baru*, *panjang*, *lama*, *luar*), Sastrawi
stemming, and the Porter stemmer for tokens Sastrawi does not know (mostly
English: "passport" -> "passport", "renewal" -> "renew").

The index engine (tantivy, see search/lexical.py) never analyzes text
itself: :func:`analyze` turns text into terms here in Python and the engine
receives them whitespace-joined.  The whoosh analyzers below are kept for
bench/search_engines.py, which compares engines on the same terms (and
whoosh pickles the analyzer class into its schema, so it stays importable
at this path).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from whoosh.analysis import Composable, Filter, LowercaseFilter, RegexTokenizer, StopFilter
from whoosh.lang.porter import stem as porter_stem

STOPWORDS = frozenset("""
yang dan di ke dari untuk dengan atau ini itu pada adalah oleh dalam tentang sebagai agar supaya
saya aku gue gw kami kita anda kamu dia mereka beliau
apa apakah bagaimana gimana kenapa mengapa berapa kapan dimana mana siapa
bisa dapat mau ingin harus perlu sudah udah telah belum akan sedang masih juga saja aja lagi
sih dong deh kok lah kah pun ya yah nih tuh
tolong mohon minta tanya nanya bantu
cara caranya gmn gimn
the a an of to for in on at and or is are be do does did how what which who when where why can
i my me we our you your it its this that with from by as
""".split())

WORD_CHARS = "0-9A-Za-z\u00c0-\u024f"  # a regex character class body
TOKEN_PATTERN = f"[{WORD_CHARS}]+"


@lru_cache(maxsize=1)
def _sastrawi():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stemmer = StemmerFactory().create_stemmer()
    return stemmer, stemmer.delegatedStemmer.dictionary


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    if len(word) <= 3 or word.isdigit():
        return word
    stemmer, dictionary = _sastrawi()
    root = stemmer.stem(word)
    if root == word and not dictionary.contains(word) and word.isascii():
        return porter_stem(word)
    # Sastrawi turns some signs into spaces ("1×24" -> "1 24"): one word stays one term.
    return root if root and " " not in root else word


def is_indonesian_word(word: str) -> bool:
    """Whether ``word`` is an Indonesian root word or an affixed form of one
    (Sastrawi's dictionary of about 30,000 roots)."""
    if len(word) <= 3 or word.isdigit():
        return False
    dictionary = _sastrawi()[1]
    return dictionary.contains(word) or dictionary.contains(stem(word))  # stem() is cached


class IndonesianStemFilter(Filter):
    def __call__(self, tokens):
        for t in tokens:
            t.text = stem(t.text)
            yield t


def indonesian_analyzer() -> Composable:
    return (RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter()
            | StopFilter(stoplist=STOPWORDS, minsize=1) | IndonesianStemFilter())


def spelling_analyzer() -> Composable:
    """Unstemmed words, for "did you mean" suggestions."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(stoplist=STOPWORDS, minsize=3)


_WORDS = re.compile(TOKEN_PATTERN)  # used on lowercased text


def words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def meaningful(text: str) -> bool:
    """Whether a query says anything to answer: a query of single
    characters ("x", "p", "1", "a b") never gets an official page."""
    return any(len(w) >= 2 for w in words(text))


def content_words(text: str) -> list[str]:
    """The words of a query that say what it is about: no stopwords, no bare numbers."""
    return [w for w in words(text) if w not in STOPWORDS and not w.isdigit()]


# Longer queries count as this many words: the calibration queries reach 14,
# and a pasted paragraph must not earn more confidence for its length alone.
LENGTH_CAP = 12


def query_length(content: list[str]) -> float:
    """The ``length`` query feature: log(1 + content words), capped.  The
    calibrator reads it through ``long_partial`` (length times the share of
    the words the best page lacks): a long query that matches a page in part
    describes a situation ("kaki ketimpa mesin di pabrik, rs minta bayar
    duluan"); a short one that matches in part names something the page is
    not about ("harga cabai"); a short one matched in full is a lookup."""
    return math.log1p(min(len(content), LENGTH_CAP))


def shortness(length: float) -> float:
    """1 - ``query_length`` over its cap: about 0.73 for one word, 0.46 for
    three, 0 from 12 on.  The ranker reads it on official pages
    (``short_service``): a query of a word or two is a lookup, and the
    official page is its answer more often than a thread that happens to
    hold the same words ("skck online daftar", "akte kematian ayah")."""
    return max(0.0, 1.0 - length / math.log1p(LENGTH_CAP))


def long_partial(length: float, cover: float) -> float:
    """The ``long_partial`` query feature: ``query_length`` times the share
    of the query's words the best page lacks (its ``cover``)."""
    return length * (1.0 - cover)


def terms(text: str) -> list[str]:
    """The analyzed terms of a text, in order, without duplicates."""
    out: list[str] = []
    for word in words(text):
        if word in STOPWORDS:
            continue
        term = stem(word)
        if term not in out:
            out.append(term)
    return out


def analyze(text: str) -> list[str]:
    """Every analyzed term of a text, in order, with repeats (for indexing:
    term frequencies and field lengths come from this list)."""
    return [stem(w) for w in _WORDS.findall(text.lower()) if w not in STOPWORDS]


def spelling_words(text: str) -> list[str]:
    """Unstemmed words for "did you mean" (as :func:`spelling_analyzer`)."""
    return [w for w in _WORDS.findall(text.lower()) if len(w) >= 3 and w not in STOPWORDS]
