"""Best bets ("pilihan utama"): for a short query that names a family of
services ("ktp", "bpjs", "paspor"), the official page most citizens typing
exactly that need, put first by a knowledge manager (GOV.UK's best bets).

The ranking cannot know that "ktp" alone means a first KTP-el rather than
the page for foreigners: every KTP page holds the word.  A best bet says so
explicitly, for exactly that query (its ``key``: the analyzed words after
the normalization map, ``search.engine.SearchEngine.pin_key``), and
nothing else: "ktp hilang" is ranked as usual.  Bets come from
``content/best_bets.yml`` (reviewed like content, replaced on each load) and
from /kelola/pencarian.  Search asks ``pins`` through
``search.registry.register_pins``; every action checks the ``curate``
capability, runs in one transaction and writes an audit row."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import selectinload

from core.db import write_transaction
from core.extensions import db
from core.i18n import N_
from core.models import User, audit

from .curation import CurationError, _require
from .models import BestBet, Service

QUERY_CHARS = 120
QUERY_WORDS = 6        # a best bet is for a short query; longer ones rarely repeat word for word
PAGES_PER_QUERY = 3    # as many as search shows (search.engine.PINS_PER_QUERY)
NOTE_CHARS = 300
MAX_BETS = 2000        # the whole table; /kelola/pencarian lists them all


@dataclass
class BetEntry:
    """One query of ``content/best_bets.yml`` with its pages, in order, and
    its search key (computed once, when the file is parsed)."""

    query: str
    pages: list[str]
    note: str
    key: str


@lru_cache(maxsize=1)
def _default_normalizer():
    from search.normalize import Normalizer

    return Normalizer.from_file(None)


def key_for(query: str) -> str:
    """The search key of a query: the app's engine's (its normalization
    map), or the bundled map's outside an app (``flask content check``)."""
    if has_app_context() and "search" in current_app.extensions:
        return current_app.extensions["search"].pin_key(query)
    from search.engine import pin_key_for

    return pin_key_for(_default_normalizer(), query)


def clean(query: str) -> str:
    return " ".join((query or "").split()).lower()


def query_problem(query: str) -> str | None:
    """Why a best bet's query is refused (None if it is fine)."""
    if not query:
        return N_("Tulis kata pencarian.")
    if len(query) > QUERY_CHARS:
        return N_("Kata pencarian paling panjang %(n)s karakter.", n=QUERY_CHARS)
    if len(query.split()) > QUERY_WORDS:
        return N_("Pilihan utama untuk pencarian pendek saja: paling banyak %(n)s kata.", n=QUERY_WORDS)
    return None


def pins(key: str) -> list[str]:
    """The search provider: doc ids pinned to a query key, in order."""
    if not has_app_context():
        return []
    try:
        rows = db.session.execute(sa.select(Service.slug).join(BestBet, BestBet.service_id == Service.id)
                                  .where(BestBet.key == key).order_by(BestBet.position, BestBet.id)
                                  .limit(PAGES_PER_QUERY)).scalars().all()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()  # keep the request's session usable (PostgreSQL aborts the transaction)
        raise
    return [f"service:{slug}" for slug in rows]


def all_bets() -> list[BestBet]:
    return db.session.scalars(sa.select(BestBet).options(selectinload(BestBet.service), selectinload(BestBet.created_by))
                              .order_by(BestBet.key, BestBet.position, BestBet.id).limit(MAX_BETS)).all()


def add(user: User, query: str, slug: str, note: str = "") -> BestBet:
    """Pin the page ``slug`` to ``query`` after the pages already pinned to it."""
    _require(user)
    query, note = clean(query), " ".join((note or "").split())
    problem = query_problem(query)
    if problem:
        raise CurationError(problem, {"query": problem})
    if len(note) > NOTE_CHARS:
        raise CurationError(N_("Catatan paling panjang %(n)s karakter.", n=NOTE_CHARS))
    key = key_for(query)
    if not key:
        raise CurationError(N_("Kata pencarian ini tidak berisi kata yang dicari mesin pencari."),
                            {"query": N_("Kata pencarian ini tidak berisi kata yang dicari mesin pencari.")})
    with write_transaction():
        service = db.session.scalar(sa.select(Service).where(Service.slug == (slug or "").strip()))
        if service is None:
            raise CurationError(N_("Layanan tidak ditemukan."), {"slug": N_("Layanan tidak ditemukan.")})
        rows = db.session.scalars(sa.select(BestBet).where(BestBet.key == key)).all()
        if any(r.service_id == service.id for r in rows):
            raise CurationError(N_("Halaman ini sudah menjadi pilihan utama untuk pencarian ini."))
        if len(rows) >= PAGES_PER_QUERY:
            raise CurationError(N_("Satu pencarian paling banyak punya %(n)s pilihan utama.", n=PAGES_PER_QUERY))
        if db.session.scalar(sa.select(sa.func.count(BestBet.id))) >= MAX_BETS:
            raise CurationError(N_("Sudah ada %(n)s pilihan utama; hapus yang tidak terpakai dulu.", n=MAX_BETS))
        bet = BestBet(query=query, key=key, service_id=service.id, note=note, source="kelola", created_by_id=user.id,
                      position=max((r.position for r in rows), default=-1) + 1)
        db.session.add(bet)
        db.session.flush()
        audit(user, "best_bet.add", "service", service.id, query=query, key=key)
    return bet


def remove(user: User, bet_id: int) -> BestBet:
    _require(user)
    with write_transaction():
        bet = db.session.get(BestBet, bet_id)
        if bet is None:
            raise CurationError(N_("Pilihan utama tidak ditemukan."))
        db.session.delete(bet)
        audit(user, "best_bet.remove", "service", bet.service_id, query=bet.query, key=bet.key, source=bet.source)
    return bet


def replace_from_content(entries: list[BetEntry], slugs: dict[str, int]) -> int:
    """Make the content file's bets the stored ones, under the keys computed
    when the file was parsed; rows added at /kelola stay and are re-keyed
    with the current normalization map.  The caller holds the write
    transaction; ``slugs``: slug -> service id."""
    db.session.execute(sa.delete(BestBet).where(BestBet.source == "content"))
    db.session.flush()
    seen: set[tuple[str, int]] = set()
    count = 0
    for entry in entries:
        for position, slug in enumerate(entry.pages):
            service_id = slugs.get(slug)
            if service_id is None or (entry.key, service_id) in seen:
                continue
            seen.add((entry.key, service_id))
            db.session.add(BestBet(query=entry.query, key=entry.key, service_id=service_id, position=position,
                                   note=entry.note, source="content"))
            count += 1
    db.session.flush()
    for bet in db.session.scalars(sa.select(BestBet).where(BestBet.source != "content")):
        key = key_for(bet.query)
        if (key, bet.service_id) in seen or not key:
            db.session.delete(bet)  # the file now says the same thing (or the map made it empty)
        else:
            bet.key = key
            seen.add((key, bet.service_id))
    return count


def parse_entries(data, rel: str, known_slugs: set[str], problems: list) -> list[BetEntry]:
    """``content/best_bets.yml``: a list of ``{queries: [...], pages: [...],
    note: "..."}``.  Problems go to ``problems`` (``ContentProblem``)."""
    from core.contentio import ContentProblem

    out: list[BetEntry] = []
    if data is None:
        return out
    if not isinstance(data, list):
        problems.append(ContentProblem(rel, "file", "harus berupa daftar entri (queries, pages, note)"))
        return out
    seen: dict[str, str] = {}
    keys: dict[str, str] = {}  # search key -> the query that has it
    for i, raw in enumerate(data):
        where = f"[{i}]"
        if not isinstance(raw, dict):
            problems.append(ContentProblem(rel, where, "entri harus berisi queries, pages dan note"))
            continue
        unknown = set(raw) - {"queries", "pages", "note"}
        if unknown:
            problems.append(ContentProblem(rel, where, f"kolom tidak dikenal: {', '.join(sorted(map(str, unknown)))}"))
        queries, pages, note = raw.get("queries"), raw.get("pages"), raw.get("note")
        if not isinstance(queries, list) or not queries or not all(isinstance(q, str) for q in queries):
            problems.append(ContentProblem(rel, f"{where}.queries", "wajib: daftar kata pencarian"))
            continue
        if (not isinstance(pages, list) or not pages or len(pages) > PAGES_PER_QUERY
                or not all(isinstance(p, str) for p in pages)):
            problems.append(ContentProblem(rel, f"{where}.pages", f"wajib: 1-{PAGES_PER_QUERY} slug layanan"))
            continue
        if not isinstance(note, str) or not note.strip() or len(note) > NOTE_CHARS:
            problems.append(ContentProblem(rel, f"{where}.note",
                                           f"wajib: satu kalimat alasan (<= {NOTE_CHARS} karakter)"))
            continue
        bad = [p for p in pages if p not in known_slugs]
        if bad:
            problems.append(ContentProblem(rel, f"{where}.pages", f"layanan tidak dikenal: {', '.join(bad)}"))
            continue
        if len(set(pages)) != len(pages):
            problems.append(ContentProblem(rel, f"{where}.pages", "slug yang sama disebut dua kali"))
            continue
        for j, query in enumerate(queries):
            q = clean(query)
            problem = query_problem(q)
            if problem:
                problems.append(ContentProblem(rel, f"{where}.queries[{j}]", str(problem)))
                continue
            if q in seen:
                problems.append(ContentProblem(rel, f"{where}.queries[{j}]", f"'{q}' sudah ada di {seen[q]}"))
                continue
            key = key_for(q)
            if not key:
                problems.append(ContentProblem(rel, f"{where}.queries[{j}]", f"'{q}' tidak berisi kata yang dicari "
                                                                            "mesin pencari"))
                continue
            if key in keys and seen[keys[key]] != where:
                problems.append(ContentProblem(rel, f"{where}.queries[{j}]", f"'{q}' sama dengan '{keys[key]}' "
                                                                            f"({seen[keys[key]]}) bagi mesin pencari "
                                                                            "(peta normalisasi); satukan entrinya"))
                continue
            seen[q] = where
            keys.setdefault(key, q)
            out.append(BetEntry(q, list(pages), " ".join(note.split()), key))
    return out
