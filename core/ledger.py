"""Rate-limit state and login-failure counts, kept outside the serialized
write path.

Every search and every login attempt counts against a limit, and the count
must hold across gunicorn workers and app hosts, so it lives in a database.
But the main database serializes writers (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock on PostgreSQL): counting there made every search wait behind
any slow write.  So this state has its own connection:

* SQLite: a separate database file next to the main one
  (``<name>.ledger.sqlite3``), so its lock is not the main database's lock;
  ``synchronous=OFF`` because a lost count after a crash is harmless.
* PostgreSQL: the same database (tables created by the migrations), written
  with one atomic ``INSERT ... ON CONFLICT DO UPDATE`` per hit and never
  under the application's advisory lock (row locks only).

Limits use GCRA (the generic cell rate algorithm, a token bucket in one
number): each bucket stores its "theoretical arrival time"; a burst of up to
``limit`` requests passes, then one every ``window / limit`` seconds.  One
row per bucket, decided in a single statement.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from .extensions import db

metadata = sa.MetaData()
# The same tables are declared in core.models, so Alembic creates them on
# PostgreSQL; these copies are bound to the ledger's own engine.
rate_limits = sa.Table(
    "rate_limits", metadata,
    sa.Column("bucket", sa.String(160), primary_key=True),
    sa.Column("tat", sa.Float, nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
failures = sa.Table(
    "login_failures", metadata,
    sa.Column("bucket", sa.String(160), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
# "Last looked at" markers (core.models.SeenMarker): cheap, losable state
# written from read paths, so it lives here and never waits for the lock.
markers = sa.Table(
    "seen_markers", metadata,
    sa.Column("owner", sa.String(40), primary_key=True),
    sa.Column("item", sa.String(80), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
)


@dataclass
class Hit:
    allowed: bool
    retry_after: int


class Ledger:
    def __init__(self, main_url: sa.engine.URL):
        self.backend = main_url.get_backend_name()
        if self.backend == "sqlite":
            main = Path(main_url.database or "layanan.sqlite3")
            path = main.with_name(main.stem + ".ledger" + (main.suffix or ".sqlite3"))
            self.engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 5, "check_same_thread": False})

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_con, _record):  # pragma: no cover - exercised implicitly
                cur = dbapi_con.cursor()
                for pragma in ("journal_mode=WAL", "synchronous=OFF", "busy_timeout=5000"):
                    cur.execute(f"PRAGMA {pragma}")
                cur.close()

            metadata.create_all(self.engine, checkfirst=True)
            greatest = sa.func.max
        else:
            self.engine = sa.create_engine(main_url, pool_pre_ping=True, pool_size=2, max_overflow=4)
            greatest = sa.func.greatest
        if self.backend == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert

        now, step, tolerance = sa.bindparam("now"), sa.bindparam("step"), sa.bindparam("tol")
        start = greatest(rate_limits.c.tat, now)
        ok = start - now <= tolerance
        stmt = insert(rate_limits).values(bucket=sa.bindparam("b"), tat=now + step, allowed=True, updated_at=now)
        # Every SET expression reads the old row, so "allowed" and "tat"
        # are decided from the same state, atomically.
        self._gcra = stmt.on_conflict_do_update(
            index_elements=["bucket"],
            set_={"allowed": ok, "tat": sa.case((ok, start + step), else_=rate_limits.c.tat), "updated_at": now},
        ).returning(rate_limits.c.allowed, rate_limits.c.tat)
        fstmt = insert(failures).values(bucket=sa.bindparam("b"), count=1, updated_at=sa.bindparam("now"))
        self._fail = fstmt.on_conflict_do_update(
            index_elements=["bucket"], set_={"count": failures.c.count + 1, "updated_at": fstmt.excluded.updated_at},
        ).returning(failures.c.count)
        mstmt = insert(markers).values(owner=sa.bindparam("o"), item=sa.bindparam("i"), at=sa.bindparam("at"))
        self._mark = mstmt.on_conflict_do_update(index_elements=["owner", "item"],
                                                 set_={"at": greatest(markers.c.at, mstmt.excluded.at)})

    def hit(self, bucket: str, limit: int, window: float, now: float | None = None) -> Hit:
        """One request against ``limit`` per ``window`` seconds."""
        now = time.time() if now is None else now
        step = window / limit
        tolerance = window - step
        with self.engine.begin() as conn:
            allowed, tat = conn.execute(self._gcra, {"b": bucket, "now": now, "step": step, "tol": tolerance}).one()
            if random.random() < 0.002:  # forget buckets idle for a day
                conn.execute(sa.delete(rate_limits).where(rate_limits.c.tat < now - 86400))
        if allowed:
            return Hit(True, 0)
        return Hit(False, max(1, int(tat - tolerance - now + 0.999)))

    # ------------------------------------------------------------ login failures (back-off)
    def failures(self, bucket: str) -> tuple[int, float]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(failures.c.count, failures.c.updated_at).where(failures.c.bucket == bucket)
                               ).first()
        return (row[0], row[1]) if row else (0, 0.0)

    def fail(self, bucket: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            count = conn.execute(self._fail, {"b": bucket, "now": now}).scalar_one()
            if random.random() < 0.01:
                conn.execute(sa.delete(failures).where(failures.c.updated_at < now - 86400))
        return count

    def clear(self, bucket: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(failures).where(failures.c.bucket == bucket))

    # ------------------------------------------------------------ seen markers
    def mark(self, owner: str, item: str, at: float | None = None) -> None:
        """``owner`` looked at ``item`` now (markers only move forward)."""
        with self.engine.begin() as conn:
            conn.execute(self._mark, {"o": owner[:40], "i": item[:80], "at": time.time() if at is None else at})

    def marks(self, owner: str, items: list[str] | None = None) -> dict[str, float]:
        """{item: time last looked at} for ``owner`` (all of them, or only ``items``)."""
        stmt = sa.select(markers.c.item, markers.c.at).where(markers.c.owner == owner[:40])
        if items is not None:
            if not items:
                return {}
            stmt = stmt.where(markers.c.item.in_([i[:80] for i in items]))
        with self.engine.connect() as conn:
            return dict(conn.execute(stmt).all())

    def forget(self, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(markers).where(markers.c.owner == owner[:40]))

    def dispose(self) -> None:
        self.engine.dispose()


_lock = threading.Lock()


def ledger() -> Ledger:
    app = current_app._get_current_object()
    found = app.extensions.get("ledger")
    if found is None:
        with _lock:
            found = app.extensions.get("ledger")
            if found is None:
                found = Ledger(db.engine.url)
                app.extensions["ledger"] = found
    return found
