import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.db import write_transaction
from core.extensions import db
from core.models import Role, User
from forum import services as fs
from forum.models import Answer, Flag, Question, Revision, Vote

from .conftest import login_client, post_form

BODY = "Saya sudah mencoba datang ke kantor tetapi diminta kembali minggu depan."


@pytest.fixture
def people(app, make_user):
    ids = {name: make_user(name) for name in ("penanya", "penjawab", "warga_lain")}
    ids["moderator"] = make_user("moderator1", role=Role.MODERATOR)
    return ids


def user(uid):
    return db.session.get(User, uid)


@pytest.fixture
def thread(app, people):
    """A fresh question by penanya with one answer by penjawab."""
    with app.app_context():
        q = fs.ask_question(user(people["penanya"]), "Bagaimana cara mengganti KTP yang hilang?", BODY,
                            "ktp-el, kehilangan", ["ktp-el-hilang-rusak"])
        a = fs.post_answer(user(people["penjawab"]), q.id, "Bawa KK dan surat kehilangan ke Disdukcapil terdekat.")
        return {"q": q.id, "a": a.id}


def consistent(post_id):
    """Score equals the sum of votes, and every reputation equals a recount."""
    from forum.models import Post

    post = db.session.get(Post, post_id, populate_existing=True)
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Vote.value), 0)).where(Vote.post_id == post_id))
    assert post.score == total
    for u in db.session.scalars(sa.select(User)):
        db.session.refresh(u)
        assert u.reputation == fs.compute_reputation(u.id), u.username
    return post.score


# ---------------------------------------------------------------- asking and answering

def test_ask_requires_login(client):
    resp = client.get("/pertanyaan/tanya")
    assert resp.status_code == 302 and "/masuk?next=" in resp.headers["Location"]


def test_ask_through_the_browser(app, people):
    c = login_client(app, "penanya")
    page = c.get("/pertanyaan/tanya?layanan=skck").get_data(as_text=True)
    assert 'value="skck" checked' in page
    resp = post_form(c, "/pertanyaan/tanya", {"title": "SKCK untuk melamar kerja dibuat di mana?", "body": BODY,
                                              "tags": "skck, kerja", "services": ["skck"]}, "/pertanyaan/tanya")
    assert resp.status_code == 302
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "SKCK untuk melamar kerja dibuat di mana?" in page and "/layanan/skck" in page
    with app.app_context():
        q = db.session.scalar(sa.select(Question).where(Question.title.like("SKCK untuk melamar%")))
        assert [t.name for t in q.tags] == ["kerja", "skck"]
        assert [s.slug for s in q.services] == ["skck"]
        assert q.body_html.startswith("<p>")  # cooked on write
        assert db.session.scalar(sa.select(sa.func.count(Revision.id)).where(Revision.post_id == q.id)) == 1
    # The service page lists it among related questions.
    assert "SKCK untuk melamar kerja dibuat di mana?" in c.get("/layanan/skck").get_data(as_text=True)


@pytest.mark.parametrize("data,message", [
    ({"title": "pendek", "body": BODY}, "Judul 15"),
    ({"title": "Judul yang cukup panjang untuk diterima", "body": "terlalu pendek"}, "Isi 20"),
    ({"title": "Judul yang cukup panjang untuk diterima", "body": BODY, "tags": "BUKAN TAG!"}, "Tag tidak valid"),
    ({"title": "Judul yang cukup panjang untuk diterima", "body": BODY, "tags": "a1,b2,c3,d4,e5,f6"}, "Paling banyak 5 tag"),
    ({"title": "Judul yang cukup panjang untuk diterima", "body": BODY, "services": ["tidak-ada"]}, "Layanan tidak dikenal"),
])
def test_ask_validation_keeps_the_text(app, people, data, message):
    c = login_client(app, "penanya")
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(Question.id)))
    resp = post_form(c, "/pertanyaan/tanya", data, "/pertanyaan/tanya")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html
    assert data["body"] in html  # nothing the user typed is lost
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Question.id))) == before


def test_answer_and_comment(app, people, thread):
    c = login_client(app, "warga_lain")
    resp = post_form(c, f"/pertanyaan/{thread['q']}/jawab", {"body": "Saya dulu urus di MPP, selesai satu jam."})
    assert resp.status_code == 302 and "#jawaban-" in resp.headers["Location"]
    resp = post_form(c, f"/pos/{thread['q']}/komentar", {"body": "Di kota mana Anda tinggal?"})
    assert resp.status_code == 302
    page = c.get(f"/pertanyaan/{thread['q']}").get_data(as_text=True)
    assert "Saya dulu urus di MPP" in page and "Di kota mana Anda tinggal?" in page and "2 jawaban" in page
    with app.app_context():
        assert db.session.get(Question, thread["q"]).answer_count == 2


def test_short_answer_is_rejected_and_kept(app, people, thread):
    c = login_client(app, "warga_lain")
    resp = post_form(c, f"/pertanyaan/{thread['q']}/jawab", {"body": "ok"})
    assert resp.status_code == 400 and "Isi 20" in resp.get_data(as_text=True)
    assert "\nok</textarea>" in resp.get_data(as_text=True)


def test_views_serve_cooked_html_without_rendering(app, client, thread, monkeypatch):
    import forum.services

    monkeypatch.setattr(forum.services, "render_markdown", lambda *_: pytest.fail("rendered on read"))
    assert client.get(f"/pertanyaan/{thread['q']}").status_code == 200


def test_xss_in_posts_is_neutralised_end_to_end(app, people):
    c = login_client(app, "penanya")
    body = "Tolong bantu <script>alert('x')</script> [klik](javascript:alert(1)) <img src=x onerror=alert(1)>"
    resp = post_form(c, "/pertanyaan/tanya", {"title": "Judul yang aman <b>tebal</b> sekali", "body": body},
                     "/pertanyaan/tanya")
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and "onerror=" not in page and "javascript:alert" not in page
    assert "&lt;b&gt;tebal&lt;/b&gt;" in page  # titles are escaped text


# ---------------------------------------------------------------- votes and reputation

def test_votes_set_switch_and_clear(app, people, thread):
    with app.app_context():
        voter = user(people["warga_lain"])
        assert fs.cast_vote(voter, thread["a"], 1).score == 1
        assert fs.cast_vote(voter, thread["a"], 1).score == 1  # repeated: still one vote
        assert fs.cast_vote(voter, thread["a"], -1).score == -1
        assert fs.cast_vote(voter, thread["a"], 0).score == 0
        assert consistent(thread["a"]) == 0
        fs.cast_vote(voter, thread["a"], 1)
        fs.cast_vote(user(people["moderator"]), thread["a"], 1)
        fs.cast_vote(voter, thread["q"], -1)
        assert consistent(thread["a"]) == 2 and consistent(thread["q"]) == -1
        assert user(people["penjawab"]).reputation == 1 + 2 * fs.REP_ANSWER_UP
        assert user(people["penanya"]).reputation == 1 + fs.REP_DOWN


def test_cannot_vote_on_own_post(app, people, thread):
    c = login_client(app, "penanya")
    resp = post_form(c, f"/pos/{thread['q']}/suara", {"value": "1"})
    assert resp.status_code == 400 and "tulisan sendiri" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Vote.id)).where(Vote.post_id == thread["q"])) == 0


@pytest.mark.parametrize("value", ["2", "", "naik", "-5"])
def test_bad_vote_value_is_a_clear_400(app, people, thread, value):
    c = login_client(app, "warga_lain")
    resp = post_form(c, f"/pos/{thread['a']}/suara", {"value": value})
    assert resp.status_code == 400 and "Nilai suara" in resp.get_data(as_text=True)


def test_vote_through_the_browser(app, people, thread):
    c = login_client(app, "warga_lain")
    assert post_form(c, f"/pos/{thread['a']}/suara", {"value": "1"}).status_code == 302
    page = c.get(f"/pertanyaan/{thread['q']}").get_data(as_text=True)
    assert 'aria-pressed="true"' in page and 'name="value" value="0"' in page  # next click clears
    assert c.post(f"/pos/{thread['a']}/suara", data={"value": "1"}).status_code == 400  # no CSRF token


def test_one_vote_per_user_per_post_is_a_database_constraint(app, people, thread):
    with app.app_context():
        with pytest.raises(IntegrityError):
            with write_transaction():
                db.session.add(Vote(post_id=thread["a"], user_id=people["warga_lain"], value=1))
                db.session.add(Vote(post_id=thread["a"], user_id=people["warga_lain"], value=1))


def test_concurrent_double_vote_counts_once(app, people, thread):
    """The same user fires the same vote from 8 threads at once."""
    errors, barrier = [], threading.Barrier(8)

    def vote():
        try:
            with app.app_context():
                voter = user(people["warga_lain"])
                barrier.wait()
                fs.cast_vote(voter, thread["a"], 1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=vote) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    with app.app_context():
        rows = db.session.scalars(sa.select(Vote).where(Vote.post_id == thread["a"])).all()
        assert [(v.user_id, v.value) for v in rows] == [(people["warga_lain"], 1)]
        assert consistent(thread["a"]) == 1
        assert user(people["penjawab"]).reputation == 1 + fs.REP_ANSWER_UP


def test_concurrent_votes_from_many_users(app, make_user, thread):
    voters = [make_user(f"pemilih{i}") for i in range(10)]
    barrier = threading.Barrier(len(voters))
    errors = []

    def vote(uid):
        try:
            with app.app_context():
                voter = user(uid)
                barrier.wait()
                fs.cast_vote(voter, thread["a"], 1)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(uid,)) for uid in voters]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    with app.app_context():
        assert consistent(thread["a"]) == 10


# ---------------------------------------------------------------- accepting

def test_only_the_asker_accepts(app, people, thread):
    other = login_client(app, "warga_lain")
    resp = post_form(other, f"/jawaban/{thread['a']}/terima", {})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.get(Question, thread["q"]).accepted_answer_id is None
    asker = login_client(app, "penanya")
    assert post_form(asker, f"/jawaban/{thread['a']}/terima", {}).status_code == 302
    with app.app_context():
        assert db.session.get(Question, thread["q"]).accepted_answer_id == thread["a"]
        assert user(people["penjawab"]).reputation == 1 + fs.REP_ACCEPTED
        assert user(people["penanya"]).reputation == 1 + fs.REP_ACCEPTER
        consistent(thread["a"])
    page = asker.get(f"/pertanyaan/{thread['q']}").get_data(as_text=True)
    assert "Diterima penanya" in page and "Batalkan terima" in page


def test_switching_and_withdrawing_accept_moves_reputation(app, people, thread):
    with app.app_context():
        asker = user(people["penanya"])
        second = fs.post_answer(user(people["warga_lain"]), thread["q"], "Bisa juga lewat layanan daring Dukcapil.")
        fs.accept_answer(asker, thread["a"])
        fs.accept_answer(asker, second.id)
        assert user(people["penjawab"]).reputation == 1
        assert user(people["warga_lain"]).reputation == 1 + fs.REP_ACCEPTED
        fs.accept_answer(asker, second.id)  # withdraw
        assert db.session.get(Question, thread["q"]).accepted_answer_id is None
        consistent(thread["q"])
        assert user(people["warga_lain"]).reputation == 1 and user(people["penanya"]).reputation == 1


def test_self_answer_accept_earns_nothing(app, people, thread):
    with app.app_context():
        asker = user(people["penanya"])
        own = fs.post_answer(asker, thread["q"], "Sudah saya urus sendiri, ternyata cukup bawa KK.")
        fs.accept_answer(asker, own.id)
        assert user(people["penanya"]).reputation == 1
        consistent(own.id)


# ---------------------------------------------------------------- editing

def test_author_edits_with_revision_and_diff(app, people, thread):
    c = login_client(app, "penjawab")
    page = c.get(f"/pos/{thread['a']}/sunting").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page
    resp = post_form(c, f"/pos/{thread['a']}/sunting",
                     {"version": "1", "body": "Bawa KK dan surat kehilangan ke Disdukcapil atau MPP terdekat.",
                      "comment": "tambah MPP"})
    assert resp.status_code == 302
    with app.app_context():
        a = db.session.get(Answer, thread["a"])
        assert a.version == 2 and "MPP" in a.body_html and a.edited_at is not None
        revs = db.session.scalars(sa.select(Revision).where(Revision.post_id == a.id).order_by(Revision.number)).all()
        assert [r.number for r in revs] == [1, 2] and revs[1].comment == "tambah MPP"
    html = c.get(f"/pos/{thread['a']}/riwayat").get_data(as_text=True)
    assert "Revisi 2" in html and "Revisi 1" in html and 'class="diff-add"' in html and 'class="diff-del"' in html


def test_edit_of_question_title_and_tags(app, people, thread):
    c = login_client(app, "penanya")
    resp = post_form(c, f"/pos/{thread['q']}/sunting", {"version": "1", "title": "Cara mengganti KTP-el yang hilang di luar kota",
                                                         "tags": "ktp-el", "body": BODY})
    assert resp.status_code == 302
    with app.app_context():
        q = db.session.get(Question, thread["q"])
        assert q.title.endswith("di luar kota") and [t.name for t in q.tags] == ["ktp-el"]


def test_unchanged_edit_adds_no_revision(app, people, thread):
    with app.app_context():
        a = db.session.get(Answer, thread["a"])
        fs.edit_post(user(people["penjawab"]), a.id, 1, a.body_md)
        assert db.session.scalar(sa.select(sa.func.count(Revision.id)).where(Revision.post_id == a.id)) == 1


def test_concurrent_edit_gets_a_conflict_not_a_lost_update(app, people, thread):
    author = login_client(app, "penjawab")
    moderator = login_client(app, "moderator1")
    # Both open the editor at version 1; the moderator saves first.
    assert post_form(moderator, f"/pos/{thread['a']}/sunting",
                     {"version": "1", "body": "Versi moderator: bawa KK dan surat kehilangan."}).status_code == 302
    mine = "Versi penulis: bawa KK, surat kehilangan, dan datang pagi."
    resp = post_form(author, f"/pos/{thread['a']}/sunting", {"version": "1", "body": mine})
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "Konflik penyuntingan" in html and "Versi moderator" in html  # shows the current text
    assert mine in html  # keeps the author's text
    assert 'name="version" type="hidden" value="2"' in html
    with app.app_context():
        assert db.session.get(Answer, thread["a"]).body_md.startswith("Versi moderator")
    # A deliberate re-submit after reading the conflict goes through.
    assert post_form(author, f"/pos/{thread['a']}/sunting", {"version": "2", "body": mine}).status_code == 302
    with app.app_context():
        assert db.session.get(Answer, thread["a"]).version == 3


def test_others_cannot_edit(app, people, thread):
    c = login_client(app, "warga_lain")
    assert c.get(f"/pos/{thread['a']}/sunting").status_code == 403
    resp = post_form(c, f"/pos/{thread['a']}/sunting", {"version": "1", "body": "Ubahan oleh orang lain yang tidak berhak."})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.get(Answer, thread["a"]).version == 1


def test_edit_with_bad_version_field(app, people, thread):
    c = login_client(app, "penjawab")
    resp = post_form(c, f"/pos/{thread['a']}/sunting", {"version": "abc", "body": "Isi baru yang cukup panjang sekali."})
    assert resp.status_code == 400


# ---------------------------------------------------------------- flags and duplicates

def test_flags(app, people, thread):
    c = login_client(app, "warga_lain")
    assert post_form(c, f"/pos/{thread['a']}/tandai", {"reason": "spam"}).status_code == 302
    resp = post_form(c, f"/pos/{thread['a']}/tandai", {"reason": "spam"})
    assert resp.status_code == 400 and "sudah menandai" in resp.get_data(as_text=True)
    resp = post_form(c, f"/pos/{thread['q']}/tandai", {"reason": "lainnya", "note": ""})
    assert resp.status_code == 400 and "Jelaskan" in resp.get_data(as_text=True)
    own = login_client(app, "penjawab")
    assert post_form(own, f"/pos/{thread['a']}/tandai", {"reason": "spam"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Flag.id)).where(Flag.post_id == thread["a"])) == 1
    # Moderators see the flag count on the thread.
    assert "1 tanda" in login_client(app, "moderator1").get(f"/pertanyaan/{thread['q']}").get_data(as_text=True)


def test_close_as_duplicate(app, people, thread):
    with app.app_context():
        dup = fs.ask_question(user(people["warga_lain"]), "KTP saya hilang, bagaimana menggantinya?", BODY)
        dup_id = dup.id
    stranger = login_client(app, "penjawab")
    assert post_form(stranger, f"/pertanyaan/{dup_id}/tutup", {"target": str(thread["q"])}).status_code == 403
    asker = login_client(app, "warga_lain")
    resp = post_form(asker, f"/pertanyaan/{dup_id}/tutup", {"target": f"http://localhost/pertanyaan/{thread['q']}"})
    assert resp.status_code == 302
    page = asker.get(f"/pertanyaan/{dup_id}").get_data(as_text=True)
    assert "Ditutup sebagai duplikat" in page and f'href="/pertanyaan/{thread["q"]}"' in page
    resp = post_form(asker, f"/pertanyaan/{dup_id}/jawab", {"body": "Jawaban untuk pertanyaan yang sudah ditutup."})
    assert resp.status_code == 400 and "ditutup" in resp.get_data(as_text=True)
    # Closing the original as a duplicate of the copy would make a cycle.
    mod = login_client(app, "moderator1")
    resp = post_form(mod, f"/pertanyaan/{thread['q']}/tutup", {"target": str(dup_id)})
    assert resp.status_code == 400
    assert post_form(asker, f"/pertanyaan/{dup_id}/buka", {}).status_code == 403
    assert post_form(mod, f"/pertanyaan/{dup_id}/buka", {}).status_code == 302
    with app.app_context():
        assert not db.session.get(Question, dup_id).is_closed


@pytest.mark.parametrize("target", ["999999", "bukan angka", str(0)])
def test_close_with_bad_target(app, people, thread, target):
    mod = login_client(app, "moderator1")
    resp = post_form(mod, f"/pertanyaan/{thread['q']}/tutup", {"target": target})
    assert resp.status_code == 400
    with app.app_context():
        assert not db.session.get(Question, thread["q"]).is_closed


# ---------------------------------------------------------------- listings

def test_listings(app, client, people, thread):
    html = client.get("/pertanyaan").get_data(as_text=True)
    assert "Bagaimana cara mengganti KTP yang hilang?" in html  # newest first
    assert "Halaman 1 dari" in html
    assert client.get("/pertanyaan?page=2").status_code == 200
    html = client.get("/pertanyaan?urut=belum-terjawab").get_data(as_text=True)
    assert "Bagaimana cara mengganti KTP" not in html
    html = client.get("/pertanyaan?tag=kehilangan").get_data(as_text=True)
    assert "Bagaimana cara mengganti KTP" in html and "Nikah di rumah" not in html
    html = client.get("/pertanyaan?layanan=nikah-di-kua").get_data(as_text=True)
    assert "Nikah di rumah bayar berapa ke KUA?" in html and "Bagaimana cara mengganti KTP" not in html
    assert client.get("/pertanyaan?urut=ngawur").status_code == 200
    assert client.get("/pertanyaan?layanan=tidak-ada").status_code == 404
    assert client.get("/pertanyaan/999999").status_code == 404
    assert client.get("/pertanyaan/tag/ktp-el").status_code == 301


def test_active_sort_follows_latest_activity(app, client, people):
    with app.app_context():
        old = db.session.scalar(sa.select(Question).order_by(Question.created_at).limit(1))
        fs.post_answer(user(people["penjawab"]), old.id, "Jawaban baru pada pertanyaan lama sekali.")
        title = old.title
    html = client.get("/pertanyaan?urut=aktif").get_data(as_text=True)
    first = html.index('class="q-item"')
    assert title in html[first:first + 2000]


# ---------------------------------------------------------------- seed threads

def test_seed_threads(app):
    with app.app_context():
        questions = db.session.scalars(sa.select(Question).where(Question.seed_key.is_not(None))).all()
        assert len(questions) >= 60
        assert all(q.answer_count >= 1 for q in questions)
        assert sum(q.accepted_answer_id is not None for q in questions) >= 50
        assert all(q.services for q in questions)
        for u in db.session.scalars(sa.select(User)):
            assert u.reputation == fs.compute_reputation(u.id)
            assert not u.check_password("")  # seed accounts cannot log in


def test_seed_reload_is_idempotent_and_edits_make_revisions(app, tmp_path):
    import shutil

    from core.contentio import load_content

    from .conftest import CONTENT

    with app.app_context():
        counts = lambda: (db.session.scalar(sa.select(sa.func.count(Question.id))),  # noqa: E731
                          db.session.scalar(sa.select(sa.func.count(Answer.id))))
        before = counts()
        load_content(CONTENT)
        assert counts() == before
        folder = tmp_path / "c"
        shutil.copytree(CONTENT, folder)
        path = folder / "threads" / "kependudukan.yml"
        path.write_text(path.read_text().replace("Cuti saya udah habis.", "Cuti saya sudah habis."))
        lines = load_content(folder)
        assert "disunting: 1" in lines[1] and counts() == before
        q = db.session.scalar(sa.select(Question).where(Question.seed_key == "ktp-hilang-di-perantauan"))
        assert q.version == 2


def test_malformed_threads_name_file_and_field(app, tmp_path):
    from core.contentio import ContentError, load_content

    folder = tmp_path / "rusak"
    (folder / "threads").mkdir(parents=True)
    (folder / "threads" / "a.yml").write_text(
        "- key: Bukan Key\n  title: pendek\n  author: x\n  date: kemarin\n  body: isi\n"
        "  services: [tidak-ada]\n  answers:\n    - author: budi_s\n      body: ok\n      accepted: ya\n")
    with app.app_context():
        with pytest.raises(ContentError) as exc:
            load_content(folder)
    found = {(p.path, p.field) for p in exc.value.problems}
    for field in ("[1].key", "[1].title", "[1].author", "[1].date", "[1].body", "[1].services",
                  "[1].answers[1].body", "[1].answers[1].accepted"):
        assert ("threads/a.yml", field) in found, field
