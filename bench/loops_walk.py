"""Re-check the walk-through findings (issue 15) in real headless Chromium,
on a 390x844 phone (mobile emulation, device pixel ratio 2).

The walk-through (headless Chromium at 1366x900, 390x844 and 360x640) found
eleven problems that have since been fixed.  This script walks each one
again the way a person would (clicking, typing, measuring where things are
on the screen) and prints a table:

    finding | what was checked | result (fixed / still broken) | evidence

and then one line per finding.  It builds a fresh temporary SQLite database
with the bundled content (like tests/conftest.py's ``seeded_db``), creates
the people it needs (an asker, a helper, another member, two knowledge
managers and a contact-centre agent), serves the app on a loopback port
(tests/test_browser.py's ``serve``) and drives Chromium through
tests/test_browser.py's ``chromium`` helper.  It exits 1 if any finding is
still broken (or could not be checked), 0 otherwise.

    cd /path/to/repo && .venv/bin/python bench/loops_walk.py [--pages 8]

A few facts are read from the database next to what the browser shows (the
vote row, the feedback comment, the draft's snapshot); they are named as such
in the evidence column.
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import textwrap
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import CONTENT, Snapshot, close_app, make_app, new_database  # noqa: E402
from tests.test_browser import CHROMEDRIVER, CHROMIUM, chromium, serve  # noqa: E402
from tests.test_browser_mobile import measure  # noqa: E402

WIDTH, HEIGHT = 390, 844
PHONE = {"width": WIDTH, "height": HEIGHT, "pixelRatio": 2.0}
PASSWORD = "kata-sandi-aman"
QUESTION_TITLE = "Akta kelahiran anak saya salah nama ibu, bagaimana membetulkannya?"
QUESTION_BODY = ("Nama ibu di akta kelahiran anak saya tertulis salah satu huruf. Apakah harus ke pengadilan "
                 "atau cukup ke Disdukcapil? Kami tinggal di Bekasi.")
ANSWER_BODY = ("Cukup ke Disdukcapil: bawa akta asli, KK, KTP-el kedua orang tua dan buku nikah. "
               "Pembetulan salah tulis tidak perlu penetapan pengadilan.")
WHAT_WAS_MISSING = "Tidak ada info biaya legalisir dan berapa lama prosesnya"
ESCALATION_SUMMARY = "SKCK saya hilang sebelum dipakai, perlu untuk visa kerja"


# ---------------------------------------------------------------- the report

class Report:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str]] = []
        self.findings: dict[str, list[str]] = {}

    def add(self, finding: str, what: str, ok: bool | None, evidence: str) -> bool | None:
        """ok: True = fixed, False = still broken, None = observation that does not decide the finding."""
        result = {True: "fixed", False: "still broken", None: "note"}[ok]
        self.rows.append((finding, what, result, evidence))
        self.findings.setdefault(finding, []).append(result)
        return ok

    def error(self, finding: str, exc: BaseException) -> None:
        frames = [f"line {f.lineno} ({f.name}): {f.line}" for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename.endswith("loops_walk.py")][-2:]
        message = re.split(r"\(Session info|Stacktrace:", str(exc))[0].strip()
        self.rows.append((finding, "the check itself", "could not check",
                          f"{type(exc).__name__}: {message[:300]} at {'; '.join(frames)}"))
        self.findings.setdefault(finding, []).append("could not check")

    def verdict(self, finding: str) -> str:
        results = self.findings.get(finding, [])
        if "could not check" in results:
            return "could not check"
        if "still broken" in results:
            return "still broken (partly)" if "fixed" in results else "still broken"
        return "fixed" if "fixed" in results else "could not check"

    def table(self) -> str:
        widths = (26, 44, 12, 78)
        head = ("finding", "what was checked", "result", "evidence")
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out = [line, self._row(head, widths), line.replace("-", "=")]
        last = None
        number = lambda row: int(row[0].split(".")[0])  # noqa: E731  (findings 1 and 2 are walked together)
        for finding, what, result, evidence in sorted(self.rows, key=number):
            if last is not None and finding != last:
                out.append(line)
            out.append(self._row((finding if finding != last else "", what, result, evidence), widths))
            last = finding
        out.append(line)
        return "\n".join(out)

    @staticmethod
    def _row(cells, widths) -> str:
        wrapped = [textwrap.wrap(c, w, break_long_words=True, break_on_hyphens=False) or [""]
                   for c, w in zip(cells, widths)]
        lines = []
        for i in range(max(len(w) for w in wrapped)):
            lines.append("| " + " | ".join((w[i] if i < len(w) else "").ljust(width)
                                           for w, width in zip(wrapped, widths)) + " |")
        return "\n".join(lines)


# ---------------------------------------------------------------- the app

def build_app(folder: Path):
    """A fresh database with the bundled content, its search index, and the people the walk needs."""
    from core.auth.services import create_user
    from core.cli import init_db
    from core.contentio import load_content
    from core.models import Role
    from search.outbox import reindex

    app = make_app(Snapshot(new_database(folder, "walk"), folder / "search"))
    with app.app_context():
        init_db()
        load_content(CONTENT)
        reindex()
        for name, role in (("penanya", Role.MEMBER), ("penjawab", Role.MEMBER), ("warga_lain", Role.MEMBER),
                           ("u_km", Role.KNOWLEDGE_MANAGER), ("u_km2", Role.KNOWLEDGE_MANAGER),
                           ("u_agen", Role.AGENT)):
            create_user(name, PASSWORD, role=role)
    return app


def publish_a_reviewed_edit(app) -> str:
    """One page edit reviewed and published by a second knowledge manager
    (service layer), so that a version whose source is ``review:draf-1``
    exists for finding 8 to look for.  Returns the page's slug."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import User
    from kb import curation as cur
    from kb.models import Service
    from kb.record import ServiceRecord

    with app.app_context():
        km1 = db.session.scalar(sa.select(User).where(User.username == "u_km"))
        km2 = db.session.scalar(sa.select(User).where(User.username == "u_km2"))
        registry = cur.current_registry()
        for service in db.session.scalars(sa.select(Service).order_by(Service.slug)):
            if service.slug == "skck":  # skck is used for the other findings as published
                continue
            record = service.record
            if cur.publish_blockers(ServiceRecord.from_dict(record), registry):
                continue
            contact = dict(record.get("contact") or {})
            contact["note"] = ((contact.get("note") or "") + " Hubungi sebelum datang.").strip()
            changed = {**record, "contact": contact}
            draft = cur.create_draft(km1, service.slug, changed, summary="Catatan kontak")
            cur.submit_draft(km1, draft.id)
            cur.publish_draft(km2, draft.id, "Sesuai kanal resmi")
            return service.slug
    raise RuntimeError("no bundled page can be published (every page has a publish blocker)")


def db_read(app, fn):
    from core.extensions import db

    with app.app_context():
        try:
            return fn(db)
        finally:
            db.session.remove()


# ---------------------------------------------------------------- the browser

def by(css):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def wait(d, condition, timeout=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout).until(condition)


def ready(d) -> int | None:
    """Wait for the document to load; its HTTP status (Navigation Timing)."""
    wait(d, lambda d: d.execute_script("return document.readyState") == "complete")
    return d.execute_script("const e = performance.getEntriesByType('navigation')[0];"
                            "return e ? e.responseStatus : null")


def go(d, url) -> int | None:
    d.get(url)
    return ready(d)


def find(d, css, timeout=10):
    from selenium.webdriver.support import expected_conditions as EC

    return wait(d, EC.presence_of_element_located(by(css)), timeout)


def exists(d, css) -> bool:
    return bool(d.find_elements(*by(css)))


def click_and_load(d, element) -> int | None:
    """Click something that loads a new document (a link, a form button); its status."""
    from selenium.common.exceptions import WebDriverException

    old = d.find_element(*by("html"))
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:  # stale, or "node does not belong to the document"
            return True

    wait(d, gone)
    return ready(d)


def text_of(d) -> str:
    return d.execute_script("return document.body.innerText")


def wait_text(d, text, timeout=15) -> bool:
    try:
        wait(d, lambda d: text in d.page_source, timeout)
        return True
    except Exception:
        return False


def here(d, base) -> str:
    return d.current_url.replace(base, "")


FETCH = """const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: 'same-origin'})
  .then(r => r.text().then(t => done([r.status, r.url, r.headers.get('content-type') || '', t])))
  .catch(e => done([0, String(e), '', '']));"""


def fetch(d, url) -> tuple[int, str, str, str]:
    """GET ``url`` from inside the page (same cookies): status, final URL, type, raw text."""
    d.set_script_timeout(20)
    return tuple(d.execute_async_script(FETCH, url))


def login(d, base, name) -> int | None:
    d.delete_all_cookies()
    go(d, f"{base}/masuk")
    find(d, "#username").send_keys(name)
    d.find_element(*by("#password")).send_keys(PASSWORD)
    status = click_and_load(d, d.find_element(*by("main form button.primary")))
    assert wait_text(d, "Selamat datang"), f"login as {name} failed: {here(d, base)}"
    return status


def open_menu(d) -> None:
    if not d.execute_script("const m = document.querySelector('details.menu'); return !m || m.open"):
        d.find_element(*by(".menu summary")).click()


def tap_menu_link(d, base, selector: str) -> tuple[str, int | None]:
    """Open the folded menu, tap the link at ``selector``: (its href, HTTP status)."""
    open_menu(d)
    link = d.find_element(*by(selector))
    href = link.get_attribute("href").replace(base, "")
    return href, click_and_load(d, link)


def rect(d, element) -> dict:
    return d.execute_script("const r = arguments[0].getBoundingClientRect();"
                            "return {top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left),"
                            " right: Math.round(r.right), width: Math.round(r.width), height: Math.round(r.height),"
                            " scrollY: Math.round(window.scrollY)}", element)


# ---------------------------------------------------------------- 1 and 2: the asker hears back

BELL = """
const a = document.querySelector('.site-header .notif-link');
if (!a) return null;
const r = a.getBoundingClientRect(), c = a.querySelector('.count'), menu = document.querySelector('details.menu');
const shown = el => !!el && el.checkVisibility({visibilityProperty: true, opacityProperty: true});
return {count: c ? c.textContent.trim() : null, shown: shown(a) && (!c || shown(c)), in_menu: !!a.closest('details'),
        menu_open: menu ? menu.open : null, left: Math.round(r.left), right: Math.round(r.right),
        top: Math.round(r.top), bottom: Math.round(r.bottom), height: Math.round(r.height),
        label: a.getAttribute('aria-label'), vw: innerWidth, vh: innerHeight};
"""


def bell(d) -> dict | None:
    return measure(d, BELL)


def asker_hears_back(d, base, app, rep: Report) -> None:
    F1, F2 = "1. asker never hears back", "2. asker asked 'did this answer'"
    import sqlalchemy as sa

    # The asker asks (in the browser).
    login(d, base, "penanya")
    go(d, base + "/pertanyaan/tanya")
    find(d, "#title").send_keys(QUESTION_TITLE)
    try:  # live suggestions appear under the title; let them settle before going on
        wait(d, lambda d: d.find_element(*by("#suggestions")).is_displayed(), 10)
    except Exception:
        pass
    time.sleep(0.5)
    d.find_element(*by("#body")).send_keys(QUESTION_BODY)
    click_and_load(d, d.find_element(*by("form.ask-form button[type=submit]")))
    assert wait_text(d, "Pertanyaan Anda sudah terbit."), "asking failed"
    thread = here(d, base).split("#")[0]
    qid = int(re.search(r"/pertanyaan/(\d+)", thread).group(1))

    own_unanswered = exists(d, "#umpan-balik")
    rep.add(F2, "asker opens own question with no answer yet: is the 'Apakah halaman ini menjawab…' box shown?",
            not own_unanswered and "Apakah halaman ini menjawab" not in d.page_source,
            f"{thread} as penanya, 0 answers: #umpan-balik {'present' if own_unanswered else 'absent'}; "
            f"text 'Apakah halaman ini menjawab' "
            f"{'found' if 'Apakah halaman ini menjawab' in d.page_source else 'not found'}")

    # Another member answers (in the browser).
    login(d, base, "penjawab")
    go(d, base + thread)
    other_before = exists(d, "#umpan-balik")
    find(d, ".answer-form #body").send_keys(ANSWER_BODY)
    click_and_load(d, d.find_element(*by(".answer-form button[type=submit]")))
    assert wait_text(d, "Jawaban Anda sudah terbit."), "answering failed"
    login(d, base, "warga_lain")
    go(d, base + thread)
    other_after = exists(d, "#umpan-balik")
    rep.add(F2, "the box is still offered where it makes sense (another member, after an answer)",
            other_after and not other_before,
            f"penjawab before answering: box {'present' if other_before else 'absent'}; warga_lain after the answer: "
            f"box {'present' if other_after else 'absent'}")

    # The asker comes back.
    login(d, base, "penanya")
    b = bell(d)
    visible = bool(b) and b["count"] == "1" and b["shown"] and not b["in_menu"] and b["menu_open"] is False \
        and 0 <= b["left"] and b["right"] <= WIDTH and 0 <= b["top"] and b["bottom"] <= HEIGHT
    rep.add(F1, "asker logs in after the answer: unread count on the bell in the header, visible at 390 px "
                "with the menu folded",
            visible, (f"viewport {b['vw']}x{b['vh']}; .notif-link count '{b['count']}', aria-label '{b['label']}', "
                      f"visible={b['shown']}, inside folded menu={b['in_menu']}, menu open={b['menu_open']}, "
                      f"box x {b['left']}–{b['right']} px, y {b['top']}–{b['bottom']} px (height {b['height']} px)")
            if b else "no .notif-link in the header")

    status = go(d, base + "/saya/pertanyaan")
    body = text_of(d)
    new_marker = re.search(r"\d+ jawaban baru", body)
    rep.add(F1, "'my questions' page /saya/pertanyaan exists and lists the question with its new answer",
            status == 200 and QUESTION_TITLE in body and bool(new_marker),
            f"HTTP {status}; h1 '{d.find_element(*by('h1')).text}'; question listed: {QUESTION_TITLE in body}; "
            f"marker: '{new_marker.group(0) if new_marker else 'none'}'")

    status = click_and_load(d, d.find_element(*by(".site-header .notif-link")))
    items = d.find_elements(*by(".inbox-item"))
    unread = d.find_elements(*by(".inbox-item.unread"))
    first = unread[0].find_element(*by(".inbox-text")).text if unread else ""
    rep.add(F1, "tapping the bell opens the inbox with an unread entry for the answer",
            status == 200 and here(d, base).startswith("/notifikasi") and len(unread) == 1
            and "penjawab" in first and QUESTION_TITLE[:30] in first,
            f"{here(d, base)} HTTP {status}; {len(items)} entr{'y' if len(items) == 1 else 'ies'}, "
            f"{len(unread)} unread: "
            f"'{first}'")
    if unread:
        status = click_and_load(d, unread[0].find_element(*by(".inbox-link")))
        landed = here(d, base)
        b2 = bell(d)
        rep.add(F1, "opening the entry leads to the answer and clears the count",
                landed.startswith(thread) and "#jawaban-" in landed and b2 and b2["count"] is None,
                f"landed on {landed} (HTTP {status}); bell count now "
                f"{(b2['count'] or 'not shown (0 unread)') if b2 else 'n/a'}")
        own_answered = exists(d, "#umpan-balik")
        rep.add(F2, "asker opens own question after it was answered: box shown?",
                not own_answered,
                f"{thread} as penanya, 1 answer: #umpan-balik {'present' if own_answered else 'absent'} (the asker "
                f"gets 'Terima jawaban ini' instead: {'Terima jawaban ini' in d.page_source})")

    href, status = tap_menu_link(d, base, ".main-nav a.who")
    page = here(d, base)
    password_inputs = len(d.find_elements(*by("main input[type=password]")))
    h1 = d.find_element(*by("h1")).text
    rep.add(F1, "the username link in the header (menu) leads to a profile /pengguna/<name>, not the password form",
            href == "/pengguna/penanya" and page == "/pengguna/penanya" and status == 200 and password_inputs == 0,
            f"a.who href {href} → {page} HTTP {status}; h1 '{h1}'; password inputs on page: {password_inputs}; "
            f"question listed on the profile: {QUESTION_TITLE[:30] in text_of(d)}")

    # The database agrees (one notification, unread before it was opened).
    def notes(db):
        from core.models import User
        from notify.models import Notification

        return db.session.execute(sa.select(Notification.kind, Notification.read_at.is_not(None))
                                  .join(User, User.id == Notification.user_id)
                                  .where(User.username == "penanya")).all()

    rows = db_read(app, notes)
    rep.add(F1, "database: the asker's notifications (after opening the entry)", None,
            f"question #{qid}: {[(kind, 'read' if read else 'unread') for kind, read in rows]}")


# ---------------------------------------------------------------- 3: vote survives login

def vote_survives_login(d, base, app, rep: Report) -> None:
    F = "3. vote while logged out"
    import sqlalchemy as sa

    d.delete_all_cookies()
    status = go(d, base + "/pertanyaan/1")
    answer = find(d, "section.answer")
    answer_id = answer.get_attribute("id")
    score_before = answer.find_element(*by(".score")).text
    status_post = click_and_load(d, answer.find_element(*by("button.vote-btn")))
    to_login = here(d, base)
    kept_msg = "suara naik Anda untuk jawaban ini" in d.page_source
    rep.add(F, "logged out, tap ▲ on an answer of /pertanyaan/1: where does it go?",
            to_login.startswith("/masuk") and status_post == 200 and kept_msg,
            f"/pertanyaan/1 HTTP {status}, {answer_id} score {score_before}; after ▲: {to_login} HTTP {status_post}; "
            f"login page says the vote is kept ('suara naik Anda untuk jawaban ini'): {kept_msg}")

    find(d, "#username").send_keys("warga_lain")
    d.find_element(*by("#password")).send_keys(PASSWORD)
    status = click_and_load(d, d.find_element(*by("main form button.primary")))
    landed = here(d, base)
    answer = d.find_element(*by(f"#{answer_id}"))
    score_after = answer.find_element(*by(".score")).text
    pressed = answer.find_element(*by("button.vote-btn")).get_attribute("aria-pressed")
    no405 = "Metode permintaan tidak diizinkan" not in d.page_source and status != 405

    def vote_rows(db):
        from core.models import User
        from forum.models import Vote

        uid = db.session.scalar(sa.select(User.id).where(User.username == "warga_lain"))
        return db.session.scalars(sa.select(Vote.value).where(Vote.user_id == uid)).all()

    votes = db_read(app, vote_rows)
    rep.add(F, "log in on that page: the vote completes (count changes, no 405)",
            no405 and landed.startswith("/pertanyaan/1") and "Suara Anda tercatat." in d.page_source
            and pressed == "true" and int(score_after) == int(score_before) + 1 and votes == [1],
            f"after login: {landed} HTTP {status}; '405 Metode permintaan tidak diizinkan' "
            f"{'absent' if no405 else 'SHOWN'}; flash 'Suara Anda tercatat.': {'Suara Anda tercatat.' in d.page_source};"
            f" score {score_before} → {score_after}, ▲ aria-pressed={pressed}; database: votes by warga_lain {votes}")


# ---------------------------------------------------------------- 4: the first screen of a service page

FIRST_SCREEN = """
const top = sel => { const el = document.querySelector(sel); return el ? Math.round(el.getBoundingClientRect().top) : null; };
const bottom = sel => { const el = document.querySelector(sel); return el ? Math.round(el.getBoundingClientRect().bottom) : null; };
const facts = [...document.querySelectorAll('#ringkas > div')].map(d => [d.querySelector('dt').textContent.trim(),
              Math.round(d.getBoundingClientRect().top), Math.round(d.getBoundingClientRect().bottom)]);
return {vw: innerWidth, vh: innerHeight, scrollY: Math.round(scrollY), scrollWidth: document.documentElement.scrollWidth,
        header: Math.round(document.querySelector('.site-header').getBoundingClientRect().height),
        summary_top: top('#ringkas'), summary_bottom: bottom('#ringkas'), facts,
        requirements: top('#persyaratan-h'), h1: top('h1')};
"""


def first_screen(d, base, app, rep: Report, pages: int) -> None:
    F = "4. service page first screen"
    go(d, base + "/layanan")
    hrefs = [a.get_attribute("href").replace(base, "") for a in d.find_elements(*by(".service-item a.title"))]
    step = max(1, len(hrefs) // pages)
    sample = hrefs[::step][:pages]
    if "/layanan/skck" not in sample:
        sample[-1] = "/layanan/skck"
    all_ok, headers, lines = True, [], []
    for path in sample:
        status = go(d, base + path)
        m = measure(d, FIRST_SCREEN)
        names = [f[0] for f in m["facts"]]
        ok = status == 200 and names == ["Yang dibawa", "Biaya", "Waktu", "Tempat mengurus"] \
            and m["summary_bottom"] is not None and m["summary_bottom"] < HEIGHT and m["scrollWidth"] <= WIDTH
        all_ok &= ok
        headers.append(m["header"])
        rep.add(F, f"{path} at {m['vw']}x{m['vh']}: summary (bring/fee/time/where) top and bottom, "
                   f"'Persyaratan' heading, header height",
                ok, f"HTTP {status}; header {m['header']} px; summary y {m['summary_top']}–{m['summary_bottom']} px "
                    f"({', '.join(f'{n} {t}–{b}' for n, t, b in m['facts'])}); 'Persyaratan' heading at "
                    f"{m['requirements']} px; page width {m['scrollWidth']} px")
    # Every other service page (all of them, from the database: /layanan shows 50 a page), summarised.
    def slugs(db):
        import sqlalchemy as sa

        from kb.models import Service

        return db.session.scalars(sa.select(Service.slug).order_by(Service.slug)).all()

    bottoms, reqs, fails = [], [], []
    for path in [f"/layanan/{slug}" for slug in db_read(app, slugs)]:
        if path in sample:
            continue
        go(d, base + path)
        m = measure(d, FIRST_SCREEN)
        bottoms.append(m["summary_bottom"] or 10 ** 6)
        reqs.append(m["requirements"] or 10 ** 6)
        headers.append(m["header"])
        if not (m["summary_bottom"] and m["summary_bottom"] < HEIGHT and m["scrollWidth"] <= WIDTH):
            fails.append(f"{path} ({m['summary_bottom']} px)")
    if bottoms:
        rep.add(F, f"every other service page ({len(bottoms)} more): summary bottom < {HEIGHT} px",
                not fails, f"summary bottom {min(bottoms)}–{max(bottoms)} px; 'Persyaratan' heading {min(reqs)}–"
                           f"{max(reqs)} px; over the fold: {fails or 'none'}")
    rep.add(F, "header height (was 170 px) on every service page measured", max(headers) < 170,
            f"{min(headers)}–{max(headers)} px on {len(headers)} pages; 'Persyaratan' itself is below the summary "
            "(the summary links to it: 'Semua n persyaratan')")


# ---------------------------------------------------------------- 5: page feedback "no"

ON_SCREEN = """
const el = arguments[0], r = el.getBoundingClientRect();
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 10));
return {top: Math.round(r.top), bottom: Math.round(r.bottom), scrollY: Math.round(scrollY),
        uncovered: !!hit && (hit === el || el.contains(hit)), text: el.textContent.trim()};
"""


def feedback_no(d, base, app, rep: Report) -> None:
    F = "5. feedback 'Tidak' jumps"
    import sqlalchemy as sa

    d.delete_all_cookies()
    page = "/layanan/paspor-baru"
    go(d, base + page)
    button = find(d, "#umpan-balik button[value=tidak]")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    time.sleep(0.2)
    before = rect(d, button)
    click_and_load(d, button)
    confirmed = wait_text(d, "Terima kasih atas masukannya.")
    time.sleep(0.3)
    done = find(d, "#umpan-balik .feedback-done")
    after = measure(d, ON_SCREEN, done)
    in_view = 0 <= after["top"] and after["bottom"] <= HEIGHT and after["uncovered"]
    doc_before, doc_after = before["top"] + before["scrollY"], after["top"] + after["scrollY"]
    rep.add(F, f"anonymous on {page}: tap '👎 Tidak' scrolled to the middle of the screen; where is the thank-you?",
            confirmed and in_view and abs(doc_after - doc_before) < HEIGHT,
            f"button at y {before['top']} px (page y {doc_before}); after: {here(d, base)}; '{after['text']}' at "
            f"y {after['top']}–{after['bottom']} px of {HEIGHT} (page y {doc_after}, {doc_after - doc_before:+d} px "
            f"from the button), in viewport and not covered: {in_view}")

    has_box = exists(d, "#fb-comment")
    label = d.find_element(*by("label[for=fb-comment]")).text if has_box else ""
    box_rect = rect(d, d.find_element(*by("#fb-comment"))) if has_box else {}
    rep.add(F, "a free-text 'what was missing?' box is offered next to it",
            has_box and d.find_element(*by("#fb-comment")).is_displayed(),
            f"#fb-comment {'present' if has_box else 'absent'}: label '{label}', y {box_rect.get('top')}–"
            f"{box_rect.get('bottom')} px" if has_box else "no #fb-comment on the page")
    if not has_box:
        return
    d.find_element(*by("#fb-comment")).send_keys(WHAT_WAS_MISSING)
    click_and_load(d, d.find_element(*by(".missing-form button")))
    sent = wait_text(d, "Masukan Anda sudah kami terima")
    done = find(d, "#umpan-balik .feedback-done")
    final = measure(d, ON_SCREEN, done)

    def comments(db):
        from analytics.models import Feedback

        return db.session.execute(sa.select(Feedback.target, Feedback.helpful, Feedback.comment)
                                  .where(Feedback.target == "service:paspor-baru")).all()

    rows = db_read(app, comments)
    rep.add(F, "the box submits; its confirmation is on screen too",
            sent and 0 <= final["top"] and final["bottom"] <= HEIGHT and final["uncovered"]
            and any(r.comment and "legalisir" in r.comment for r in rows),
            f"after sending: {here(d, base)}; '{final['text'][:40]}…' at y {final['top']}–{final['bottom']} px; "
            f"database: {[(r.target, r.helpful, r.comment) for r in rows]}")


# ---------------------------------------------------------------- 6: the reference number at the agency

def reference_lookup(d, base, app, rep: Report) -> None:
    F = "6. LYN- reference useless"
    import sqlalchemy as sa

    def thread(db):
        from forum.models import Question

        return db.session.execute(sa.select(Question.id, Question.title)
                                  .where(Question.seed_key == "skck-untuk-kerja-di-luar-negeri")).one()

    qid, qtitle = db_read(app, thread)
    d.delete_all_cookies()
    go(d, base + "/cari?q=skck+hilang")
    go(d, base + "/layanan/skck")
    go(d, base + f"/pertanyaan/{qid}")
    status = go(d, base + "/hubungi?target=service:skck")
    shown_trail = [li.text for li in d.find_elements(*by("fieldset li"))]
    find(d, "#summary").send_keys(ESCALATION_SUMMARY)
    attach = d.find_element(*by("input[name=lampirkan]")).is_selected()
    click_and_load(d, d.find_element(*by("main form button.primary")))
    reference = find(d, ".reference").text
    rep.add(F, "citizen searches, reads /layanan/skck and a thread, then 'Hubungi layanan resmi' → reference",
            bool(re.fullmatch(r"LYN-\d{4}-[0-9A-F]{6}", reference)),
            f"/hubungi HTTP {status}; trail offered to attach ({'checked' if attach else 'unchecked'}): {shown_trail}; "
            f"reference shown: {reference}")

    login(d, base, "u_agen")
    open_menu(d)
    menu_link = [a.get_attribute("href").replace(base, "") for a in d.find_elements(*by(".main-nav a"))
                 if a.text == "Rujukan"]
    status = go(d, base + "/agen")
    find(d, "#rujukan").send_keys(reference.lower())  # as read out over the phone
    status = click_and_load(d, d.find_element(*by("main form button.primary")))
    page = here(d, base)
    body = text_of(d)
    links = [a.get_attribute("href").replace(base, "") for a in d.find_elements(*by("main ol a"))]
    saw = {"summary": ESCALATION_SUMMARY in body, "search 'skck hilang'": "skck hilang" in body,
           "page SKCK": "Surat Keterangan Catatan Kepolisian" in body, "thread": qtitle in body}
    rep.add(F, "agent (role agent) types the reference (lower case) at /agen: sees the query, pages and threads",
            status == 200 and page == f"/agen/rujukan/{reference}" and all(saw.values()),
            f"menu link 'Rujukan' → {menu_link}; {page} HTTP {status}; found {saw}; trail links {links}")
    times = re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z]+", body)
    made = re.search(r"Dibuat\s*\n?\s*(.+)", body)
    rep.times_on_agent_page = (made.group(1).strip() if made else None, times)

    status = go(d, base + "/agen/rujukan/LYN-0000-000000")
    rep.add(F, "an unknown reference is refused clearly", status == 404,
            f"/agen/rujukan/LYN-0000-000000 HTTP {status}: '{d.find_element(*by('main')).text[:90]}'")
    login(d, base, "warga_lain")
    member = go(d, base + f"/agen/rujukan/{reference}")
    d.delete_all_cookies()
    anon = go(d, base + f"/agen/rujukan/{reference}")
    anon_at = here(d, base)
    rep.add(F, "citizens cannot open the agent page", member == 403 and (anon == 403 or anon_at.startswith("/masuk")),
            f"member warga_lain HTTP {member}; anonymous → {anon_at} HTTP {anon}")


# ---------------------------------------------------------------- 7: English

LANG_CHECK = """
// Every text node (outside the site chrome) that contains one of the given Indonesian content snippets:
// the nearest lang attribute above it.
const snippets = arguments[0], found = {}, walker = document.createTreeWalker(document.querySelector('main'),
  NodeFilter.SHOW_TEXT);
const norm = s => s.replace(/\\s+/g, ' ');
let n;
while ((n = walker.nextNode())) {
  const t = norm(n.textContent);
  if (t.trim().length < 8) continue;
  for (const s of snippets) {
    if (t.includes(s)) {
      const holder = n.parentElement.closest('[lang]');
      const el = n.parentElement, box = el.closest('[id], nav, li');
      const where = box ? (box.id ? '#' + box.id : box.tagName.toLowerCase() + (box.className ? '.' + box.className.split(' ')[0] : '')) : '';
      (found[s] = found[s] || []).push([holder ? holder.getAttribute('lang') : null,
                                        el.tagName.toLowerCase() + (el.className ? '.' + el.className.split(' ')[0] : '') + (where ? ' in ' + where : '')]);
    }
  }
}
return found;
"""


def _cut(items) -> list[str]:
    """The first 24 characters of each text of at least 12 (Markdown marks removed), deduplicated."""
    out = []
    for t in items:
        t = re.sub(r"\s+", " ", re.sub(r"[*_`#>\[\]()]", "", t or "")).strip()
        if len(t) >= 12:
            out.append(t[:24])
    return list(dict.fromkeys(out))


def content_snippets(app, slug: str, qid: int) -> dict[str, list[str]]:
    """Indonesian content, as written in the database, that each English page shows."""
    import sqlalchemy as sa

    def read(db):
        from forum.models import Answer, Question
        from kb.models import Service, ServiceFaq

        services = db.session.scalars(sa.select(Service).order_by(Service.slug)).all()
        rec = next(s for s in services if s.slug == slug).record
        texts = [rec["title"], rec["summary"], rec.get("local_variation"), (rec.get("contact") or {}).get("note")]
        for group in ("requirements", "steps"):
            for item in rec.get(group) or []:
                texts += [item] if isinstance(item, str) else [item.get("text"), item.get("note")]
        for fee in rec.get("fees") or []:
            texts += [fee.get("label"), fee.get("note")]
            texts += [x for e in fee.get("exemptions") or [] for x in (e.get("who"), e.get("proof"), e.get("note"))]
        for ch in rec.get("channels") or []:
            texts += [ch.get("name"), ch.get("address"), ch.get("note"), ch.get("hours")]
        duration = rec.get("duration") or {}
        texts += [duration.get("note")] + [(p or {}).get("note") for p in duration.values() if isinstance(p, dict)]
        texts += [line for line in (rec.get("notes") or "").splitlines() if len(line) > 30]
        questions = db.session.scalars(sa.select(Question).order_by(Question.id)).all()
        service_id = next(s.id for s in services if s.slug == slug)
        texts += [q.title for q in questions if any(x.id == service_id for x in q.services)]
        texts += db.session.scalars(sa.select(ServiceFaq.question).where(ServiceFaq.service_id == service_id)).all()
        q = db.session.get(Question, qid)
        thread = [q.title, q.body_md.split("\n")[0]] + [
            a.body_md.split("\n")[0] for a in db.session.scalars(sa.select(Answer).where(Answer.question_id == qid))]
        listed = [x for s in services for x in (s.title, s.summary)]
        titles = [q.title for q in questions]
        return {f"/layanan/{slug}?lang=en": _cut(texts), f"/pertanyaan/{qid}?lang=en": _cut(thread),
                "/layanan?lang=en": _cut(listed), "/pertanyaan?lang=en": _cut(titles),
                "/cari?q=ktp+hilang&lang=en": _cut(listed + titles)}

    return db_read(app, read)


def lang_report(d, snippets) -> tuple[int, list[str]]:
    """How many times the page shows one of the snippets, and where it does so without lang="id"
    (grouped by element, with one example each)."""
    found = d.execute_script(LANG_CHECK, snippets)
    missing: dict[str, list[str]] = {}
    for snippet, where in found.items():
        for lang, tag in where:
            if lang != "id":
                missing.setdefault(tag, []).append(snippet)
    total = sum(len(v) for v in found.values())
    by_count = sorted(missing.items(), key=lambda kv: -len(kv[1]))
    return total, [f"{len(v)}× <{tag}> e.g. '{v[0]}…'" for tag, v in by_count]


def english(d, base, app, rep: Report) -> None:
    F = "7. English UI"
    d.delete_all_cookies()
    go(d, base + "/cari?q=ktp+hilang")
    href, status = tap_menu_link(d, base, ".lang a[hreflang=en]")
    lang = d.execute_script("return document.documentElement.lang")
    box = d.execute_script("const i = document.querySelector('main input[name=q]') || document.getElementById('q-top');"
                           "return i ? i.value : null")
    url = here(d, base)
    rep.add(F, "from /cari?q=ktp+hilang tap 'English' (menu): same path and query, English page",
            status == 200 and url.startswith("/cari?q=ktp+hilang") and lang == "en" and box == "ktp hilang",
            f"link {href} → {url} HTTP {status}; <html lang={lang}>; search box '{box}'; "
            f"h1 '{d.find_element(*by('h1')).text}'")
    back_href, status = tap_menu_link(d, base, ".lang a[hreflang=id]")
    rep.add(F, "and back to Bahasa Indonesia", status == 200 and here(d, base) == "/cari?q=ktp+hilang&lang=id"
            and d.execute_script("return document.documentElement.lang") == "id",
            f"link {back_href} → {here(d, base)} HTTP {status}; "
            f"<html lang={d.execute_script('return document.documentElement.lang')}>")

    go(d, base + "/hubungi?target=service:skck")
    href, status = tap_menu_link(d, base, ".lang a[hreflang=en]")
    rep.add(F, "the switch on /hubungi?target=service:skck (was a 404)",
            status == 200 and here(d, base).startswith("/hubungi?target=service") and "404" not in d.title,
            f"link {href} → {here(d, base)} HTTP {status}; title '{d.title}'; "
            f"<html lang={d.execute_script('return document.documentElement.lang')}>")

    def seeded_thread(db):
        import sqlalchemy as sa

        from forum.models import Question

        return db.session.scalar(sa.select(Question.id).where(Question.seed_key == "skck-untuk-kerja-di-luar-negeri"))

    qid = db_read(app, seeded_thread)
    labels = {"/layanan/skck": "service page", f"/pertanyaan/{qid}": "thread", "/layanan": "service list",
              "/pertanyaan": "question list", "/cari": "search results"}
    for path, snips in content_snippets(app, "skck", qid).items():
        status = go(d, base + path)
        notice = "This content is in Indonesian." in text_of(d)
        total, missing = lang_report(d, snips)
        count = sum(int(m.split("×")[0]) for m in missing)
        rep.add(F, f"{labels[path.split('?')[0]]} in English ({path}): Indonesian content carries lang=\"id\"",
                total > 0 and not missing,
                f"HTTP {status}; <html lang={d.execute_script('return document.documentElement.lang')}>; notice "
                f"'This content is in Indonesian.': {notice}; {total} place(s) show content from the database "
                f"({len(snips)} snippets looked for), {count} of them without lang=\"id\""
                + (f": {'; '.join(missing)}" if missing else ""))

    # Times: every date-time shown (post meta, history, inbox) in English, and the agent page.
    times = []
    for path in (f"/pertanyaan/{qid}?lang=en", "/layanan/skck/riwayat?lang=en"):
        go(d, base + path)
        times += [(path, t) for t in re.findall(r"\d{1,2}:\d{2}(?: [A-Z]{3,4})?", " ".join(
            e.text for e in d.find_elements(*by(".meta"))))]
    login(d, base, "penanya")
    go(d, base + "/notifikasi?lang=en")
    times += [("/notifikasi?lang=en", t) for t in re.findall(r"\d{1,2}:\d{2}(?: [A-Z]{3,4})?", " ".join(
        e.text for e in d.find_elements(*by(".inbox .meta"))))]
    zones = sorted({t.split(" ")[1] if " " in t else "(none)" for _, t in times})
    sample = sorted({f"{p.split('?')[0]}: {t}" for p, t in times})[:5]
    rep.add(F, "times shown in WIB (thread, page history, inbox; English UI)", bool(times) and zones == ["WIB"],
            f"{len(times)} times shown, zones {zones}; e.g. {sample}")
    agent = getattr(rep, "times_on_agent_page", None)
    if agent:
        made, trail = agent
        rep.add(F, "agent's reference page (staff only, Indonesian UI): time zones shown", None,
                f"'Dibuat' {made}; trail times {trail[:3]} — the trail is shown in UTC, not WIB")


# ---------------------------------------------------------------- 8: trust signals

def trust(d, base, app, rep: Report, reviewed_slug: str) -> None:
    F = "8. trust signals"
    d.delete_all_cookies()
    go(d, base + "/")
    logo = d.execute_script("const i = document.querySelector('.site-header .brand img');"
                            "return i ? [i.getAttribute('src'), i.naturalWidth, i.complete] : null")
    icons = d.execute_script("return [...document.querySelectorAll('link[rel~=icon], link[rel=apple-touch-icon]')]"
                             ".map(l => l.getAttribute('href'))")
    fav = fetch(d, base + "/favicon.ico")
    svg = fetch(d, base + "/static/favicon.svg")
    rep.add(F, "logo in the header and a favicon",
            bool(logo) and logo[1] > 0 and fav[0] == 200 and svg[0] == 200,
            f"header img {logo[0] if logo else None} (loaded, {logo[1] if logo else 0} px wide); icon links {icons}; "
            f"/favicon.ico HTTP {fav[0]} {fav[2]}; /static/favicon.svg HTTP {svg[0]} {svg[2]}")
    footer = [a.get_attribute("href").replace(base, "") for a in d.find_elements(*by(".site-footer a"))]
    found = []
    for path in ("/tentang", "/privasi", "/ketentuan"):
        status = go(d, base + path)
        found.append((path, status, d.find_element(*by("h1")).text))
    rep.add(F, "about / privacy / terms pages exist and are linked from the footer",
            all(s == 200 for _, s, _ in found) and {"/tentang", "/privasi", "/ketentuan"} <= set(footer),
            "; ".join(f"{p} HTTP {s} '{h}'" for p, s, h in found) + f"; footer links {footer}")

    def json_and_tags():
        out = {}
        for path in ("/layanan/skck", f"/layanan/{reviewed_slug}/riwayat", f"/layanan/{reviewed_slug}/riwayat/2"):
            go(d, base + path)
            out[path] = {
                "JSON links": len([a for a in d.find_elements(*by("main a")) if a.text.strip() == "JSON"
                                   or "/api/" in (a.get_attribute("href") or "")]),
                "source tags": len(re.findall(r"\b(?:review|content):[\w.-]+", text_of(d))),
            }
        return out

    anon = json_and_tags()
    rep.add(F, f"anonymous citizen: no 'JSON' link, no source tags (review:draf-1 exists on {reviewed_slug})",
            all(v["JSON links"] == 0 and v["source tags"] == 0 for v in anon.values()),
            "; ".join(f"{p}: {v['JSON links']} JSON link(s), {v['source tags']} source tag(s)"
                      for p, v in anon.items()))
    login(d, base, "u_km")
    km = json_and_tags()
    go(d, base + f"/layanan/{reviewed_slug}/riwayat")
    tags = re.findall(r"\b(?:review|content):[\w.-]+", text_of(d))
    rep.add(F, "the same pages as a knowledge manager (they are still there for curators)",
            None, "; ".join(f"{p}: {v['JSON links']} JSON link(s), {v['source tags']} source tag(s)"
                            for p, v in km.items()) + f"; tags {tags}")


# ---------------------------------------------------------------- 9: tap targets

TAP_TARGETS = """
// tests/test_browser_mobile.py's TAP_TARGETS, with the WCAG 2.2 2.5.8 inline exception counted separately.
const small = [], inline = [];
let total = 0;
for (const el of document.querySelectorAll('a[href], button, summary, input:not([type=hidden]), select, textarea')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || r.right <= 0 || r.bottom <= 0) continue;  // not shown (closed menu, skip link)
  if (el.closest('.visually-hidden') || !el.checkVisibility({visibilityProperty: true})) continue;  // folded away
  total++;
  if (r.width >= 24 && r.height >= 24) continue;
  const st = getComputedStyle(el);
  const label = (el.textContent.trim() || el.getAttribute('aria-label') || el.name || el.tagName).slice(0, 30) +
                ' ' + Math.round(r.width) + 'x' + Math.round(r.height);
  if (el.tagName === 'A' && st.display === 'inline') {
    const block = el.parentElement.closest('p, li, dd, td, th, span, div, nav');
    if (block && block.textContent.trim().length > el.textContent.trim().length + 2) { inline.push(label); continue; }
  }
  if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length) {
    const lr = el.labels[0].getBoundingClientRect();
    if (Math.max(lr.bottom, r.bottom) - Math.min(lr.top, r.top) >= 24) continue;
  }
  small.push(label);
}
return {total, small, inline, width: innerWidth, scrollWidth: document.documentElement.scrollWidth};
"""


def tap_targets(d, base, app, rep: Report) -> None:
    F = "9. tap targets >= 24 px"
    pages = {None: ["/", "/layanan/skck", "/cari?q=ktp+hilang", "/pertanyaan", "/pertanyaan/1", "/masuk",
                    "/hubungi?target=service:skck"],
             "penanya": ["/saya/pertanyaan", "/notifikasi", "/pengguna/penanya", "/pertanyaan/tanya"]}
    totals = {"targets": 0, "small": 0, "inline": 0}
    for who, paths in pages.items():
        if who:
            login(d, base, who)
        else:
            d.delete_all_cookies()
        for path in paths:
            status = go(d, base + path)
            m = measure(d, TAP_TARGETS)
            totals["targets"] += m["total"]
            totals["small"] += len(m["small"])
            totals["inline"] += len(m["inline"])
            rep.add(F, f"{path} ({who or 'anonymous'}) at {m['width']} px: visible links/buttons/fields under 24x24",
                    status == 200 and not m["small"],
                    f"HTTP {status}; {m['total']} visible targets; {len(m['small'])} too small"
                    + (f" {m['small'][:6]}" if m["small"] else "") + f"; {len(m['inline'])} inline links in running "
                    f"text (exempt)" + (f" e.g. {m['inline'][:3]}" if m["inline"] else ""))
        if who:
            open_menu(d)
            m = measure(d, TAP_TARGETS)
            totals["targets"] += m["total"]
            totals["small"] += len(m["small"])
            totals["inline"] += len(m["inline"])
            rep.add(F, f"the opened menu on {paths[-1]} ({who})", not m["small"],
                    f"{m['total']} visible targets; {len(m['small'])} too small"
                    + (f" {m['small'][:6]}" if m["small"] else "") + f"; {len(m['inline'])} inline (exempt)")
    rep.add(F, "all pages above", totals["small"] == 0,
            f"{totals['targets']} targets measured, {totals['small']} under 24x24, "
            f"{totals['inline']} exempt inline links")


# ---------------------------------------------------------------- 10: the ask page's title

def ask_title(d, base, app, rep: Report) -> None:
    F = "10. <script> in ask title"
    from selenium.common.exceptions import NoAlertPresentException

    login(d, base, "penanya")
    hostile = "/pertanyaan/tanya?judul=%3Cscript%3Ealert(1)%3C/script%3E&layanan=%3Cscript%3Ealert(2)%3C/script%3E"
    for path in ("/pertanyaan/tanya", "/pertanyaan/tanya?layanan=skck", hostile):
        status = go(d, base + path)
        raw = fetch(d, base + path)[3]
        raw_title = re.search(r"<title>(.*?)</title>", raw, re.S).group(1).strip()
        dom_title = d.title
        try:
            d.switch_to.alert.dismiss()
            alert = True
        except NoAlertPresentException:
            alert = False
        field = d.find_element(*by("#title")).get_attribute("value")
        title_children = d.execute_script("return document.querySelector('title').children.length")
        rep.add(F, f"<title> of {path}",
                status == 200 and "<" not in raw_title and "<" not in dom_title and not alert and title_children == 0,
                f"HTTP {status}; raw <title> '{raw_title}'; document.title '{dom_title}'; alert: {alert}; "
                f"title field value '{field}'")


# ---------------------------------------------------------------- 11: curation

def curation(d, base, app, rep: Report) -> None:
    F = "11. curation editor/promote"
    import sqlalchemy as sa

    login(d, base, "u_km")
    status = go(d, base + "/kelola/layanan/skck/sunting")
    count = lambda css: len(d.find_elements(*by(css)))  # noqa: E731
    fees, channels = count(".fee-row"), count(".channel-row")
    yaml_boxes = count("textarea[name=fees], textarea[name=channels]")
    piped = d.execute_script("return [...document.querySelectorAll('textarea, input[type=text]')]"
                             ".filter(e => / \\| /.test(e.value)).map(e => e.name)")
    fields = d.execute_script("return [...document.querySelectorAll('#fees-0 input, #fees-0 select')]"
                              ".map(e => e.name.replace('fees-0-', ''))")
    rep.add(F, "KM opens /kelola/layanan/skck/sunting: fees and channels as rows of fields",
            status == 200 and fees >= 1 and channels >= 1 and yaml_boxes == 0 and not piped,
            f"HTTP {status}; {fees} fee row(s), {channels} channel row(s); fields of fee #1: {fields}; YAML/text boxes "
            f"for fees/channels: {yaml_boxes}; fields holding ' | ' text: {piped}")

    def drafts(db):
        from kb.models import ServiceDraft

        return db.session.scalar(sa.select(sa.func.count(ServiceDraft.id)))

    drafts_before = db_read(app, drafts)
    steps = []
    click_and_load(d, d.find_element(*by("button[name=op][value='add:fees']")))
    steps.append(("+ Tambah biaya", count(".fee-row"), exists(d, f"#fees-{fees}-label")))
    find(d, f"#fees-{fees}-label").send_keys("Legalisir SKCK")
    click_and_load(d, d.find_element(*by(f"button[name=op][value='del:fees-{fees}']")))
    steps.append(("✕ Hapus (new fee)", count(".fee-row"), "Legalisir SKCK" in d.page_source))
    click_and_load(d, d.find_element(*by("button[name=op][value='add:channels']")))
    steps.append(("+ Tambah tempat", count(".channel-row"), exists(d, f"#channels-{channels}-name")))
    click_and_load(d, d.find_element(*by(f"button[name=op][value='del:channels-{channels}']")))
    steps.append(("✕ Hapus (new place)", count(".channel-row"), None))
    rows_ok = steps[0][1] == fees + 1 and steps[0][2] and steps[1][1] == fees and not steps[1][2] \
        and steps[2][1] == channels + 1 and steps[3][1] == channels and db_read(app, drafts) == drafts_before
    rep.add(F, "add and remove fee and channel rows with the row buttons",
            rows_ok, "; ".join(f"{name}: {n} rows" for name, n, _ in steps)
            + f"; drafts saved by row buttons: {db_read(app, drafts) - drafts_before}")

    # Per-row errors: a fee amount in words.
    from selenium.webdriver.support.ui import Select

    go(d, base + "/kelola/layanan/skck/sunting")
    Select(d.find_element(*by("#fees-0-kind"))).select_by_value("fixed")
    amount = d.find_element(*by("#fees-0-amount"))
    amount.clear()
    amount.send_keys("tiga puluh ribu")
    status = click_and_load(d, d.find_element(*by("button[name=submit][value=save]:not(.visually-hidden)")))
    error = d.execute_script("const e = document.getElementById('fees-0-amount-error');"
                             "return e ? e.textContent.trim() : null")
    invalid = d.find_element(*by("#fees-0-amount")).get_attribute("aria-invalid")
    kept = d.find_element(*by("#fees-0-amount")).get_attribute("value")
    summary = d.execute_script("const n = document.querySelector('.notice.conflict');"
                               "return n ? n.innerText.trim() : ''")
    where = d.execute_script("const e = document.getElementById('fees-0-amount-error'); return e ? "
                             "e.closest('fieldset').id : null")
    rep.add(F, "a bad fee amount: the error is shown on its row and what was typed is kept",
            status == 400 and bool(error) and invalid == "true" and kept == "tiga puluh ribu" and where == "fees-0",
            f"save → HTTP {status}; error in fieldset #{where}: '{error}'; aria-invalid={invalid}; value kept "
            f"'{kept}'; top of the form: '{' '.join(summary.split())[:150]}'")

    # An untouched notes field is not a change.
    def with_notes(db):
        from kb.models import Service

        for s in db.session.scalars(sa.select(Service).order_by(Service.slug)):
            if (s.record.get("notes") or "").count("\n") >= 2:
                return s.slug, len(s.record["notes"])

    slug, notes_len = db_read(app, with_notes)
    go(d, base + f"/kelola/layanan/{slug}/sunting")
    status = click_and_load(d, d.find_element(*by("button[name=submit][value=save]:not(.visually-hidden)")))
    saved = "Draf disimpan." in d.page_source
    no_change = "Belum ada perubahan." in d.page_source

    def last_draft(db):
        from kb.models import Service, ServiceDraft

        draft = db.session.scalars(sa.select(ServiceDraft).order_by(ServiceDraft.id.desc())).first()
        record = db.session.scalar(sa.select(Service).where(Service.slug == slug)).record
        return draft.id, sorted(k for k in set(record) | set(draft.snapshot or {})
                                if (draft.snapshot or {}).get(k) != record.get(k))

    draft_id, changed = db_read(app, last_draft)
    rep.add(F, f"save the editor of /layanan/{slug} untouched (notes: {notes_len} characters, several lines)",
            status == 200 and saved and no_change and changed == [],
            f"→ {here(d, base)} HTTP {status}; 'Draf disimpan.': {saved}; 'Belum ada perubahan.': {no_change}; "
            f"database: fields differing from the published record in draft #{draft_id}: {changed or 'none'}")

    # Promote an answer: a reviewed FAQ draft, not published at once.
    def faqs(db):
        from kb.models import ServiceFaq

        return db.session.scalar(sa.select(sa.func.count(ServiceFaq.id)))

    faqs_before = db_read(app, faqs)
    go(d, base + "/pertanyaan?tag=skck")
    click_and_load(d, [a for a in d.find_elements(*by("main a")) if "SKCK untuk kerja ke Jepang" in a.text][0])
    thread = here(d, base).split("#")[0]
    click_and_load(d, [a for a in d.find_elements(*by(".post-actions a")) if a.text == "Promosikan"][0])
    promote_page = here(d, base)
    question = d.find_element(*by("#question")).get_attribute("value")
    kind = d.find_element(*by("input[name=kind]:checked")).get_attribute("value")
    target = d.find_element(*by("#service")).get_attribute("value")  # the page the FAQ is proposed for
    status = click_and_load(d, d.find_element(*by("main form button.primary")))
    draft_url = here(d, base)
    flash = "Usulan FAQ diajukan." in d.page_source
    state = d.find_element(*by("main .meta strong")).text
    publish_button_for_author = exists(d, "button[name=action][value=publish]")
    faq_titles = "return [...document.querySelectorAll('#faq .faq h3')].map(h => h.textContent.trim())"
    d.delete_all_cookies()
    go(d, base + f"/layanan/{target}")
    on_page_before = question in d.execute_script(faq_titles)  # (the thread's own title is listed under questions)
    rep.add(F, "promote an answer to an FAQ (KM u_km): a draft waiting for review, nothing published yet",
            flash and state == "Menunggu tinjauan" and "/kelola/draf/" in draft_url and not on_page_before
            and db_read(app, faqs) == faqs_before,
            f"{thread} → {promote_page} (kind '{kind}', page '{target}', question '{question}') → {draft_url} HTTP "
            f"{status}; "
            f"'Usulan FAQ diajukan.': {flash}; status '{state}'; in the FAQ section of /layanan/{target} for citizens: "
            f"{on_page_before}; "
            f"database: FAQ entries {faqs_before} → {db_read(app, faqs)}")
    login(d, base, "u_km")
    go(d, base + draft_url)
    own_publish = None
    if publish_button_for_author:  # the author may press it; the server must refuse
        own_publish = click_and_load(d, d.find_element(*by("button[name=action][value=publish]")))
    own_refused = "Peninjau harus orang lain" in d.page_source or own_publish == 403
    login(d, base, "u_km2")
    go(d, base + draft_url)
    status = click_and_load(d, d.find_element(*by("button[name=action][value=publish]")))
    published = "Draf diterbitkan" in d.page_source
    d.delete_all_cookies()
    go(d, base + f"/layanan/{target}")
    on_page_after = question in d.execute_script(faq_titles)
    rep.add(F, "the FAQ is published only by a second KM", own_refused and published and on_page_after,
            f"author u_km pressing 'Setujui dan terbitkan': HTTP {own_publish} ('Peninjau harus orang lain…' "
            f"{'shown' if own_refused else 'not shown'}); u_km2: HTTP {status}, 'Draf diterbitkan': {published}; "
            f"in the FAQ section of /layanan/{target} for citizens now: {on_page_after}")


# ---------------------------------------------------------------- main

FINDINGS = [
    ("1. asker never hears back", "2. asker asked 'did this answer'", asker_hears_back),
    ("3. vote while logged out", None, vote_survives_login),
    ("4. service page first screen", None, first_screen),
    ("5. feedback 'Tidak' jumps", None, feedback_no),
    ("6. LYN- reference useless", None, reference_lookup),
    ("7. English UI", None, english),
    ("8. trust signals", None, trust),
    ("9. tap targets >= 24 px", None, tap_targets),
    ("10. <script> in ask title", None, ask_title),
    ("11. curation editor/promote", None, curation),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=8, help="service pages measured one by one for finding 4")
    parser.add_argument("--only", type=int, action="append", help="check only this finding (repeatable)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log between the rows
    if not (CHROMIUM and CHROMEDRIVER):
        print("headless Chromium (chromium + chromedriver) is not installed", file=sys.stderr)
        return 2

    started = time.monotonic()
    rep = Report()
    with tempfile.TemporaryDirectory(prefix="layanan-walk-") as tmp:
        folder = Path(tmp)
        app = build_app(folder)
        reviewed_slug = publish_a_reviewed_edit(app)
        try:
            with serve(app) as base, chromium(folder, "--hide-scrollbars", mobile=PHONE) as d:
                d.implicitly_wait(0)
                d.set_page_load_timeout(60)
                go(d, base + "/")
                print(f"app on {base} (SQLite, bundled content); Chromium {d.capabilities.get('browserVersion')}; "
                      f"window {d.execute_script('return [innerWidth, innerHeight, devicePixelRatio]')} "
                      f"(mobile emulation {WIDTH}x{HEIGHT}, pixel ratio 2); "
                      f"touch: {d.execute_script('return navigator.maxTouchPoints > 0')}\n", flush=True)
                for first, second, check in FINDINGS:
                    if args.only and int(first.split(".")[0]) not in args.only \
                            and not (second and int(second.split(".")[0]) in args.only):
                        continue
                    try:
                        if check is trust:
                            check(d, base, app, rep, reviewed_slug)
                        elif check is first_screen:
                            check(d, base, app, rep, args.pages)
                        else:
                            check(d, base, app, rep)
                    except Exception as exc:  # one broken check does not stop the others
                        rep.error(first, exc)
                        if second and second not in rep.findings:
                            rep.error(second, exc)
        finally:
            close_app(app)

    print(rep.table())
    print()
    order = [f for first, second, _ in FINDINGS for f in (first, second)
             if f and (not args.only or int(f.split(".")[0]) in args.only)]
    width = max(len(f) for f in order)
    broken = []
    for f in order:
        verdict = rep.verdict(f)
        if verdict != "fixed":
            broken.append(f)
        print(f"{f.ljust(width)}  {verdict}")
    print(f"\n{len(order) - len(broken)} of {len(order)} findings fixed"
          + (f"; still broken or not checked: {', '.join(broken)}" if broken else "")
          + f" ({time.monotonic() - started:.0f} s)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
