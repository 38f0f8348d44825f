"""Query normalization from an editable map (search/data/normalization.yml).

User text is capped in length, Unicode-normalized, stripped of invisible
format characters, then rewritten phrase by phrase: "ktp ilang gmn" becomes
"ktp-el ktp hilang bagaimana".
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from .analysis import words

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 32
DEFAULT_MAP = Path(__file__).with_name("data") / "normalization.yml"


def clean_query(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")[:MAX_QUERY_CHARS]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in " \t")
    return " ".join(text.split()[:MAX_QUERY_WORDS])


@dataclass
class Normalizer:
    phrases: dict[tuple[str, ...], str]
    longest: int
    _words: frozenset | None = None

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> Normalizer:
        data = yaml.safe_load(Path(path or DEFAULT_MAP).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of phrase: replacement")
        phrases = {}
        for key, value in data.items():
            k = tuple(words(str(key)))
            if k:
                phrases[k] = str(value)
        return cls(phrases, max((len(k) for k in phrases), default=1))

    def __len__(self) -> int:
        return len(self.phrases)

    def segments(self, text: str) -> list[tuple[str, str]]:
        """The query as (what the citizen typed, what it means) pairs: one per
        map entry that matched (longest phrase first) or per unmatched word."""
        tokens = words(clean_query(text))
        out, i = [], 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                replacement = self.phrases.get(tuple(tokens[i:i + n]))
                if replacement is not None:
                    out.append((" ".join(tokens[i:i + n]), replacement))
                    i += n
                    break
            else:
                out.append((tokens[i], tokens[i]))
                i += 1
        return out

    def normalize(self, text: str) -> str:
        return meaning(self.segments(text))

    def for_encoder(self, text: str) -> str:
        return encoder_text(self.segments(text))

    def vocabulary(self) -> frozenset[str]:
        """Every word of every phrase the map reads."""
        if self._words is None:
            self._words = frozenset(w for key in self.phrases for w in key)
        return self._words

    def knows(self, word: str) -> bool:
        """Whether the map has an entry containing this word (in any phrase)."""
        return word in self.vocabulary()


def meaning(segments: list[tuple[str, str]]) -> str:
    """What the lexical side searches: every segment's meaning."""
    return " ".join(replacement for _, replacement in segments)


def encoder_text(segments: list[tuple[str, str]]) -> str:
    """The query as the dense encoder reads it: a map entry that only adds
    words to what was typed (the English glossary, "ktp: ktp-el ktp") keeps
    the typed words, since the multilingual encoder reads English and common
    abbreviations itself, and every added word costs encoding time; an entry
    that rewrites ("gmn" -> "bagaimana") gives its meaning.  ``meaning``
    (what the lexical side searches) keeps both."""
    out = []
    for source, replacement in segments:
        typed = words(source)
        out.append(source if typed and set(typed) <= set(words(replacement)) else replacement)
    return " ".join(out)
