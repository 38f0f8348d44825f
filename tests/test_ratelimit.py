import time

import sqlalchemy as sa

from core.extensions import db
from forum.models import Answer

from .conftest import clone, csrf_from, login_client, make_app, post_form


_shared: dict = {}


def limited_app(tmp_path, seeded_db, limits, name="a"):
    """An app with limits on; every app made for one test shares one database,
    like the workers of one deployment."""
    if tmp_path not in _shared:
        _shared.clear()
        _shared[tmp_path] = clone(seeded_db, tmp_path, "shared")
    return make_app(_shared[tmp_path], RATELIMIT_ENABLED=True, RATELIMITS=limits)


def login_attempt(client):
    token = csrf_from(client.get("/masuk").get_data(as_text=True))
    return client.post("/masuk", data={"csrf_token": token, "username": "siapa", "password": "salah-salah-salah"})


def test_login_limit_with_retry_after(tmp_path, seeded_db):
    app = limited_app(tmp_path, seeded_db, {"login": [("ip", 3, 60)]})
    client = app.test_client()
    assert [login_attempt(client).status_code for _ in range(3)] == [400, 400, 400]
    resp = login_attempt(client)
    assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= 60
    assert "Terlalu banyak permintaan" in resp.get_data(as_text=True)
    assert client.get("/masuk").status_code == 200  # reading the form is not counted


def test_limits_are_shared_between_workers(tmp_path, seeded_db):
    """Two app instances (two engines, two memories) on one database: the
    limit holds for both together, as it must with several gunicorn workers."""
    limits = {"login": [("ip", 4, 60)]}
    worker1 = limited_app(tmp_path, seeded_db, limits).test_client()
    worker2 = limited_app(tmp_path, seeded_db, limits).test_client()
    codes = [login_attempt(c).status_code for c in (worker1, worker2, worker1, worker2, worker1, worker2)]
    assert codes == [400, 400, 400, 400, 429, 429]


def test_posting_limit_per_user_stores_nothing_over_the_limit(tmp_path, seeded_db):
    app = limited_app(tmp_path, seeded_db, {"post": [("user", 2, 60)]})
    from core.auth.services import create_user

    with app.app_context():
        create_user("penjawab", "kata-sandi-aman")
        qid = db.session.execute(sa.text("SELECT id FROM forum_questions LIMIT 1")).scalar()
        before = db.session.scalar(sa.select(sa.func.count(Answer.id)))
    c = login_client(app, "penjawab")
    body = {"body": "Jawaban yang cukup panjang untuk diterima sistem."}
    assert [post_form(c, f"/pertanyaan/{qid}/jawab", body).status_code for _ in range(3)] == [302, 302, 429]
    token = c.get("/api/v1/csrf").get_json()["csrf_token"]
    resp = c.post(f"/api/v1/questions/{qid}/answers", json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 429 and resp.is_json and "Retry-After" in resp.headers
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == before + 2


def test_search_limit_and_window(tmp_path, seeded_db):
    app = limited_app(tmp_path, seeded_db, {"search": [("ip", 2, 1)]})
    with app.app_context():  # warm the engine outside the limiter: a slow first search must not outlast the window
        app.extensions["search"].search("ktp", k=1)
    c = app.test_client()
    assert [c.get("/api/v1/search?q=ktp").status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.1)
    assert c.get("/cari?q=ktp").status_code == 200


def test_behind_a_proxy_each_client_has_its_own_limit(tmp_path, seeded_db, monkeypatch):
    monkeypatch.setenv("LAYANAN_PROXY_COUNT", "1")
    app = limited_app(tmp_path, seeded_db, {"search": [("ip", 1, 60)]})
    c = app.test_client()
    first = {"X-Forwarded-For": "203.0.113.7"}
    second = {"X-Forwarded-For": "198.51.100.9"}
    assert c.get("/api/v1/search?q=ktp", headers=first).status_code == 200
    assert c.get("/api/v1/search?q=ktp", headers=first).status_code == 429
    assert c.get("/api/v1/search?q=ktp", headers=second).status_code == 200
