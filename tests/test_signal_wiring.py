"""Cross-package reactions go through named signals in core.signals: the
search log (search -> analytics) and the page chrome (notify -> every
page) included; no listener lists or Jinja-global services are left."""
from __future__ import annotations

import re

import sqlalchemy as sa

from core import signals
from core.extensions import db

from .conftest import ROOT, login_client

PACKAGES = ("core", "kb", "forum", "search", "analytics", "notify", "api")


def _sources():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            yield path, path.read_text(encoding="utf-8")


def test_no_hand_wired_listener_lists_or_global_services_are_left():
    for path, text in _sources():
        assert not re.search(r"^\s*on_[a-z_]+\s*:\s*list", text, re.M), path
        assert ".on_search" not in text, path
        rel = path.relative_to(ROOT).as_posix()
        if "jinja_env.globals" in text:  # gettext and the language helpers only
            assert rel == "core/i18n.py", rel
    analytics = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "analytics").glob("*.py"))
    assert "search.views" not in analytics and "search import views" not in analytics
    search = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "search").glob("*.py"))
    assert not re.search(r"^\s*(from|import) analytics", search, re.M)


def test_every_search_is_announced_and_logged_through_the_signal(app):
    from analytics.models import SearchLog

    seen = []

    def spy(response, **kw):
        seen.append((kw["query"], kw["source"], response.query, len(response.results)))

    signals.search_performed.connect(spy)
    try:
        c = app.test_client()
        assert c.get("/api/v1/search?q=paspor+hilang").status_code == 200
        page = c.get("/cari?q=perpanjang+sim").get_data(as_text=True)
    finally:
        signals.search_performed.disconnect(spy)
    assert [(q, source) for q, source, *_ in seen] == [("paspor hilang", "api"), ("perpanjang sim", "page")]
    assert all(n > 0 for *_, n in seen)
    assert "s=" in page and "d=service" in page  # analytics answered the signal with the search's token for result links
    with app.app_context():
        logged = db.session.scalars(sa.select(SearchLog).order_by(SearchLog.id)).all()
    assert [(row.query, row.source) for row in logged] == [("paspor hilang", "api"), ("perpanjang sim", "page")]


def test_a_failing_search_subscriber_never_breaks_search(app):
    def broken(response, **kw):
        raise RuntimeError("subscriber failed")

    signals.search_performed.connect(broken)
    try:
        c = app.test_client()
        assert c.get("/api/v1/search?q=paspor").get_json()["results"]
        assert c.get("/cari?q=paspor").status_code == 200
    finally:
        signals.search_performed.disconnect(broken)


def test_header_count_and_follow_button_come_through_the_page_chrome_signal(app, make_user):
    assert "unread_notifications" not in app.jinja_env.globals
    assert "follow_state" not in app.jinja_env.globals
    with app.test_request_context("/"):
        chrome = signals.collect(signals.page_chrome_shown, app)
        assert chrome["unread_notifications"]() == ""  # a visitor has no inbox
    make_user("pengikut")
    c = login_client(app, "pengikut")
    page = c.get("/layanan/skck").get_data(as_text=True)
    assert 'href="/notifikasi"' in page and 'name="target" value="service:skck"' in page
