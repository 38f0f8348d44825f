"""The inbox on a 360 px wide phone, in headless Chromium: the unread count
sits in the header, the inbox fits the screen (no sideways scrolling), each
notification is a big enough tap target and opens the answer."""
import pytest

from .conftest import clone, make_app
from .test_browser import CHROMEDRIVER, CHROMIUM, chromium, login, serve, wait_for

pytestmark = pytest.mark.skipif(not (CHROMEDRIVER and CHROMIUM), reason="headless Chromium is not installed")


@pytest.fixture
def live_app(tmp_path, seeded_db):
    from core.auth.services import create_user

    app = make_app(clone(seeded_db, tmp_path))
    with app.app_context():
        for name in ("penanya", "penjawab"):
            create_user(name, "kata-sandi-aman")
    with serve(app) as base:
        yield app, base


@pytest.fixture
def phone(tmp_path):
    with chromium(tmp_path, "--hide-scrollbars", mobile={"width": 360, "height": 640, "pixelRatio": 2.0}) as driver:
        yield driver


def test_the_inbox_works_on_a_360px_phone(live_app, phone):
    from selenium.webdriver.common.by import By

    import sqlalchemy as sa

    from core.extensions import db
    from core.models import User
    from forum.services import ask_question, post_answer

    app, base = live_app
    with app.app_context():
        asker = db.session.scalar(sa.select(User).where(User.username == "penanya"))
        helper = db.session.scalar(sa.select(User).where(User.username == "penjawab"))
        q = ask_question(asker, "Bagaimana cara mengurus akta kelahiran yang terlambat?",
                         "Anak saya lahir tiga tahun lalu dan belum punya akta, apa saja syaratnya?")
        for i in range(3):
            post_answer(helper, q.id, f"Jawaban ke-{i + 1}: datang ke Disdukcapil dengan KK, surat keterangan lahir "
                                      "dari bidan atau rumah sakit, dan KTP kedua orang tua.")
        qid = q.id

    login(phone, base, "penanya")
    assert phone.execute_script("return window.innerWidth") == 360
    badge = phone.find_element(By.CSS_SELECTOR, ".notif-link .count")
    assert badge.text == "3"
    link = phone.find_element(By.CSS_SELECTOR, ".notif-link")
    rect = link.rect
    assert rect["x"] >= 0 and rect["x"] + rect["width"] <= 360 and rect["height"] >= 24
    link.click()
    wait_for(phone, "menjawab pertanyaan yang Anda ikuti")
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 360
    items = phone.find_elements(By.CSS_SELECTOR, ".inbox-link")
    assert len(items) == 3
    for item in items:
        r = item.rect
        assert r["x"] >= 0 and r["x"] + r["width"] <= 360 and r["height"] >= 44
    items[-1].click()  # the oldest: the first answer
    wait_for(phone, "Jawaban ke-1")
    assert f"/pertanyaan/{qid}" in phone.current_url and "#jawaban-" in phone.current_url
    assert phone.find_element(By.CSS_SELECTOR, ".notif-link .count").text == "2"
    phone.get(base + "/akun")
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 360
    assert phone.find_element(By.ID, "email").rect["width"] <= 340
