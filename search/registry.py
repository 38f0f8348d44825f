"""Document providers: kb/ and forum/ register how to turn their rows into
search documents, so search never imports them."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from .analysis import terms
from .documents import Document


@dataclass
class Provider:
    kind: str
    load: Callable[[list[str]], dict[str, Document | None]]  # refs -> document, or None if not searchable
    all_refs: Callable[[], Iterable[str]]
    # (viewer, ref) -> may this viewer see it now?  Asked for every result,
    # because an index on another host may lag behind a moderator's action.
    visible: Callable[[object, str], bool] | None = None
    # (viewer, refs) -> the refs this viewer may see: one query for a page of results
    visible_many: Callable[[object, list[str]], set[str]] | None = None


_PROVIDERS: dict[str, Provider] = {}
# Best bets: a query key (``SearchEngine.pin_key``) -> the doc ids a knowledge
# manager pinned to the top for exactly that query, in order.  kb registers it.
_PINS: Callable[[str], list[str]] | None = None
# Referrals: a topic key (search.engine.Topic.key) -> who handles that topic
# our pages do not answer, as dicts (agency, name, website, text, text_en,
# sources, last_reviewed).  kb registers it.
_REFERRALS: Callable[[str], list[dict]] | None = None


def register(kind: str, load, all_refs, visible=None, visible_many=None) -> None:
    _PROVIDERS[kind] = Provider(kind, load, all_refs, visible, visible_many)


def register_pins(lookup: Callable[[str], list[str]]) -> None:
    global _PINS
    _PINS = lookup


def register_referrals(lookup: Callable[[str], list[dict]]) -> None:
    global _REFERRALS
    _REFERRALS = lookup


def referrals(topic_key: str, query: str = "") -> list[dict]:
    """Who handles a topic our pages do not answer ([] when nobody is on
    record, no provider is registered, or the lookup fails: a referral is
    extra help, and its failure must not take a search or a page down).

    With ``query``, the referrals sharing more of its words (analyzed, in
    either language's sentence or the agency's name) come first, the file's
    order breaking ties: "hak cipta lagu" puts DJKI's copyright sentence
    before BPOM's, which the file lists first for the same topic."""
    if _REFERRALS is None or not topic_key:
        return []
    try:
        found = list(_REFERRALS(topic_key))
    except Exception:
        logging.getLogger("layanan.search").exception("referrals for topic %s failed", topic_key)
        return []
    wanted = set(terms(query)) if query and len(found) > 1 else set()
    if not wanted:
        return found

    def shared(r: dict) -> int:
        return len(wanted & _referral_terms(" ".join(str(r.get(k) or "") for k in ("name", "text", "text_en"))))

    return sorted(found, key=shared, reverse=True)  # stable: ties keep the file's order


@lru_cache(maxsize=256)
def _referral_terms(text: str) -> frozenset[str]:
    """A referral's analyzed words: its text changes only when content is
    loaded, so it is analyzed once per process, not on every search."""
    return frozenset(terms(text))


def pinned(key: str) -> list[str]:
    """The doc ids pinned to a query key, best first ([] when nothing is
    pinned or no provider is registered)."""
    return list(_PINS(key)) if _PINS is not None and key else []


def visible_to(viewer, doc_id: str) -> bool:
    kind, ref = split_doc_id(doc_id)
    provider = _PROVIDERS.get(kind)
    return provider is None or provider.visible is None or provider.visible(viewer, ref)


def filter_visible(viewer, results: list) -> list:
    """Search results (anything with ``doc_id``) the viewer may see, asking
    each provider once for all its results where it can."""
    allowed: dict[str, set[str]] = {}
    by_kind: dict[str, list[str]] = {}
    for r in results:
        kind, ref = split_doc_id(r.doc_id)
        by_kind.setdefault(kind, []).append(ref)
    for kind, refs in by_kind.items():
        provider = _PROVIDERS.get(kind)
        if provider is not None and provider.visible_many is not None:
            allowed[kind] = provider.visible_many(viewer, refs)
    out = []
    for r in results:
        kind, ref = split_doc_id(r.doc_id)
        if (ref in allowed[kind]) if kind in allowed else visible_to(viewer, r.doc_id):
            out.append(r)
    return out


def providers() -> list[Provider]:
    return list(_PROVIDERS.values())


def split_doc_id(doc_id: str) -> tuple[str, str]:
    kind, _, ref = doc_id.partition(":")
    return kind, ref


def load_documents(doc_ids: list[str]) -> dict[str, Document | None]:
    """Current state of each document; None means delete it from the index."""
    by_kind: dict[str, list[str]] = {}
    for doc_id in doc_ids:
        kind, ref = split_doc_id(doc_id)
        by_kind.setdefault(kind, []).append(ref)
    out: dict[str, Document | None] = {}
    for kind, refs in by_kind.items():
        provider = _PROVIDERS.get(kind)
        found = provider.load(refs) if provider else {}
        for ref in refs:
            out[f"{kind}:{ref}"] = found.get(ref)
    return out
