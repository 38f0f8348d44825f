"""Indonesian first, English second (Flask-Babel, gettext catalogs).

* every message in the code and templates (``pybabel extract`` with
  ``babel.cfg``) has a reviewed English translation, placeholders intact;
* WTForms' own messages have Indonesian;
* the language switch keeps the path and the query, every main page
  answers in both languages, and nothing shown in English lacks English;
* refusals (hidden post, rate limit), service errors and form errors are
  English in English and Indonesian in Indonesian; stored data stays
  Indonesian;
* Indonesian content carries ``lang="id"`` under an English interface.
"""
import re
import warnings
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from .conftest import clone, csrf_from, login_client, make_app

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}


def extracted() -> Catalog:
    """What `make i18n` extracts (Babel's API, the same babel.cfg and keywords)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(locale="en")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def english() -> Catalog:
    with open(PO, "rb") as fh:
        return read_po(fh, locale="en")


def test_every_message_has_english():
    source, po = extracted(), english()
    assert len(source) > 800
    missing = []
    for message in source:
        if not message.id:
            continue
        entry = po.get(message.id)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ("",))
        if entry is None or entry.fuzzy or not all(strings):
            loc = message.locations[0] if message.locations else ("?", 0)
            missing.append(f"{loc[0]}:{loc[1]}: {message.id!r}{' (fuzzy)' if entry is not None and entry.fuzzy else ''}")
    print(f"\nuntranslated messages: {len(missing)} of {len(source)}")
    assert missing == [], (f"{len(missing)} message(s) without English; run `make i18n` and fill in "
                           f"{PO.relative_to(ROOT)}:\n" + "\n".join(missing))
    obsolete = [m.id for m in po if m.id and m.id not in source]
    if obsolete:
        warnings.warn(f"{len(obsolete)} msgid(s) in messages.po no longer in the code (run `make i18n`)")


def test_placeholders_match():
    """Babel's own check: the English uses exactly the msgid's %(name)s placeholders."""
    po, bad = english(), []
    for message in po:
        if message.id and message.string and "python-format" in message.flags:
            try:
                python_format(po, message)
            except Exception as exc:  # noqa: BLE001 - listed below
                bad.append(f"{message.id!r}: {exc}")
    assert bad == []


def test_wtforms_messages_have_indonesian():
    import wtforms

    with open(Path(wtforms.__file__).parent / "locale" / "wtforms.pot", "rb") as fh:
        pot = read_po(fh)
    with open(ROOT / "translations" / "id" / "LC_MESSAGES" / "wtforms.po", "rb") as fh:
        ours = read_po(fh, locale="id")
    missing = [m.id for m in pot if m.id and (ours.get(m.id) is None or not all(
        ours.get(m.id).string if isinstance(ours.get(m.id).string, tuple) else (ours.get(m.id).string,)))]
    assert missing == []


def test_catalogs_compile_when_stale(tmp_path):
    import shutil

    from core.i18n import compile_catalogs

    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO, target / "messages.po")
    assert compile_catalogs(tmp_path) == [target / "messages.mo"]
    assert compile_catalogs(tmp_path) == []  # up to date: nothing to do


def test_times_are_shown_in_wib(app):
    from datetime import datetime

    from core.templating import format_datetime

    with app.test_request_context():
        # 20:30 UTC on 31 December is 03:30 WIB on 1 January
        assert format_datetime(datetime(2026, 12, 31, 20, 30)) == "1 Januari 2027, 03:30 WIB"
    with app.test_request_context("/?lang=en"):
        assert format_datetime(datetime(2026, 12, 31, 20, 30)).endswith("03:30 WIB")


# ---------------------------------------------------------------- the switch

SWITCH = re.compile(r'<a href="([^"]+)" hreflang="(en|id)"')


def test_switch_keeps_path_and_query(client):
    html = client.get("/cari?q=ktp+hilang&x=1").get_data(as_text=True)
    href = SWITCH.search(html).group(1).replace("&amp;", "&")
    assert href == "/cari?q=ktp+hilang&x=1&lang=en"
    english_page = client.get(href).get_data(as_text=True)
    assert '<html lang="en">' in english_page and 'value="ktp hilang"' in english_page
    back = SWITCH.search(english_page).group(1).replace("&amp;", "&")
    assert back == "/cari?q=ktp+hilang&x=1&lang=id"  # lang replaced, never doubled
    assert '<html lang="id">' in client.get(back).get_data(as_text=True)


def test_cookie_remembers_the_choice(client):
    client.get("/?lang=en")
    assert '<html lang="en">' in client.get("/layanan").get_data(as_text=True)
    client.get("/?lang=id")
    assert '<html lang="id">' in client.get("/layanan").get_data(as_text=True)


def test_contact_page_switches_language(client, app):
    slug = _first_service(app)
    path = f"/hubungi?target=service:{slug}"
    html = client.get(path).get_data(as_text=True)
    href = SWITCH.search(html).group(1).replace("&amp;", "&")
    assert href.startswith("/hubungi?target=service") and href.endswith("&lang=en")
    assert client.get(href).status_code == 200


def test_switch_from_a_post_only_address_goes_home(app, make_user):
    make_user("warga09")
    client = login_client(app, "warga09")
    token = csrf_from(client.get("/").get_data(as_text=True))
    resp = client.post("/pertanyaan/999999/jawab", data={"csrf_token": token, "body": "x"})
    href = SWITCH.search(resp.get_data(as_text=True)).group(1)
    assert href == "/?lang=en"


def _first_service(app) -> str:
    import sqlalchemy as sa

    from core.extensions import db
    from kb.models import Service

    with app.app_context():
        return db.session.scalar(sa.select(Service.slug).order_by(Service.id).limit(1))


def _walk_paths(app) -> list[str]:
    import sqlalchemy as sa

    from core.extensions import db
    from forum.models import Question, Tag
    from kb.models import Agency, Category, Service

    with app.app_context():
        slug = db.session.scalar(sa.select(Service.slug).order_by(Service.id).limit(1))
        qid = db.session.scalar(sa.select(Question.id).order_by(Question.id).limit(1))
        category = db.session.scalar(sa.select(Category.slug).limit(1))
        agency = db.session.scalar(sa.select(Agency.slug).limit(1))
        tag = db.session.scalar(sa.select(Tag.name).limit(1))
    return ["/", "/layanan", "/instansi", f"/instansi/{agency}", f"/kategori/{category}", f"/layanan/{slug}",
            f"/layanan/{slug}/riwayat", "/cari?q=ktp+hilang", "/cari?q=zzzzqqq", "/pertanyaan",
            "/pertanyaan?urut=belum-terjawab", f"/pertanyaan?tag={tag}", f"/pertanyaan/{qid}",
            f"/pos/{qid}/riwayat", "/pertanyaan/tanya", f"/hubungi?target=service:{slug}", f"/survei/{slug}",
            "/masuk", "/daftar", "/tentang", "/privasi", "/ketentuan", "/notifikasi", "/akun", "/akun/kata-sandi",
            "/saya/pertanyaan", "/moderasi", "/kelola", "/kelola/regulasi", "/kelola/regulasi/baru",
            "/kelola/pencarian", "/cari?q=ktp",
            f"/kelola/layanan/{slug}/sunting", "/kelola/analitik", "/admin/audit", "/agen",
            "/halaman-yang-tidak-ada"]


@pytest.mark.parametrize("language", ["id", "en"])
def test_main_pages_answer_in_both_languages(app, make_user, language):
    from core.models import Role

    make_user("u_admin", role=Role.ADMIN)
    app.extensions["i18n_missing"] = set()
    visitors = {"anon": app.test_client(), "admin": login_client(app, "u_admin")}
    bad = []
    for who, client in visitors.items():
        for path in _walk_paths(app):
            resp = client.get(path + ("&" if "?" in path else "?") + f"lang={language}")
            expected = (404,) if path == "/halaman-yang-tidak-ada" else (200, 302)
            if resp.status_code not in expected:
                bad.append(f"{who} {path}: {resp.status_code}")
            elif resp.status_code == 200 and resp.mimetype == "text/html":
                if f'<html lang="{language}">' not in resp.get_data(as_text=True):
                    bad.append(f"{who} {path}: <html lang> is not {language}")
    assert bad == []
    assert app.extensions["i18n_missing"] == set(), "shown in English without English"


# ---------------------------------------------------------------- content language

def test_indonesian_content_is_marked_in_english(client, app):
    slug = _first_service(app)
    html = client.get(f"/layanan/{slug}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert html.count("This content is in Indonesian.") == 1
    assert '<h1 id="judul" lang="id">' in html and '<ul class="checklist" lang="id">' in html
    html = client.get(f"/layanan/{slug}?lang=id").get_data(as_text=True)
    assert 'lang="id">' not in html.split("<body>", 1)[1].replace('hreflang="id" lang="id">', "")
    assert "This content is in Indonesian." not in html and "Isi ini dalam bahasa Indonesia." not in html


def test_content_in_lists_and_page_details_is_marked_in_english(client, app):
    """Titles and summaries in the service and question lists, and the
    service page's notes, local-variation notice, duration note, place and
    related questions: all database text, all Indonesian."""
    import re

    for path in ("/layanan?lang=en", "/pertanyaan?lang=en"):
        html = client.get(path).get_data(as_text=True)
        titles = re.findall(r'<a class="title"[^>]*>', html)
        assert titles and all('lang="id"' in t for t in titles), path
    html = client.get("/layanan?lang=en").get_data(as_text=True)
    assert html.count('<p class="small" lang="id">') >= 10
    html = client.get("/layanan/skck?lang=en").get_data(as_text=True)
    assert '<span aria-current="page" lang="id">' in html and '<span class="one-line" lang="id">' in html
    body = html.split('id="keterangan"', 1)
    assert len(body) == 1 or '<div class="prose" lang="id">' in body[1][:400]
    related = re.findall(r'<li><a href="/pertanyaan/\d+"[^>]*>', html)
    assert related and all('lang="id"' in a for a in related)


def test_thread_content_is_marked_in_english(client, app):
    import sqlalchemy as sa

    from core.extensions import db
    from forum.models import Question

    with app.app_context():
        qid = db.session.scalar(sa.select(Question.id).order_by(Question.id).limit(1))
    html = client.get(f"/pertanyaan/{qid}?lang=en").get_data(as_text=True)
    assert html.count("This content is in Indonesian.") == 1
    assert '<h1 id="q-title" lang="id">' in html and '<div class="prose" lang="id">' in html


# ---------------------------------------------------------------- refusals and form errors

def test_hidden_post_refusal_in_english(app, make_user):
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import Role
    from forum import moderation
    from forum.models import Question

    mod_id = make_user("u_mod", role=Role.MODERATOR)
    make_user("warga07")
    with app.app_context():
        from core.models import User

        qid = db.session.scalar(sa.select(Question.id).order_by(Question.id).limit(1))
        moderation.hide_post(db.session.get(User, mod_id), qid, "spam sekali")
    client = login_client(app, "warga07")
    token = csrf_from(client.get("/").get_data(as_text=True))
    resp = client.post(f"/pertanyaan/{qid}/jawab?lang=en", data={"csrf_token": token, "body": "Jawaban saya " * 3})
    assert resp.status_code == 404
    assert "Question not found." in resp.get_data(as_text=True)
    resp = client.post(f"/pertanyaan/{qid}/jawab?lang=id", data={"csrf_token": token, "body": "Jawaban saya " * 3})
    assert "Pertanyaan tidak ditemukan." in resp.get_data(as_text=True)
    # the policy's refusal (forum.policy.refusal), raised by the service function
    with app.app_context():
        from forum.services import enforce

        with pytest.raises(Exception) as info:
            enforce(db.session.get(User, mod_id), db.session.get(Question, qid), "vote")
    assert info.value.message == "Tulisan ini disembunyikan moderator; tidak dapat ditanggapi."
    with app.test_request_context("/?lang=en"):
        from core.i18n import _

        assert _(info.value.message) == "This post was hidden by a moderator; it cannot be responded to."
    resp = client.post(f"/pos/{qid}/suara?lang=en", data={"csrf_token": token, "value": "1"})
    assert resp.status_code == 404 and "Post not found." in resp.get_data(as_text=True)
    api = client.get(f"/api/v1/questions/{qid}?lang=en")
    assert api.status_code == 404 and api.get_json()["error"]["message"] == "Question not found."


def test_rate_limit_message_in_english(tmp_path, seeded_db):


    app = make_app(clone(seeded_db, tmp_path), RATELIMIT_ENABLED=True, RATELIMITS={"search": [("ip", 1, 60)]})
    client = app.test_client()
    assert client.get("/cari?q=ktp&lang=en").status_code == 200
    resp = client.get("/cari?q=ktp&lang=en")
    assert resp.status_code == 429 and "Too many requests" in resp.get_data(as_text=True)
    resp = client.get("/cari?q=ktp&lang=id")
    assert resp.status_code == 429 and "Terlalu banyak permintaan" in resp.get_data(as_text=True)


def _register(client, language, **data):
    token = csrf_from(client.get(f"/daftar?lang={language}").get_data(as_text=True))
    return client.post(f"/daftar?lang={language}", data={"csrf_token": token, **data}).get_data(as_text=True)


def test_form_errors_in_both_languages(client):
    empty = _register(client, "en", username="", password="", confirm="")
    assert "Username is required." in empty
    assert "wajib diisi" not in empty
    bad = _register(client, "en", username="warga_baru", password="kata-sandi-aman", confirm="kata-sandi-aman",
                    email="bukan-email")
    assert "That email address is not valid." in bad
    assert "Alamat email tidak valid." not in bad
    bad_id = _register(client, "id", username="warga_baru", password="kata-sandi-aman", confirm="kata-sandi-aman",
                       email="bukan-email")
    assert "Alamat email tidak valid." in bad_id
    # WTForms' own message (no custom text): English in English, Indonesian in Indonesian
    token = csrf_from(client.get("/masuk").get_data(as_text=True))
    long_name = "a" * 300
    en = client.post("/masuk?lang=en", data={"csrf_token": token, "username": long_name, "password": "x"})
    assert "Field cannot be longer than 254 characters." in en.get_data(as_text=True)
    id_ = client.post("/masuk?lang=id", data={"csrf_token": token, "username": long_name, "password": "x"})
    assert "Isian maksimal 254 karakter." in id_.get_data(as_text=True)
    assert "Field cannot be longer" not in id_.get_data(as_text=True)


def test_service_messages_outside_a_request_stay_indonesian(app):
    """Raised in service functions (CLI, worker, tests): Indonesian text,
    translated only where shown."""
    from core.i18n import Msg, _
    from forum.services import NotFound, add_comment

    with app.app_context():
        with pytest.raises(NotFound) as info:
            add_comment(_nobody(), 999_999, "komentar singkat sekali")
        message = info.value.message
        assert isinstance(message, str)
        assert _(message) == str(message)  # no request: Indonesian
    msg = Msg("Komentar %(min)s–%(max)s karakter.", min=5, max=600)
    assert msg == "Komentar 5–600 karakter."
    with app.test_request_context("/?lang=en"):
        assert _(msg) == "A comment must be 5–600 characters."
        assert _(_(msg)) == "A comment must be 5–600 characters."  # translating twice is harmless
    with app.test_request_context("/?lang=id"):
        assert _(msg) == "Komentar 5–600 karakter."


def _nobody():
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import User

    return db.session.scalar(sa.select(User).order_by(User.id).limit(1))
