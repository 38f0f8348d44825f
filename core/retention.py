"""How long personal and activity data is kept, and the pruning that
enforces it (``flask retention prune``, run daily from cron or a systemd
timer).  The privacy notice (/privasi) reads its periods from here, so the
notice and the code cannot disagree.  ``RETENTION_DAYS`` in the config
overrides a period by rule name.

Rules name tables, not models, so core needs no import of the packages
that own them; a table that does not exist (yet) is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .db import write_transaction
from .extensions import db
from .models import utcnow

BATCH = 2_000  # rows per write transaction, so the write lock is held briefly


@dataclass(frozen=True)
class Rule:
    name: str
    table: str
    column: str  # the row's time
    days: int
    action: str = "delete"  # "delete" the row, or "clear:<column>=<json literal>" / "null:<column>"
    what: str = ""  # Indonesian, for the privacy notice and the command's output


RULES = (
    Rule("pencarian", "analytics_searches", "created_at", 365, what="Log pencarian (kata kunci yang sudah disamarkan)"),
    Rule("klik", "analytics_clicks", "created_at", 365, what="Klik pada hasil pencarian"),
    Rule("corong", "analytics_funnel", "created_at", 365, what="Langkah saat bertanya (tanpa identitas)"),
    Rule("umpan-balik", "analytics_feedback", "created_at", 365,
         what="Jawaban “apakah halaman ini menjawab” dan masukan “apa yang kurang”"),
    Rule("jejak-rujukan", "analytics_escalations", "created_at", 30, action="clear:trail",
         what="Jejak pencarian dan halaman yang dilampirkan warga pada nomor rujukan"),
    Rule("rujukan", "analytics_escalations", "created_at", 365, what="Nomor rujukan dan ringkasannya"),
    Rule("responden-skm", "analytics_skm", "created_at", 62, action="null:respondent",
         what="Penanda responden survei (akun atau perangkat) untuk aturan satu jawaban per bulan"),
    Rule("skm", "analytics_skm", "created_at", 730, what="Nilai dan komentar Survei Kepuasan Masyarakat"),
    Rule("tindakan-tertunda", "pending_actions", "created_at", 1,
         what="Tindakan yang dimulai sebelum masuk (suara, draf jawaban, penilaian)"),
    Rule("audit", "audit_log", "created_at", 1826, what="Catatan audit tindakan moderasi, kurasi dan akses petugas"),
)


def days(rule: Rule) -> int:
    overrides = current_app.config.get("RETENTION_DAYS") or {}
    return int(overrides.get(rule.name, rule.days))


def periods() -> dict[str, int]:
    """{rule name: days kept}, as configured (for the privacy notice)."""
    return {rule.name: days(rule) for rule in RULES}


def prune(now=None, *, dry_run: bool = False) -> list[tuple[Rule, int]]:
    """Apply every rule; returns [(rule, rows affected)]."""
    now = now or utcnow()
    tables = set(sa.inspect(db.engine).get_table_names())
    metadata = sa.MetaData()
    done = []
    for rule in RULES:
        if rule.table not in tables:
            continue
        table = sa.Table(rule.table, metadata, autoload_with=db.engine) if rule.table not in metadata.tables \
            else metadata.tables[rule.table]
        cutoff = now - timedelta(days=days(rule))
        key = list(table.primary_key.columns)[0]
        where = table.c[rule.column] < cutoff
        if rule.action.startswith("clear:"):
            column = rule.action.split(":", 1)[1]
            values = {column: []}
            where = sa.and_(where, sa.cast(table.c[column], sa.String) != "[]")
        elif rule.action.startswith("null:"):
            column = rule.action.split(":", 1)[1]
            values = {column: None}
            where = sa.and_(where, table.c[column].is_not(None))
        else:
            values = None
        total = 0
        if dry_run:
            total = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(where)) or 0
            db.session.rollback()
        else:
            while True:
                with write_transaction():
                    ids = db.session.scalars(sa.select(key).where(where).limit(BATCH)).all()
                    if ids:
                        stmt = sa.delete(table) if values is None else sa.update(table).values(**values)
                        db.session.execute(stmt.where(key.in_(ids)))
                total += len(ids)
                if len(ids) < BATCH:
                    break
        done.append((rule, total))
    return done


def prune_ledger(now: float | None = None) -> int:
    """Rate-limit buckets idle for a day and old login-failure counts (the
    ledger already forgets them now and then; this makes it certain)."""
    import time

    from .ledger import failures, ledger, rate_limits

    now = time.time() if now is None else now
    store = ledger()
    with store.engine.begin() as conn:
        n = conn.execute(sa.delete(rate_limits).where(rate_limits.c.tat < now - 86400)).rowcount or 0
        n += conn.execute(sa.delete(failures).where(failures.c.updated_at < now - 86400)).rowcount or 0
    return n
