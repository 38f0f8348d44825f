"""Snippets with the query's words marked, built from stored text."""
from __future__ import annotations

import re
from html import escape

from .analysis import stem

_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")


def make_snippet(text: str, query_terms: set[str], width: int = 220) -> str:
    """HTML-escaped excerpt of ``text`` around the densest run of matches,
    with matching words in <mark>."""
    text = " ".join(text.split())
    if not text:
        return ""
    lowered = text.lower()
    if len(lowered) != len(text):  # rare case-folding that changes length: fall back to per-word lowering
        positions = [m for m in _WORD.finditer(text) if stem(m.group().lower()) in query_terms]
    else:
        hit: dict[str, bool] = {}
        positions = []
        for m in _WORD.finditer(lowered):
            word = m.group()
            found = hit.get(word)
            if found is None:
                found = hit[word] = stem(word) in query_terms
            if found:
                positions.append(m)
    start = 0
    if positions:
        # The window of ``width`` characters starting at a match that holds
        # the most matches (two pointers over the sorted starts: linear).
        starts = [m.start() for m in positions]
        best, best_count, j = starts[0], 0, 0
        for i, first in enumerate(starts):
            while j < len(starts) and starts[j] < first + width:
                j += 1
            if j - i > best_count:
                best, best_count = first, j - i
        start = max(0, best - 40)
        if start:
            space = text.rfind(" ", 0, start)
            start = space + 1 if space != -1 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    out, cursor = [], start
    for m in positions:
        if m.start() < start or m.end() > end:
            continue
        out.append(escape(text[cursor:m.start()]))
        out.append(f"<mark>{escape(text[m.start():m.end()])}</mark>")
        cursor = m.end()
    out.append(escape(text[cursor:end]))
    return ("… " if start else "") + "".join(out) + (" …" if end < len(text) else "")
