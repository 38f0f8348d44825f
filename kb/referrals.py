"""Referrals: where to go with a question our pages do not answer.

Search names the topic of an unanswered question when it is close to one we
know our pages do not cover (a heading of search/data/outside_topics.txt,
``search.engine.Topic``).  A referral says who handles that topic instead:
an agency, one plain sentence in Indonesian and in English ("Contact your
bank first; if it does not resolve your complaint, ..."), and the sources
that back the sentence, like every official claim.  They come from
``content/referrals.yml`` (reviewed like content, replaced on each load) and
search asks for them through ``search.registry.register_referrals``, so the
search package never imports kb."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy.orm import selectinload

from core.extensions import db

from .models import Regulation, TopicReferral
from .record import parse_date, parse_source

TEXT_CHARS = 400
PER_TOPIC = 3          # shown together under one topic; more would bury the first
SOURCES_PER_ENTRY = 4
KEYS = ("topic", "agency", "text", "text_en", "sources", "last_reviewed")


@dataclass
class ReferralEntry:
    topic: str
    agency: str
    text: str
    text_en: str
    sources: list[str]
    last_reviewed: date


def _topic_known(key: str) -> bool:
    from search.engine import outside_topic

    return outside_topic(key) is not None


def parse_entries(data, rel: str, registry, problems: list, *, today: date | None = None) -> list[ReferralEntry]:
    """``content/referrals.yml``: a list of ``{topic, agency, text, text_en,
    sources, last_reviewed}``.  Every field is required: a referral is an
    official claim, so one without a source (or citing a repealed
    regulation, or an unofficial link) is refused, not shown unverified.
    Problems go to ``problems`` (``ContentProblem``)."""
    from core.contentio import ContentProblem

    from .lint import cite_problem
    from .loader import _checked

    today = today or date.today()
    out: list[ReferralEntry] = []
    if data is None:
        return out
    if not isinstance(data, list):
        problems.append(ContentProblem(rel, "file", "harus berupa daftar entri (topic, agency, text, text_en, "
                                                    "sources, last_reviewed)"))
        return out
    seen: set[tuple[str, str]] = set()
    per_topic: dict[str, int] = {}
    for i, raw in enumerate(data):
        where = f"[{i}]"
        if not isinstance(raw, dict):
            problems.append(ContentProblem(rel, where, "entri harus berisi " + ", ".join(KEYS)))
            continue
        unknown = set(raw) - set(KEYS)
        if unknown:
            problems.append(ContentProblem(rel, where, f"kolom tidak dikenal: {', '.join(sorted(map(str, unknown)))}"))
        topic, agency, sources, reviewed = raw.get("topic"), raw.get("agency"), raw.get("sources"), \
            raw.get("last_reviewed")
        if not isinstance(topic, str) or not _topic_known(topic):
            problems.append(ContentProblem(rel, f"{where}.topic", f"topik tidak dikenal: {topic!r} (kunci judul "
                                                                  "## di search/data/outside_topics.txt)"))
            continue
        if not isinstance(agency, str) or agency not in registry.agencies:
            problems.append(ContentProblem(rel, f"{where}.agency", f"instansi tidak dikenal: {agency!r}"))
            continue
        # the same text and date rules as a service page's fields (kb.record.Checker)
        c, flush = _checked(rel, problems)
        texts = {name: c.text(raw.get(name), f"{where}.{name}", max_len=TEXT_CHARS) for name in ("text", "text_en")}
        reviewed = parse_date(c, reviewed, f"{where}.last_reviewed")
        flush()
        if None in texts.values() or reviewed is None:
            continue
        texts = {name: " ".join(value.split()) for name, value in texts.items()}
        if (not isinstance(sources, list) or not sources or len(sources) > SOURCES_PER_ENTRY
                or not all(isinstance(s, str) for s in sources)):
            problems.append(ContentProblem(rel, f"{where}.sources", f"wajib: 1-{SOURCES_PER_ENTRY} sumber (id "
                                                                    "registri peraturan atau URL resmi)"))
            continue
        bad = False
        for j, source in enumerate(sources):
            finding = cite_problem(source, registry)
            if finding is not None:
                problems.append(ContentProblem(rel, f"{where}.sources[{j}]", finding.message))
                bad = True
        if bad:
            continue
        if reviewed > today:
            problems.append(ContentProblem(rel, f"{where}.last_reviewed", "tanggal di masa depan"))
            continue
        if (topic, agency) in seen:
            problems.append(ContentProblem(rel, where, f"{agency} sudah dirujuk untuk topik {topic}"))
            continue
        per_topic[topic] = per_topic.get(topic, 0) + 1
        if per_topic[topic] > PER_TOPIC:
            problems.append(ContentProblem(rel, where, f"paling banyak {PER_TOPIC} rujukan per topik"))
            continue
        seen.add((topic, agency))
        out.append(ReferralEntry(topic, agency, texts["text"], texts["text_en"], [s.strip() for s in sources],
                                 reviewed))
    return out


def replace_from_content(entries: list[ReferralEntry], agencies: dict[str, int]) -> int:
    """Make the content file's referrals the stored ones; the caller holds
    the write transaction.  ``agencies``: slug -> agency id."""
    db.session.execute(sa.delete(TopicReferral))
    positions: dict[str, int] = {}
    count = 0
    for entry in entries:
        agency_id = agencies.get(entry.agency)
        if agency_id is None:
            continue
        position = positions[entry.topic] = positions.get(entry.topic, -1) + 1
        db.session.add(TopicReferral(topic=entry.topic, position=position, agency_id=agency_id, text=entry.text,
                                     text_en=entry.text_en, sources=list(entry.sources),
                                     last_reviewed=entry.last_reviewed))
        count += 1
    db.session.flush()
    return count


def _source(text: str, regulations: dict[str, Regulation]) -> dict:
    from .presenters import _host

    src = parse_source(text)
    if src is not None and src.kind == "url":
        return {"label": _host(src.ref), "url": src.ref}
    reg = regulations.get(src.ref) if src is not None else None
    if reg is None:
        return {"label": text, "url": None}
    return {"label": f"{reg.label} {src.locator}".strip(), "url": reg.url}


def for_topic(key: str) -> list[dict]:
    """The search provider: the referrals of one topic, in order, each as
    ``{"agency", "name", "website", "text", "text_en", "sources":
    [{"label", "url"}], "last_reviewed": date}`` (two small queries)."""
    if not key or not has_app_context():
        return []
    try:
        rows = db.session.scalars(sa.select(TopicReferral).options(selectinload(TopicReferral.agency))
                                  .where(TopicReferral.topic == key)
                                  .order_by(TopicReferral.position, TopicReferral.id).limit(PER_TOPIC)).all()
        keys = {s.ref for r in rows for s in map(parse_source, r.sources or []) if s and s.kind == "regulation"}
        regulations = {reg.key: reg for reg in db.session.scalars(
            sa.select(Regulation).where(Regulation.key.in_(keys)))} if keys else {}
    except sa.exc.SQLAlchemyError:
        db.session.rollback()  # keep the request's session usable (PostgreSQL aborts the transaction)
        raise
    return [{"agency": r.agency.slug, "name": r.agency.label, "website": r.agency.website, "text": r.text,
             "text_en": r.text_en, "sources": [_source(s, regulations) for s in r.sources or []],
             "last_reviewed": r.last_reviewed} for r in rows]
