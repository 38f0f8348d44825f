import itertools
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import create_app
from core.cli import init_db
from core.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


# The suite runs on SQLite by default.  With LAYANAN_TEST_DATABASE_URL set to
# a PostgreSQL server (any database on it; .ci/run starts one), every test
# gets its own PostgreSQL database instead: the seed is built once and cloned
# per test with CREATE DATABASE ... TEMPLATE, the way SQLite files are copied.
PG_URL = os.environ.get("LAYANAN_TEST_DATABASE_URL", "")
BACKEND = "postgresql" if PG_URL else "sqlite"
# Tests that exercise no database-specific code run once, on SQLite, to keep
# CI (both backends, 2 cores) under its time budget: the encoder's ranking
# and abstention on the real model (tests using ``dense_db``: 2 minutes of
# encoding) and the Chromium layout checks.  Every service function they
# reach is also tested through the test client on both backends.
ONCE_ON_SQLITE = {"tests/test_browser.py", "tests/test_browser_mobile.py", "tests/test_notify_browser.py",
                  "tests/test_search_onnx.py"}


def pytest_collection_modifyitems(config, items):
    if not PG_URL:
        return
    skip = pytest.mark.skip(reason="database-independent (real-encoder ranking or browser layout): runs on SQLite")
    for item in items:
        if "dense_db" in getattr(item, "fixturenames", ()) or item.nodeid.split("::")[0] in ONCE_ON_SQLITE:
            item.add_marker(skip)


_created: list[str] = []  # PostgreSQL databases created by the running test
_apps: list = []  # apps made by the running test, closed after it
_counter = itertools.count()


@dataclass(frozen=True)
class Snapshot:
    """A database and the search index folder that belongs to it."""

    url: str
    search: Path


def _pg_admin(sql: str) -> None:
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def new_database(folder: Path, name: str = "app", template: str | None = None, keep: bool = False) -> str:
    """A fresh database URL: empty, or a copy of ``template`` (a URL made here)."""
    if BACKEND == "sqlite":
        path = folder / f"{name}.sqlite3"
        if template:
            shutil.copy(sa.make_url(template).database, path)
        return f"sqlite:///{path}"
    db_name = f"layanan_t{os.getpid()}_{next(_counter)}"
    sql = f'CREATE DATABASE "{db_name}"'
    if template:
        sql += f' TEMPLATE "{sa.make_url(template).database}"'
    _pg_admin(sql)
    if not keep:
        _created.append(db_name)
    return sa.make_url(PG_URL).set(database=db_name).render_as_string(hide_password=False)


def clone(snapshot: Snapshot, folder: Path, name: str = "app", keep: bool = False) -> Snapshot:
    """Copy a snapshot (database and search index) into ``folder``."""
    search = folder / "search"
    if not search.exists():
        shutil.copytree(snapshot.search, search)
    return Snapshot(new_database(folder, name, template=snapshot.url, keep=keep), search)


def make_app(snapshot: Snapshot, **overrides):
    # Lexical-only and synchronous by default; tests/test_search.py turns the encoder on.
    config = {"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": snapshot.url,
              "CONTENT_DIR": str(CONTENT), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
              "SEARCH_DIR": str(snapshot.search), "SEARCH_ENCODER": "none", "SEARCH_DRAIN": "inline",
              "RATELIMIT_ENABLED": False,  # tests/test_ratelimit.py turns limits on
              "ANALYTICS_FLUSH": "inline",
              "TRUST_LEVELS_ENABLED": False}  # tests/test_policy.py turns them on
    config.update(overrides)
    app = create_app(config)
    _apps.append(app)
    return app


def close_app(app) -> None:
    """Release every connection, thread and index handle an app holds."""
    app.extensions["search_drainer"].stop()
    app.extensions["analytics_buffer"].stop()
    if "ledger" in app.extensions:
        app.extensions["ledger"].dispose()
    with app.app_context():
        for index in app.extensions["search"].lexicals.values():
            index.close()
        db.session.remove()
        db.engine.dispose()


def _drop(db_name: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def drop_database(snapshot: Snapshot) -> None:
    if BACKEND == "postgresql":
        _drop(sa.make_url(snapshot.url).database)


@pytest.fixture(autouse=True)
def _close_apps_and_drop_databases():
    yield
    while _apps:
        close_app(_apps.pop())
    while _created:
        _drop(_created.pop())


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory) -> Snapshot:
    """A database with the bundled content loaded, built once and cloned per test."""
    from core.contentio import load_content
    from search.outbox import reindex

    folder = tmp_path_factory.mktemp("seed")
    seed = Snapshot(new_database(folder, "seed", keep=True), folder / "search")
    app = make_app(seed)
    with app.app_context():
        init_db()
        load_content(CONTENT)
        reindex()
        if BACKEND == "sqlite":
            db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    close_app(app)
    yield seed
    drop_database(seed)


@pytest.fixture
def app(tmp_path, seeded_db):
    app = make_app(clone(seeded_db, tmp_path))
    yield app
    close_app(app)


@pytest.fixture
def empty_app(tmp_path):
    app = make_app(Snapshot(new_database(tmp_path, "empty"), tmp_path / "search"))
    with app.app_context():
        init_db()
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no CSRF token in page"
    return m.group(1) or m.group(2)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def token(self, path="/masuk") -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def register(self, username="warga01", password="kata-sandi-aman", email=None):
        data = {"csrf_token": self.token("/daftar"), "username": username, "password": password,
                "confirm": password}
        if email:
            data["email"] = email
        return self.client.post("/daftar", data=data)

    def login(self, username="warga01", password="kata-sandi-aman", **extra):
        return self.client.post("/masuk", data={"csrf_token": self.token(), "username": username,
                                                "password": password, **extra})

    def logout(self):
        token = csrf_from(self.client.get("/").get_data(as_text=True))
        return self.client.post("/keluar", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_user(app):
    from core.auth.services import create_user
    from core.models import Role

    def _make(username="warga01", password="kata-sandi-aman", role=Role.MEMBER, email=None):
        with app.app_context():
            user = create_user(username, password, role=role, email=email, allow_reserved=True)
            return user.id

    return _make


def login_client(app, username, password="kata-sandi-aman"):
    """A fresh test client logged in as ``username``."""
    client = app.test_client()
    AuthActions(client).login(username, password)
    return client


def post_form(client, path, data, token_page="/"):
    token = csrf_from(client.get(token_page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def act_as(app, role: str, method: str, path: str, data: dict):
    """Send one request as an anonymous visitor (role "anon") or as the user
    "u_<role>", with a valid CSRF token on POST."""
    client = app.test_client() if role == "anon" else login_client(app, f"u_{role}")
    if method == "GET":
        return client.get(path)
    token = csrf_from(client.get("/masuk" if role == "anon" else "/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})
