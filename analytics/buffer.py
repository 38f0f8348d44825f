"""Append-only analytics rows (searches, clicks, ask-funnel steps), written
in batches by a background thread instead of by the request.

A search or a page view must never wait for the database's write lock:
each request only appends a row to this process's buffer; every
``ANALYTICS_FLUSH_SECONDS`` (or at ``ANALYTICS_FLUSH_ROWS`` rows) one short
write transaction inserts the whole batch.  The cost: on a crash (kill -9)
a process loses at most its last second of analytics rows, never a post or
a vote.  Tests use ``ANALYTICS_FLUSH = "inline"`` (flush after each request).
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque

import sqlalchemy as sa

log = logging.getLogger("layanan.analytics")


class EventBuffer:
    def __init__(self, app, seconds: float = 1.0, rows: int = 200, max_rows: int = 20_000):
        self.app = app
        self.seconds, self.rows, self.max_rows = seconds, rows, max_rows
        self._queue: deque[tuple[sa.Table, dict]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.dropped = 0
        atexit.register(self.stop)

    def record(self, table: sa.Table, **values) -> None:
        if len(self._queue) >= self.max_rows:  # database gone for a long time: shed, never grow without bound
            self.dropped += 1
            return
        self._queue.append((table, values))
        if self.app.config.get("ANALYTICS_FLUSH") == "inline":
            return  # flushed after the request
        self._ensure_thread()
        if len(self._queue) >= self.rows:
            self._wake.set()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="analytics-flush", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # analytics must never take anything down; rows are retried
                log.exception("analytics flush failed")
                time.sleep(self.seconds)

    def flush(self) -> int:
        """Insert everything buffered so far in one write transaction."""
        from core.db import write_transaction
        from core.extensions import db

        with self._lock:
            batch = list(self._queue)
            for _ in batch:
                self._queue.popleft()
        if not batch:
            return 0
        grouped: dict[sa.Table, list[dict]] = {}
        for table, values in batch:
            grouped.setdefault(table, []).append(values)
        try:
            with self.app.app_context():
                with write_transaction():
                    for table, rows in grouped.items():
                        db.session.execute(sa.insert(table), rows)
                db.session.remove()
        except Exception:
            with self._lock:  # put them back, oldest first
                self._queue.extendleft(reversed(batch))
            raise
        return len(batch)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(5)
        try:
            self.flush()
        except Exception:
            log.exception("analytics flush at shutdown failed")
