import re
import shutil
from pathlib import Path

import pytest

from core import create_app
from core.cli import init_db
from core.extensions import db

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


def make_app(db_path: Path, **overrides):
    # Lexical-only and synchronous by default; tests/test_search.py turns the encoder on.
    config = {"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
              "CONTENT_DIR": str(CONTENT), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
              "SEARCH_DIR": str(db_path.parent / "search"), "SEARCH_ENCODER": "none", "SEARCH_DRAIN": "inline",
              "RATELIMIT_ENABLED": False}  # tests/test_ratelimit.py turns limits on
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory) -> Path:
    """A database with the bundled content loaded, built once and copied per test."""
    from core.contentio import load_content
    from search.outbox import reindex

    path = tmp_path_factory.mktemp("seed") / "seed.sqlite3"
    app = make_app(path)
    with app.app_context():
        init_db()
        load_content(CONTENT)
        reindex()
        for index in app.extensions["search"].lexicals.values():
            index.close()
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture
def app(tmp_path, seeded_db):
    path = tmp_path / "app.sqlite3"
    shutil.copy(seeded_db, path)
    shutil.copytree(seeded_db.parent / "search", tmp_path / "search")
    app = make_app(path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def empty_app(tmp_path):
    app = make_app(tmp_path / "empty.sqlite3")
    with app.app_context():
        init_db()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


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
