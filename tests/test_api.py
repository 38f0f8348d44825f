def test_list_returns_all_fields(client):
    resp = client.get("/api/v1/services")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["count"] >= 40 and len(data["services"]) == data["count"]
    item = next(s for s in data["services"] if s["slug"] == "skck")
    for key in ("slug", "title", "agency", "category", "summary", "aliases", "requirements", "fees", "duration",
                "steps", "channels", "legal_basis", "contact", "last_reviewed", "notes", "notes_html", "version",
                "url"):
        assert key in item, key
    assert item["fees"][0] == {"label": "PNBP penerbitan SKCK", "kind": "fixed", "amount": 30000,
                               "legal_basis": "PP 76/2020", "note": None}
    assert item["duration"] == {"text": "Umumnya selesai pada hari yang sama; berlaku 6 bulan.", "max_days": 1}
    assert item["agency"]["slug"] == "polri"
    assert item["last_reviewed"] == "2026-09-30"


def test_filters(client):
    data = client.get("/api/v1/services?category=kepolisian").get_json()
    assert data["count"] == 5 and all(s["category"]["slug"] == "kepolisian" for s in data["services"])
    data = client.get("/api/v1/services?agency=imigrasi").get_json()
    assert {s["slug"] for s in data["services"]} == {"paspor-baru", "paspor-hilang-rusak"}
    resp = client.get("/api/v1/services?category=tidak-ada")
    assert resp.status_code == 400 and "tidak dikenal" in resp.get_json()["error"]["message"]


def test_detail_and_404(client):
    data = client.get("/api/v1/services/paspor-baru").get_json()
    assert data["title"] == "Pembuatan Paspor Baru (Paspor Biasa)"
    assert [f["amount"] for f in data["fees"]] == [350000, 650000, 650000, 950000, 1000000]
    assert data["steps"][0].startswith("Daftar dan pilih jadwal")
    resp = client.get("/api/v1/services/tidak-ada")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": {"code": 404, "message": "Layanan tidak ditemukan."}}
    resp = client.get("/api/v1/tidak-ada")
    assert resp.status_code == 404 and resp.is_json
