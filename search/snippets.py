"""Snippets with the query's words marked, built from stored text."""
from __future__ import annotations

import re
from html import escape

from .analysis import TOKEN_PATTERN, WORD_CHARS, stem

_WORD = re.compile(TOKEN_PATTERN)
_IS_CHAR = re.compile(f"[{WORD_CHARS}]").match


def make_snippet(text: str, query_terms: set[str], width: int = 220) -> str:
    """HTML-escaped excerpt of ``text`` around the densest run of matches,
    with matching words in <mark>."""
    text = " ".join(text.split())
    if not text:
        return ""
    lowered = text.lower()
    if len(lowered) != len(text):  # rare case-folding that changes length: fall back to per-word lowering
        positions = [m.span() for m in _WORD.finditer(text) if stem(m.group().lower()) in query_terms]
    else:
        # Stem each distinct word once, then find the matching words with
        # str.find (long official pages hold thousands of words).
        positions = []
        for w in set(_WORD.findall(lowered)):
            if stem(w) not in query_terms:
                continue
            at = lowered.find(w)
            while at != -1:
                end = at + len(w)
                if (at == 0 or not _IS_CHAR(lowered[at - 1])) and (end == len(lowered) or not _IS_CHAR(lowered[end])):
                    positions.append((at, end))
                at = lowered.find(w, end)
        positions.sort()
    start = 0
    if positions:
        # The window of ``width`` characters starting at a match that holds
        # the most matches (two pointers over the sorted starts: linear).
        starts = [a for a, _ in positions]
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
    for a, b in positions:
        if a < start or b > end:
            continue
        out.append(escape(text[cursor:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        cursor = b
    out.append(escape(text[cursor:end]))
    return ("… " if start else "") + "".join(out) + (" …" if end < len(text) else "")
