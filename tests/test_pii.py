from pathlib import Path

import pytest
import yaml

from core.markup import render_markdown
from core.pii import find_in_html, protect_markdown, redact


VECTORS = yaml.safe_load((Path(__file__).parent / "data" / "pii_vectors.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", VECTORS["positives"], ids=lambda v: v["text"][:40])
def test_positive_vectors_are_found_and_never_rendered(vector):
    text = vector["text"]
    if vector.get("markdown"):
        out, kinds = protect_markdown(text)
        html = render_markdown(out)
        assert find_in_html(html) == [], html
    else:
        out, kinds = redact(text)
    assert kinds == vector["kinds"], out
    assert "disamarkan" in out


@pytest.mark.parametrize("vector", VECTORS["negatives"], ids=lambda v: v["text"][:40])
def test_negative_vectors_are_left_alone(vector):
    assert redact(vector["text"]) == (vector["text"], [])
    assert protect_markdown(vector["text"]) == (vector["text"], [])


@pytest.mark.parametrize("text", ["_" * 30_000, "a@" * 15_000, "1 " * 15_000, "3201231508900001 " * 1_800,
                                  "<!-- " * 6_000, "budi at " * 3_700, "&#51;" * 6_000, "](" * 15_000])
def test_detection_is_linear_on_hostile_input(text):
    # The attack's "_" * 100000 took 30 s (quadratic e-mail pattern); now
    # every pattern is anchored to the start of a run.  Generous bound here,
    # figures in bench/results/hostile_input.txt.
    # The best of three runs: a quadratic pattern is slow every time, a
    # pause of the shared CI machine is not (one run once took 3.1 s for
    # what takes 0.06 s).
    import time

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        protect_markdown(text)
        redact(text)
        timings.append(time.perf_counter() - started)
        if timings[-1] < 2.0:
            break
    assert min(timings) < 2.0, timings


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


def test_obfuscated_numbers_never_reach_readers_api_or_index(app, make_user):
    from core.extensions import db
    from forum.models import Question

    from .conftest import login_client, post_form

    make_user("penanya")
    c = login_client(app, "penanya")
    resp = post_form(c, "/pertanyaan/tanya", {
        "title": "Nomor KTP ditolak di loket, kenapa ya?",
        "body": "NIK saya &#51;201<!-- -->2315**0890**0001 dan WA (0812) 3456-7890, email budi [at] gmail [dot] com.",
        "tags": "ktp-el, 3201231508900001"}, "/pertanyaan/tanya")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    qid = int(resp.headers["Location"].rsplit("/", 1)[1])
    pages = [c.get(resp.headers["Location"]).get_data(as_text=True),
             c.get(f"/api/v1/questions/{qid}").get_data(as_text=True),
             c.get("/api/v1/search?q=nomor+ktp+ditolak+loket").get_data(as_text=True),
             c.get(f"/pos/{qid}/riwayat").get_data(as_text=True)]
    for text in pages:
        for needle in ("3201", "2315", "0812", "3456-7890", "budi [at]", "gmail [dot]"):
            assert needle not in text
    with app.app_context():
        q = db.session.get(Question, qid)
        assert [t.name for t in q.tags] == ["ktp-el"]
        assert find_in_html(q.body_html) == []


def test_flag_notes_and_edit_summaries_are_redacted(app, make_user):
    import sqlalchemy as sa

    from core.extensions import db
    from forum.models import Flag, Question, Revision

    from .conftest import login_client, post_form

    make_user("penanya")
    make_user("penanda")
    c = login_client(app, "penanya")
    resp = post_form(c, "/pertanyaan/tanya", {"title": "Cara ganti foto KTP-el yang jelek?",
                                              "body": "Foto KTP saya jelek sekali, bisa diganti tidak ya?"},
                     "/pertanyaan/tanya")
    qid = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        version = db.session.get(Question, qid).version
    post_form(c, f"/pos/{qid}/sunting", {"version": str(version), "title": "Cara ganti foto KTP-el yang jelek?",
                                         "body": "Foto KTP saya jelek sekali, bisa diganti tidak ya? Sudah coba.",
                                         "comment": "tambah info, wa 081234567890"}, f"/pos/{qid}/sunting")
    with app.app_context():
        from core.models import User

        from forum.services import flag_post
        flagger = db.session.scalar(sa.select(User).where(User.username == "penanda"))
        flag_post(flagger, qid, "lainnya", "Penanya menulis NIK 3201231508900001 di tempat lain")
        assert "3201231508900001" not in db.session.scalar(sa.select(Flag.note))
        summaries = db.session.scalars(sa.select(Revision.comment).where(Revision.post_id == qid)).all()
        assert not any("081234567890" in s for s in summaries)


def test_format_character_class_matches_unicodedata():
    import unicodedata

    from core.pii import _format_chars

    pattern = _format_chars()
    for cp in list(range(0x20000)) + list(range(0xE0000, 0xE1000)):
        ch = chr(cp)
        assert bool(pattern.match(ch)) == (unicodedata.category(ch) == "Cf"), hex(cp)
