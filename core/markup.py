"""Markdown to safe HTML.  Everything user- or content-authored that becomes
HTML goes through :func:`render_markdown`, once, when it is written.

Order matters: Python-Markdown passes raw HTML, ``javascript:`` links and
``data:`` URIs straight through, so sanitising happens *after* rendering.
The sanitiser is nh3 (Rust ammonia); bleach, the other candidate, has been
unmaintained since 2026-06 and gets no security fixes.  Keeping the choice
behind this one function means it can be swapped in one place.
"""
from __future__ import annotations

import html as html_lib
import re
import unicodedata

import markdown
import nh3

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
    if attr != "href":
        return value
    # Drop invisible format characters (zero-width spaces hide "javascript:").
    cleaned = "".join(ch for ch in value if unicodedata.category(ch) != "Cf").strip()
    if cleaned.startswith(("//", "\\", "/\\")):
        return None  # protocol-relative: points off-site while looking local
    if any(ch.isspace() or ord(ch) < 32 for ch in cleaned):
        return None  # "java script:" and friends: never a real link
    if _SCHEME.match(cleaned) and not _SAFE_SCHEME.match(cleaned):
        return None
    return cleaned


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


def render_markdown(text: str) -> str:
    """Render Markdown source to sanitised HTML (safe to mark as Markup)."""
    text = (text or "").replace("\r\n", "\n").replace("\x00", "")
    html = markdown.markdown(text, extensions=["tables", "sane_lists", "fenced_code"], output_format="html")
    return sanitize_html(html)


def plain_text(html: str) -> str:
    """Strip tags, for snippets and search."""
    text = html_lib.unescape(nh3.clean(html, tags=set()))
    return re.sub(r"\s+", " ", text).strip()
