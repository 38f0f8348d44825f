from pathlib import Path

from core.contentio import load_content

FIXTURE = Path(__file__).parent / "data" / "content_v2"
RECORD_KEYS = ("slug", "title", "agency", "category", "summary", "aliases", "requirements", "fees", "duration",
               "steps", "channels", "legal_basis", "contact", "local_variation", "sources", "last_reviewed", "notes")


def _from_file(slug: str) -> dict:
    """The record as the bundled content file states it (the API must say
    exactly this: one shape end to end)."""
    import yaml

    from kb.loader import split_front_matter
    from kb.record import parse_record

    front, body = split_front_matter((Path(__file__).parent.parent / "content" / "services" / f"{slug}.md").read_text())
    return parse_record(yaml.safe_load(front), body).to_dict()


def test_list_returns_the_canonical_record(client):
    resp = client.get("/api/v1/services")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["count"] >= 80 and len(data["services"]) == data["count"]
    item = next(s for s in data["services"] if s["slug"] == "skck")
    for key in RECORD_KEYS + ("notes_html", "version", "url", "citations", "agency_info", "category_info"):
        assert key in item, key
    assert item["agency"] == "polri" and item["agency_info"]["slug"] == "polri"  # the file's shape: a slug
    assert {k: item[k] for k in RECORD_KEYS} == _from_file("skck")
    assert item["fees"][0]["kind"] == "fixed" and item["fees"][0]["amount"] == 30000
    assert set(item["citations"]) >= {"perpol-6-2023", "pp-76-2020"}
    assert item["unverified_groups"] == []  # every group cites a source


def test_filters(client):
    import yaml  # noqa: F401

    content = Path(__file__).parent.parent / "content" / "services"
    police = {p.stem for p in content.glob("*.md") if "\ncategory: kepolisian\n" in p.read_text()}
    data = client.get("/api/v1/services?category=kepolisian").get_json()
    assert {s["slug"] for s in data["services"]} == police and all(s["category"] == "kepolisian"
                                                                   for s in data["services"])
    immigration = {p.stem for p in content.glob("*.md") if "\nagency: imigrasi\n" in p.read_text()}
    data = client.get("/api/v1/services?agency=imigrasi").get_json()
    assert {s["slug"] for s in data["services"]} == immigration >= {"paspor-baru", "perpanjangan-paspor"}
    resp = client.get("/api/v1/services?category=tidak-ada")
    assert resp.status_code == 400 and "tidak dikenal" in resp.get_json()["error"]["message"]


def test_detail_and_404(client):
    data = client.get("/api/v1/services/paspor-baru").get_json()
    expected = _from_file("paspor-baru")
    assert data["title"] == expected["title"] and data["fees"] == expected["fees"]
    assert data["steps"] == expected["steps"]
    resp = client.get("/api/v1/services/tidak-ada")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": {"code": 404, "message": "Layanan tidak ditemukan."}}
    resp = client.get("/api/v1/tidak-ada")
    assert resp.status_code == 404 and resp.is_json


def test_one_shape_from_file_to_api(app, client):
    """File -> database row -> version snapshot -> API: the same record."""
    import sqlalchemy as sa
    import yaml

    from core.extensions import db
    from kb.loader import split_front_matter
    from kb.models import Service
    from kb.record import parse_record

    with app.app_context():
        load_content(FIXTURE)
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "uji-sim"))
        row, snapshot = svc.record, svc.versions[0].snapshot
    front, body = split_front_matter((FIXTURE / "services" / "uji-sim.md").read_text())
    from_file = parse_record(yaml.safe_load(front), body).to_dict()
    data = client.get("/api/v1/services/uji-sim").get_json()
    assert from_file == row == snapshot == {k: data[k] for k in RECORD_KEYS}
    assert data["requirements"][0] == "Berusia minimal 17 tahun"  # plain items stay strings
    assert data["fees"][3]["exemptions"][0] == {"who": "Penyandang disabilitas", "amount": 0,
                                                "proof": "Kartu penyandang disabilitas",
                                                "sources": ["pp-76-2020 Lampiran"]}
    assert data["citations"]["perpol-5-2021"]["status"] == "in_force"
    assert data["citations"]["uu-22-2009"]["amended_by"] == ["uu-6-2023"]
    assert data["citations"]["pp-76-2020"]["url"].startswith("https://peraturan.bpk.go.id/")
    assert data["unverified_groups"] == []
