"""Best bets (kb.best_bets): a knowledge manager pins an official page to
the top of the results for exactly one short query ("ktp"), from
/kelola/pencarian or content/best_bets.yml."""
import shutil

import pytest
import sqlalchemy as sa

from core.contentio import check_content, load_content
from core.extensions import db
from core.models import Role, User
from kb import best_bets
from kb.models import BestBet

from .conftest import CONTENT, login_client, post_form

PAGE = "/kelola/pencarian"


def api(client, q, **params):
    return client.get("/api/v1/search", query_string={"q": q, **params}).get_json()


@pytest.fixture
def km(app, make_user):
    make_user("pengelola", role=Role.KNOWLEDGE_MANAGER)
    return login_client(app, "pengelola")


def test_the_key_ignores_case_spacing_and_word_order_but_not_other_words(app):
    from search.outbox import engine

    with app.app_context():
        key = engine().pin_key
        assert key("KTP") == key("  ktp ") == key("ktp")
        assert key("bpjs kesehatan") == key("Kesehatan BPJS")
        assert key("ktp hilang") != key("ktp")
        assert key("") == "" and key("dan yang") == ""


def test_bundled_best_bets_put_the_general_page_first(client):
    data = api(client, "ktp")
    first = data["results"][0]
    assert first["pinned"] is True and first["confidence"] == 1.0
    assert first["slug"] == "ktp-el-baru"
    # Only that query: a situation is ranked as usual.
    situation = api(client, "ktp hilang")
    assert situation["results"][0]["slug"] == "ktp-el-hilang-rusak"
    assert not any(r["pinned"] for r in situation["results"])


def test_a_knowledge_manager_pins_a_page_and_removes_it(app, km):
    before = api(app.test_client(), "pindah rumah")
    assert before["results"] and before["results"][0]["slug"] != "surat-keterangan-domisili"
    resp = post_form(km, PAGE, {"query": "Pindah  Rumah", "slug": "surat-keterangan-domisili",
                                "note": "Contoh uji."}, PAGE)
    assert resp.status_code == 302
    page = km.get(PAGE).get_data(as_text=True)
    assert "pindah rumah" in page and "Contoh uji." in page
    data = api(app.test_client(), "pindah rumah")
    assert data["results"][0]["slug"] == "surat-keterangan-domisili" and data["results"][0]["pinned"]
    assert [r["slug"] for r in data["results"] if r["type"] == "service"].count("surat-keterangan-domisili") == 1
    html = app.test_client().get("/cari?q=Pindah+rumah").get_data(as_text=True)
    assert "Pilihan pengelola" in html
    # Threads only: a best bet is an official page, so it is not forced in.
    threads = api(app.test_client(), "pindah rumah", types="question")
    assert all(r["type"] == "question" for r in threads["results"])
    with app.app_context():
        bet_id = db.session.scalar(sa.select(BestBet.id).where(BestBet.query == "pindah rumah"))
    assert post_form(km, f"{PAGE}/{bet_id}/hapus", {}, PAGE).status_code == 302
    after = api(app.test_client(), "pindah rumah")
    assert not any(r["pinned"] for r in after["results"])


def test_a_pinned_page_is_shown_even_when_search_would_say_it_does_not_know(app, km):
    query = "resep rendang"
    assert api(app.test_client(), query)["abstained"] is True
    assert post_form(km, PAGE, {"query": query, "slug": "skck"}, PAGE).status_code == 302
    data = api(app.test_client(), query)
    assert data["abstained"] is False and [r["slug"] for r in data["results"]] == ["skck"]


@pytest.mark.parametrize("form, message", [
    ({"query": "", "slug": "skck"}, "Tulis kata pencarian."),
    ({"query": "satu dua tiga empat lima enam tujuh", "slug": "skck"}, "paling banyak 6 kata"),
    ({"query": "x" * 121, "slug": "skck"}, "paling panjang 120 karakter"),
    ({"query": "dan yang", "slug": "skck"}, "tidak berisi kata"),
    ({"query": "skck baru", "slug": "tidak-ada"}, "Layanan tidak ditemukan."),
])
def test_bad_input_gets_a_clear_message_and_saves_nothing(app, km, form, message):
    resp = post_form(km, PAGE, form, PAGE)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(BestBet.id)).where(BestBet.source == "kelola")) == 0


def test_one_query_holds_at_most_three_pages_and_each_once(app, make_user):
    make_user("km9", role=Role.KNOWLEDGE_MANAGER)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "km9"))
        for slug in ("paspor-baru", "paspor-anak", "perpanjangan-paspor"):
            best_bets.add(user, "uji paspor", slug)
        with pytest.raises(best_bets.CurationError, match="paling banyak punya 3"):
            best_bets.add(user, "uji paspor", "paspor-hilang-rusak")
        with pytest.raises(best_bets.CurationError, match="sudah menjadi pilihan utama"):
            best_bets.add(user, "Paspor UJI", "paspor-anak")
    data = api(app.test_client(), "uji paspor")
    assert [r["slug"] for r in data["results"][:3]] == ["paspor-baru", "paspor-anak", "perpanjangan-paspor"]
    assert all(r["pinned"] for r in data["results"][:3]) and not any(r["pinned"] for r in data["results"][3:])


def test_only_knowledge_managers_may_pin(app, make_user):
    make_user("warga", role=Role.MEMBER)
    member = login_client(app, "warga")
    assert member.get(PAGE).status_code == 403
    assert post_form(member, PAGE, {"query": "ktp", "slug": "ktp-el-wna"}).status_code == 403
    assert app.test_client().get(PAGE).status_code == 302  # to the login page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(BestBet.id)).where(BestBet.source == "kelola")) == 0


def test_content_load_replaces_the_file_bets_and_keeps_the_managers(app, make_user, tmp_path):
    make_user("km8", role=Role.KNOWLEDGE_MANAGER)
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    (folder / "best_bets.yml").write_text(
        "- queries: [ktp, e-ktp]\n  pages: [ktp-el-hilang-rusak]\n  note: Uji.\n")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "km8"))
        best_bets.add(user, "kk", "kartu-identitas-anak")
        load_content(folder)
        load_content(folder)  # idempotent
        rows = db.session.execute(sa.select(BestBet.query, BestBet.source)).all()
        # "e-ktp" means "ktp" to the normalization map: one row serves both.
        assert sorted(rows) == [("kk", "kelola"), ("ktp", "content")]
    for q in ("ktp", "E-KTP"):
        assert api(app.test_client(), q)["results"][0]["slug"] == "ktp-el-hilang-rusak"
    assert api(app.test_client(), "kk")["results"][0]["slug"] == "kartu-identitas-anak"


@pytest.mark.parametrize("text, fragment", [
    ("- queries: [ktp]\n  pages: [tidak-ada]\n  note: Uji.\n", "layanan tidak dikenal: tidak-ada"),
    ("- queries: [ktp]\n  pages: [skck]\n  note: Uji.\n- queries: [KTP]\n  pages: [skck]\n  note: Uji.\n",
     "sudah ada"),
    ("- queries: [ktp]\n  pages: [skck]\n", "wajib: satu kalimat"),
    ("- queries: [ktp]\n  pages: [skck, skck]\n  note: Uji.\n", "dua kali"),
    ("{ktp: skck}\n", "harus berupa daftar"),
    ("- queries: [ktp]\n  pages: [skck]\n  note: Uji.\n- queries: [KTP-el]\n  pages: [skck]\n  note: Uji.\n",
     "sama dengan 'ktp'"),
    ("- queries: [dan yang]\n  pages: [skck]\n  note: Uji.\n", "tidak berisi kata"),
])
def test_content_check_reports_bad_best_bets(tmp_path, text, fragment):
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder, ignore=shutil.ignore_patterns("threads"))
    (folder / "best_bets.yml").write_text(text)
    problems = [p for p in check_content(folder).problems if p.path == "best_bets.yml"]
    assert any(fragment in p.message for p in problems), problems


def test_the_bundled_best_bets_pass_the_check():
    problems = [p for p in check_content(CONTENT).problems if p.path == "best_bets.yml"]
    assert problems == []


def test_frequent_short_searches_are_offered_with_the_page_citizens_clicked(app, km):
    from analytics.models import SearchClick, SearchLog

    with app.app_context():
        for i in range(6):
            db.session.add(SearchLog(key=f"k{i}", query="Kartu Kuning" if i % 2 else "kartu kuning", result_count=3))
            db.session.add(SearchClick(search_key=f"k{i}", doc="service:kartu-pencari-kerja", rank=3))
        db.session.add(SearchLog(key="long", query="cara membuat kartu kuning untuk melamar kerja di pabrik sepatu"))
        db.session.add(SearchLog(key="ktp", query="ktp"))  # already has a best bet (content/best_bets.yml)
        db.session.commit()
    page = km.get(PAGE).get_data(as_text=True)
    row = page[page.index('id="usul-h"'):page.index('id="daftar-h"')]
    assert "kartu kuning" in row and "6 kali" in row and "posisi rata-rata 3.0" in row
    assert "pabrik sepatu" not in row and ">ktp<" not in row
    # One click pins it.
    resp = post_form(km, PAGE, {"query": "kartu kuning", "slug": "kartu-pencari-kerja"}, PAGE)
    assert resp.status_code == 302
    assert api(app.test_client(), "kartu kuning")["results"][0]["slug"] == "kartu-pencari-kerja"
    page = km.get(PAGE).get_data(as_text=True)
    assert "kartu kuning" not in page[page.index('id="usul-h"'):page.index('id="daftar-h"')]


def test_a_failing_lookup_only_logs_and_search_answers(client, monkeypatch, caplog):
    def boom(key):
        raise RuntimeError("database gone")

    monkeypatch.setattr("search.registry._PINS", boom)
    data = api(client, "ktp")
    assert data["results"] and not any(r["pinned"] for r in data["results"])
    assert "best-bet lookup failed" in caplog.text
