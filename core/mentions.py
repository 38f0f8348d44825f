"""``@username`` mentions in cooked (rendered, sanitised) post HTML.

Mentions are read from what readers see: text inside code spans and code
blocks is skipped, as are link targets and e-mail addresses
(``budi@contoh.id`` is no mention).  At most :data:`MAX_MENTIONS` distinct
names per text, so a post cannot notify a crowd."""
from __future__ import annotations

import html
import re

MAX_MENTIONS = 10

_CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
# Usernames: 3-40 of letters, digits, "_", "." and "-" (core.auth.forms).
_MENTION = re.compile(r"(?<![\w@.\-/])@([A-Za-z0-9_][A-Za-z0-9_.\-]{1,39})")


def mentioned_names(cooked_html: str, limit: int = MAX_MENTIONS) -> list[str]:
    """Distinct usernames mentioned in ``cooked_html`` (lower-cased, in order
    of appearance, at most ``limit``)."""
    if "@" not in cooked_html:
        return []
    text = html.unescape(_TAG.sub(" ", _CODE.sub(" ", cooked_html[:200_000])))
    names: list[str] = []
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".-").lower()
        if len(name) >= 3 and name not in names:
            names.append(name)
            if len(names) >= limit:
                break
    return names
