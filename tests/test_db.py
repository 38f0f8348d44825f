"""Write transactions: BEGIN IMMEDIATE + busy_timeout on SQLite, an advisory
lock on PostgreSQL; no lost writes on either."""
import threading

import pytest
import sqlalchemy as sa

from core.db import write_transaction
from core.extensions import db
from core.models import User

from .conftest import BACKEND


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite pragmas")
def test_pragmas(app):
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() == 10000
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL advisory lock")
def test_postgresql_writers_hold_the_advisory_lock(app):
    from core.db import PG_WRITE_LOCK, write_transaction

    held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND granted"
    with app.app_context():
        assert db.session.execute(sa.text(held), {"key": PG_WRITE_LOCK}).scalar() == 0
        with write_transaction() as session:
            assert session.execute(sa.text(held), {"key": PG_WRITE_LOCK}).scalar() == 1
        assert db.session.execute(sa.text(held), {"key": PG_WRITE_LOCK}).scalar() == 0


def test_concurrent_read_modify_write_loses_nothing(app, make_user):
    uid = make_user()
    errors = []

    def bump():
        try:
            with app.app_context():
                for _ in range(20):
                    with write_transaction():
                        user = db.session.get(User, uid, populate_existing=True)
                        user.session_version = user.session_version + 1  # read, then write
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.get(User, uid).session_version == 80


def test_write_transaction_rolls_back_on_error(app):
    with app.app_context():
        try:
            with write_transaction():
                db.session.add(User(username="sementara", password_hash="x"))
                raise RuntimeError("gagal")
        except RuntimeError:
            pass
        assert db.session.scalar(sa.select(User).where(User.username == "sementara")) is None


def test_regulation_status_enforced_by_database(app):
    from datetime import date

    import pytest
    from sqlalchemy.exc import IntegrityError

    from kb.models import Regulation

    with app.app_context():
        with pytest.raises(IntegrityError):
            with write_transaction():
                db.session.add(Regulation(key="pp-1-2099", type="PP", number="1", year=2099, title="x",
                                          status="dicabut", checked=date(2026, 1, 1)))
