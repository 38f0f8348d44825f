"""A service's search document: its record in the new shape and its
official FAQ entries (re-indexed when an entry is added or confirmed)."""
import sqlalchemy as sa

from core.extensions import db
from core.models import Role, User
from kb import curation as cur
from kb.search_docs import load
from search.models import SearchOutbox
from search.outbox import drain_all


def test_document_has_fee_kinds_exemption_duration_parts_and_faq(app, make_user):
    from pathlib import Path

    from core.contentio import load_content

    make_user("u_km", role=Role.KNOWLEDGE_MANAGER)
    with app.app_context():
        load_content(Path(__file__).parent / "data" / "content_v2")
        km = db.session.scalar(sa.select(User).where(User.username == "u_km"))
        before = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id)))
        faq = cur.add_faq(km, "uji-sim", "Apakah tes psikologi bisa di klinik swasta?",
                          "Bisa, di lembaga psikologi yang ditunjuk Polres; tarifnya zebrakuda berbeda per daerah.")
        assert db.session.scalar(sa.select(SearchOutbox.doc_id).where(SearchOutbox.id > before)) == "service:uji-sim"
        doc = load(["uji-sim"])["uji-sim"]
        text = {s.heading: s.text for s in doc.sections}
        assert "Rp10.000–Rp25.000 per lembar" in text["Biaya"] and "paling banyak Rp50.000" in text["Biaya"]
        assert "Pengecualian: Penyandang disabilitas: gratis; bukti: Kartu penyandang disabilitas" in text["Biaya"]
        assert "Waktu proses: paling lama 1 hari kerja" in text["Waktu Penyelesaian"]
        assert "Sebelum dilayani: 1–14 hari kalender" in text["Waktu Penyelesaian"]
        assert "UU 22/2009 tentang Lalu Lintas dan Angkutan Jalan" in text["Dasar Hukum"]
        assert "zebrakuda" in text["Tanya jawab resmi"] and "klinik swasta" in text["Tanya jawab resmi"]
        drain_all()
        before = db.session.scalar(sa.select(sa.func.max(SearchOutbox.id)))
        cur.confirm_faq(km, faq.id)
        assert db.session.scalar(sa.select(SearchOutbox.doc_id).where(SearchOutbox.id > before)) == "service:uji-sim"
    results = app.test_client().get("/api/v1/search?q=zebrakuda").get_json()["results"]
    assert results and results[0]["slug"] == "uji-sim"
