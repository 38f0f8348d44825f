"""E-mail through a real SMTP server on loopback (aiosmtpd): what arrives
(subject, recipient, body, unsubscribe headers), verification of
addresses, retries after a refused connection, no duplicates with two
workers, the daily digest, settings, one-click unsubscribe without login,
hidden posts and personal data never mailed."""
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import User, utcnow

from .conftest import AuthActions, csrf_from, login_client, post_form
from .smtp import Inbox, SmtpServer, free_port
from .test_notify import ANSWER, answer, ask, user

BASE = "https://layanan.test"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app, smtp):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, BASE_URL=BASE,
                      MAIL_FROM="Layanan <noreply@layanan.test>")
    return app


def send(app, **kw):
    from notify.mailer import send_all

    with app.app_context():
        return send_all(**kw)


def outbox(app, **where):
    from notify.models import MailOutbox

    with app.app_context():
        stmt = sa.select(MailOutbox).order_by(MailOutbox.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(MailOutbox, key) == value)
        rows = db.session.scalars(stmt).all()
        return [{c: getattr(r, c) for c in ("id", "kind", "user_id", "status", "attempts", "last_error",
                                           "next_attempt_at", "payload")} for r in rows]


def link_in(text: str, path: str) -> str:
    m = re.search(re.escape(BASE) + r"(" + re.escape(path) + r"[^\s]+)", text)
    assert m, text
    return m.group(1)


# ---------------------------------------------------------------- what arrives

def test_an_answer_arrives_by_email_with_unsubscribe_headers(mail_app, smtp, make_user):
    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab", email="penjawab@contoh.id")
    qid = ask(mail_app, "penanya")
    aid = answer(mail_app, "penjawab", qid)
    report = send(mail_app)
    assert (report.sent, report.pending) == (1, 0)
    [msg] = smtp.inbox.messages
    assert smtp.inbox.envelopes == [("noreply@layanan.test", ["penanya@contoh.id"])]
    assert msg["To"] == "penanya@contoh.id" and msg["From"] == "Layanan <noreply@layanan.test>"
    assert msg["Subject"] == "penjawab menjawab pertanyaan yang Anda ikuti: Bagaimana cara mengurus surat pindah domisili?"
    row = outbox(mail_app)[0]
    assert msg["Message-ID"] == f"<layanan-mail-{row['id']}@layanan.test>"
    unsubscribe = msg["List-Unsubscribe"]
    assert re.fullmatch(r"<https://layanan\.test/berhenti/[^>]+>", unsubscribe)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = Inbox.text(msg)
    assert "Halo penanya" in body and ANSWER in body
    assert f"{BASE}/pertanyaan/{qid}#jawaban-{aid}" in body
    assert unsubscribe[1:-1] in body and f"{BASE}/akun" in body
    assert "penjawab@contoh.id" not in msg.as_string()  # nobody else's address
    assert send(mail_app).sent == 0  # sent once


def test_personal_data_never_reaches_an_email(mail_app, smtp, make_user):
    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    qid = ask(mail_app, "penanya")
    answer(mail_app, "penjawab", qid, "Hubungi saya di 0812-3456-7890 atau budi.santoso@gmail.com, NIK saya "
                                      "3174012501900003, nanti saya bantu uruskan.")
    send(mail_app)
    [msg] = smtp.inbox.messages
    raw = msg.as_string()
    for secret in ("0812", "3456-7890", "budi.santoso", "gmail", "3174012501900003"):
        assert secret not in raw
    assert "disamarkan" in Inbox.text(msg)


def test_mail_is_only_sent_to_verified_addresses(mail_app, smtp, make_user, client):
    AuthActions(client).register("pendaftar", email="pendaftar@contoh.id")
    make_user("penjawab")
    qid = ask(mail_app, "pendaftar")
    answer(mail_app, "penjawab", qid)
    send(mail_app)
    # the verification link goes to the pending address; the answer is not mailed there
    assert [m["Subject"] for m in smtp.inbox.messages] == ["Verifikasi alamat email Anda di Layanan"]
    assert [k["kind"] for k in outbox(mail_app)] == ["verify"]


# ---------------------------------------------------------------- verification

def test_registration_sends_a_signed_link_that_verifies_the_address(mail_app, smtp, client):
    auth = AuthActions(client)
    r = auth.register("pendaftar", email="Pendaftar@Contoh.id")
    assert r.status_code == 302
    with mail_app.app_context():
        u = user("pendaftar")
        assert u.email is None and u.pending_email == "pendaftar@contoh.id"
    send(mail_app)
    [msg] = smtp.inbox.messages
    assert msg["To"] == "pendaftar@contoh.id"
    body = Inbox.text(msg)
    path = link_in(body, "/akun/email/verifikasi/")
    assert "List-Unsubscribe" in msg and link_in(body, "/berhenti/")
    # the link works without being logged in (another device), through a confirmation button
    phone = mail_app.test_client()
    page = phone.get(path).get_data(as_text=True)
    assert "Verifikasi alamat ini" in page
    r = phone.post(path, data={"csrf_token": csrf_from(page)})
    assert r.status_code == 200 and "Alamat email terverifikasi" in r.get_data(as_text=True)
    with mail_app.app_context():
        u = user("pendaftar")
        assert u.email == "pendaftar@contoh.id" and u.pending_email is None
    # the address now logs in, and the link cannot be used again
    auth.logout()
    assert auth.login("pendaftar@contoh.id").status_code == 302
    assert "sudah terverifikasi" in phone.get(path).get_data(as_text=True)
    assert phone.get(path[:-3] + "xyz").status_code == 400
    assert phone.get("/akun/email/verifikasi/" + "A" * 500).status_code == 400


def test_verification_links_expire(mail_app, smtp, make_user, monkeypatch):
    import core.auth.email as email

    make_user("pendaftar")
    client = login_client(mail_app, "pendaftar")
    post_form(client, "/akun/email", {"email": "baru@contoh.id"}, token_page="/akun")
    send(mail_app)
    path = link_in(Inbox.text(smtp.inbox.messages[0]), "/akun/email/verifikasi/")
    monkeypatch.setattr(email, "VERIFY_MAX_AGE", -1)
    page = client.get(path)
    assert page.status_code == 400 and "kedaluwarsa" in page.get_data(as_text=True)


def test_an_address_verified_elsewhere_is_refused_neutrally_and_its_owner_told(mail_app, smtp, make_user):
    make_user("pemilik", email="rebutan@contoh.id")
    make_user("peniru")
    client = login_client(mail_app, "peniru")
    r = post_form(client, "/akun/email", {"email": "REBUTAN@contoh.id"}, token_page="/akun")
    assert r.status_code == 302  # typing it reveals nothing
    assert "Tautan verifikasi dikirim" in client.get("/akun").get_data(as_text=True)
    send(mail_app)
    path = link_in(Inbox.text(smtp.inbox.messages[0]), "/akun/email/verifikasi/")
    page = client.get(path).get_data(as_text=True)
    r = client.post(path, data={"csrf_token": csrf_from(page)})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "sudah terverifikasi di akun lain" in text and "pemilik" not in text
    with mail_app.app_context():
        assert user("peniru").email is None and user("pemilik").email == "rebutan@contoh.id"
    send(mail_app)
    warning = smtp.inbox.messages[-1]
    assert warning["To"] == "rebutan@contoh.id" and "mencoba memakai alamat email Anda" in warning["Subject"]
    assert "peniru" not in warning.as_string()


def test_account_page_keeps_a_bad_address_with_a_clear_message(mail_app, make_user):
    make_user("warga")
    client = login_client(mail_app, "warga")
    r = post_form(client, "/akun/email", {"email": "bukan email@@"}, token_page="/akun")
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "Alamat email tidak valid." in text and 'value="bukan email@@"' in text
    r = post_form(client, "/akun/notifikasi", {"email_mode": "sering"}, token_page="/akun")
    assert r.status_code == 400 and "Pilih salah satu" in r.get_data(as_text=True)
    assert outbox(mail_app) == []


# ---------------------------------------------------------------- settings and unsubscribe

def test_settings_are_respected(mail_app, smtp, make_user):
    for name in ("langsung", "harian", "diam"):
        make_user(name, email=f"{name}@contoh.id")
    make_user("penanya")
    make_user("penjawab")
    for name, mode in (("harian", "daily"), ("diam", "off")):
        r = post_form(login_client(mail_app, name), "/akun/notifikasi", {"email_mode": mode}, token_page="/akun")
        assert r.status_code == 302
    assert 'value="daily" checked' in login_client(mail_app, "harian").get("/akun").get_data(as_text=True)
    qid = ask(mail_app, "penanya")
    for name in ("langsung", "harian", "diam"):
        post_form(login_client(mail_app, name), "/ikuti", {"target": f"question:{qid}", "mode": "follow"})
    answer(mail_app, "penjawab", qid)
    send(mail_app)
    assert [m["To"] for m in smtp.inbox.messages] == ["langsung@contoh.id"]
    # a setting changed after queueing still wins: the worker reads it when sending
    answer(mail_app, "penjawab", qid, ANSWER + " Tambahan: bawa juga pas foto.")
    post_form(login_client(mail_app, "langsung"), "/akun/notifikasi", {"email_mode": "off"}, token_page="/akun")
    report = send(mail_app)
    assert report.sent == 0 and report.skipped == 1 and len(smtp.inbox.messages) == 1
    # all three still see everything in the inbox
    for name in ("langsung", "harian", "diam"):
        assert "menjawab pertanyaan yang Anda ikuti" in login_client(mail_app, name).get("/notifikasi").get_data(
            as_text=True)


def test_one_click_unsubscribe_works_without_login(mail_app, smtp, make_user):
    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    qid = ask(mail_app, "penanya")
    answer(mail_app, "penjawab", qid)
    send(mail_app)
    url = smtp.inbox.messages[0]["List-Unsubscribe"][1:-1]
    path = url[len(BASE):]
    stranger = mail_app.test_client()  # no session, no CSRF token: the mail client's RFC 8058 POST
    page = stranger.get(path)
    assert page.status_code == 200 and "Berhenti berlangganan" in page.get_data(as_text=True)
    r = stranger.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200 and "tidak akan mengirim email notifikasi lagi" in r.get_data(as_text=True)
    from notify.services import email_mode

    with mail_app.app_context():
        assert email_mode(user("penanya")) == "off"
    answer(mail_app, "penjawab", qid, ANSWER + " Lagi pula kantor buka hari Sabtu.")
    send(mail_app)
    assert len(smtp.inbox.messages) == 1
    assert stranger.post(path[:-4] + "abcd").status_code == 404
    assert stranger.get("/berhenti/tidak-sah").status_code == 404


def test_the_unsubscribe_link_of_a_verification_mail_releases_the_address(mail_app, smtp, client):
    AuthActions(client).register("pendaftar", email="korban@contoh.id")
    send(mail_app)
    msg = smtp.inbox.messages[0]
    path = msg["List-Unsubscribe"][1:-1][len(BASE):]
    stranger = mail_app.test_client()
    assert "Tidak merasa mendaftar" in stranger.get(path).get_data(as_text=True)
    assert stranger.post(path).status_code == 200
    with mail_app.app_context():
        assert user("pendaftar").pending_email is None


# ---------------------------------------------------------------- retries, workers, digest

def test_a_refused_connection_is_retried_later_with_the_same_message_id(app, make_user):
    port = free_port()  # nothing listens here yet
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, BASE_URL=BASE, MAIL_FROM="noreply@layanan.test")
    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    qid = ask(app, "penanya")
    answer(app, "penjawab", qid)
    report = send(app)
    assert (report.sent, report.retried, report.pending) == (0, 1, 1)
    [row] = outbox(app)
    assert row["status"] == "pending" and row["attempts"] == 1 and "refused" in row["last_error"].lower()
    assert row["next_attempt_at"] > utcnow() + timedelta(seconds=30)
    server = SmtpServer(port).start()
    try:
        assert send(app).claimed == 0  # not due yet
        report = send(app, now=utcnow() + timedelta(minutes=2))
        assert report.sent == 1
        [msg] = server.inbox.messages
        assert msg["Message-ID"] == f"<layanan-mail-{row['id']}@layanan.test>"
    finally:
        server.stop()
    [row] = outbox(app)
    assert row["status"] == "sent" and row["attempts"] == 2


def test_a_row_fails_after_the_last_attempt(app, make_user):
    from notify.mailer import MAX_ATTEMPTS

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), BASE_URL=BASE)
    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    answer(app, "penjawab", ask(app, "penanya"))
    now = utcnow()
    for attempt in range(MAX_ATTEMPTS):
        send(app, now=now)
        now += timedelta(days=1)
    [row] = outbox(app)
    assert row["status"] == "failed" and row["attempts"] == MAX_ATTEMPTS


def test_two_workers_never_send_the_same_row(mail_app, smtp, make_user):
    from notify.mailer import send_due
    from notify.services import notify_users
    from core.db import write_transaction

    names = [f"warga{i:02d}" for i in range(24)]
    for name in names:
        make_user(name, email=f"{name}@contoh.id")
    with mail_app.app_context():
        ids = [user(n).id for n in names]
        with write_transaction():
            notify_users(ids, "page_updated", "uji-dua-pekerja", service_id=1, detail={"fields": ["fees"]})
    errors = []

    def work():
        try:
            with mail_app.app_context():
                while send_due(limit=3).claimed:
                    pass
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    ids_seen = [m["Message-ID"] for m in smtp.inbox.messages]
    assert len(ids_seen) == 24 and len(set(ids_seen)) == 24
    assert sorted(m["To"] for m in smtp.inbox.messages) == sorted(f"{n}@contoh.id" for n in names)
    assert {r["status"] for r in outbox(mail_app)} == {"sent"}


def test_the_daily_digest_lists_what_is_unread_once_a_day(mail_app, smtp, make_user):
    from notify.mailer import queue_digests

    make_user("harian", email="harian@contoh.id")
    make_user("penanya")
    make_user("penjawab")
    client = login_client(mail_app, "harian")
    post_form(client, "/akun/notifikasi", {"email_mode": "daily"}, token_page="/akun")
    titles = ["Cara membuat SKCK untuk melamar kerja di luar kota?",
              "Apakah perpanjangan SIM bisa di kota lain?",
              "Berapa lama pembuatan paspor elektronik sekarang?"]
    for title in titles:
        qid = ask(mail_app, "penanya", title=title)
        post_form(client, "/ikuti", {"target": f"question:{qid}", "mode": "follow"})
        answer(mail_app, "penjawab", qid)
    send(mail_app)
    assert smtp.inbox.messages == []  # nothing instant
    with mail_app.app_context():
        assert queue_digests(utcnow() + timedelta(seconds=1)) == 1
        assert queue_digests(utcnow() + timedelta(seconds=2)) == 0  # nothing new since
    send(mail_app)
    [msg] = smtp.inbox.messages
    assert msg["To"] == "harian@contoh.id" and msg["Subject"] == "Ringkasan harian Layanan: 3 kabar baru"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = Inbox.text(msg)
    for title in titles:
        assert f"penjawab menjawab pertanyaan yang Anda ikuti: {title}" in body
    assert body.count(f"{BASE}/pertanyaan/") == 3
    # read in the site before the next digest: not repeated
    qid = ask(mail_app, "penanya", title="Pertanyaan keempat yang dibaca lewat situs saja")
    post_form(client, "/ikuti", {"target": f"question:{qid}", "mode": "follow"})
    answer(mail_app, "penjawab", qid)
    inbox = client.get("/notifikasi").get_data(as_text=True)
    client.post("/notifikasi/baca-semua", data={"csrf_token": csrf_from(inbox)})
    with mail_app.app_context():
        queued = queue_digests(utcnow() + timedelta(days=1))
    assert queued == 0
    send(mail_app)
    assert len(smtp.inbox.messages) == 1


def test_a_post_hidden_before_sending_is_never_mailed(mail_app, smtp, make_user):
    from forum.moderation import hide_post
    from core.models import Role

    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    make_user("u_moderator", role=Role.MODERATOR)
    aid = answer(mail_app, "penjawab", ask(mail_app, "penanya"))
    with mail_app.app_context():
        hide_post(user("u_moderator"), aid, "jawaban spam")
    report = send(mail_app)
    assert report.sent == 0 and report.skipped == 1 and smtp.inbox.messages == []
    assert outbox(mail_app)[0]["status"] == "skipped"


# ---------------------------------------------------------------- commands

def test_without_an_smtp_host_mail_stays_queued_and_the_commands_say_so(app, make_user):
    app.config["SMTP_HOST"] = None
    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    answer(app, "penjawab", ask(app, "penanya"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 0 and "SMTP belum diatur" in result.output and "1 email tetap dalam antrean" in result.output
    assert outbox(app)[0]["status"] == "pending" and outbox(app)[0]["attempts"] == 0
    result = runner.invoke(args=["notify", "status"])
    assert "pending: 1" in result.output


def test_the_send_and_digest_commands(mail_app, smtp, make_user):
    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    answer(mail_app, "penjawab", ask(mail_app, "penanya"))
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 0 and "terkirim 1" in result.output, result.output
    assert len(smtp.inbox.messages) == 1
    result = runner.invoke(args=["notify", "digest"])
    assert result.exit_code == 0 and "0 ringkasan harian" in result.output
    assert "sent: 1" in runner.invoke(args=["notify", "status"]).output


def test_the_worker_loop_sends_and_stops(mail_app, smtp, make_user):
    from notify.mailer import run_worker

    make_user("penanya", email="penanya@contoh.id")
    make_user("penjawab")
    answer(mail_app, "penjawab", ask(mail_app, "penanya"))
    stop = threading.Event()
    said = []
    thread = threading.Thread(target=run_worker, args=(mail_app, 0.05, stop, said.append))
    thread.start()
    with smtp.inbox.arrived:
        smtp.inbox.arrived.wait_for(lambda: smtp.inbox.messages, timeout=10)
    stop.set()
    thread.join(10)
    assert not thread.is_alive() and len(smtp.inbox.messages) == 1 and "terkirim 1" in said[0]


# ---------------------------------------------------------------- language

def test_mail_is_written_in_the_recipients_language(mail_app, smtp, make_user):
    """The worker has no request: each mail is composed in the language the
    person used when giving the address, until they pick another."""
    client = mail_app.test_client()
    client.get("/?lang=en")                      # browsing in English (the cookie remembers it)
    assert AuthActions(client).register("reader", email="reader@contoh.id").status_code == 302
    send(mail_app)
    [verify] = smtp.inbox.messages
    assert verify["Subject"] == "Verify your e-mail address on Layanan" and verify["Content-Language"] == "en"
    body = Inbox.text(verify)
    assert "Hello reader," in body and "open this link within 3 days" in body
    phone = mail_app.test_client()
    path = link_in(body, "/akun/email/verifikasi/")
    phone.post(path, data={"csrf_token": csrf_from(phone.get(path).get_data(as_text=True))})

    make_user("penjawab")
    qid = ask(mail_app, "reader")
    answer(mail_app, "penjawab", qid)
    send(mail_app)
    msg = smtp.inbox.messages[-1]
    assert msg["To"] == "reader@contoh.id" and msg["Content-Language"] == "en"
    assert msg["Subject"].startswith("penjawab answered a question you follow: ")
    body = Inbox.text(msg)
    assert "Hello reader," in body and "Unsubscribe (one click, no login needed):" in body
    assert "menjawab" not in body and "Berhenti berlangganan" not in body

    # the account page shows the choice, in the site's language, and changes it
    page = client.get("/akun").get_data(as_text=True)
    assert "E-mail language" in page and 'value="en" checked' in page
    r = post_form(client, "/akun/notifikasi", {"email_mode": "instant", "language": "id"}, token_page="/akun")
    assert r.status_code == 302
    answer(mail_app, "penjawab", qid, ANSWER + " Tambahan: bawa juga pas foto.")
    send(mail_app)
    msg = smtp.inbox.messages[-1]
    assert msg["Content-Language"] == "id" and "menjawab pertanyaan yang Anda ikuti" in msg["Subject"]
    assert "Halo reader," in Inbox.text(msg)
    # a made-up language is refused with a message, and nothing changes
    r = post_form(client, "/akun/notifikasi", {"email_mode": "daily", "language": "xx"}, token_page="/akun")
    assert r.status_code == 400 and "Bahasa Indonesia or English" in r.get_data(as_text=True)
    assert 'value="instant" checked' in client.get("/akun").get_data(as_text=True)


def test_counts_use_plural_forms_in_english(mail_app, make_user):
    make_user("penanya")
    make_user("penjawab")
    qid = ask(mail_app, "penanya")
    client = mail_app.test_client()
    client.get("/?lang=en")
    one = client.get(f"/pertanyaan/{qid}").get_data(as_text=True)
    answer(mail_app, "penjawab", qid)
    answer(mail_app, "penjawab", qid, ANSWER + " Tambahan: bawa juga pas foto.")
    two = client.get(f"/pertanyaan/{qid}").get_data(as_text=True)
    assert ">0 answers<" in one and ">2 answers<" in two
    assert "1 answers" not in client.get("/pertanyaan").get_data(as_text=True)


def test_the_language_choice_starts_from_the_language_in_use(mail_app, make_user):
    """Someone who never chose sees the language they are browsing in
    preselected, so saving the other settings does not switch their mail
    to Indonesian behind their back."""
    make_user("pembaca")
    client = login_client(mail_app, "pembaca")
    assert 'value="id" checked' in client.get("/akun").get_data(as_text=True)
    assert 'value="en" checked' in client.get("/akun?lang=en").get_data(as_text=True)
