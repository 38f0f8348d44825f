"""Phones first, measured in headless Chromium (issue 15): the service
page's first screen, tap targets, no sideways scrolling, the menu, the
feedback confirmation where it was given, actions that survive login, and
the editor's rows in a real browser (which sends textareas with CRLF)."""
import pytest

from .test_browser import CHROMEDRIVER, CHROMIUM, browser, live, login, wait_for  # noqa: F401

pytestmark = pytest.mark.skipif(not (CHROMEDRIVER and CHROMIUM), reason="headless Chromium is not installed")

PHONES = [(390, 844), (360, 640)]


def viewport(browser, width, height):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})


def measure(browser, script, *args):
    """The script's result once layout has settled (two equal readings)."""
    import time

    last = browser.execute_script(script, *args)
    for _ in range(20):
        time.sleep(0.05)
        now = browser.execute_script(script, *args)
        if now == last:
            return now
        last = now
    return last


def service_slugs():
    import glob
    from pathlib import Path

    return sorted(Path(p).stem for p in glob.glob(str(Path(__file__).parent.parent / "content" / "services" / "*.md")))


FIRST_SCREEN = """
const h = window.innerHeight, w = window.innerWidth;
const bottom = sel => { const el = document.querySelector(sel); return el ? el.getBoundingClientRect().bottom : null; };
const facts = [...document.querySelectorAll('#ringkas > div')].map(d => [d.querySelector('dt').textContent.trim(),
                                                                     d.getBoundingClientRect().bottom]);
return {h, w, scrollWidth: document.documentElement.scrollWidth, header: bottom('.site-header'),
        persyaratan: document.getElementById('persyaratan').getBoundingClientRect().top, facts};
"""


@pytest.mark.parametrize("width,height", PHONES)
def test_every_service_page_shows_its_summary_on_the_first_screen(live, browser, width, height):
    """What to bring, fee, time and where to apply are all above the fold,
    and nothing scrolls sideways, on every service page."""
    viewport(browser, width, height)
    slugs = service_slugs()
    assert len(slugs) > 50
    for slug in slugs:
        browser.get(f"{live}/layanan/{slug}")
        m = measure(browser, FIRST_SCREEN)
        assert m["w"] == width and m["h"] == height
        assert [name for name, _ in m["facts"]] == ["Yang dibawa", "Biaya", "Waktu", "Tempat mengurus"], slug
        for name, bottom in m["facts"]:
            assert bottom <= height, (slug, name, bottom)
        assert m["scrollWidth"] <= width, (slug, m["scrollWidth"])
        assert m["header"] <= 110, (slug, m["header"])  # a compact header (was 170 px)


TAP_TARGETS = """
const small = [];
for (const el of document.querySelectorAll('a[href], button, summary, input:not([type=hidden]), select, textarea')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || r.right <= 0 || r.bottom <= 0) continue;  // not shown (closed menu, skip link)
  if (el.closest('.visually-hidden') || !el.checkVisibility({visibilityProperty: true})) continue;  // folded away
  if (r.width >= 24 && r.height >= 24) continue;
  const st = getComputedStyle(el);
  if (el.tagName === 'A' && st.display === 'inline') {
    // WCAG 2.5.8 inline exception: a link in running text
    const block = el.parentElement.closest('p, li, dd, td, th, span, div, nav');
    if (block && block.textContent.trim().length > el.textContent.trim().length + 2) continue;
  }
  if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length) {
    const lr = el.labels[0].getBoundingClientRect();
    if (Math.max(lr.bottom, r.bottom) - Math.min(lr.top, r.top) >= 24) continue;
  }
  small.push(el.outerHTML.slice(0, 100) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
}
return {small, scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth};
"""


def check_pages(browser, live, pages):
    for path in pages:
        browser.get(live + path)
        m = measure(browser, TAP_TARGETS)
        assert m["small"] == [], (path, m["small"])
        assert m["scrollWidth"] <= m["width"], (path, m["scrollWidth"])


def test_tap_targets_and_no_sideways_scroll_at_360(live, browser):
    viewport(browser, 360, 640)
    check_pages(browser, live, ["/masuk", "/daftar", "/cari?q=ktp+hilang", "/cari?q=sertifkat",
                                "/cari?q=sertifkat&persis=1", "/cari?q=asdfgh", "/hubungi?target=service:skck",
                                "/layanan", "/kategori/kependudukan"])
    login(browser, live, "penanya")
    viewport(browser, 360, 640)
    check_pages(browser, live, ["/", "/layanan/skck", "/layanan/paspor-baru", "/pertanyaan", "/pertanyaan/1",
                                "/pengguna/penanya", "/saya/pertanyaan", "/privasi", "/tentang", "/ketentuan",
                                "/instansi", "/pertanyaan/tanya", "/layanan/skck/riwayat", "/survei/skck"])
    browser.find_element("css selector", ".menu summary").click()
    m = measure(browser, TAP_TARGETS)
    assert m["small"] == [], ("menu", m["small"])
    login(browser, live, "u_km")
    viewport(browser, 360, 640)
    check_pages(browser, live, ["/kelola", "/kelola/layanan/skck/sunting", "/kelola/regulasi", "/kelola/analitik",
                                "/kelola/pencarian", "/jawaban/2/promosikan", "/agen"])
    browser.get(live + "/kelola/analitik")  # the content-gap rows' "pin a page" links were among those checked
    assert "/kelola/pencarian?kueri=asdfgh#tambah-h" in browser.page_source


def test_menu_folds_on_phones_and_shows_on_desktop(live, browser):
    from selenium.webdriver.common.by import By

    viewport(browser, 390, 844)
    browser.get(live + "/layanan/skck")
    shown = "return document.querySelector(arguments[0]).checkVisibility({visibilityProperty: true})"
    assert not browser.execute_script(shown, ".main-nav a[href='/pertanyaan']")
    browser.find_element(By.CSS_SELECTOR, ".menu summary").click()
    assert browser.execute_script(shown, ".main-nav a[href='/pertanyaan']")
    viewport(browser, 1366, 900)
    browser.get(live + "/layanan/skck")
    assert browser.execute_script(shown, ".main-nav a[href='/pertanyaan']")  # no menu button on a wide screen
    assert not browser.execute_script(shown, ".menu summary")


def test_feedback_confirmation_appears_where_the_citizen_clicked(live, browser):
    from selenium.webdriver.common.by import By

    viewport(browser, 390, 844)
    browser.get(live + "/layanan/skck")
    button = browser.find_element(By.CSS_SELECTOR, "#umpan-balik button[value=tidak]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait_for(browser, "Terima kasih atas masukannya.")
    done = browser.find_element(By.CSS_SELECTOR, "#umpan-balik .feedback-done")
    top, bottom = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom]",
                                         done)
    assert 0 <= top and bottom <= 844  # on screen, not at the top of a page scrolled away
    box = browser.find_element(By.ID, "fb-comment")
    assert box.is_displayed()
    box.send_keys("Tidak ada info biaya legalisir SKCK")
    browser.find_element(By.CSS_SELECTOR, ".missing-form button").click()
    wait_for(browser, "Masukan Anda sudah kami terima")
    done = browser.find_element(By.CSS_SELECTOR, "#umpan-balik .feedback-done")
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", done)
    assert 0 <= top <= 844


def test_vote_and_answer_started_logged_out_complete_after_login(live, browser):
    from selenium.webdriver.common.by import By

    viewport(browser, 390, 844)
    browser.delete_all_cookies()
    browser.get(live + "/pertanyaan/1")
    answer = browser.find_element(By.CSS_SELECTOR, "section.answer")
    answer_id = answer.get_attribute("id")
    answer.find_element(By.CSS_SELECTOR, "button.vote-btn").click()
    wait_for(browser, "suara naik Anda untuk jawaban ini")
    assert "/masuk" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("penjawab")
    browser.find_element(By.ID, "password").send_keys("kata-sandi-aman")
    browser.find_element(By.CSS_SELECTOR, "main form button.primary").click()
    wait_for(browser, "Suara Anda tercatat.")
    assert "/pertanyaan/1" in browser.current_url and "Metode permintaan tidak diizinkan" not in browser.page_source
    answer = browser.find_element(By.ID, answer_id)
    assert answer.find_element(By.CSS_SELECTOR, "button.vote-btn").get_attribute("aria-pressed") == "true"

    browser.delete_all_cookies()
    browser.get(live + "/pertanyaan/1")
    browser.find_element(By.ID, "body").send_keys("Pengalaman saya: datang pagi, bawa fotokopi KTP kedua mempelai.")
    browser.find_element(By.CSS_SELECTOR, ".answer-form button[type=submit]").click()
    wait_for(browser, "menerbitkan jawaban Anda")
    browser.find_element(By.ID, "username").send_keys("penanya")
    browser.find_element(By.ID, "password").send_keys("kata-sandi-aman")
    browser.find_element(By.CSS_SELECTOR, "main form button.primary").click()
    wait_for(browser, "Jawaban Anda sudah terbit.")
    assert "datang pagi, bawa fotokopi KTP kedua mempelai" in browser.page_source


def test_editor_rows_in_a_real_browser(live, browser):
    """A real browser's submit (CRLF line breaks) of an untouched page records
    no change; a new fee row is added without JavaScript and only shows the
    amounts its kind uses."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    viewport(browser, 1366, 900)
    login(browser, live, "u_km")
    viewport(browser, 1366, 900)
    browser.get(live + "/kelola/layanan/akta-kelahiran/sunting")
    browser.execute_script("document.querySelector('button[name=submit][value=save]:not(.visually-hidden)')"
                           ".scrollIntoView({block: 'center'})")
    browser.find_element(By.CSS_SELECTOR, "button[name=submit][value=save]:not(.visually-hidden)").click()
    wait_for(browser, "Draf disimpan.")
    assert "Belum ada perubahan." in browser.page_source

    browser.get(live + "/kelola/layanan/skck/sunting")
    rows = len(browser.find_elements(By.CSS_SELECTOR, ".fee-row"))
    add = browser.find_element(By.CSS_SELECTOR, "button[name=op][value='add:fees']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", add)
    add.click()
    wait_for(browser, f'id="fees-{rows}-label"')
    kind = Select(browser.find_element(By.ID, f"fees-{rows}-kind"))
    kind.select_by_value("range")
    assert browser.find_element(By.ID, f"fees-{rows}-min").is_displayed()
    assert not browser.find_element(By.ID, f"fees-{rows}-amount").is_displayed()
    kind.select_by_value("free")
    assert not browser.find_element(By.ID, f"fees-{rows}-min").is_displayed()


@pytest.fixture
def live_hedged(tmp_path, seeded_db):
    """The site with a confident bar nothing clears: every result is hedged."""
    import json

    from search.fusion import DEFAULT_PATH

    from .conftest import clone, make_app
    from .test_browser import serve

    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    for mode in ("hybrid", "lexical"):
        data[mode]["sure_bar"] = 1.0
    fusion = tmp_path / "fusion.json"
    fusion.write_text(json.dumps(data), encoding="utf-8")
    with serve(make_app(clone(seeded_db, tmp_path), SEARCH_FUSION=str(fusion))) as base:
        yield base


def test_hedged_results_on_a_phone(live_hedged, browser):
    """The "we are not sure" notice comes before the results, and the first
    result still starts on the first screen of a small phone; the next
    steps follow the results. Full tap targets, no sideways scrolling."""
    viewport(browser, 360, 640)
    check_pages(browser, live_hedged, ["/cari?q=paspor+hilang"])
    m = measure(browser, """
        const top = sel => document.querySelector(sel).getBoundingClientRect().top;
        return {notice: top('.hedged'), results: top('.result-list'), next: top('.hedged-next'),
                h: window.innerHeight, heading: document.getElementById('hasil-h').textContent.trim()};""")
    assert m["notice"] < m["results"] < m["h"] < m["next"], m
    assert m["heading"] == "Mungkin terkait"
    browser.save_screenshot("/tmp/hedged-360.png") if __import__("os").environ.get("LAYANAN_SCREENSHOTS") else None
