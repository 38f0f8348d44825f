"""Input the database cannot store never becomes a 500 (PostgreSQL rejects
NUL characters and integers past 2**31-1; SQLite accepts both)."""
import sqlalchemy as sa

from core.extensions import db
from forum.models import Post, Question

from .conftest import login_client, post_form

BODY = "Saya sudah mencoba datang ke kantor tetapi diminta kembali minggu depan."


def test_nul_characters_are_dropped_from_forms_and_json(app, make_user):
    make_user("penanya")
    c = login_client(app, "penanya")
    resp = post_form(c, "/pertanyaan/tanya", {"title": "Apakah KTP\x00 bisa diurus\x00 di kecamatan lain?",
                                              "body": BODY.replace("kantor", "kan\x00tor"), "tags": "ktp\x00"},
                     "/pertanyaan/tanya")
    assert resp.status_code == 302
    token = c.get("/api/v1/csrf").get_json()["csrf_token"]
    resp = c.post("/api/v1/questions", headers={"X-CSRFToken": token},
                  json={"title": "Bagaimana\x00 cara mengurus akta lahir terlambat?", "body": BODY + "\x00"})
    assert resp.status_code == 201, resp.get_json()
    with app.app_context():
        titles = set(db.session.scalars(sa.select(Question.title).order_by(Question.id.desc()).limit(2)))
        assert titles == {"Apakah KTP bisa diurus di kecamatan lain?", "Bagaimana cara mengurus akta lahir terlambat?"}
        bodies = list(db.session.scalars(sa.select(Post.body_md).order_by(Post.id.desc()).limit(2)))
        assert len(bodies) == 2 and not any("\x00" in b for b in bodies) and "kantor" in bodies[1]


def test_ids_past_the_integer_range_are_not_found(client):
    for path in ("/pertanyaan/2147483648", "/pertanyaan/99999999999999999999", "/api/v1/questions/2147483648",
                 "/pos/9999999999/riwayat"):
        assert client.get(path).status_code == 404, path
    assert client.get("/pertanyaan/2147483647").status_code == 404
    assert client.get("/pertanyaan?page=²").status_code == 200
    assert client.get("/layanan/ktp%00").status_code == 404


def test_a_value_the_database_refuses_is_a_400_with_a_message(app):
    from sqlalchemy.exc import DataError

    @app.route("/uji-data-error")
    def _raise():
        raise DataError("INSERT ...", {}, Exception("value too long for type character varying(40)"))

    resp = app.test_client().get("/uji-data-error")
    assert resp.status_code == 400 and "Isian tidak dapat disimpan" in resp.get_data(as_text=True)
    resp = app.test_client().get("/uji-data-error?lang=en")
    assert resp.status_code == 400 and "could not be saved" in resp.get_data(as_text=True)
