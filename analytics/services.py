"""Recording and summarising deflection, feedback and satisfaction."""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from core.i18n import N_
from core.models import utcnow

from .models import SKM_ELEMENTS, Escalation, Feedback, FunnelEvent, SearchClick, SearchLog, SkmResponse

def redact(text: str) -> str:
    """Remove identifiers citizens type into search boxes (their own NIK, phone)."""
    from core.pii import redact_text

    return redact_text(text)


def _buffer():
    from flask import current_app

    return current_app.extensions["analytics_buffer"]


def _signer():
    from flask import current_app
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="layanan-search-click")


# ---------------------------------------------------------------- recording (append-only, batched)

def log_search(query: str, response, source: str = "page") -> str | None:
    """Queue the search for the log; return a signed token for its result
    links (``/klik?s=...``), so a click can only be credited to this search.
    Nothing is kept when the operator switched the log off."""
    from flask import current_app

    if not current_app.config.get("SEARCH_LOG_ENABLED", True):
        return None
    cleaned = redact(response.query[:200])[:200]
    if not cleaned:
        return None
    key = secrets.token_urlsafe(12)
    abstained = bool(getattr(response, "abstained", False))
    uncertain = bool(getattr(response, "hedged", False))
    _buffer().record(SearchLog.__table__, key=key, query=cleaned.lower(),
                     normalized=redact(response.normalized[:400])[:400],
                     result_count=0 if abstained else len(response.results), abstained=abstained,
                     uncertain=uncertain, source=source, created_at=utcnow(),
                     topic=getattr(getattr(response, "topic", None), "key", None))
    return _signer().dumps(key)


def log_click(token: str | None, doc_id: str, rank: int | None) -> bool:
    """Record a click for the search whose signed token the link carried;
    forged or foreign tokens are ignored."""
    if not token:
        return False
    from itsdangerous import BadSignature

    try:
        key = _signer().loads(token[:200])
    except BadSignature:
        return False
    if not isinstance(key, str) or len(key) > 32:
        return False
    _buffer().record(SearchClick.__table__, search_key=key, doc=doc_id[:120], rank=rank, created_at=utcnow())
    return True


def funnel_event(funnel: str, step: str, *, service: str | None = None, doc: str | None = None) -> None:
    _buffer().record(FunnelEvent.__table__, funnel=funnel[:64], step=step, service=service, doc=doc,
                     created_at=utcnow())


# ---------------------------------------------------------------- recording (a person's action: synchronous)

def record_feedback(target: str, helpful: bool, visitor: str, comment: str = "") -> Feedback:
    comment = redact(comment[:500].strip())[:500]  # capped, then redacted, before the transaction
    with write_transaction():
        row = db.session.scalar(sa.select(Feedback).where(Feedback.visitor == visitor, Feedback.target == target))
        if row is None:
            row = Feedback(target=target, visitor=visitor, helpful=helpful)
            db.session.add(row)
        # "What was missing?" arrives after "no"; pressing "no" again keeps
        # it, "yes" clears it.
        row.helpful, row.created_at = helpful, utcnow()
        if comment or helpful:
            row.comment = comment
    return row


def new_reference() -> str:
    return f"LYN-{date.today():%y%m}-{secrets.token_hex(3).upper()}"


def escalate(target: str, service: str | None, summary: str, trail: list | None = None) -> Escalation:
    summary = redact(summary[:500].strip())[:500]
    clean_trail = []
    for item in (trail or [])[-12:]:
        if isinstance(item, (list, tuple)) and len(item) == 3:
            kind, ref, at = (str(x)[:200] for x in item)
            if kind in ("search", "page", "thread"):
                clean_trail.append([kind, redact(ref)[:200] if kind == "search" else ref[:80], at[:16]])
    with write_transaction():
        for _ in range(5):
            reference = new_reference()
            if not db.session.scalar(sa.select(Escalation.id).where(Escalation.reference == reference)):
                break
        row = Escalation(reference=reference, target=target, service=service, summary=summary, trail=clean_trail)
        db.session.add(row)
    return row


def escalation_by_reference(reference: str) -> Escalation | None:
    return db.session.scalar(sa.select(Escalation).where(Escalation.reference == reference))


def recent_escalations(limit: int = 20) -> list[Escalation]:
    return list(db.session.scalars(sa.select(Escalation).order_by(Escalation.created_at.desc()).limit(limit)))


def log_escalation_view(user, row: Escalation) -> None:
    """Staff looking at what a citizen did is recorded (UU PDP: access to
    personal activity is accountable)."""
    from core.models import audit

    with write_transaction():
        audit(user, "escalation.view", "escalation", row.id, reference=row.reference)


def survey_period(now=None) -> str:
    return f"{(now or utcnow()):%Y-%m}"


def submit_skm(service: str, scores: dict[str, int], comment: str = "", *, respondent: str) -> tuple[SkmResponse, bool]:
    """One response per respondent per service per month; a second one
    replaces the first.  Returns (row, replaced)."""
    comment = redact(comment[:1000].strip())[:1000]
    period = survey_period()
    with write_transaction():
        row = db.session.scalar(sa.select(SkmResponse).where(
            SkmResponse.service == service, SkmResponse.respondent == respondent, SkmResponse.period == period))
        replaced = row is not None
        if row is None:
            row = SkmResponse(service=service, respondent=respondent, period=period)
            db.session.add(row)
        for key, value in scores.items():
            setattr(row, key, value)
        row.comment, row.created_at = comment, utcnow()
    return row, replaced


# ---------------------------------------------------------------- summaries

def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


# PermenPANRB 14/2017 sizes the sample from the number of people served
# (Krejcie & Morgan); below this many responses the index is only shown as
# indicative.
MIN_RESPONDENTS = 30


def ikm(rows: list[SkmResponse]) -> dict:
    """IKM per PermenPANRB 14/2017: NRR per element = mean score; IKM =
    sum(NRR x 1/9); converted = IKM x 25 (range 25-100) with quality grade."""
    if not rows:
        return {"respondents": 0, "nrr": {}, "ikm": None, "grade": None, "label": None, "indicative": True}
    nrr = {key: sum(getattr(r, key) for r in rows) / len(rows) for key, _ in SKM_ELEMENTS}
    value = sum(nrr.values()) / len(SKM_ELEMENTS) * 25
    if value >= 88.31:
        grade, label = "A", N_("Sangat Baik")
    elif value >= 76.61:
        grade, label = "B", N_("Baik")
    elif value >= 65.0:
        grade, label = "C", N_("Kurang Baik")
    else:
        grade, label = "D", N_("Tidak Baik")
    return {"respondents": len(rows), "nrr": nrr, "ikm": round(value, 2), "grade": grade, "label": label,
            "indicative": len(rows) < MIN_RESPONDENTS}


def ikm_by_service(start: date, end: date) -> list[dict]:
    lo, hi = period_bounds(start, end)
    rows = db.session.scalars(sa.select(SkmResponse).where(SkmResponse.created_at >= lo,
                                                           SkmResponse.created_at < hi)).all()
    grouped: dict[str, list[SkmResponse]] = {}
    for r in rows:
        grouped.setdefault(r.service, []).append(r)
    return sorted(({"service": s, **ikm(rs)} for s, rs in grouped.items()), key=lambda d: d["ikm"])


def top_queries(start: date, end: date, limit: int = 20, zero_only: bool = False,
                uncertain_only: bool = False) -> list[tuple[str, int]]:
    """The most frequent queries of the period; ``zero_only``: those nothing
    answered; ``uncertain_only``: those answered only hedged (results below
    the confident bar).  Together the two are the content-gap tables."""
    lo, hi = period_bounds(start, end)
    stmt = (sa.select(SearchLog.query, sa.func.count(SearchLog.id)).where(SearchLog.created_at >= lo,
                                                                          SearchLog.created_at < hi)
            .group_by(SearchLog.query).order_by(sa.func.count(SearchLog.id).desc(), SearchLog.query).limit(limit))
    if zero_only:
        stmt = stmt.where(SearchLog.result_count == 0)
    if uncertain_only:
        stmt = stmt.where(SearchLog.uncertain.is_(True), SearchLog.result_count > 0)
    return [(q, n) for q, n in db.session.execute(stmt)]


def gap_topics(start: date, end: date, limit: int = 20, examples: int = 3, scan: int = 500) -> list[dict]:
    """Topics we know our pages do not answer that the period's searches were
    about (search.engine.Topic keys, most searched first), each with its most
    frequent queries.  Bounded: ``limit`` topics, and the ``scan`` most
    frequent (topic, query) pairs read for the examples."""
    lo, hi = period_bounds(start, end)
    in_period = (SearchLog.created_at >= lo, SearchLog.created_at < hi, SearchLog.topic.is_not(None))
    counted = db.session.execute(
        sa.select(SearchLog.topic, sa.func.count(SearchLog.id)).where(*in_period)
        .group_by(SearchLog.topic).order_by(sa.func.count(SearchLog.id).desc(), SearchLog.topic).limit(limit)).all()
    if not counted:
        return []
    queries: dict[str, list[str]] = {}
    for topic, query, _n in db.session.execute(
            sa.select(SearchLog.topic, SearchLog.query, sa.func.count(SearchLog.id))
            .where(*in_period, SearchLog.topic.in_([t for t, _ in counted]))
            .group_by(SearchLog.topic, SearchLog.query)
            .order_by(sa.func.count(SearchLog.id).desc(), SearchLog.query).limit(scan)):
        if len(queries.setdefault(topic, [])) < examples:
            queries[topic].append(query)
    return [{"topic": t, "searches": n, "examples": queries.get(t, [])} for t, n in counted]


def frequent_short_queries(start: date, end: date, max_words: int, limit: int = 20,
                           scan: int = 300) -> list[dict]:
    """Short queries searched most often in the period (case folded), each
    with the official page its searchers clicked most, how many of their
    clicks went there and at which position it was shown on average: where
    that position is not 1, a best bet would put it first.  Bounded: the
    ``scan`` most frequent queries are read, the ``limit`` most frequent
    short ones returned."""
    lo, hi = period_bounds(start, end)
    folded = sa.func.lower(SearchLog.query)
    counted = db.session.execute(
        sa.select(folded, sa.func.count(SearchLog.id)).where(SearchLog.created_at >= lo, SearchLog.created_at < hi)
        .group_by(folded).order_by(sa.func.count(SearchLog.id).desc(), folded).limit(scan)).all()
    short = [(q, n) for q, n in counted if q and len(q.split()) <= max_words][:limit]
    if not short:
        return []
    clicks: dict[str, list] = {}
    for q, doc, n, rank in db.session.execute(
            sa.select(folded, SearchClick.doc, sa.func.count(SearchClick.id), sa.func.avg(SearchClick.rank))
            .join(SearchClick, SearchClick.search_key == SearchLog.key)
            .where(SearchLog.created_at >= lo, SearchLog.created_at < hi, folded.in_([q for q, _ in short]))
            .group_by(folded, SearchClick.doc)):
        clicks.setdefault(q, []).append((doc, n, float(rank) if rank is not None else None))
    out = []
    for q, n in short:
        rows = clicks.get(q, [])
        official = sorted((r for r in rows if r[0].startswith("service:")), key=lambda r: (-r[1], r[0]))
        top = official[0] if official else None
        out.append({"query": q, "searches": n, "clicks": sum(r[1] for r in rows),
                    "page": top[0].split(":", 1)[1] if top else None, "page_clicks": top[1] if top else 0,
                    "page_rank": top[2] if top else None})
    return out


def deflection_by_service(start: date, end: date) -> list[dict]:
    """Per service: self-served (helpful "yes", ask funnels ended by opening a
    suggestion) vs not (helpful "no", escalations, questions posted)."""
    lo, hi = period_bounds(start, end)
    stats: dict[str, dict] = {}

    def bump(service, key, n=1):
        if service:
            stats.setdefault(service, {"yes": 0, "no": 0, "deflected": 0, "posted": 0, "escalated": 0})[key] += n

    for target, helpful, n in db.session.execute(
            sa.select(Feedback.target, Feedback.helpful, sa.func.count(Feedback.id))
            .where(Feedback.created_at >= lo, Feedback.created_at < hi, Feedback.target.like("service:%"))
            .group_by(Feedback.target, Feedback.helpful)):
        bump(target.split(":", 1)[1], "yes" if helpful else "no", n)
    for service, n in db.session.execute(
            sa.select(Escalation.service, sa.func.count(Escalation.id))
            .where(Escalation.created_at >= lo, Escalation.created_at < hi).group_by(Escalation.service)):
        bump(service, "escalated", n)
    events = db.session.execute(sa.select(FunnelEvent.funnel, FunnelEvent.step, FunnelEvent.service, FunnelEvent.doc)
                                .where(FunnelEvent.created_at >= lo, FunnelEvent.created_at < hi)
                                .order_by(FunnelEvent.id)).all()
    funnels: dict[str, dict] = {}
    for funnel, step, service, doc in events:
        f = funnels.setdefault(funnel, {"steps": set(), "service": None})
        f["steps"].add(step)
        if doc and doc.startswith("service:"):
            f["service"] = doc.split(":", 1)[1]
        elif service and not f["service"]:
            f["service"] = service
    for f in funnels.values():
        if "posted" in f["steps"]:
            bump(f["service"], "posted")
        elif "clicked" in f["steps"]:
            bump(f["service"], "deflected")
    out = []
    for service, s in stats.items():
        served, failed = s["yes"] + s["deflected"], s["no"] + s["posted"] + s["escalated"]
        out.append({"service": service, **s, "rate": served / (served + failed) if served + failed else None})
    return sorted(out, key=lambda d: (d["rate"] is None, d["rate"] if d["rate"] is not None else 0))


def missing_comments(start: date, end: date, limit: int = 50) -> list[Feedback]:
    """Newest "what was missing?" answers (already redacted), for curators."""
    lo, hi = period_bounds(start, end)
    return list(db.session.scalars(sa.select(Feedback).where(
        Feedback.created_at >= lo, Feedback.created_at < hi, Feedback.comment != "", Feedback.helpful.is_(False))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)))


def funnel_totals(start: date, end: date) -> dict:
    lo, hi = period_bounds(start, end)
    rows = db.session.execute(sa.select(FunnelEvent.step, sa.func.count(sa.distinct(FunnelEvent.funnel)))
                              .where(FunnelEvent.created_at >= lo, FunnelEvent.created_at < hi)
                              .group_by(FunnelEvent.step)).all()
    return {step: n for step, n in rows}


def unanswered_by_age(today: date | None = None) -> list[tuple[str, int]]:
    from forum.models import Question

    now = datetime.combine(today or date.today(), time.max)
    rows = db.session.scalars(sa.select(Question.created_at).where(
        Question.answer_count == 0, Question.closed_at.is_(None), Question.hidden_at.is_(None),
        Question.deleted_at.is_(None))).all()
    buckets = [("< 1 hari", 1), ("1–7 hari", 7), ("7–30 hari", 30), ("> 30 hari", None)]
    counts = {label: 0 for label, _ in buckets}
    for created in rows:
        age = (now - created).days
        for label, limit in buckets:
            if limit is None or age < limit:
                counts[label] += 1
                break
    return list(counts.items())


def time_to_first_answer(start: date, end: date) -> dict:
    from forum.models import Answer, Question

    lo, hi = period_bounds(start, end)
    first = (sa.select(Answer.question_id, sa.func.min(Answer.created_at).label("first"))
             .group_by(Answer.question_id).subquery())
    rows = db.session.execute(sa.select(Question.created_at, first.c.first)
                              .join(first, first.c.question_id == Question.id)
                              .where(Question.created_at >= lo, Question.created_at < hi)).all()
    hours = sorted(max(0.0, (f - c).total_seconds() / 3600) for c, f in rows)
    if not hours:
        return {"questions": 0, "median_hours": None, "p90_hours": None}
    return {"questions": len(hours), "median_hours": round(hours[len(hours) // 2], 1),
            "p90_hours": round(hours[min(len(hours) - 1, int(0.9 * len(hours)))], 1)}
