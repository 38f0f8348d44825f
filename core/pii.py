"""Personal data citizens paste into posts, searches and forms: NIK and KK
numbers, NPWP, BPJS card numbers, phone numbers, e-mail addresses
(UU 27/2022 PDP).

Two entry points:

* :func:`redact` for plain text (titles, tags, comments of forms, search
  queries, flag notes): the text NFKC-normalized, invisible format
  characters dropped, personal data replaced by a label.
* :func:`protect_markdown` for Markdown sources: personal data is judged on
  the text *as readers see it* (HTML entities decoded, tags, comments and
  emphasis markers removed, so ``3171<!-- -->2345...``, ``3171**2345**...``
  and ``&#51;171...`` are seen as the number they render to), and the source
  span that renders to it is replaced.  :func:`find_in_html` re-checks the
  rendered HTML as a last line.

NIK and KK share a shape: 16 digits, the 7th-12th being a date (DDMMYY, with
40 added to the day for women).  Checking that date keeps 16-digit tracking
numbers and amounts from being redacted.

Every pattern is linear in the length of the text (each is anchored so a
match can only start at the beginning of a run, and quantifiers are bounded
or possessive); callers also cap the text before calling.  The published
test vectors are in ``tests/data/pii_vectors.yml``.
"""
from __future__ import annotations

import html as html_lib
import re
from bisect import bisect_right
import unicodedata

from .i18n import N_

LABELS = {"nik": "[NIK/KK disamarkan]", "npwp": "[NPWP disamarkan]", "bpjs": "[nomor BPJS disamarkan]",
          "phone": "[nomor HP disamarkan]", "email": "[email disamarkan]"}
KIND_NAMES = {"nik": "NIK/KK", "npwp": "NPWP", "bpjs": N_("nomor kartu BPJS"), "phone": N_("nomor HP"),
              "email": N_("email")}

_SEP = r"[ .\-]"
# 15-digit NPWP, formatted (12.345.678.9-012.345) or not.
_NPWP = re.compile(rf"(?<![\d.])\d{{2}}{_SEP}?\d{{3}}{_SEP}?\d{{3}}{_SEP}?\d{_SEP}?\d{{3}}{_SEP}?\d{{3}}(?![\d])")
_SIXTEEN = re.compile(rf"(?<![\d.])(?:\d{_SEP}?){{15}}\d(?!\d)")
# A 13-digit number next to the words people use for their BPJS/KIS card.
_BPJS = re.compile(r"(?i)(?<![\w])(?:bpjs|kis|jkn|no\.?\s?kartu|nomor\s+kartu)\D{0,24}?(?<!\d)(\d{13})(?!\d)")
# Indonesian mobile numbers: 08.., +62 8.., 62 8.., with spaces, dots,
# dashes or brackets: "(0812) 3456-7890", "+62 (812) 3456 7890".
_PHONE = re.compile(rf"(?<![\w+])(?:\(?(?:\+62|62)\)?{_SEP}?\(?8|\(?0{_SEP}?8)\d{{1,2}}\)?(?:{_SEP}?\d){{6,10}}(?!\d)")
_AT = r"(?:\s*@\s*|\s*[\[({]\s*(?:at|et)\s*[\])}]\s*)"
_DOT = r"(?:\.|\s*[\[({]\s*(?:dot|titik)\s*[\])}]\s*)"
_EMAIL = re.compile(rf"(?i)(?<![\w.+-])[\w.+-]++{_AT}[\w-]++(?:{_DOT}[\w-]++)+")
# "budi at gmail dot com": only with a real-looking mail domain, to spare prose.
_EMAIL_WORDS = re.compile(r"(?i)(?<![\w.+-])[\w.+-]++\s+(?:at|et)\s+[\w-]++(?:\s+(?:dot|titik)\s+[\w-]++)*"
                          r"\s+(?:dot|titik)\s+(?:com|id|net|org|co|ac|go|sch|info|me)\b")

DETECTORS = (("npwp", _NPWP), ("nik", _SIXTEEN), ("bpjs", _BPJS), ("phone", _PHONE), ("email", _EMAIL),
             ("email", _EMAIL_WORDS))


def _looks_like_nik(digits: str) -> bool:
    day, month = int(digits[6:8]), int(digits[8:10])
    if day > 40:
        day -= 40
    return 1 <= day <= 31 and 1 <= month <= 12 and digits[:2] != "00"


# Every Unicode format character (category Cf: zero-width spaces, direction
# marks, soft hyphens, tag characters...) as of Unicode 14; tests/test_pii.py
# checks this against unicodedata.
_CF_RANGES = ((0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891),
              (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
              (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
              (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F))
_FORMAT = re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in _CF_RANGES) + "]")


def _format_chars() -> re.Pattern:
    return _FORMAT


def _normalize(text: str) -> str:
    # Full-width digits and zero-width characters are common ways PII slips through.
    if text.isascii():
        return text  # NFKC leaves ASCII alone and ASCII has no format characters
    return _format_chars().sub("", unicodedata.normalize("NFKC", text))


def _is_plain(text: str) -> bool:
    """Already what _normalize would make of it (so positions map 1:1)."""
    return text.isascii() or (unicodedata.is_normalized("NFKC", text) and not _format_chars().search(text))


def _matches(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans of personal data in ``text``
    (earlier starts win; at the same start, the detector listed first)."""
    candidates: list[tuple[int, int, int, str]] = []
    for priority, (kind, pattern) in enumerate(DETECTORS):
        for m in pattern.finditer(text):
            start, end = (m.start(1), m.end(1)) if kind == "bpjs" else (m.start(), m.end())
            if kind == "nik" and not _looks_like_nik(re.sub(r"\D", "", m.group())):
                continue
            candidates.append((start, priority, end, kind))
    spans: list[tuple[int, int, str]] = []
    for start, _priority, end, kind in sorted(candidates):
        if spans and start < spans[-1][1]:
            continue
        spans.append((start, end, kind))
    return spans


def _replace(text: str, spans) -> tuple[str, list[str]]:
    found: list[str] = []
    out, last = [], 0
    for start, end, kind in spans:
        out.append(text[last:start])
        out.append(LABELS[kind])
        last = end
        if kind not in found:
            found.append(kind)
    out.append(text[last:])
    return "".join(out), found


def redact(text: str) -> tuple[str, list[str]]:
    """Return the text with personal data replaced, and the kinds found.
    Only the personal data changes: detection reads the text normalized
    (NFKC, format characters dropped), and each hit is mapped back to the
    span of the original text it came from."""
    if not text:
        return text, []
    return _protect(text, markdown=False)


def redact_text(text: str) -> str:
    return redact(text)[0]


def contains_pii(text: str) -> list[str]:
    """Kinds of personal data in plain text (nothing is changed)."""
    return list(dict.fromkeys(kind for _, _, kind in _matches(_normalize(text or ""))))


# ---------------------------------------------------------------- Markdown: judge what readers see

# Source pieces that render to nothing (HTML comments and tags: raw HTML is
# dropped by the renderer; emphasis/code markers; backslash escapes; link
# brackets and link targets), and HTML entities (rendered as one character).
_TOKEN = re.compile(r"<!--.*?(?:-->|$)|</?[A-Za-z][^<>\n]{0,500}>|\]\([^()\n]{0,2000}\)|[*_~`\[\]]"
                    r"|\\(?=[!-/:-@\[-`{-~])|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});", re.S)


class _Skeleton:
    """The visible text of a Markdown source, and where each visible
    character came from.  Kept compact: an ASCII run is one segment that
    maps 1:1; an entity or a normalized non-ASCII character is a segment
    whose characters all map to its whole source span."""

    def __init__(self, source: str, markdown: bool = True):
        self.parts: list[str] = []
        self.starts: list[int] = []      # visible start of each segment
        self.segments: list[tuple[int, int, bool]] = []  # (source start, source end, one-to-one)
        self.length = 0
        last = 0
        for m in (_TOKEN.finditer(source) if markdown else ()):
            if m.start() > last:
                self._plain(source, last, m.start())
            if source[m.start()] == "&":
                self._add(_normalize(html_lib.unescape(m.group())), m.start(), m.end(), False)
            last = m.end()
        if last < len(source):
            self._plain(source, last, len(source))
        self.text = "".join(self.parts)

    def _add(self, text: str, start: int, end: int, one_to_one: bool) -> None:
        if not text:
            return
        self.parts.append(text)
        self.starts.append(self.length)
        self.segments.append((start, end, one_to_one))
        self.length += len(text)

    def _plain(self, source: str, start: int, end: int) -> None:
        segment = source[start:end]
        if _is_plain(segment):  # the common case: nothing to normalize
            self._add(segment, start, end, True)
            return
        run = start
        for k in range(start, end):
            ch = source[k]
            if ch.isascii():
                continue
            if k > run:
                self._add(source[run:k], run, k, True)
            self._add(_normalize(ch), k, k + 1, False)
            run = k + 1
        if run < end:
            self._add(source[run:end], run, end, True)

    def source_span(self, visible_start: int, visible_end: int) -> tuple[int, int]:
        return self._locate(visible_start)[0], self._locate(visible_end - 1)[1]

    def _locate(self, v: int) -> tuple[int, int]:
        i = bisect_right(self.starts, v) - 1
        start, end, one_to_one = self.segments[i]
        if one_to_one:
            src = start + (v - self.starts[i])
            return src, src + 1
        return start, end


def _skeleton(source: str) -> tuple[str, list[tuple[int, int]]]:
    """The visible text and, per visible character, its source span
    (kept for tests and debugging; protect_markdown uses _Skeleton)."""
    sk = _Skeleton(source)
    return sk.text, [sk._locate(v) for v in range(sk.length)]


def protect_markdown(source: str) -> tuple[str, list[str]]:
    """A Markdown source with every span that renders to personal data
    replaced by a label, and the kinds found.  The raw source is checked
    too (link targets are invisible in the rendered text but not in the
    page).  Nothing else in the source changes."""
    if not source:
        return source, []
    return _protect(source, markdown=True)


def _protect(text: str, markdown: bool) -> tuple[str, list[str]]:
    sk = _Skeleton(text, markdown)
    spans = [(*sk.source_span(s, e), kind) for s, e, kind in _matches(sk.text)]
    if markdown:
        spans += _matches(text)
    return _replace(text, _merge(spans))


def _merge(spans):
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(spans):
        if merged and start < merged[-1][1]:
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            merged.append((start, end, kind))
    return merged


def find_in_html(html: str) -> list[str]:
    """Kinds of personal data in rendered, sanitised HTML as a reader sees
    it (tags removed without a space, so inline markup joins digits the
    way a browser shows them; block ends become line breaks)."""
    text = re.sub(r"</(?:p|li|h\d|td|th|pre|blockquote|tr)>|<br\s*/?>", "\n", html or "")
    text = html_lib.unescape(re.sub(r"<[^>]*>", "", text))
    return contains_pii(text)
