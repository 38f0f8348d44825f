import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditLog, Role, User
from forum import moderation as mod
from forum import services as fs
from forum.models import Answer, Flag, Post, Question

from .conftest import act_as, csrf_from, login_client, post_form

BODY = "Saya sudah mencoba datang ke kantor tetapi diminta kembali minggu depan."
ROLES = {"anon": None, "member": Role.MEMBER, "km": Role.KNOWLEDGE_MANAGER, "moderator": Role.MODERATOR,
         "admin": Role.ADMIN}


@pytest.fixture
def world(app, make_user):
    ids = {name: make_user(f"u_{name}", role=role) for name, role in ROLES.items() if role}
    ids["penanya"] = make_user("penanya")
    ids["pelanggar"] = make_user("pelanggar")
    with app.app_context():
        u = lambda k: db.session.get(User, ids[k])  # noqa: E731
        q = fs.ask_question(u("penanya"), "Bagaimana cara memperpanjang paspor yang habis?", BODY)
        q2 = fs.ask_question(u("penanya"), "Perpanjang paspor habis masa berlaku gimana?", BODY)
        a = fs.post_answer(u("pelanggar"), q.id, "Beli saja paspor palsu di pasar, lebih cepat dan murah.")
        fs.accept_answer(u("penanya"), a.id)
        fs.flag_post(u("member"), a.id, "menyesatkan")
        hidden = fs.post_answer(u("member"), q.id, "Jawaban yang nanti disembunyikan moderator.")
        mod.hide_post(u("moderator"), hidden.id, "contoh tersembunyi")
        ids.update(q=q.id, q2=q2.id, a=a.id, hidden=hidden.id)
    return ids


def snapshot():
    """Everything moderation can change."""
    posts = db.session.execute(sa.select(Post.id, Post.hidden_at, Post.deleted_at, Post.needs_review)
                               .order_by(Post.id)).all()
    questions = db.session.execute(sa.select(Question.id, Question.locked_at, Question.closed_at,
                                             Question.duplicate_of_id, Question.answer_count,
                                             Question.accepted_answer_id).order_by(Question.id)).all()
    answers = db.session.execute(sa.select(Answer.id, Answer.question_id).order_by(Answer.id)).all()
    flags = db.session.execute(sa.select(Flag.id, Flag.status).order_by(Flag.id)).all()
    users = db.session.execute(sa.select(User.id, User.suspended_until, User.session_version, User.reputation)
                               .order_by(User.id)).all()
    audit = db.session.scalar(sa.select(sa.func.count(AuditLog.id)))
    return posts, questions, answers, flags, users, audit


ACTIONS = {
    # name: (method, path template, form data, capability)
    "queue": ("GET", "/moderasi", {}, "moderate"),
    "hide": ("POST", "/moderasi/pos/{a}/sembunyikan", {"reason": "menyesatkan warga"}, "moderate"),
    "restore": ("POST", "/moderasi/pos/{hidden}/pulihkan", {}, "moderate"),
    "delete": ("POST", "/moderasi/pos/{a}/hapus", {"reason": "penipuan paspor"}, "moderate"),
    "dismiss": ("POST", "/moderasi/pos/{a}/abaikan-tanda", {}, "moderate"),
    "approve": ("POST", "/moderasi/pos/{a}/setujui", {}, "moderate"),
    "lock": ("POST", "/moderasi/pertanyaan/{q}/kunci", {}, "moderate"),
    "merge": ("POST", "/moderasi/pertanyaan/{q2}/gabung", {"target": "{q}"}, "moderate"),
    "suspend": ("POST", "/moderasi/pengguna/{pelanggar}", {"days": "7", "reason": "menyebar penipuan"}, "moderate"),
    "user_page": ("GET", "/moderasi/pengguna/{pelanggar}", {}, "moderate"),
    "audit": ("GET", "/admin/audit", {}, "admin"),
}
ALLOWED = {"moderate": {"moderator", "admin"}, "admin": {"admin"}}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_action_matrix(app, world, role, action):
    method, path, data, capability = ACTIONS[action]
    path = path.format(**world)
    data = {k: v.format(**world) for k, v in data.items()}
    with app.app_context():
        before = snapshot()
    resp = act_as(app, role, method, path, data)
    with app.app_context():
        after = snapshot()
    if role in ALLOWED[capability]:
        assert resp.status_code in (200, 302), (role, action, resp.status_code)
        if method == "POST":
            assert after != before, (role, action)
            assert after[5] == before[5] + 1  # exactly one audit row
    else:
        expected = 302 if role == "anon" else 403
        assert resp.status_code == expected, (role, action, resp.status_code)
        if role == "anon":
            assert "/masuk" in resp.headers["Location"]
        assert after == before, (role, action)


def test_hidden_posts_leave_public_view_and_search(app, world):
    public = app.test_client()
    page = public.get(f"/pertanyaan/{world['q']}").get_data(as_text=True)
    assert "Jawaban yang nanti disembunyikan" not in page
    moderator = login_client(app, "u_moderator")
    page = moderator.get(f"/pertanyaan/{world['q']}").get_data(as_text=True)
    assert "Jawaban yang nanti disembunyikan" in page and "Disembunyikan moderator" in page
    post_form(moderator, f"/moderasi/pos/{world['q']}/sembunyikan", {"reason": "pertanyaan duplikat spam"})
    assert public.get(f"/pertanyaan/{world['q']}").status_code == 404
    assert public.get(f"/api/v1/questions/{world['q']}").status_code == 404
    assert "memperpanjang paspor yang habis" not in public.get("/pertanyaan").get_data(as_text=True)
    hits = public.get("/api/v1/search?q=memperpanjang+paspor+habis&types=question").get_json()["results"]
    assert world["q"] not in [h["id"] for h in hits]
    assert moderator.get(f"/pertanyaan/{world['q']}").status_code == 200
    post_form(moderator, f"/moderasi/pos/{world['q']}/pulihkan", {})
    assert public.get(f"/pertanyaan/{world['q']}").status_code == 200


def test_locked_thread_refuses_members_not_moderators(app, world):
    moderator = login_client(app, "u_moderator")
    post_form(moderator, f"/moderasi/pertanyaan/{world['q']}/kunci", {})
    member = login_client(app, "u_member")
    for path, data in ((f"/pertanyaan/{world['q']}/jawab", {"body": "Jawaban baru untuk utas terkunci ini."}),
                       (f"/pos/{world['q']}/komentar", {"body": "komentar baru"}),
                       (f"/pos/{world['a']}/suara", {"value": "1"})):
        resp = post_form(member, path, data)
        assert resp.status_code == 400 and "dikunci" in resp.get_data(as_text=True), path
    assert post_form(moderator, f"/pos/{world['q']}/komentar", {"body": "Utas ini dikunci karena duplikat."}).status_code == 302


def test_suspension_ends_sessions_at_once(app, world):
    victim = login_client(app, "pelanggar")
    assert 'action="/keluar"' in victim.get("/").get_data(as_text=True)
    post_form(login_client(app, "u_moderator"), f"/moderasi/pengguna/{world['pelanggar']}",
              {"days": "7", "reason": "menyebar penipuan"})
    assert 'action="/keluar"' not in victim.get("/").get_data(as_text=True)
    resp = post_form(app.test_client(), "/masuk", {"username": "pelanggar", "password": "kata-sandi-aman"}, "/masuk")
    assert "ditangguhkan" in resp.get_data(as_text=True)


def test_staff_protection(app, world):
    with app.app_context():
        moderator = db.session.get(User, world["moderator"])
        with pytest.raises(fs.Forbidden):
            mod.suspend_user(moderator, world["km"], 3, "alasan cukup panjang")
        with pytest.raises(fs.Forbidden):
            mod.suspend_user(moderator, world["admin"], 3, "alasan cukup panjang")
        with pytest.raises(fs.ForumError):
            mod.suspend_user(moderator, world["moderator"], 3, "alasan cukup panjang")
        admin = db.session.get(User, world["admin"])
        assert mod.suspend_user(admin, world["km"], 3, "alasan cukup panjang").is_suspended


def test_bad_moderation_input_is_a_clear_400(app, world):
    moderator = login_client(app, "u_moderator")
    for path, data, message in (
        (f"/moderasi/pos/{world['a']}/sembunyikan", {"reason": "x"}, "minimal 5"),
        (f"/moderasi/pengguna/{world['pelanggar']}", {"days": "tujuh", "reason": "menyebar penipuan"}, "angka"),
        (f"/moderasi/pengguna/{world['pelanggar']}", {"days": "0", "reason": "menyebar penipuan"}, "1–3650"),
        (f"/moderasi/pertanyaan/{world['q2']}/gabung", {"target": str(world['q2'])}, "dirinya sendiri"),
        (f"/moderasi/pertanyaan/{world['q2']}/gabung", {"target": "abc"}, "nomor"),
    ):
        resp = post_form(moderator, path, data)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), path
    assert post_form(moderator, "/moderasi/pos/99999999/sembunyikan", {"reason": "tidak ada"}).status_code == 404
    assert post_form(moderator, f"/moderasi/pos/{world['a']}/sulap", {}).status_code == 404


def test_merge_moves_answers_and_keeps_reputation_consistent(app, world):
    with app.app_context():
        moderator = db.session.get(User, world["moderator"])
        extra = fs.post_answer(db.session.get(User, world["member"]), world["q2"], "Bisa lewat M-Paspor, pilih penggantian.")
        mod.merge_questions(moderator, world["q"], world["q2"])
        source, target = db.session.get(Question, world["q"]), db.session.get(Question, world["q2"])
        assert source.duplicate_of_id == target.id and source.is_closed and source.answer_count == 0
        assert db.session.get(Answer, world["a"]).question_id == target.id
        assert target.answer_count == 2 and extra.id in [a.id for a in target.answers]
        assert source.accepted_answer_id is None
        for u in db.session.scalars(sa.select(User)):
            assert u.reputation == fs.compute_reputation(u.id), u.username


def test_deleting_an_accepted_answer_keeps_reputation_consistent(app, world):
    with app.app_context():
        mod.delete_post(db.session.get(User, world["moderator"]), world["a"], "penipuan paspor")
        assert db.session.get(Question, world["q"]).accepted_answer_id is None
        for u in db.session.scalars(sa.select(User)):
            assert u.reputation == fs.compute_reputation(u.id), u.username
        with pytest.raises(fs.Forbidden):
            mod.restore_post(db.session.get(User, world["moderator"]), world["a"])
        mod.restore_post(db.session.get(User, world["admin"]), world["a"])


def test_first_posts_wait_for_review(app, world, make_user):
    make_user("pendatang")
    newcomer = login_client(app, "pendatang")
    resp = post_form(newcomer, "/pertanyaan/tanya", {"title": "Apakah bisa urus KIA tanpa akta kelahiran?", "body": BODY},
                     "/pertanyaan/tanya")
    qid = int(resp.headers["Location"].rsplit("/", 1)[1])
    moderator = login_client(app, "u_moderator")
    queue = moderator.get("/moderasi").get_data(as_text=True)
    assert "Apakah bisa urus KIA tanpa akta kelahiran?" in queue and "Beli saja paspor palsu" in queue
    post_form(moderator, f"/moderasi/pos/{qid}/setujui", {})
    assert "Apakah bisa urus KIA tanpa akta kelahiran?" not in moderator.get("/moderasi").get_data(as_text=True)
    # A second post by the same user does not need review.
    post_form(newcomer, f"/pertanyaan/{world['q']}/jawab", {"body": "Saya juga ingin tahu jawabannya."})
    with app.app_context():
        assert not db.session.scalar(sa.select(Post).where(Post.needs_review.is_(True), Post.author_id ==
                                                           db.session.scalar(sa.select(User.id).where(User.username == "pendatang"))))


def test_audit_log_is_readable_by_admins(app, world):
    admin = login_client(app, "u_admin")
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "post.hide" in html and "u_moderator" in html and "contoh tersembunyi" in html
    assert "post.hide" in admin.get("/admin/audit?action=post.hide").get_data(as_text=True)
    assert admin.get("/admin/audit?page=abc&action=%00").status_code == 200
