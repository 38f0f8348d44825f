"""Markdown to safe HTML.  Everything user- or content-authored that becomes
HTML goes through :func:`render_markdown`, once, when it is written.

The renderer is cmark-gfm (``cmarkgfm``, GitHub's C implementation of
CommonMark with tables, strikethrough and autolinks), chosen by measurement
(``bench/markdown_renderers.py``, ``bench/results/markdown_renderers.txt``):
on cmark's pathological-input corpus at the 30,000-character body limit its
worst case is about 11 ms, where Python-Markdown took over 10 s on 11 of 36
cases (145 s on ``"[" * 30000``), mistune 9 s on nested emphasis and
markdown-it-py up to 0.7 s.  cmark is linear by design and tested against
exactly those inputs upstream.

Sanitising still happens *after* rendering, whatever the renderer does with
raw HTML: the sanitiser is nh3 (Rust ammonia); bleach has been unmaintained
since 2026-06 and gets no security fixes.  Keeping both choices behind this
one function means either can be swapped in one place.
"""
from __future__ import annotations

import html as html_lib
import re
import unicodedata
from urllib.parse import unquote

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th",
    "td", "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.I)
_SAFE_SCHEME = re.compile(r"^(https?|mailto):", re.I)


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """Links in user content: absolute http(s) and mailto links, paths on
    this site ("/layanan/skck") and fragments; nothing else survives."""
    if attr != "href":
        return value
    cleaned = value.strip()
    # Judge the URL as a browser would read it: percent-escapes decoded,
    # invisible format characters (zero-width spaces hide "javascript:") gone.
    decoded = unquote(cleaned)
    if any(unicodedata.category(ch) == "Cf" for ch in decoded):
        return None
    if not cleaned or any(ch.isspace() or ord(ch) < 32 for ch in decoded):
        return None  # cmark empties unsafe links; "java script:" is never a real link
    if cleaned.startswith(("//", "\\", "/\\")) or decoded.startswith(("//", "\\", "/\\")):
        return None  # protocol-relative: points off-site while looking local
    if _SCHEME.match(decoded):
        return cleaned if _SAFE_SCHEME.match(decoded) else None
    return cleaned if cleaned.startswith(("/", "#")) else None


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener",
        attribute_filter=_filter_attribute,
        strip_comments=True,
    )


_CMARK_OPTIONS = Options.CMARK_OPT_VALIDATE_UTF8
MAX_NESTING = 16
_NEST_TAG = re.compile(r"<(/?)(blockquote|ul|ol|li)\b[^>]*>")


def _limit_nesting(html: str, limit: int = MAX_NESTING) -> str:
    """Drop block containers nested deeper than ``limit`` (their text stays).

    cmark renders 15,000 nested block quotes in 5 ms, but sanitising that
    depth takes the HTML parser most of a second; no real post nests more
    than a few levels.  cmark's output is well-formed, so one pass with a
    stack is exact."""
    if html.count("<blockquote") + html.count("<li") < limit:
        return html
    out, depth, skipped, last = [], 0, [], 0
    for m in _NEST_TAG.finditer(html):
        closing = m.group(1) == "/"
        if not closing:
            keep = depth < limit
            skipped.append(not keep)
            depth += 1
        else:
            depth -= 1
            keep = not (skipped.pop() if skipped else False)
        if not keep:
            out.append(html[last:m.start()])
            last = m.end()
    out.append(html[last:])
    return "".join(out)


def clean_text(text: str | None) -> str:
    """Text as every renderer and database accepts it: Windows line ends
    made Unix, NULs dropped, lone surrogates (which cannot be UTF-8)
    replaced with U+FFFD."""
    text = (text or "").replace("\r\n", "\n").replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def render_markdown(text: str) -> str:
    """Render Markdown source to sanitised HTML (safe to mark as Markup).

    Linear in the length of ``text``; callers cap the length first."""
    html = cmarkgfm.github_flavored_markdown_to_html(clean_text(text), options=_CMARK_OPTIONS)
    return sanitize_html(_limit_nesting(html))


def plain_text(html: str) -> str:
    """Strip tags, for snippets and search."""
    text = html_lib.unescape(nh3.clean(html, tags=set()))
    return re.sub(r"\s+", " ", text).strip()
