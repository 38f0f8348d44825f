import re

import pytest
import sqlalchemy as sa

from analytics import services as svc
from analytics.models import Escalation, Feedback, FunnelEvent, SearchClick, SearchLog, SkmResponse
from core.extensions import db
from core.models import Role

from .conftest import act_as, csrf_from, login_client, post_form

BODY = "Saya sudah mencoba datang ke kantor tetapi diminta kembali minggu depan."


def test_search_log_uses_the_shared_redactor():
    assert svc.redact("nik saya 3201231508900001 hilang") == "nik saya [NIK/KK disamarkan] hilang"


def test_searches_are_logged_redacted_and_clicks_recorded(app, client):
    html = client.get("/cari?q=ktp+hilang+3201231508900001").get_data(as_text=True)
    link = re.search(r'href="(/klik\?[^"]+)"', html).group(1).replace("&amp;", "&")
    with app.app_context():
        row = db.session.scalar(sa.select(SearchLog).order_by(SearchLog.id.desc()))
        assert row.query == "ktp hilang [nik/kk disamarkan]" and row.result_count > 0 and "3201" not in row.normalized
    resp = client.get(link)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(("/layanan/", "/pertanyaan/"))
    with app.app_context():
        click = db.session.scalar(sa.select(SearchClick))
        assert click.search_key == row.key and click.rank == 1


def test_an_operator_can_switch_the_search_log_off(app, client):
    app.config["SEARCH_LOG_ENABLED"] = False
    html = client.get("/cari?q=ktp+hilang").get_data(as_text=True)
    assert 'href="/layanan/' in html and "/klik?" not in html  # results link straight to the page
    assert client.get("/api/v1/search?q=paspor").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SearchLog.id))) == 0


def test_clicks_can_only_be_credited_by_the_search_that_showed_them(app, client):
    """/klik used to take a search-log row id: anyone could overwrite any
    row's click.  Now the link carries the search's key, signed."""
    client.get("/cari?q=paspor+hilang")
    with app.app_context():
        key = db.session.scalar(sa.select(SearchLog.key))
    for forged in (key, "1", "x" * 50, key + ".AAAA"):
        assert client.get(f"/klik?d=service:skck&s={forged}&r=1").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SearchClick.id))) == 0


def test_click_only_redirects_to_indexed_documents(client):
    assert client.get("/klik?d=https://evil.example").status_code == 404
    assert client.get("/klik?d=service:tidak-ada").status_code == 404
    assert client.get("/klik?d=service:skck&s=abc&r=x").headers["Location"] == "/layanan/skck"


def test_feedback_one_per_visitor_and_page(app, client):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/layanan/skck").get_data(as_text=True)).group(1)
    assert client.post("/umpan-balik", data={"csrf_token": token, "target": "service:skck", "helpful": "tidak"}).status_code == 302
    resp = client.post("/umpan-balik", data={"csrf_token": token, "target": "service:skck", "helpful": "ya"})
    assert resp.headers["Location"] == "/layanan/skck?umpan-balik=ya#umpan-balik"  # back to the box that was pressed
    with app.app_context():
        rows = db.session.scalars(sa.select(Feedback)).all()
        assert [(r.target, r.helpful) for r in rows] == [("service:skck", True)]
    for data in ({"target": "service:tidak-ada", "helpful": "ya"}, {"target": "service:skck", "helpful": "mungkin"},
                 {"target": "javascript:alert(1)", "helpful": "ya"}):
        assert client.post("/umpan-balik", data={"csrf_token": token, **data}).status_code == 400


def test_escalation_gives_a_reference_and_official_channels(app, client):
    page = client.get("/hubungi?target=service:skck").get_data(as_text=True)
    assert "SP4N-LAPOR" in page and "skck.polri.go.id" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    html = client.post("/hubungi", data={"csrf_token": token, "target": "service:skck",
                                         "summary": "Antrean penuh, hp saya 081234567890"}).get_data(as_text=True)
    reference = re.search(r'class="reference">(LYN-\d{4}-[0-9A-F]{6})<', html).group(1)
    with app.app_context():
        row = db.session.scalar(sa.select(Escalation).where(Escalation.reference == reference))
        assert row.service == "skck" and "[nomor HP disamarkan]" in row.summary and "0812" not in row.summary
    assert client.get("/hubungi?target=bukan:apa").status_code == 404


def test_skm_survey_and_ikm(app, client, make_user, monkeypatch):
    import analytics.views

    page = client.get("/survei/skck").get_data(as_text=True)
    assert "Survei Kepuasan Masyarakat" in page and page.count('type="radio"') == 36
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    all4 = {f"u{i}": "4" for i in range(1, 10)}
    # a device that opened the form a moment ago is not yet a respondent; the answers stay in the form
    resp = client.post("/survei/skck", data={"csrf_token": token, **all4, "comment": "antrean cepat"})
    assert resp.status_code == 400 and "antrean cepat" in resp.get_data(as_text=True)
    monkeypatch.setattr(analytics.views, "SURVEY_MIN_SECONDS", 0)
    resp = client.post("/survei/skck", data={"csrf_token": token, "u1": "4", "u2": "9"})
    assert resp.status_code == 400 and "semua unsur" in resp.get_data(as_text=True)
    assert client.post("/survei/skck", data={"csrf_token": token, **all4}).status_code == 302
    # the same device again this month replaces its answer instead of adding one
    assert client.post("/survei/skck", data={"csrf_token": token, **{f"u{i}": "3" for i in range(1, 10)}}).status_code == 302
    make_user("warga_skm")
    member = login_client(app, "warga_skm")
    assert post_form(member, "/survei/skck", all4, "/survei/skck").status_code == 302
    with app.app_context():
        rows = db.session.scalars(sa.select(SkmResponse)).all()
        result = svc.ikm(rows)
        assert result["respondents"] == 2 and result["ikm"] == 87.5 and result["grade"] == "B"
        assert result["indicative"]
        assert svc.ikm([SkmResponse(service="x", **{f"u{i}": 4 for i in range(1, 10)})])["grade"] == "A"
        assert svc.ikm([SkmResponse(service="x", **{f"u{i}": 1 for i in range(1, 10)})])["ikm"] == 25.0
    assert client.get("/survei/tidak-ada").status_code == 404


def test_anonymous_posts_cannot_bend_the_ikm(app, client, monkeypatch):
    """The attack: 25 anonymous posts moved one service's IKM from 100 to
    27.88.  Now one device counts once a month, cookie-less posts are not
    respondents, and each address is limited per service and per day."""
    import analytics.views

    monkeypatch.setattr(analytics.views, "SURVEY_MIN_SECONDS", 0)
    app.config.update(RATELIMIT_ENABLED=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/survei/skck").get_data(as_text=True)).group(1)
    all1 = {f"u{i}": "1" for i in range(1, 10)}
    codes = [client.post("/survei/skck", data={"csrf_token": token, **all1}).status_code for _ in range(25)]
    fresh = app.test_client()  # no device cookie at all
    fresh_token = csrf_from(fresh.get("/masuk").get_data(as_text=True))
    fresh.delete_cookie("perangkat")
    codes += [fresh.post("/survei/skck", data={"csrf_token": fresh_token, **all1}).status_code for _ in range(5)]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SkmResponse.id))) == 1
    assert 429 in codes and 400 in codes


def test_ask_funnel_deflection(app, make_user):
    make_user("penanya")
    c = login_client(app, "penanya")
    # 1: opens the form, sees suggestions, opens one -> deflected
    c.get("/pertanyaan/tanya?layanan=skck")
    assert c.get("/api/v1/questions/similar?title=skck+untuk+kerja+di+luar+negeri").get_json()["results"]
    assert c.get("/klik?f=1&d=service:skck").status_code == 302
    # 2: opens the form and posts anyway -> not deflected
    c.get("/pertanyaan/tanya?layanan=skck")
    post_form(c, "/pertanyaan/tanya", {"title": "SKCK saya salah nama, bagaimana memperbaikinya?", "body": BODY,
                                       "services": ["skck"]}, "/pertanyaan/tanya?layanan=skck")
    with app.app_context():
        steps = [e.step for e in db.session.scalars(sa.select(FunnelEvent).order_by(FunnelEvent.id))]
        assert steps[:3] == ["opened", "suggested", "clicked"] and steps[-1] == "posted"
        from datetime import date

        row = next(d for d in svc.deflection_by_service(date.today(), date.today()) if d["service"] == "skck")
        assert row["deflected"] >= 1 and row["posted"] == 1 and 0 < row["rate"] < 1


def test_dashboard_and_csv(app, client, make_user):
    client.get("/cari?q=paspor+hilang")
    client.get("/cari?q=zzqqxx")
    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    km = login_client(app, "u_km")
    html = km.get("/kelola/analitik").get_data(as_text=True)
    for heading in ("Tingkat defleksi per layanan", "Pencarian teratas", "Pencarian tanpa hasil",
                    "Indeks Kepuasan Masyarakat", "Pertanyaan belum terjawab menurut umur", "Waktu sampai jawaban pertama"):
        assert heading in html
    assert "zzqqxx" in html and "<meter" in html
    resp = km.get("/kelola/analitik/tanpa-hasil.csv?dari=2026-01-01&sampai=2030-01-01")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.get_data(as_text=True).splitlines()[:2] == ["kueri,jumlah", "zzqqxx,1"]
    assert km.get("/kelola/analitik?dari=kemarin&sampai=x").status_code == 200
    assert km.get("/kelola/analitik/tidak-ada.csv").status_code == 404


def test_csv_cells_cannot_inject_formulas(app, client, make_user):
    client.get("/cari?q=%3DHYPERLINK(1)")
    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    body = login_client(app, "u_km").get("/kelola/analitik/pencarian-teratas.csv").get_data(as_text=True)
    assert "'=hyperlink(1)" in body


@pytest.mark.parametrize("role,allowed", [("anon", False), ("member", False), ("moderator", False),
                                          ("km", True), ("admin", True)])
def test_dashboard_roles(app, make_user, role, allowed):
    if role != "anon":
        make_user(f"u_{role}", role={"member": Role.MEMBER, "moderator": Role.MODERATOR,
                                     "km": Role.KNOWLEDGE_MANAGER, "admin": Role.ADMIN}[role])
    for path in ("/kelola/analitik", "/kelola/analitik/ikm.csv"):
        resp = act_as(app, role, "GET", path, {})
        assert resp.status_code == (200 if allowed else 302 if role == "anon" else 403), (role, path)


def test_feedback_votes_are_limited_per_address_even_without_cookies(app):
    app.config.update(RATELIMIT_ENABLED=True)
    codes = []
    for _ in range(6):
        c = app.test_client()  # a new visitor cookie every time
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/layanan/skck").get_data(as_text=True)).group(1)
        resp = c.post("/umpan-balik", data={"csrf_token": token, "target": "service:skck", "helpful": "tidak"})
        codes.append((resp.status_code, resp.headers.get("Location", "")))
    recorded = [loc for code, loc in codes if code == 302 and "umpan-balik=tidak" in loc]
    assert len(recorded) <= 3
    # Over the per-address limit (many citizens share one carrier address) the
    # answer waits for login instead of being lost.
    assert codes[-1][0] == 302 and codes[-1][1].startswith("/masuk?next=")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == len(recorded)


def test_unknown_services_never_become_rows_in_the_deflection_table(app, make_user):
    make_user("penanya")
    c = login_client(app, "penanya")
    c.get("/pertanyaan/tanya?layanan=<script>bukan-layanan")
    with app.app_context():
        assert db.session.scalar(sa.select(FunnelEvent.service)) is None


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-02-30", "x" * 5000, "\x00"])
def test_dashboard_dates_never_overflow(app, make_user, value):
    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    km = login_client(app, "u_km")
    for path in ("/kelola/analitik", "/kelola/analitik/ikm.csv"):
        assert km.get(path, query_string={"dari": value, "sampai": value}).status_code == 200


def test_csv_cells_starting_with_tab_or_cr_are_neutralised():
    from analytics.views import csv_cell

    for cell in ("=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1", "  =1", "\n=1"):
        assert csv_cell(cell).startswith("'"), cell
    assert csv_cell("ktp hilang") == "ktp hilang" and csv_cell(5) == 5


def test_contact_centre_agent_sees_what_the_citizen_searched_and_read(app, client, make_user):
    client.get("/cari?q=skck+hilang+3201231508900001")
    client.get("/layanan/skck")
    page = client.get("/hubungi?target=service:skck").get_data(as_text=True)
    assert "Yang sudah Anda cari dan baca" in page and "skck hilang [NIK/KK disamarkan]" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    html = client.post("/hubungi", data={"csrf_token": token, "target": "service:skck", "lampirkan": "1",
                                         "summary": "SKCK saya hilang sebelum dipakai"}).get_data(as_text=True)
    reference = re.search(r'class="reference">(LYN-\d{4}-[0-9A-F]{6})<', html).group(1)
    make_user("u_agent", role=Role.AGENT)
    agent = login_client(app, "u_agent")
    resp = agent.get(f"/agen?rujukan={reference.lower()}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(reference)
    text = agent.get(resp.headers["Location"]).get_data(as_text=True)
    assert "SKCK saya hilang" in text and "skck hilang [NIK/KK disamarkan]" in text and "/layanan/skck" in text
    assert "3201231508900001" not in text
    assert agent.get("/agen/rujukan/LYN-0000-000000").status_code == 404
    assert agent.get("/agen?rujukan=bukan-nomor").status_code == 400
    with app.app_context():
        from core.models import AuditLog

        assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.action == "escalation.view"))
    # citizens and other members cannot look references up
    for role in ("anon", "member"):
        if role == "member":
            make_user("u_member")
        resp = act_as(app, role, "GET", f"/agen/rujukan/{reference}", {})
        assert resp.status_code in (302, 403)


def test_the_trail_is_attached_only_if_the_citizen_agrees(app, client):
    client.get("/cari?q=paspor+hilang")
    page = client.get("/hubungi?target=service:skck").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/hubungi", data={"csrf_token": token, "target": "service:skck"})
    with app.app_context():
        assert db.session.scalar(sa.select(Escalation.trail)) == []
