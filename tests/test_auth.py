import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Role, User, utcnow
from core.security import is_safe_next


def logged_in(client) -> bool:
    return 'action="/keluar"' in client.get("/").get_data(as_text=True)


def test_register_logs_in_and_hashes_password(app, client, auth):
    resp = auth.register()
    assert resp.status_code == 302
    assert logged_in(client)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "warga01"))
        assert user.role is Role.MEMBER
        assert user.password_hash != "kata-sandi-aman" and user.check_password("kata-sandi-aman")


@pytest.mark.parametrize("username,password,confirm,message", [
    ("ab", "kata-sandi-aman", "kata-sandi-aman", "3 sampai 40"),
    ("nama spasi", "kata-sandi-aman", "kata-sandi-aman", "Gunakan huruf"),
    ("warga02", "pendek", "pendek", "10 sampai 128"),
    ("warga02", "kata-sandi-aman", "lain-lain-lain", "tidak sama"),
    ("admin", "kata-sandi-aman", "kata-sandi-aman", "dicadangkan"),
])
def test_register_validation(client, auth, username, password, confirm, message):
    resp = client.post("/daftar", data={"csrf_token": auth.token("/daftar"), "username": username,
                                        "password": password, "confirm": confirm})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert message in html
    assert f'value="{username}"' in html  # what the user typed is kept


def test_duplicate_username_case_insensitive(client, auth, make_user):
    make_user("Warga01")
    resp = auth.register("warga01")
    assert resp.status_code == 400 and "sudah dipakai" in resp.get_data(as_text=True)


def test_login_generic_error_and_success(client, auth, make_user):
    make_user()
    resp = auth.login(password="salah-sekali-ya")
    assert resp.status_code == 400 and "Nama pengguna atau kata sandi salah." in resp.get_data(as_text=True)
    resp = auth.login(username="tidak-ada")
    assert "Nama pengguna atau kata sandi salah." in resp.get_data(as_text=True)
    resp = auth.login()
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_login_by_email(client, auth, make_user):
    make_user(email="warga@example.id")
    assert auth.login(username="WARGA@example.id").status_code == 302


def test_logout_requires_post_and_invalidates_copied_cookie(app, client, auth, make_user):
    make_user()
    auth.login(remember="y")
    assert logged_in(client)
    stolen = {c.key: c.value for c in client._cookies.values()}
    assert "remember_token" in stolen
    assert client.get("/keluar").status_code == 405
    assert auth.logout().status_code == 302
    assert not logged_in(client)
    # A copy of the cookies taken before logout no longer works.
    other = app.test_client()
    for key, value in stolen.items():
        other.set_cookie(key, value)
    assert not logged_in(other)


def test_suspended_user_is_logged_out_and_cannot_login(app, client, auth, make_user):
    from datetime import timedelta

    uid = make_user()
    auth.login()
    with app.app_context():
        db.session.get(User, uid).suspended_until = utcnow() + timedelta(days=1)
        db.session.commit()
    assert not logged_in(client)
    resp = auth.login()
    assert resp.status_code == 400 and "ditangguhkan" in resp.get_data(as_text=True)


@pytest.mark.parametrize("target,ok", [
    ("/layanan/skck", True), ("/cari?q=ktp", True),
    ("//evil.example", False), ("/\\evil.example", False), ("\\\\evil.example", False),
    ("https://evil.example/", False), ("javascript:alert(1)", False), ("", False), (None, False),
    ("/\tevil", False), ("layanan", False),
])
def test_is_safe_next(target, ok):
    assert is_safe_next(target) is ok


def test_login_redirects_only_to_safe_next(client, auth, make_user):
    make_user()
    resp = auth.login(next="https://evil.example/")
    assert resp.headers["Location"] == "/"
    auth.logout()
    resp = auth.login(next="/layanan/skck")
    assert resp.headers["Location"] == "/layanan/skck"


def test_create_user_cli_with_role(app, runner):
    result = runner.invoke(args=["create-user", "pengelola", "--role", "knowledge_manager", "--password",
                                 "kata-sandi-aman"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "pengelola"))
        assert user.role is Role.KNOWLEDGE_MANAGER and user.can("curate") and not user.can("moderate")
    result = runner.invoke(args=["create-user", "pengelola", "--password", "kata-sandi-aman"])
    assert result.exit_code != 0 and "sudah dipakai" in result.output
    result = runner.invoke(args=["create-user", "x2", "--role", "raja", "--password", "kata-sandi-aman"])
    assert result.exit_code != 0


def test_role_capabilities():
    assert User(role=Role.MEMBER).can("post") and not User(role=Role.MEMBER).can("moderate")
    assert User(role=Role.MODERATOR).can("moderate") and not User(role=Role.MODERATOR).can("curate")
    assert User(role=Role.KNOWLEDGE_MANAGER).can("curate")
    admin = User(role=Role.ADMIN)
    assert all(admin.can(c) for c in ("post", "moderate", "curate", "admin"))


def test_init_db_cli(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0 and "siap" in result.output


def test_password_change_ends_other_sessions(app, make_user):
    from .conftest import login_client, post_form

    make_user()
    phone = login_client(app, "warga01")
    laptop = login_client(app, "warga01")
    resp = post_form(laptop, "/akun/kata-sandi", {"current": "salah-sekali-ya", "password": "kata-sandi-baru-1",
                                                  "confirm": "kata-sandi-baru-1"}, "/akun/kata-sandi")
    assert resp.status_code == 400 and "salah" in resp.get_data(as_text=True)
    resp = post_form(laptop, "/akun/kata-sandi", {"current": "kata-sandi-aman", "password": "kata-sandi-baru-1",
                                                  "confirm": "kata-sandi-baru-1"}, "/akun/kata-sandi")
    assert resp.status_code == 302
    assert logged_in(laptop) and not logged_in(phone)
    assert login_client(app, "warga01", "kata-sandi-baru-1").get("/").status_code == 200
    assert logged_in(login_client(app, "warga01", "kata-sandi-baru-1"))
    assert not logged_in(login_client(app, "warga01", "kata-sandi-aman"))


# ---------------------------------------------------------------- issue 11: accounts under attack

def test_unknown_accounts_cost_a_password_hash_too(app, monkeypatch):
    """Timing must not tell whether an account exists: an unknown name is
    checked against a dummy hash made with the configured method."""
    import core.auth.services as services

    calls = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    with app.test_request_context():
        assert services.authenticate("tidak-ada-orangnya", "kata-sandi-salah") is None
        assert calls and calls[0].startswith(app.config["PASSWORD_HASH_METHOD"].split(":")[0])


def test_registration_does_not_reveal_existing_emails(client, auth, make_user):
    make_user("pemilik", email="rahasia@example.id")
    resp = auth.register("pendatang", email="rahasia@example.id")
    assert resp.status_code == 302  # same answer as for a fresh address
    page = client.get("/").get_data(as_text=True)
    assert "sudah terdaftar" not in page
    auth.logout()
    # and the unverified address cannot be used to log in to either account
    assert auth.login("rahasia@example.id", "kata-sandi-aman").status_code == 302  # the verified owner
    auth.logout()


def test_per_account_back_off_whatever_the_address(app, make_user):
    from .conftest import AuthActions

    make_user("korban")
    for i in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{i}"
        assert AuthActions(client).login("korban", "tebakan-salah-salah").status_code == 400
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    resp = AuthActions(client).login("korban", "kata-sandi-aman")  # even the right password waits
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan" in resp.get_data(as_text=True)
    # unknown names back off the same way, so lock-outs do not reveal accounts either
    for _ in range(5):
        AuthActions(client).login("tidak-ada", "tebakan-salah-salah")
    assert AuthActions(client).login("tidak-ada", "tebakan-salah-salah").status_code == 429


def test_session_and_csrf_token_are_new_after_login(client, auth, make_user):
    from .conftest import csrf_from

    make_user()
    before = csrf_from(client.get("/masuk").get_data(as_text=True))
    auth.login()
    after = csrf_from(client.get("/").get_data(as_text=True))
    assert before != after


@pytest.mark.parametrize("name", ["bripka_wawan", "petugas.imigrasi", "admin_dukcapil", "cs-bpjs", "3201231508900001",
                                  "budi081234567890", "budi.s@contoh.id"])
def test_usernames_that_imitate_officials_or_carry_personal_data_are_refused(auth, name):
    resp = auth.register(name)
    assert resp.status_code == 400
