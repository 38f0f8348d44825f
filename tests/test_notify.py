"""Domain events and in-app notifications: follows (question, service, tag),
the asker's automatic follow, the inbox and its unread count, mentions,
reviewers told of drafts, hidden posts never notifying."""
import re
from pathlib import Path

import sqlalchemy as sa

from core.extensions import db
from core.models import Role, User

from .conftest import csrf_from, login_client, post_form

ROOT = Path(__file__).resolve().parent.parent
BODY = "Saya sudah mencoba datang ke kantor tetapi belum jelas syaratnya apa saja."
ANSWER = "Bawa KTP asli dan fotokopi KK, lalu ambil nomor antrean sebelum jam sembilan pagi."


def uid(app, name):
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == name))


def user(name):
    return db.session.scalar(sa.select(User).where(User.username == name))


def ask(app, name, title="Bagaimana cara mengurus surat pindah domisili?", body=BODY, tags="", services=()):
    from forum.services import ask_question

    with app.app_context():
        return ask_question(user(name), title, body, tags, list(services)).id


def answer(app, name, question_id, body=ANSWER):
    from forum.services import post_answer

    with app.app_context():
        return post_answer(user(name), question_id, body).id


def rows(app, name):
    from notify.models import Notification

    with app.app_context():
        return [(n.kind, n.question_id, n.post_id, n.comment_id, n.service_id, n.draft_id)
                for n in db.session.scalars(sa.select(Notification).where(Notification.user_id == uid(app, name))
                                            .order_by(Notification.id))]


def unread_badge(html: str) -> str | None:
    m = re.search(r'class="notif-link"[^>]*>.*?(?:<span class="count">(\d+\+?)</span>)?</a>', html, re.S)
    return m.group(1) if m else None


# ---------------------------------------------------------------- the asker hears that someone answered

def test_asker_follows_own_question_hears_of_the_answer_and_reads_it(app, make_user):
    make_user("penanya")
    make_user("penjawab")
    asker = login_client(app, "penanya")
    r = post_form(asker, "/pertanyaan/tanya", {"title": "Bagaimana cara mengurus surat pindah domisili?",
                                               "body": BODY, "tags": "pindah"}, token_page="/pertanyaan/tanya")
    assert r.status_code == 302
    qid = int(re.search(r"/pertanyaan/(\d+)", r.headers["Location"]).group(1))
    page = asker.get(f"/pertanyaan/{qid}").get_data(as_text=True)
    assert "Diikuti" in page and 'data-following="ya"' in page  # the asker follows automatically
    assert unread_badge(page) is None

    helper = login_client(app, "penjawab")
    r = post_form(helper, f"/pertanyaan/{qid}/jawab", {"body": ANSWER}, token_page=f"/pertanyaan/{qid}")
    assert r.status_code == 302
    aid = int(r.headers["Location"].rsplit("-", 1)[1])

    home = asker.get("/").get_data(as_text=True)
    assert unread_badge(home) == "1"
    assert "Notifikasi, 1 belum dibaca" in home
    inbox = asker.get("/notifikasi").get_data(as_text=True)
    assert "penjawab menjawab pertanyaan yang Anda ikuti: Bagaimana cara mengurus surat pindah domisili?" in inbox
    assert "unread" in inbox and " WIB" in inbox
    nid = int(re.search(r'/notifikasi/(\d+)"', inbox).group(1))
    r = asker.post(f"/notifikasi/{nid}", data={"csrf_token": csrf_from(inbox)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/pertanyaan/{qid}#jawaban-{aid}")
    assert unread_badge(asker.get("/").get_data(as_text=True)) is None
    # the answerer is not told about their own answer; the asker is not told about their question
    assert rows(app, "penjawab") == []
    assert [k for k, *_ in rows(app, "penanya")] == ["answer"]
    # someone else's notification cannot be opened
    assert helper.post(f"/notifikasi/{nid}", data={"csrf_token": csrf_from(inbox)}).status_code in (400, 404)


def test_mark_all_read_and_unread_count_cap(app, make_user):
    from notify.services import COUNT_CAP, notify_users, unread_count
    from core.db import write_transaction

    make_user("banyak")
    with app.app_context():
        u = user("banyak")
        with write_transaction():
            for i in range(COUNT_CAP + 5):
                notify_users([u.id], "page_updated", f"test:{i}", service_id=1, detail={"fields": ["fees"]})
        assert unread_count(u) == COUNT_CAP + 1
    client = login_client(app, "banyak")
    home = client.get("/").get_data(as_text=True)
    assert unread_badge(home) == f"{COUNT_CAP}+"
    inbox = client.get("/notifikasi").get_data(as_text=True)
    assert "Halaman 1 dari 4" in inbox
    r = client.post("/notifikasi/baca-semua", data={"csrf_token": csrf_from(inbox)})
    assert r.status_code == 302
    assert unread_badge(client.get("/notifikasi").get_data(as_text=True)) is None


def test_inbox_needs_login_and_an_empty_inbox_explains_itself(app, make_user):
    assert app.test_client().get("/notifikasi").status_code == 302
    make_user("baru")
    page = login_client(app, "baru").get("/notifikasi").get_data(as_text=True)
    assert "Belum ada notifikasi" in page
    assert app.test_client().get("/").get_data(as_text=True).count("notif-link") == 0


# ---------------------------------------------------------------- follow and unfollow

def test_follow_and_unfollow_a_question_service_and_tag(app, make_user):
    make_user("pengikut")
    make_user("penanya")
    asker_q = ask(app, "penanya", title="Apakah surat pindah bisa diurus lewat online?")
    client = login_client(app, "pengikut")
    with app.app_context():
        from kb.models import Service

        service = db.session.scalar(sa.select(Service).order_by(Service.id))
        slug, service_id = service.slug, service.id

    page = client.get(f"/layanan/{slug}").get_data(as_text=True)
    assert 'name="target" value="service:' + slug in page and "Ikuti" in page
    for target, page_path in ((f"question:{asker_q}", f"/pertanyaan/{asker_q}"), (f"service:{slug}", f"/layanan/{slug}"),
                              ("tag:pindah-datang", "/pertanyaan?tag=pindah-datang")):
        if target.startswith("tag"):
            ask(app, "penanya", title="Tag pindah datang dibuat dulu di sini", tags="pindah-datang")
        r = post_form(client, "/ikuti", {"target": target, "mode": "follow", "back": page_path}, token_page=page_path)
        assert r.status_code == 302 and r.headers["Location"] == page_path
        r = post_form(client, "/ikuti", {"target": target, "mode": "follow"}, token_page=page_path)  # twice: one follow
        assert 'data-following="ya"' in client.get(page_path).get_data(as_text=True)
    with app.app_context():
        from notify.models import Follow

        assert db.session.scalar(sa.select(sa.func.count(Follow.id)).where(Follow.user_id == uid(app, "pengikut"))) == 3
    account = client.get("/akun").get_data(as_text=True)
    assert "Yang Anda ikuti" in account and "#pindah-datang" in account

    answer(app, "penanya", asker_q, "Jawaban saya sendiri setelah bertanya langsung ke kantor kecamatan.")
    ask(app, "penanya", title="Pertanyaan baru dengan tag yang diikuti", tags="pindah-datang")
    ask(app, "penanya", title="Pertanyaan baru tentang layanan yang diikuti", services=[slug])
    kinds = [k for k, *_ in rows(app, "pengikut")]
    assert kinds == ["answer", "new_question", "new_question"]
    inbox = client.get("/notifikasi").get_data(as_text=True)
    assert "Pertanyaan baru tentang #pindah-datang" in inbox

    for target, page_path in ((f"question:{asker_q}", f"/pertanyaan/{asker_q}"), (f"service:{slug}", f"/layanan/{slug}"),
                              ("tag:pindah-datang", "/pertanyaan?tag=pindah-datang")):
        r = post_form(client, "/ikuti", {"target": target, "mode": "unfollow"}, token_page=page_path)
        assert r.status_code == 302
        assert 'data-following="tidak"' in client.get(page_path).get_data(as_text=True)
    answer(app, "penanya", asker_q, "Tambahan jawaban kedua yang tidak lagi diberitahukan kepada siapa pun.")
    ask(app, "penanya", title="Pertanyaan lain lagi dengan tag yang pernah diikuti", tags="pindah-datang",
        services=[slug])
    assert len(rows(app, "pengikut")) == 3
    assert service_id


def test_follow_refuses_unknown_and_hidden_targets_without_500(app, make_user):
    from forum.moderation import hide_post

    make_user("pengikut")
    make_user("penanya")
    make_user("u_moderator", role=Role.MODERATOR)
    qid = ask(app, "penanya")
    with app.app_context():
        hide_post(user("u_moderator"), qid, "spam iklan")
    client = login_client(app, "pengikut")
    for target in (f"question:{qid}", "question:999999", "question:abc", "service:tidak-ada", "tag:tidak-ada",
                   "lain:1", "", "question:" + "9" * 40):
        r = post_form(client, "/ikuti", {"target": target, "mode": "follow"})
        assert r.status_code == 404, target
    assert post_form(client, "/ikuti", {"target": f"question:{qid}", "mode": "aneh"}).status_code == 400
    # a visitor whose session ended is sent to log in and back to the page, not to the POST-only address
    anon = app.test_client()
    r = post_form(anon, "/ikuti", {"target": f"question:{qid}", "mode": "follow", "back": "/pertanyaan?tag=x"},
                  token_page="/masuk")
    assert r.status_code == 302 and r.headers["Location"] == "/masuk?next=/pertanyaan?tag%3Dx"
    r = post_form(anon, "/akun/notifikasi", {"email_mode": "off"}, token_page="/masuk")
    assert r.headers["Location"] == "/masuk?next=/akun"


def test_anonymous_visitors_see_a_login_link_to_follow(app, make_user):
    make_user("penanya")
    qid = ask(app, "penanya")
    page = app.test_client().get(f"/pertanyaan/{qid}").get_data(as_text=True)
    assert "Masuk untuk mengikuti" in page and f"next=/pertanyaan/{qid}" in page


# ---------------------------------------------------------------- comments, accepts, mentions

def test_comments_and_accepts_reach_the_right_people(app, make_user):
    from forum.services import accept_answer, add_comment

    for name in ("penanya", "penjawab", "komentator"):
        make_user(name)
    qid = ask(app, "penanya")
    aid = answer(app, "penjawab", qid)
    with app.app_context():
        add_comment(user("komentator"), aid, "Apakah fotokopi KK perlu dilegalisir?")
        add_comment(user("komentator"), qid, "Di kecamatan saya bisa sehari selesai.")
        accept_answer(user("penanya"), aid)
        accept_answer(user("penanya"), aid)  # withdrawn
        accept_answer(user("penanya"), aid)  # accepted again: told once
    assert [k for k, *_ in rows(app, "penjawab")] == ["comment", "accepted"]
    assert [k for k, *_ in rows(app, "penanya")] == ["answer", "comment"]
    assert rows(app, "komentator") == []
    inbox = login_client(app, "penjawab").get("/notifikasi").get_data(as_text=True)
    assert "komentator mengomentari tulisan Anda" in inbox and "Jawaban Anda diterima penanya" in inbox


def test_mentions_notify_once_existing_users_outside_code(app, make_user):
    from forum.services import add_comment, edit_post

    for name in ("penanya", "penjawab", "budi_s", "ani-r", "kode"):
        make_user(name)
    qid = ask(app, "penanya")
    body = ("Tanyakan ke @budi_s atau @Ani-R. dan juga @tidak_ada. Bukan `@kode` ini, atau email "
            "seseorang@contoh.id; @penjawab menyebut diri sendiri, @penanya diikuti.\n\n    @kode\n")
    aid = answer(app, "penjawab", qid, body)
    assert [k for k, *_ in rows(app, "budi_s")] == ["mention"]
    assert [k for k, *_ in rows(app, "ani-r")] == ["mention"]
    assert rows(app, "kode") == [] and rows(app, "penjawab") == []
    assert [k for k, *_ in rows(app, "penanya")] == ["mention"]  # a follower who is mentioned hears once
    with app.app_context():
        post = db.session.get(__import__("forum.models", fromlist=["Post"]).Post, aid)
        edit_post(user("penjawab"), aid, post.version, body + "\n\nTambahan untuk @budi_s dan @kode.")
        add_comment(user("penanya"), aid, "Terima kasih @budi_s, @budi_s!")
    assert [k for k, *_ in rows(app, "budi_s")] == ["mention", "mention"]  # the answer once, the comment once
    assert [k for k, *_ in rows(app, "kode")] == ["mention"]
    inbox = login_client(app, "budi_s").get("/notifikasi").get_data(as_text=True)
    assert "penjawab menyebut Anda di: Bagaimana cara mengurus surat pindah domisili?" in inbox


def test_at_most_ten_mentions_per_post(app, make_user):
    names = [f"warga{i:02d}" for i in range(12)]
    for name in names + ["penanya", "penjawab"]:
        make_user(name)
    qid = ask(app, "penanya")
    answer(app, "penjawab", qid, "Semua tolong bantu: " + " ".join("@" + n for n in names))
    told = [n for n in names if rows(app, n)]
    assert told == names[:10]


# ---------------------------------------------------------------- hidden posts never notify

def test_hidden_posts_never_notify_and_leave_the_inbox(app, make_user):
    from forum.moderation import hide_post, restore_post
    from notify.services import unread_count

    for name in ("penanya", "penjawab", "disebut"):
        make_user(name)
    make_user("u_moderator", role=Role.MODERATOR)
    qid = ask(app, "penanya")
    aid = answer(app, "penjawab", qid, ANSWER + " Tanya juga ke @disebut.")
    asker = login_client(app, "penanya")
    assert unread_badge(asker.get("/").get_data(as_text=True)) == "1"
    with app.app_context():
        hide_post(user("u_moderator"), aid, "jawaban menyesatkan")
    assert unread_badge(asker.get("/").get_data(as_text=True)) is None
    assert "menjawab pertanyaan" not in asker.get("/notifikasi").get_data(as_text=True)
    with app.app_context():
        assert unread_count(user("disebut")) == 0
        restore_post(user("u_moderator"), aid)
        assert unread_count(user("penanya")) == 1 and unread_count(user("disebut")) == 1
        hide_post(user("u_moderator"), qid, "pertanyaan spam")  # the whole thread hidden
        assert unread_count(user("penanya")) == 0 and unread_count(user("disebut")) == 0


def test_seeded_threads_notify_nobody_and_leave_no_follows(app):
    from notify.models import Follow, MailOutbox, Notification

    with app.app_context():
        for model in (Notification, Follow, MailOutbox):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


# ---------------------------------------------------------------- knowledge base events

def _km_draft(app, author, slug, change):
    from kb import curation

    with app.app_context():
        service = db.session.scalar(sa.select(__import__("kb.models", fromlist=["Service"]).Service)
                                    .where(__import__("kb.models", fromlist=["Service"]).Service.slug == slug))
        snapshot = dict(service.record)
        change(snapshot)
        draft = curation.create_draft(user(author), slug, snapshot, summary="Perbarui ringkasan")
        curation.submit_draft(user(author), draft.id)
        return draft.id


def test_reviewers_are_told_a_draft_awaits_them_and_authors_hear_the_outcome(app, make_user):
    from kb import curation

    make_user("km_satu", role=Role.KNOWLEDGE_MANAGER)
    make_user("km_dua", role=Role.KNOWLEDGE_MANAGER)
    make_user("admin_a", role=Role.ADMIN)
    make_user("warga", role=Role.MEMBER)
    make_user("mod", role=Role.MODERATOR)
    make_user("pengikut")
    with app.app_context():
        from kb.models import Service

        slug = db.session.scalar(sa.select(Service.slug).order_by(Service.id))
    follower = login_client(app, "pengikut")
    post_form(follower, "/ikuti", {"target": f"service:{slug}", "mode": "follow"})
    draft_id = _km_draft(app, "km_satu", slug, lambda s: s.update(summary=s["summary"] + " Diperbarui."))
    assert [k for k, *_ in rows(app, "km_dua")] == ["draft_review"]
    assert [k for k, *_ in rows(app, "admin_a")] == ["draft_review"]
    assert rows(app, "km_satu") == [] and rows(app, "warga") == [] and rows(app, "mod") == []
    reviewer = login_client(app, "km_dua")
    inbox = reviewer.get("/notifikasi").get_data(as_text=True)
    assert "dari km_satu menunggu tinjauan Anda" in inbox
    nid = int(re.search(r'/notifikasi/(\d+)"', inbox).group(1))
    r = reviewer.post(f"/notifikasi/{nid}", data={"csrf_token": csrf_from(inbox)})
    assert r.headers["Location"].endswith(f"/kelola/draf/{draft_id}")
    with app.app_context():
        curation.publish_draft(user("km_dua"), draft_id, "Sudah dicek.")
    assert [k for k, *_ in rows(app, "km_satu")] == ["draft_outcome"]
    assert [k for k, *_ in rows(app, "pengikut")] == ["page_updated"]
    assert "diperbarui (ringkasan)" in follower.get("/notifikasi").get_data(as_text=True)
    # a bare "still valid" confirmation is no news for followers
    with app.app_context():
        curation.mark_reviewed(user("km_dua"), slug)
    assert [k for k, *_ in rows(app, "pengikut")] == ["page_updated"]


def test_regulation_change_tells_the_followers_of_pages_citing_it(app, make_user):
    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    make_user("pengikut")
    post_form(login_client(app, "pengikut"), "/ikuti", {"target": "service:skck", "mode": "follow"})
    values = {"type": "PP", "number": "76", "year": "2020", "status": "repealed", "replaced_by": "pp-59-2018",
              "title": "Jenis dan Tarif atas Jenis PNBP yang Berlaku pada Polri", "checked": "2026-11-25",
              "url": "https://peraturan.bpk.go.id/Details/150594"}
    r = post_form(login_client(app, "u_km"), "/kelola/regulasi/pp-76-2020/sunting", values, "/kelola/regulasi")
    assert r.status_code == 302
    assert [k for k, *_ in rows(app, "pengikut")] == ["regulation"]
    inbox = login_client(app, "pengikut").get("/notifikasi").get_data(as_text=True)
    assert "PP 76/2020 yang dikutip halaman" in inbox and "dicabut; halaman ini sedang ditinjau ulang" in inbox


# ---------------------------------------------------------------- the signals themselves

def test_forum_and_kb_reach_search_only_through_signals():
    for package in ("forum", "kb"):
        for path in (ROOT / package).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "search.outbox import enqueue" not in text and "enqueue_search" not in text, path
    for path in (ROOT / "notify").glob("*.py"):
        assert "import search" not in path.read_text(encoding="utf-8")
    kb_text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "kb").glob("*.py"))
    assert "on_fields_changed" not in kb_text and "on_draft_published" not in kb_text
    assert "import notify" not in kb_text and "from notify" not in kb_text


def test_every_write_event_is_indexed_by_doc_ids(app, make_user):
    from core import signals
    from search.models import SearchOutbox

    make_user("penanya")
    seen = []

    def spy(sender, **kw):
        seen.append(kw.get("doc_ids"))

    signals.question_asked.connect(spy)
    try:
        qid = ask(app, "penanya")
    finally:
        signals.question_asked.disconnect(spy)
    assert seen == [[f"question:{qid}"]]
    with app.app_context():
        assert db.session.scalar(sa.select(SearchOutbox.doc_id).order_by(SearchOutbox.id.desc())) == f"question:{qid}"


def test_a_failing_subscriber_rolls_the_whole_change_back(app, make_user):
    from core import signals
    from forum.models import Question

    make_user("penanya")

    def broken(sender, **kw):
        raise RuntimeError("subscriber failed")

    signals.question_asked.connect(broken)
    try:
        try:
            ask(app, "penanya", title="Pertanyaan yang tidak boleh tersimpan sama sekali")
        except RuntimeError:
            pass
    finally:
        signals.question_asked.disconnect(broken)
    with app.app_context():
        assert db.session.scalar(sa.select(Question.id).where(Question.title.like("Pertanyaan yang tidak%"))) is None


def test_inbox_account_and_follow_button_speak_english_on_request(app, make_user):
    make_user("penanya")
    make_user("penjawab")
    qid = ask(app, "penanya")
    answer(app, "penjawab", qid)
    client = login_client(app, "penanya")
    inbox = client.get("/notifikasi?lang=en").get_data(as_text=True)
    assert "penjawab answered a question you follow: Bagaimana cara mengurus surat pindah domisili?" in inbox
    assert "Notifications, 1 unread" in inbox
    assert "Following" in client.get(f"/pertanyaan/{qid}?lang=en").get_data(as_text=True)
    account = client.get("/akun?lang=en").get_data(as_text=True)
    assert "What you follow" in account and "Daily summary (one e-mail a day)" in account
