"""Verified official accounts (issue 12): only a knowledge manager makes one,
the badge shows on every post, revoking removes it, names alone never do."""
from __future__ import annotations

import pytest

from core.extensions import db
from core.models import AuditLog, Role, User
from forum import services as fs

from .conftest import csrf_from, login_client

BODY = "KTP saya hilang waktu pindahan minggu lalu, syaratnya apa saja ya untuk bikin lagi?"
ANSWER = "Bawa surat kehilangan dari kepolisian dan fotokopi KK ke Disdukcapil sesuai domisili."


@pytest.fixture
def people(app, make_user):
    return {"petugas": make_user("rina_w"), "warga": make_user("warga_biasa"),
            "km": make_user("pengelola1", role=Role.KNOWLEDGE_MANAGER),
            "mod": make_user("moderator1", role=Role.MODERATOR)}


@pytest.fixture
def thread(app, people):
    with app.app_context():
        q = fs.ask_question(db.session.get(User, people["warga"]), "Bagaimana cara mengganti KTP yang hilang?",
                            BODY, "ktp-el", ["ktp-el-hilang-rusak"])
        a = fs.post_answer(db.session.get(User, people["petugas"]), q.id, ANSWER)
        return {"q": q.id, "a": a.id}


def _submit(client, username, data):
    token = csrf_from(client.get("/masuk").get_data(as_text=True) + client.get("/").get_data(as_text=True))
    return client.post(f"/pengguna/{username}/resmi", data={"csrf_token": token, **data})


def test_a_knowledge_manager_verifies_and_the_badge_shows_on_posts(app, client, people, thread):
    km = login_client(app, "pengelola1")
    profile = km.get("/pengguna/rina_w").get_data(as_text=True)
    assert "Verifikasi sebagai akun resmi" in profile
    resp = _submit(km, "rina_w", {"action": "verifikasi", "official_title": "  Petugas Disdukcapil   Kota Bandung "})
    assert resp.status_code == 302
    page = client.get(f"/pertanyaan/{thread['q']}").get_data(as_text=True)
    assert 'class="badge official"' in page and "Petugas Disdukcapil Kota Bandung" in page
    assert "Petugas Disdukcapil Kota Bandung" in client.get("/pengguna/rina_w").get_data(as_text=True)
    # Citizens see no verification form.
    assert "Verifikasi sebagai akun resmi" not in client.get("/pengguna/rina_w").get_data(as_text=True)
    with app.app_context():
        row = db.session.scalars(db.select(AuditLog).where(AuditLog.action == "user.verify_official")).one()
        assert row.actor_id == people["km"] and row.target_id == people["petugas"]
    # Revoking removes the badge everywhere at once, with an audit row.
    assert _submit(km, "rina_w", {"action": "cabut", "reason": "Sudah pindah tugas"}).status_code == 302
    assert 'class="badge official"' not in client.get(f"/pertanyaan/{thread['q']}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, people["petugas"]).official_title is None
        assert db.session.scalars(db.select(AuditLog).where(AuditLog.action == "user.revoke_official")).one()


@pytest.mark.parametrize("role", ["anon", "warga_biasa", "moderator1", "rina_w"])
def test_only_knowledge_managers_can_verify(app, people, role):
    client = app.test_client() if role == "anon" else login_client(app, role)
    resp = _submit(client, "rina_w", {"action": "verifikasi", "official_title": "Petugas Imigrasi Jakarta"})
    assert resp.status_code in (302, 401, 403)
    if resp.status_code == 302:
        assert "/masuk" in resp.headers["Location"]
    with app.app_context():
        assert db.session.get(User, people["petugas"]).official_title is None


@pytest.mark.parametrize("title, why", [("abc", "5–120"), ("x" * 121, "5–120"),
                                        ("Petugas KUA, hubungi 0812-3456-7890", "data pribadi")])
def test_a_bad_title_is_refused_with_the_form_kept(app, people, title, why):
    km = login_client(app, "pengelola1")
    resp = _submit(km, "rina_w", {"action": "verifikasi", "official_title": title})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and why in html and 'aria-invalid="true"' in html
    assert title[:120].replace("&", "&amp;") in html  # what was typed stays in the box
    with app.app_context():
        assert db.session.get(User, people["petugas"]).official_title is None


def test_revoking_an_account_that_is_not_official_is_a_clear_refusal(app, people):
    km = login_client(app, "pengelola1")
    resp = _submit(km, "rina_w", {"action": "cabut"})
    assert resp.status_code == 400 and "bukan akun resmi" in resp.get_data(as_text=True)


def test_names_that_pass_for_officials_are_refused_at_registration(app):
    from core.auth.services import AccountError, create_user

    with app.app_context():
        for name in ("bripka_wawan", "yusuf_imigrasi", "petugas_dukcapil", "admin.layanan"):
            with pytest.raises(AccountError):
                create_user(name, "kata-sandi-aman")


def test_the_badge_is_english_in_english(app, client, people, thread):
    km = login_client(app, "pengelola1")
    _submit(km, "rina_w", {"action": "verifikasi", "official_title": "Petugas Disdukcapil Kota Bandung"})
    html = client.get(f"/pertanyaan/{thread['q']}?lang=en").get_data(as_text=True)
    assert "Official" in html and '<span lang="id">Petugas Disdukcapil Kota Bandung</span>' in html
