"""What gets indexed: a generic document with titled sections."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

MAX_CHUNK_CHARS = 1200  # multilingual-e5-small reads 512 tokens; Indonesian is ~1.6 chars/token... keep well under


@dataclass
class Section:
    heading: str
    text: str


@dataclass
class Document:
    doc_id: str            # "service:skck", "question:42"
    kind: str              # "service" | "question"
    title: str
    url: str
    sections: list[Section] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)   # aliases, tags
    extra: dict = field(default_factory=dict)           # shown in results (e.g. answer_count)

    def __post_init__(self):
        # Keywords are stored with the document's metadata too, so ranking can
        # tell a match in the title or keywords from one deep in the body.
        if self.keywords and "keywords" not in self.extra:
            self.extra = {**self.extra, "keywords": list(self.keywords)}

    @property
    def body(self) -> str:
        return "\n".join(f"{s.heading}\n{s.text}" for s in self.sections)

    def chunks(self) -> list[str]:
        """Text passages for the dense encoder, one per section, each
        prefixed with the title so a section is never read without knowing
        which service it belongs to; the keywords go with the first.  There
        is no title-only passage: a page (or a thread) must not win on its
        title alone over a sibling whose text answers the query."""
        head = self.title + (" (" + ", ".join(self.keywords) + ")" if self.keywords else "")
        out = []
        for i, s in enumerate(self.sections):
            prefix = head if i == 0 else self.title
            text = f"{prefix}. {s.heading}: {s.text}".strip()
            while text:
                out.append(text[:MAX_CHUNK_CHARS])
                text = text[MAX_CHUNK_CHARS:]
                if text:
                    text = f"{self.title}. {s.heading}: {text}"
        return out or [head]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
