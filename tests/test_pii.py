import pytest

from core.pii import redact


@pytest.mark.parametrize("text,expected,kinds", [
    ("nik saya 3201231508900001 hilang", "nik saya [NIK/KK disamarkan] hilang", ["nik"]),
    ("NIK istri 3201235508900002", "NIK istri [NIK/KK disamarkan]", ["nik"]),          # day + 40 for women
    ("kk 3201 2315 0890 0001", "kk [NIK/KK disamarkan]", ["nik"]),
    ("nik 3201-2315-0890-0001", "nik [NIK/KK disamarkan]", ["nik"]),
    ("NIK " + "".join(chr(ord(c) + 0xFEE0) for c in "3201231508900001"), "NIK [NIK/KK disamarkan]", ["nik"]),
    ("nik 3201231\u200b508900001", "nik [NIK/KK disamarkan]", ["nik"]),               # zero-width space
    ("hubungi 0812-3456-7890 ya", "hubungi [nomor HP disamarkan] ya", ["phone"]),
    ("wa +62 812 3456 7890", "wa [nomor HP disamarkan]", ["phone"]),
    ("email budi.s@contoh.co.id", "email [email disamarkan]", ["email"]),
    ("npwp 12.345.678.9-012.345", "npwp [NPWP disamarkan]", ["npwp"]),
    # not personal data
    ("resi 1234567890123456 bulan 34", "resi 1234567890123456 bulan 34", []),
    ("tahun 2024 ada 081 kasus", "tahun 2024 ada 081 kasus", []),
    ("biaya paspor 650000, SIM A Rp120.000", "biaya paspor 650000, SIM A Rp120.000", []),
    ("call center 1500537 atau 110", "call center 1500537 atau 110", []),
])
def test_detector(text, expected, kinds):
    assert redact(text) == (expected, kinds)


def test_posts_are_stored_redacted_everywhere(app, make_user):
    import sqlalchemy as sa

    from core.extensions import db
    from forum.models import Question, Revision

    from .conftest import login_client, post_form

    make_user("penanya")
    c = login_client(app, "penanya")
    resp = post_form(c, "/pertanyaan/tanya", {
        "title": "KTP 3201231508900001 hilang, bisa dibantu?",
        "body": "NIK saya 3201231508900001, hubungi 0812-3456-7890 atau budi@contoh.id kalau tahu caranya."},
        "/pertanyaan/tanya")
    qid = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "kami samarkan" in page and "NIK/KK, nomor HP, email" in page
    for text in (page, c.get(f"/api/v1/questions/{qid}").get_data(as_text=True),
                 c.get("/api/v1/search?q=ktp+hilang+dibantu").get_data(as_text=True)):
        assert "3201231508900001" not in text and "0812" not in text and "budi@contoh.id" not in text
    with app.app_context():
        q = db.session.get(Question, qid)
        assert "[NIK/KK disamarkan]" in q.title and "[nomor HP disamarkan]" in q.body_md
        revision = db.session.scalar(sa.select(Revision).where(Revision.post_id == qid))
        assert "3201231508900001" not in revision.body_md + (revision.title or "")
    resp = post_form(c, f"/pertanyaan/{qid}/jawab", {"body": "Saya bisa bantu, WA saya +62 813 1111 2222 ya."})
    assert "kami samarkan" in c.get(resp.headers["Location"]).get_data(as_text=True)
