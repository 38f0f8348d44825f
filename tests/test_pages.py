import pytest


def text(resp):
    return resp.get_data(as_text=True)


def test_home_has_search_and_categories(client):
    resp = client.get("/")
    assert resp.status_code == 200
    html = text(resp)
    assert 'role="search"' in html and 'action="/cari"' in html
    assert "Kependudukan &amp; Pencatatan Sipil" in html
    assert 'href="/kategori/kependudukan"' in html
    assert '<html lang="id">' in html


def test_service_page_shows_every_field(client):
    html = text(client.get("/layanan/paspor-baru"))
    for heading in ("Persyaratan", "Biaya", "Waktu Penyelesaian", "Prosedur", "Tempat &amp; Cara Pengajuan",
                    "Dasar Hukum", "Kontak", "Terakhir ditinjau", "Riwayat perubahan"):
        assert heading in html, heading
    assert "Rp650.000" in html and "Rp1.000.000" in html          # fees in rupiah
    assert "Mulai Rp350.000" in html
    assert "Paling lama 4 hari kerja" in html                     # duration
    assert "Daftar dan pilih jadwal kedatangan" in html           # steps
    assert "https://www.imigrasi.go.id" in html                   # channel / contact
    assert "Undang-Undang Nomor 6 Tahun 2011" in html             # legal basis
    assert "1 Oktober 2026" in html                               # last reviewed, Indonesian date
    assert "Direktorat Jenderal Imigrasi" in html


def test_free_service_badge_and_variable_fee(client):
    assert "Gratis" in text(client.get("/layanan/ktp-el-baru"))
    assert "Bervariasi" in text(client.get("/layanan/stnk-tahunan"))


def test_category_and_agency_listings(client):
    html = text(client.get("/kategori/kepolisian"))
    assert "Surat Keterangan Catatan Kepolisian (SKCK)" in html and "Pembuatan SIM Baru" in html
    assert "Paspor" not in html
    html = text(client.get("/instansi"))
    assert "/instansi/dukcapil" in html
    html = text(client.get("/instansi/dukcapil"))
    assert "Penerbitan Akta Kelahiran" in html
    assert client.get("/layanan").status_code == 200


@pytest.mark.parametrize("path", ["/layanan/tidak-ada", "/kategori/tidak-ada", "/instansi/tidak-ada",
                                  "/layanan/skck/riwayat/99", "/layanan/tidak-ada/riwayat"])
def test_unknown_pages_are_friendly_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert "tidak ditemukan" in text(resp)


def test_bad_page_parameter_is_ignored(client):
    assert client.get("/layanan?page=abc").status_code == 200
    assert client.get("/layanan?page=99999999999").status_code == 200


def test_history_and_version_diff(app, client, tmp_path):
    import shutil

    from kb.loader import load_directory

    from .conftest import CONTENT

    folder = tmp_path / "c"
    shutil.copytree(CONTENT, folder)
    path = folder / "services" / "skck.md"
    path.write_text(path.read_text().replace("amount: 30000", "amount: 35000"))
    with app.app_context():
        load_directory(folder)
    html = text(client.get("/layanan/skck/riwayat"))
    assert "Versi 2" in html and "Versi 1" in html and "Biaya" in html
    html = text(client.get("/layanan/skck/riwayat/2"))
    assert 'class="diff-del"' in html and "Rp30.000" in html
    assert 'class="diff-add"' in html and "Rp35.000" in html
    assert "<h2>Persyaratan</h2>" not in html and "<h2>Biaya</h2>" in html  # only changed fields
    html = text(client.get("/layanan/skck/riwayat/1"))
    assert "Versi pertama" in html and "<h2>Persyaratan</h2>" in html


def test_search_finds_services(client):
    html = text(client.get("/cari?q=paspor+hilang"))
    assert "Penggantian Paspor Hilang atau Rusak" in html
    html = text(client.get("/cari?q=zzzzqqq"))
    assert "Tidak ada hasil" in html
    assert client.get("/cari?q=" + "a" * 5000).status_code == 200
    assert client.get("/cari?q=%3Cscript%3E").status_code == 200


def test_english_ui(client):
    resp = client.get("/layanan/skck?lang=en")
    html = text(resp)
    assert '<html lang="en">' in html and "Requirements" in html and "Legal basis" in html
    assert "lang=en" in resp.headers.get("Set-Cookie", "")
    html = text(client.get("/"))  # cookie remembers the choice
    assert "What do you need to sort out today?" in html
    html = text(client.get("/?lang=id"))
    assert "Mau mengurus apa hari ini?" in html


def test_security_headers(client):
    resp = client.get("/")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "object-src 'none'" in resp.headers["Content-Security-Policy"]
