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
    assert "paling lama 4 hari kerja" in html                     # duration with its unit
    assert "Unduh aplikasi M-Paspor" in html                      # steps
    assert "id.go.imigrasi.paspor_online" in html                 # channel
    assert "UU 6/2011</strong> tentang Keimigrasian" in html      # legal basis from the registry
    assert "PP 45/2024" in html                                   # sources next to the fees
    assert "25 November 2026" in html                             # last reviewed, Indonesian date
    assert "Direktorat Jenderal Imigrasi" in html
    assert "Belum terverifikasi: bagian ini belum menyebut sumber resmi" not in html  # every group is sourced


def test_free_service_badge_and_regional_fee(client):
    assert "Gratis" in text(client.get("/layanan/ktp-el-baru"))
    assert "Ditetapkan daerah" in text(client.get("/layanan/stnk-tahunan"))


def test_service_page_shows_sources_exemptions_units_and_marks(app, client):
    from pathlib import Path

    from core.contentio import load_content

    with app.app_context():
        load_content(Path(__file__).parent / "data" / "content_v2")
    html = text(client.get("/layanan/uji-sim"))
    # sources next to each group and item, with the regulation's title on hover
    assert 'href="https://peraturan.bpk.go.id/Details/150594" title="PP 76/2020 tentang Jenis dan Tarif' in html
    assert ">PP 76/2020 Lampiran ↗</a>" in html
    assert '<abbr title="Perpol 5/2021 tentang Penerbitan dan Penandaan Surat Izin Mengemudi">Perpol 5/2021 Pasal 8</abbr>' in html
    assert ">korlantas.polri.go.id ↗</a>" in html
    assert "Belum terverifikasi: bagian ini" not in html  # every group is sourced
    # fee kinds and exemptions
    assert "Rp120.000" in html and "Rp10.000–Rp25.000 per lembar" in html and "paling banyak Rp50.000" in html
    assert "Ditetapkan daerah" in html and "Keringanan" in html and "Penyandang disabilitas" in html
    assert "Bukti yang dibawa: Kartu penyandang disabilitas" in html
    # duration parts with their units, first screen summary
    assert "paling lama 1 hari kerja" in html and "1–14 hari kalender" in html
    assert "Waktu proses: paling lama 1 hari kerja" in html and "Mulai Rp10.000" in html
    assert "Cek ke kantor setempat" in html and "biaya tes psikologi berbeda per Polres" in html
    assert html.count("Belum terverifikasi") >= 2  # the RT/RW letter and the psychology test fee
    assert "Sebagian belum terverifikasi" not in html
    # legal basis: type/number/year/title, status, official link
    assert "UU 22/2009</strong> tentang Lalu Lintas dan Angkutan Jalan" in html
    assert "Berlaku dengan perubahan" in html and "diubah oleh uu-6-2023" in html
    assert html.index("Mulai Rp10.000") < html.index('id="persyaratan"')  # the answer on the first screen
    nikah = text(client.get("/layanan/uji-nikah"))
    assert "Masa tunggu wajib" in nikah and "minimal 10 hari kerja" in nikah
    assert "Sebagian gratis; lainnya mulai Rp600.000" in nikah  # a free option is not hidden behind "from"
    assert "Warga tidak mampu secara ekonomi" in nikah and "Surat keterangan tidak mampu" in nikah
    assert "<script" not in html.split("<body")[1]  # no JS needed


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
    path.write_text(path.read_text().replace("amount: 30000", "amount: 35000")
                    .replace("  - Terima SKCK setelah diteliti petugas.",
                             "  - text: Terima SKCK setelah diteliti petugas.\n    sources: [perpol-6-2023]"))
    with app.app_context():
        load_directory(folder)
    html = text(client.get("/layanan/skck/riwayat"))
    assert "Versi 2" in html and "Versi 1" in html and "Biaya" in html
    html = text(client.get("/layanan/skck/riwayat/2"))
    assert 'class="diff-del"' in html and "Rp30.000" in html
    assert 'class="diff-add"' in html and "Rp35.000" in html
    assert "Terima SKCK setelah diteliti petugas. [sumber: perpol-6-2023]" in html  # item sources show in the diff
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
