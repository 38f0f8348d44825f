"""Loops that bring a person back (issue 15): actions that survive login,
profiles with badges, "my questions" with new answers first."""
import pytest
import sqlalchemy as sa

from core import resume
from core.extensions import db
from core.models import PendingAction, Role, User
from forum import services as fs
from forum.models import Answer, Question, Vote

from .conftest import AuthActions, csrf_from, login_client, post_form

from .test_forum import BODY, people, user  # noqa: F401  (the forum's people and thread fixtures)

ANSWER = "Bawa KK asli dan surat kehilangan dari polsek ke Disdukcapil terdekat."


@pytest.fixture
def thread(app, people):
    with app.app_context():
        q = fs.ask_question(user(people["penanya"]), "Bagaimana cara mengganti KTP yang hilang?", BODY,
                            "ktp-el", ["ktp-el-hilang-rusak"])
        a = fs.post_answer(user(people["penjawab"]), q.id, ANSWER)
        return {"q": q.id, "a": a.id}


def anon_post(client, path, data, page):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


# ---------------------------------------------------------------- actions survive login

def test_vote_while_logged_out_completes_after_login(app, client, thread):
    page = f"/pertanyaan/{thread['q']}"
    resp = anon_post(client, f"/pos/{thread['a']}/suara", {"value": "1"}, page)
    # To the login page, with the thread (a GET page) as next: never a 405.
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/masuk?next=") and "suara" not in location
    login_page = client.get(location).get_data(as_text=True)
    assert "suara naik Anda untuk jawaban ini" in login_page
    resp = AuthActions(client).login("warga_lain")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"#jawaban-{thread['a']}")
    landed = client.get(resp.headers["Location"])
    assert landed.status_code == 200
    assert "Suara Anda tercatat." in landed.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Vote.value).where(Vote.post_id == thread["a"])) == 1
        assert db.session.get(Answer, thread["a"]).score == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingAction)) == 0
    # Done once: logging in again does not vote again.
    AuthActions(client).logout()
    AuthActions(client).login("warga_lain")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 1


def test_resumed_vote_goes_through_the_same_checks(app, client, thread):
    """The answer's own author voting on it after login is refused, as always."""
    anon_post(client, f"/pos/{thread['a']}/suara", {"value": "1"}, f"/pertanyaan/{thread['q']}")
    resp = AuthActions(client).login("penjawab")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "tidak dapat memberi suara pada tulisan sendiri" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_answer_draft_survives_registration(app, client, thread):
    page = f"/pertanyaan/{thread['q']}"
    html = client.get(page).get_data(as_text=True)
    assert "Masuk dan kirim jawaban" in html  # the form is there for visitors too
    draft = "Saya juga pernah: cukup bawa KK, tidak perlu surat pengantar RT. Hubungi saya di 0812-3456-7890."
    resp = anon_post(client, f"/pertanyaan/{thread['q']}/jawab", {"body": draft}, page)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/masuk?next=")
    with app.app_context():
        kept = db.session.scalars(sa.select(PendingAction)).one()
        assert "0812" not in kept.payload["body"]  # redacted before it is kept, like a post
    resp = AuthActions(client).register("warga_baru")
    assert resp.status_code == 302
    landed = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Jawaban Anda sudah terbit." in landed and "nomor HP" in landed
    with app.app_context():
        answer = db.session.scalars(sa.select(Answer).join(User, User.id == Answer.author_id)
                                    .where(User.username == "warga_baru")).one()
        assert answer.question_id == thread["q"] and "tidak perlu surat pengantar RT" in answer.body_md
        assert "0812" not in answer.body_md


def test_too_short_anonymous_answer_stays_in_the_form(client, thread):
    page = f"/pertanyaan/{thread['q']}"
    resp = anon_post(client, f"/pertanyaan/{thread['q']}/jawab", {"body": "pendek sekali"}, page)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "pendek sekali" in html and "Isi 20" in html


def test_refused_answer_after_login_keeps_the_draft(app, client, thread, people):
    page = f"/pertanyaan/{thread['q']}"
    draft = "Jawaban panjang yang ditulis sebelum masuk, jangan sampai hilang."
    anon_post(client, f"/pertanyaan/{thread['q']}/jawab", {"body": draft}, page)
    with app.app_context():  # the thread is closed while the visitor logs in
        other = fs.ask_question(user(people["warga_lain"]), "Pertanyaan lain yang mirip soal KTP hilang", BODY)
        fs.close_as_duplicate(user(people["moderator"]), thread["q"], other.id)
    resp = AuthActions(client).login("warga_lain")
    landed = client.get(resp.headers["Location"])
    html = landed.get_data(as_text=True)
    assert "sudah ditutup" in html and "Draf jawaban Anda masih ada" in html
    assert resp.headers["Location"].startswith(page + "?draf=")


def test_a_kept_draft_is_only_shown_to_its_owner(app, client, thread, people):
    page = f"/pertanyaan/{thread['q']}"
    with app.app_context():
        token = resume.keep(user(people["warga_lain"]), "answer",
                            {"question_id": thread["q"], "body": "Draf rahasia milik warga lain."}, page)
    other = login_client(app, "penjawab")
    assert "Draf rahasia" not in other.get(f"{page}?draf={token}").get_data(as_text=True)
    owner = login_client(app, "warga_lain")
    assert "Draf rahasia milik warga lain." in owner.get(f"{page}?draf={token}").get_data(as_text=True)


def test_login_required_post_never_sends_next_to_a_post_route(client, thread):
    page = f"/pertanyaan/{thread['q']}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    resp = client.post(f"/pos/{thread['q']}/komentar", data={"csrf_token": token, "body": "Komentar saya"},
                       headers={"Referer": "http://localhost" + page})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/masuk?next=" + page
    # A foreign referrer is never used.
    resp = client.post(f"/pos/{thread['q']}/komentar", data={"csrf_token": token, "body": "Komentar saya"},
                       headers={"Referer": "https://evil.example/x"})
    assert resp.headers["Location"] == "/masuk"


def test_pending_action_needs_csrf(client, thread):
    resp = client.post(f"/pos/{thread['a']}/suara", data={"value": "1"})
    assert resp.status_code == 400


def test_expired_pending_action_is_not_resumed(app, client, thread):
    from datetime import timedelta

    from core.models import utcnow

    anon_post(client, f"/pos/{thread['a']}/suara", {"value": "1"}, f"/pertanyaan/{thread['q']}")
    with app.app_context():
        db.session.execute(sa.update(PendingAction).values(created_at=utcnow() - resume.TTL - timedelta(minutes=1)))
        db.session.commit()
    resp = AuthActions(client).login("warga_lain")
    assert resp.headers["Location"] == "/"  # an ordinary login (no next given), no vote
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_registry_lists_the_forum_and_feedback_actions(app):
    assert {"vote", "answer", "feedback"} <= set(resume.registered())


# ---------------------------------------------------------------- profiles and badges

def test_profile_lists_public_posts_counts_and_badges(app, client, thread, people):
    with app.app_context():
        fs.accept_answer(user(people["penanya"]), thread["a"])
    html = client.get("/pengguna/penjawab").get_data(as_text=True)
    assert "Jawaban Pertama Diterima" in html and "Penjawab Andal" not in html
    assert "@penjawab" in html and "email" not in html.lower().split("<footer")[0].split("</header>", 1)[1]
    html = client.get("/pengguna/penjawab?tab=jawaban").get_data(as_text=True)
    assert "Bagaimana cara mengganti KTP yang hilang?" in html and "diterima" in html
    # The thread links the author's name to the profile.
    assert 'href="/pengguna/penjawab"' in client.get(f"/pertanyaan/{thread['q']}").get_data(as_text=True)
    assert client.get("/pengguna/tidak-ada").status_code == 404


def test_hidden_posts_stay_off_profiles_for_those_who_may_not_see_them(app, client, thread, people):
    from forum import moderation

    with app.app_context():
        moderation.hide_post(user(people["moderator"]), thread["a"], "Spam berulang")
    assert "Bagaimana cara mengganti KTP" not in client.get("/pengguna/penjawab?tab=jawaban").get_data(as_text=True)
    mod = login_client(app, "moderator1")
    html = mod.get("/pengguna/penjawab?tab=jawaban").get_data(as_text=True)
    assert "Bagaimana cara mengganti KTP" in html and "Disembunyikan moderator" in html


def test_profile_lists_agree_with_the_policy(app, thread, people):
    """Every post a profile lists is one forum.policy lets that viewer see."""
    from flask_login import AnonymousUserMixin

    from forum import moderation, policy, profiles

    with app.app_context():
        moderation.hide_post(user(people["moderator"]), thread["q"], "Judul tidak pantas")
        for viewer in (AnonymousUserMixin(), user(people["penjawab"]), user(people["moderator"])):
            for stmt in (profiles.questions_of(viewer, user(people["penanya"])),
                         profiles.answers_of(viewer, user(people["penjawab"]))):
                for post in db.session.scalars(stmt):
                    assert policy.can_see_post(viewer, post)
        anon = AnonymousUserMixin()
        assert db.session.scalars(profiles.answers_of(anon, user(people["penjawab"]))).all() == []


def test_badges_are_computed_from_data(app, people):
    from forum import profiles

    with app.app_context():
        s = profiles.Stats(questions=0, answers=12, accepted=10, promoted=1, flags_upheld=3, reviews=0)
        assert [b.key for b in profiles.badges(s)] == ["diterima-pertama", "penjawab-andal", "informasi-resmi",
                                                       "penjaga-komunitas"]
        assert profiles.badges(profiles.stats(user(people["warga_lain"]))) == []


def test_header_name_leads_to_the_profile(app, people):
    c = login_client(app, "penanya")
    html = c.get("/").get_data(as_text=True)
    assert 'href="/pengguna/penanya"' in html and 'href="/saya/pertanyaan"' in html


# ---------------------------------------------------------------- my questions

def test_my_questions_lists_new_answers_first(app, people):
    with app.app_context():
        asker = user(people["penanya"])
        old = fs.ask_question(asker, "Pertanyaan lama tentang perpanjangan SIM A", BODY)
        new = fs.ask_question(asker, "Pertanyaan baru tentang paspor anak-anak", BODY)
        old_id, new_id = old.id, new.id
    c = login_client(app, "penanya")
    c.get(f"/pertanyaan/{old_id}")  # looked at both before any answer
    c.get(f"/pertanyaan/{new_id}")
    with app.app_context():
        fs.post_answer(user(people["penjawab"]), old_id, ANSWER)
    html = c.get("/saya/pertanyaan").get_data(as_text=True)
    assert "1 jawaban baru" in html
    assert html.index("Pertanyaan lama tentang") < html.index("Pertanyaan baru tentang")  # unread first
    thread = c.get(f"/pertanyaan/{old_id}").get_data(as_text=True)
    assert "Baru sejak kunjungan terakhir Anda" in thread
    html = c.get("/saya/pertanyaan").get_data(as_text=True)
    assert "jawaban baru" not in html.split("</h1>", 1)[1].split("Tidak ada jawaban baru")[1]
    assert html.index("Pertanyaan lama tentang") < html.index("Pertanyaan baru tentang")  # then by activity


def test_my_questions_needs_login(client):
    resp = client.get("/saya/pertanyaan")
    assert resp.status_code == 302 and "/masuk?next=/saya/pertanyaan" in resp.headers["Location"]


def test_viewing_a_thread_takes_no_write_lock(app, thread, people):
    """The asker's marker is kept by core.ledger, never in a write transaction."""
    from sqlalchemy import event

    from core.db import _WRITE_TXN

    c = login_client(app, "penanya")
    writes = []
    with app.app_context():
        engine = db.engine

    def on_begin(conn):
        if _WRITE_TXN.get():
            writes.append(1)

    event.listen(engine, "begin", on_begin)
    try:
        assert c.get(f"/pertanyaan/{thread['q']}").status_code == 200
        assert c.get("/saya/pertanyaan").status_code == 200
    finally:
        event.remove(engine, "begin", on_begin)
    assert writes == []


def test_asker_is_not_asked_whether_their_own_question_was_answered(app, people):
    with app.app_context():
        q = fs.ask_question(user(people["penanya"]), "Belum ada yang menjawab pertanyaan ini?", BODY)
        qid = q.id
    asker = login_client(app, "penanya")
    assert "Apakah halaman ini menjawab" not in asker.get(f"/pertanyaan/{qid}").get_data(as_text=True)
    other = login_client(app, "warga_lain")
    assert "Apakah halaman ini menjawab" not in other.get(f"/pertanyaan/{qid}").get_data(as_text=True)
    with app.app_context():
        fs.post_answer(user(people["penjawab"]), qid, ANSWER)
    assert "Apakah halaman ini menjawab" in other.get(f"/pertanyaan/{qid}").get_data(as_text=True)
    assert "Apakah halaman ini menjawab" not in asker.get(f"/pertanyaan/{qid}").get_data(as_text=True)


# ---------------------------------------------------------------- feedback closes the loop

def test_feedback_confirms_where_it_was_given_and_asks_what_was_missing(app, client):
    from analytics.models import Feedback

    page = "/layanan/skck"
    resp = anon_post(client, "/umpan-balik", {"target": "service:skck", "helpful": "tidak"}, page)
    assert resp.headers["Location"] == page + "?umpan-balik=tidak#umpan-balik"
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    box = html[html.index('id="umpan-balik"'):]
    box = box[:box.index("</section>")]
    assert "Terima kasih atas masukannya." in box and 'role="status"' in box  # next to the buttons
    assert "Apa yang kurang atau belum terjawab?" in box and 'name="comment"' in box
    resp = anon_post(client, "/umpan-balik", {"target": "service:skck", "helpful": "tidak",
                                              "comment": "Tidak ada info biaya legalisir. WA saya 0812 3456 7890"}, page)
    assert resp.headers["Location"] == page + "?umpan-balik=terkirim#umpan-balik"
    assert "Masukan Anda sudah kami terima" in client.get(resp.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        row = db.session.scalars(sa.select(Feedback)).one()  # the same visitor's row, now with the comment
        assert row.helpful is False and "legalisir" in row.comment and "0812" not in row.comment
    # An empty "what was missing" loses nothing and says so.
    resp = anon_post(client, "/umpan-balik", {"target": "service:skck", "helpful": "tidak", "comment": "  "}, page)
    assert "Kotak masukan masih kosong" in client.get(resp.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert "legalisir" in db.session.scalars(sa.select(Feedback)).one().comment


def test_missing_comments_reach_the_dashboard(app, client, make_user):
    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    anon_post(client, "/umpan-balik", {"target": "service:skck", "helpful": "tidak",
                                       "comment": "Syarat untuk pelamar luar negeri kurang jelas"}, "/layanan/skck")
    html = login_client(app, "u_km").get("/kelola/analitik").get_data(as_text=True)
    assert "Syarat untuk pelamar luar negeri kurang jelas" in html and "service:skck" in html


def test_feedback_over_the_address_limit_waits_for_login(app, people):
    """Many citizens share one mobile-carrier address: past the per-address
    limit the rating is kept and recorded for the account after login."""
    from analytics.models import Feedback

    app.config.update(RATELIMIT_ENABLED=True)
    for _ in range(3):
        c = app.test_client()
        anon_post(c, "/umpan-balik", {"target": "service:skck", "helpful": "ya"}, "/layanan/skck")
    c = app.test_client()
    resp = anon_post(c, "/umpan-balik", {"target": "service:skck", "helpful": "tidak",
                                         "comment": "Jam buka kantor tidak ada"}, "/layanan/skck")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/masuk?next=")
    assert "penilaian Anda (“tidak”) untuk halaman ini" in c.get(resp.headers["Location"]).get_data(as_text=True)
    resp = AuthActions(c).login("warga_lain")
    assert resp.headers["Location"] == "/layanan/skck?umpan-balik=terkirim#umpan-balik"
    with app.app_context():
        rows = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
        assert len(rows) == 4 and rows[-1].helpful is False and rows[-1].comment == "Jam buka kantor tidak ada"
        assert str(people["warga_lain"]) not in rows[-1].visitor  # pseudonymous, not the account id


# ---------------------------------------------------------------- trust pages

@pytest.mark.parametrize("path,words", [
    ("/tentang", ["Informasi resmi", "Tanya jawab warga", "SP4N-LAPOR"]),
    ("/privasi", ["UU", "27", "Cookie", "<code>vid</code>", "<code>perangkat</code>", "<code>lang</code>",
                  "remember_token", "365 hari", "30 hari, lalu dikosongkan", "Hak Anda"]),
    ("/ketentuan", ["Ketentuan penggunaan", "data pribadi"]),
])
def test_trust_pages_in_both_languages(client, path, words):
    html = client.get(path).get_data(as_text=True)
    for word in words:
        assert word in html, word
    english = client.get(path + "?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Tentang situs ini" not in english
    home = client.get("/").get_data(as_text=True)
    assert f'href="{path}"' in home.split("<footer", 1)[1]  # linked from the footer


def test_privacy_notice_states_the_configured_retention(app, client):
    app.config["RETENTION_DAYS"] = {"pencarian": 90}
    html = client.get("/privasi").get_data(as_text=True)
    assert "90 hari" in html


def test_logo_and_favicon(client):
    html = client.get("/").get_data(as_text=True)
    assert "logo.svg" in html and 'rel="icon"' in html
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/vnd.microsoft.icon" and resp.data[:4] == b"\0\0\1\0"
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data
    svg.close()


def test_json_link_and_source_tags_only_for_curators(app, client, make_user):
    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    page = client.get("/layanan/skck").get_data(as_text=True)
    assert "/api/v1/services/skck" not in page
    history = client.get("/layanan/skck/riwayat").get_data(as_text=True)
    assert "content:" not in history and "review:" not in history
    assert "content:" not in client.get("/layanan/skck/riwayat/1").get_data(as_text=True)
    km = login_client(app, "u_km")
    assert "/api/v1/services/skck" in km.get("/layanan/skck").get_data(as_text=True)
    assert "content:" in km.get("/layanan/skck/riwayat").get_data(as_text=True)


def test_ask_page_title_has_no_markup(app, people):
    import re

    html = login_client(app, "penanya").get("/pertanyaan/tanya").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title and title.strip() == "Ajukan pertanyaan · Layanan"


# ---------------------------------------------------------------- retention

def test_retention_prune_deletes_what_the_notice_says(app):
    from datetime import timedelta

    from analytics.models import Escalation, Feedback, SearchLog, SkmResponse
    from core import retention
    from core.models import AuditLog, utcnow

    now = utcnow()
    old, recent = now - timedelta(days=400), now - timedelta(days=10)
    with app.app_context():
        scores = {f"u{i}": 3 for i in range(1, 10)}
        db.session.add_all([
            SearchLog(query="ktp lama", created_at=old), SearchLog(query="ktp baru", created_at=recent),
            Feedback(target="service:skck", helpful=False, visitor="a" * 32, comment="lama", created_at=old),
            Feedback(target="service:skck", helpful=True, visitor="b" * 32, created_at=recent),
            Escalation(reference="LYN-0001-AAAAAA", target="service:skck", trail=[["search", "ktp", "x"]],
                       created_at=now - timedelta(days=40)),
            Escalation(reference="LYN-0001-BBBBBB", target="service:skck", trail=[["search", "sim", "x"]],
                       created_at=recent),
            SkmResponse(service="skck", respondent="u:1", period="2026-01", created_at=now - timedelta(days=90),
                        **scores),
            PendingAction(token="t" * 40, kind="vote", payload={}, back="/", created_at=now - timedelta(days=2)),
            AuditLog(action="post.hide", target_type="answer", target_id=1, detail={},
                     created_at=now - timedelta(days=2000)),
        ])
        db.session.commit()
        counts = {rule.name: n for rule, n in retention.prune(dry_run=True)}
        assert counts["pencarian"] == 1 and counts["jejak-rujukan"] == 1
        result = {rule.name: n for rule, n in retention.prune()}
        assert result["pencarian"] == 1 and result["umpan-balik"] == 1 and result["jejak-rujukan"] == 1
        assert result["responden-skm"] == 1 and result["tindakan-tertunda"] == 1 and result["audit"] == 1
        assert db.session.scalars(sa.select(SearchLog.query)).all() == ["ktp baru"]
        trails = dict(db.session.execute(sa.select(Escalation.reference, Escalation.trail)).all())
        assert trails == {"LYN-0001-AAAAAA": [], "LYN-0001-BBBBBB": [["search", "sim", "x"]]}
        assert db.session.scalar(sa.select(SkmResponse.respondent)) is None
        assert db.session.scalar(sa.select(SkmResponse.u1)) == 3  # the scores stay
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingAction)) == 0
        again = {rule.name: n for rule, n in retention.prune()}
        assert set(again.values()) == {0}


def test_retention_command(app):
    result = app.test_cli_runner().invoke(args=["retention", "prune"])
    assert result.exit_code == 0, result.output
    assert "pencarian: 0 baris dihapus (lebih dari 365 hari)" in result.output and "ledger:" in result.output
