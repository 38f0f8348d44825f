"""Database plumbing: SQLite pragmas and explicit write transactions.

SQLite's default (deferred) transactions let two writers read the same row
and then both try to upgrade to a write lock; one of them fails with
"database is locked" or, worse, acts on stale data.  Every write in this
app goes through :func:`write_transaction`, which on SQLite starts the
transaction with ``BEGIN IMMEDIATE`` so the write lock is taken before
anything is read, and ``busy_timeout`` makes the second writer wait.

PostgreSQL gets the same guarantee from a transaction-level advisory lock
taken as the first statement of every write transaction: services read,
decide and write (vote sets, reputation, optimistic edit checks, rate-limit
ledgers) and rely on no other writer committing in between.  Writes here are
short and rare next to reads, and reads never wait for the lock.
"""
from __future__ import annotations

import contextvars
import json
import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

_WRITE_TXN: contextvars.ContextVar[bool] = contextvars.ContextVar("write_txn", default=False)
# Key of the advisory lock that serializes writers on PostgreSQL (any constant
# no other application on the same database uses).
PG_WRITE_LOCK = 0x1A7A7A7


def init_sqlite(engine: Engine) -> None:
    """Install pragmas and our own BEGIN on a SQLite engine (no-op otherwise)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con, _record):  # pragma: no cover - exercised implicitly
        # Let SQLAlchemy's "begin" event emit BEGIN itself instead of
        # pysqlite's implicit, late BEGIN.
        dbapi_con.isolation_level = None
        cur = dbapi_con.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        for pragma in ("synchronous=NORMAL", "busy_timeout=10000", "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised implicitly
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE_TXN.get() else "BEGIN")


@contextmanager
def write_transaction() -> Iterator:
    """Run the block as one write transaction and commit it.

    Any read transaction the request already holds is ended first, so the
    block re-reads what it needs under the write lock.  On error everything
    in the block is rolled back and the exception propagates.  Nested calls
    join the outermost transaction.
    """
    session = db.session()  # the real Session behind the scoped proxy
    if _WRITE_TXN.get():
        # Already inside a write transaction (e.g. a bulk content load that
        # calls the same services): join it; the outer block commits.
        yield session
        return
    if session.in_transaction():
        session.commit()
    token = _WRITE_TXN.set(True)
    started = time.perf_counter()
    acquired = None
    try:
        # Take the lock now (BEGIN IMMEDIATE / the advisory lock), so it is
        # held for exactly this block: keep the block free of slow work.
        session.connection()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_WRITE_LOCK})
        acquired = time.perf_counter()
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _WRITE_TXN.reset(token)
        if _LOCK_LOG:
            _log_lock(started, acquired)


# Benchmarks set LAYANAN_LOCK_LOG=<file> to record, for every write
# transaction, how long it waited for the lock and how long it held it
# (bench/writer_lock.py).
_LOCK_LOG = os.environ.get("LAYANAN_LOCK_LOG")
_log_mutex = threading.Lock()


def _log_lock(started: float, acquired: float | None) -> None:
    from flask import has_request_context, request

    now = time.perf_counter()
    where = f"{request.method} {request.path}" if has_request_context() else threading.current_thread().name
    line = json.dumps({"pid": os.getpid(), "where": where,
                       "wait_ms": round(((acquired or now) - started) * 1000, 2),
                       "hold_ms": round((now - (acquired or now)) * 1000, 2)})
    with _log_mutex, open(_LOCK_LOG, "a", encoding="utf-8") as out:
        out.write(line + "\n")
