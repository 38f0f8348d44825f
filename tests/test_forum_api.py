import pytest

from .conftest import login_client

BODY = "Saya sudah mencoba datang ke kantor tetapi diminta kembali minggu depan."


def csrf(client):
    return client.get("/api/v1/csrf").get_json()["csrf_token"]


def test_list_and_detail(client):
    data = client.get("/api/v1/questions?per_page=5").get_json()
    assert data["count"] >= 60 and len(data["questions"]) == 5
    first = data["questions"][0]
    for key in ("id", "title", "score", "answer_count", "accepted_answer_id", "tags", "services", "author", "url"):
        assert key in first
    detail = client.get(f"/api/v1/questions/{first['id']}").get_json()
    assert detail["answers"] and detail["answers"][0]["body_html"].startswith("<")
    accepted = [a for a in detail["answers"] if a["accepted"]]
    if detail["accepted_answer_id"]:
        assert accepted[0]["id"] == detail["accepted_answer_id"] and detail["answers"][0]["accepted"]


def test_list_filters_and_bad_parameters(client):
    data = client.get("/api/v1/questions?service=nikah-di-kua").get_json()
    assert data["count"] >= 3 and all("nikah-di-kua" in q["services"] for q in data["questions"])
    data = client.get("/api/v1/questions?tag=pungli").get_json()
    assert all("pungli" in q["tags"] for q in data["questions"])
    for query in ("sort=acak", "page=0", "per_page=1000", "page=x", "service=tidak-ada"):
        resp = client.get(f"/api/v1/questions?{query}")
        assert resp.status_code == 400 and resp.is_json, query
    resp = client.get("/api/v1/questions/999999")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == 404


def test_post_requires_login(client):
    resp = client.post("/api/v1/questions", json={"title": "x", "body": "y"}, headers={"X-CSRFToken": csrf(client)})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == 401


def test_ask_and_answer_over_json(app, make_user):
    make_user("penanya")
    make_user("penjawab")
    asker = login_client(app, "penanya")
    resp = asker.post("/api/v1/questions", headers={"X-CSRFToken": csrf(asker)}, json={
        "title": "Apakah SKCK bisa diurus di Polsek untuk melamar kerja?", "body": BODY,
        "tags": ["skck"], "services": ["skck"]})
    assert resp.status_code == 201, resp.get_json()
    q = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/v1/questions/{q['id']}")
    assert q["services"] == ["skck"] and q["answers"] == []
    answerer = login_client(app, "penjawab")
    resp = answerer.post(f"/api/v1/questions/{q['id']}/answers", headers={"X-CSRFToken": csrf(answerer)},
                         json={"body": "Untuk melamar kerja SKCK dibuat di Polres, bukan Polsek."})
    assert resp.status_code == 201 and resp.get_json()["question_id"] == q["id"]
    assert app.test_client().get(f"/api/v1/questions/{q['id']}").get_json()["answer_count"] == 1


def test_post_without_csrf_token_is_refused(app, make_user):
    make_user("penanya")
    c = login_client(app, "penanya")
    resp = c.post("/api/v1/questions", json={"title": "Judul yang cukup panjang ya", "body": BODY})
    assert resp.status_code == 400 and resp.is_json


@pytest.mark.parametrize("payload,field", [
    ({"title": "pendek", "body": BODY}, "title"),
    ({"title": "Judul yang cukup panjang ya", "body": 5}, "body"),
    ({"title": "Judul yang cukup panjang ya", "body": BODY, "services": ["tidak-ada"]}, "services"),
    ({"title": "Judul yang cukup panjang ya", "body": BODY, "services": "skck"}, "services"),
])
def test_validation_errors_name_fields(app, make_user, payload, field):
    make_user("penanya")
    c = login_client(app, "penanya")
    resp = c.post("/api/v1/questions", json=payload, headers={"X-CSRFToken": csrf(c)})
    assert resp.status_code == 400
    assert field in resp.get_json()["error"]["fields"]


def test_non_json_body(app, make_user):
    make_user("penanya")
    c = login_client(app, "penanya")
    resp = c.post("/api/v1/questions", data="bukan json", headers={"X-CSRFToken": csrf(c), "Content-Type": "text/plain"})
    assert resp.status_code == 400 and "JSON" in resp.get_json()["error"]["message"]
    resp = c.post("/api/v1/questions/999999/answers", json={"body": BODY}, headers={"X-CSRFToken": csrf(c)})
    assert resp.status_code == 404
