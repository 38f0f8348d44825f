"""Real-browser tests in headless Chromium (Debian's chromium + chromedriver):
search, ask with live suggestions, answer, vote, promote."""
import shutil
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import clone, close_app, make_app

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not (CHROMEDRIVER and CHROMIUM), reason="headless Chromium is not installed")


@contextmanager
def serve(app):
    """Run ``app`` on a free loopback port in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


@contextmanager
def chromium(tmp_path, *flags, mobile=None):
    """Headless Chromium with our flags (plus ``flags``); ``mobile`` = device metrics to emulate."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 *flags, f"--user-data-dir={tmp_path / 'chrome'}"):
        options.add_argument(flag)
    if mobile:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": mobile})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def live(tmp_path, seeded_db):
    from core.auth.services import create_user
    from core.models import Role

    app = make_app(clone(seeded_db, tmp_path))
    with app.app_context():
        for name, role in (("penanya", Role.MEMBER), ("penjawab", Role.MEMBER), ("u_km", Role.KNOWLEDGE_MANAGER),
                           ("u_km2", Role.KNOWLEDGE_MANAGER)):
            create_user(name, "kata-sandi-aman", role=role)
    with serve(app) as base:
        yield base


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path, "--window-size=412,1000") as driver:
        yield driver


def wait_for(browser, text, timeout=10):
    """Wait until the page shows ``text`` (a click's navigation may still be running)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(lambda d: text in d.page_source)


def login(browser, base, name):
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{base}/masuk")
    browser.find_element(By.ID, "username").send_keys(name)
    browser.find_element(By.ID, "password").send_keys("kata-sandi-aman")
    browser.find_element(By.CSS_SELECTOR, "main form button.primary").click()
    wait_for(browser, "Selamat datang")


def test_search_from_the_home_page(live, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(live + "/")
    box = browser.find_element(By.ID, "q-home")
    box.send_keys("ktp ilang gmn ngurusnya", Keys.ENTER)
    wait_for(browser, "Jawaban paling relevan")
    heading = browser.find_element(By.ID, "hasil-h")
    assert heading.text == "Jawaban paling relevan"
    browser.find_element(By.LINK_TEXT, "Penggantian KTP-el Hilang atau Rusak").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Penggantian KTP-el Hilang atau Rusak"


def test_ask_with_live_suggestions_then_answer_and_vote(live, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    login(browser, live, "penanya")
    browser.get(live + "/pertanyaan/tanya")
    browser.find_element(By.ID, "title").send_keys("KTP saya hilang waktu merantau, harus pulang?")
    suggestions = browser.find_element(By.ID, "suggestions")
    WebDriverWait(browser, 10).until(EC.visibility_of(suggestions))
    assert "KTP hilang pas merantau" in suggestions.text          # an existing thread is offered
    browser.find_element(By.ID, "body").send_keys("Saya kerja di Bandung, KTP asli Medan. Sudah lapor polisi.")
    browser.find_element(By.CSS_SELECTOR, "form.ask-form button[type=submit]").click()
    wait_for(browser, "Pertanyaan Anda sudah terbit.")
    assert browser.find_element(By.TAG_NAME, "h1").text == "KTP saya hilang waktu merantau, harus pulang?"
    thread_url = browser.current_url

    login(browser, live, "penjawab")
    browser.get(thread_url)
    browser.find_element(By.ID, "body").send_keys("Bisa di Disdukcapil Bandung, bawa KK dan surat kehilangan.")
    browser.find_element(By.CSS_SELECTOR, ".answer-form button[type=submit]").click()
    wait_for(browser, "Jawaban Anda sudah terbit.")
    assert "Bisa di Disdukcapil Bandung" in browser.page_source

    login(browser, live, "penanya")
    browser.get(thread_url)
    answer = browser.find_element(By.CSS_SELECTOR, "section.answer")
    answer.find_element(By.CSS_SELECTOR, "button.vote-btn").click()
    wait_for(browser, 'aria-pressed="true"')
    answer = browser.find_element(By.CSS_SELECTOR, "section.answer")
    assert answer.find_element(By.CSS_SELECTOR, ".score").text == "1"
    assert answer.find_element(By.CSS_SELECTOR, "button.vote-btn").get_attribute("aria-pressed") == "true"


def test_knowledge_manager_promotes_an_answer(live, browser):
    from selenium.webdriver.common.by import By

    login(browser, live, "u_km")
    browser.get(live + "/pertanyaan?tag=skck")
    browser.find_element(By.PARTIAL_LINK_TEXT, "SKCK untuk kerja ke Jepang").click()
    browser.find_element(By.LINK_TEXT, "Promosikan").click()
    browser.find_element(By.CSS_SELECTOR, "main form button.primary").click()
    # An FAQ entry is reviewed by a second knowledge manager, like a page edit.
    wait_for(browser, "Usulan FAQ diajukan.")
    draft_url = browser.current_url
    assert "Menunggu tinjauan" in browser.page_source
    login(browser, live, "u_km2")
    browser.get(draft_url)
    browser.find_element(By.CSS_SELECTOR, "button[name=action][value=publish]").click()
    wait_for(browser, "Draf diterbitkan")
    assert "Pertanyaan yang sering diajukan" in browser.page_source and "@wawan_hidayat" in browser.page_source
