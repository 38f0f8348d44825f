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

    def normalize(self, text: str) -> str:
        tokens = words(clean_query(text))
        out, i = [], 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                replacement = self.phrases.get(tuple(tokens[i:i + n]))
                if replacement is not None:
                    out.append(replacement)
                    i += n
                    break
            else:
                out.append(tokens[i])
                i += 1
        return " ".join(out)
