import shutil
from pathlib import Path

import sqlalchemy as sa

from core.contentio import load_content
from core.extensions import db
from kb.loader import ContentError, load_directory
from kb.models import Regulation, Service, ServiceCitation, ServiceVersion

from .conftest import CONTENT

FIXTURE = Path(__file__).parent / "data" / "content_v2"


def copy_content(tmp_path, source=CONTENT):
    target = tmp_path / "content"
    shutil.copytree(source, target)
    return target


def counts():
    return (db.session.scalar(sa.select(sa.func.count(Service.id))),
            db.session.scalar(sa.select(sa.func.count(ServiceVersion.id))))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def test_bundled_content_has_at_least_40_services(app):
    with app.app_context():
        services, versions = counts()
        assert services >= 40
        assert versions == services
        assert db.session.scalar(sa.select(sa.func.count(Regulation.id))) > 0


def test_reload_is_idempotent(app):
    with app.app_context():
        before = counts()
        report = load_directory(CONTENT)
        assert report.created == [] and report.updated == [] and report.regulations == 0
        assert len(report.unchanged) == before[0]
        assert counts() == before


def test_changed_file_adds_exactly_one_version(app, tmp_path):
    folder = copy_content(tmp_path)
    edit(folder / "services" / "skck.md", "amount: 30000", "amount: 35000")
    with app.app_context():
        services, versions = counts()
        report = load_directory(folder)
        assert report.updated == ["skck"]
        assert counts() == (services, versions + 1)
        report = load_directory(folder)  # and again: nothing new
        assert report.updated == []
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "skck"))
        assert svc.version == 2 and svc.record["fees"][0]["amount"] == 35000
        latest = db.session.scalar(sa.select(ServiceVersion).where(ServiceVersion.service_id == svc.id,
                                                                   ServiceVersion.number == 2))
        assert latest.changed_fields == ["fees"]
        assert latest.source == "content:services/skck.md"
        assert latest.snapshot == svc.record  # one shape: the row, the version, the file


def test_new_service_in_partial_folder(app, tmp_path):
    folder = tmp_path / "extra"
    (folder / "services").mkdir(parents=True)
    text = (CONTENT / "services" / "skck.md").read_text().replace("slug: skck", "slug: skck-khusus")
    (folder / "services" / "skck-khusus.md").write_text(text)
    with app.app_context():
        report = load_directory(folder)  # agency, category and regulations come from the database
        assert report.created == ["skck-khusus"]


def test_fixture_loads_with_its_registry_and_citation_index(app):
    with app.app_context():
        lines = load_content(FIXTURE)
        assert "layanan baru: 2" in lines[0] and "peraturan diperbarui: 6" in lines[0]
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "uji-sim"))
        cited = set(db.session.execute(sa.select(ServiceCitation.field_group, ServiceCitation.regulation_key)
                                       .where(ServiceCitation.service_id == svc.id)).all())
        assert cited == {("legal_basis", "uu-22-2009"), ("legal_basis", "perpol-5-2021"),
                         ("legal_basis", "pp-76-2020"), ("requirements", "perpol-5-2021"),
                         ("fees", "pp-76-2020"), ("steps", "perpol-5-2021")}
        reg = db.session.scalar(sa.select(Regulation).where(Regulation.key == "pp-48-2014"))
        assert reg.status == "repealed" and reg.replaced_by == ["pp-59-2018"]
        assert load_content(FIXTURE)[0].endswith("tetap: 2")  # idempotent


def assert_problem(exc: ContentError, path: str, field: str, fragment: str = ""):
    for p in exc.problems:
        if p.path == path and p.field == field and fragment in p.message:
            return
    raise AssertionError(f"no problem {path}: {field} ({fragment}) in {exc.problems}")


def load_error(app, folder) -> ContentError:
    with app.app_context():
        try:
            load_directory(folder)
        except ContentError as exc:
            return exc
    raise AssertionError("expected ContentError")


def test_malformed_files_name_file_and_field_and_write_nothing(app, tmp_path):
    folder = copy_content(tmp_path)
    svc = folder / "services"
    edit(svc / "paspor-baru.md", "amount: 650000", "amount: Rp650.000")
    edit(svc / "skck.md", "last_reviewed: 2026-11-25", "last_reviewed: 30 Sept")
    (svc / "rusak-yaml.md").write_text("---\nslug: rusak-yaml\ntitle: [tidak ditutup\n---\n")
    (svc / "tanpa-front-matter.md").write_text("Hanya teks biasa.\n")
    (svc / "salah-nama.md").write_text((svc / "kip-kuliah.md").read_text())
    (svc / "kategori-asing.md").write_text((svc / "pkh.md").read_text()
                                           .replace("slug: pkh", "slug: kategori-asing")
                                           .replace("category: bantuan-sosial", "category: tidak-ada"))
    # a valid change that must NOT be written because other files are broken
    edit(svc / "akta-kematian.md", "30 hari", "31 hari")
    with app.app_context():
        before = counts()
    exc = load_error(app, folder)
    assert_problem(exc, "services/paspor-baru.md", "fees[2].amount", "Rp650.000")
    assert_problem(exc, "services/skck.md", "last_reviewed", "YYYY-MM-DD")
    assert_problem(exc, "services/rusak-yaml.md", "baris 3", "YAML")
    assert_problem(exc, "services/tanpa-front-matter.md", "front matter", "---")
    assert_problem(exc, "services/salah-nama.md", "slug", "kip-kuliah.md")
    assert_problem(exc, "services/kategori-asing.md", "category", "tidak-ada")
    assert all(p.blocks_load for p in exc.problems)  # unsourced groups are not reported as load errors
    with app.app_context():
        assert counts() == before
        svc_row = db.session.scalar(sa.select(Service).where(Service.slug == "akta-kematian"))
        assert "31 hari" not in str(svc_row.record["steps"])


def test_repealed_citations_and_non_official_links_refuse_to_load(app, tmp_path):
    folder = copy_content(tmp_path, FIXTURE)
    edit(folder / "services" / "uji-nikah.md", "legal_basis: [pp-59-2018]", "legal_basis: [pp-48-2014]")
    edit(folder / "services" / "uji-sim.md", "url: https://korlantas.polri.go.id/sim", "url: https://www.samsat.info")
    exc = load_error(app, folder)
    assert_problem(exc, "services/uji-nikah.md", "legal_basis[1]", "dicabut")
    assert_problem(exc, "services/uji-sim.md", "channels[2].url", "bukan domain resmi")
    with app.app_context():
        assert db.session.scalar(sa.select(Service).where(Service.slug == "uji-sim")) is None


def test_unsourced_groups_load_and_are_reported(app, tmp_path):
    folder = copy_content(tmp_path, FIXTURE)
    edit(folder / "services" / "uji-nikah.md", "  duration: [pp-59-2018]\n", "")
    with app.app_context():
        lines = load_content(folder)
        assert "belum terverifikasi" in lines[-1]
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "uji-nikah"))
        assert "duration" not in svc.record["sources"]
    assert "Belum terverifikasi: bagian ini belum menyebut sumber" in app.test_client().get(
        "/layanan/uji-nikah").get_data(as_text=True)


def test_duplicate_slug_and_bad_lists(app, tmp_path):
    folder = tmp_path / "dup"
    (folder / "services").mkdir(parents=True)
    (folder / "agencies").mkdir()
    (folder / "categories.yml").write_text("- slug: a\n  name: A\n- slug: a\n  name: Lagi\n- name: tanpa slug\n")
    (folder / "agencies" / "x.yml").write_text("slug: bukan-daftar\n")
    exc = load_error(app, folder)
    assert_problem(exc, "categories.yml", "categories[2].slug", "sudah ada")
    assert_problem(exc, "categories.yml", "categories[3].slug", "wajib")
    assert_problem(exc, "agencies/x.yml", "agencies", "daftar")


def test_missing_or_empty_folder(app, tmp_path):
    exc = load_error(app, tmp_path / "tidak-ada")
    assert exc.problems[0].field == "folder"
    exc = load_error(app, tmp_path)
    assert "tidak berisi" in exc.problems[0].message


def test_not_utf8(app, tmp_path):
    folder = tmp_path / "bin"
    (folder / "services").mkdir(parents=True)
    (folder / "services" / "x.md").write_bytes(b"---\nslug: x\n\xff\xfe\n---\n")
    exc = load_error(app, folder)
    assert_problem(exc, "services/x.md", "file", "UTF-8")


def test_raw_html_in_notes_is_sanitized(app, tmp_path):
    folder = copy_content(tmp_path)
    path = folder / "services" / "skck.md"
    path.write_text(path.read_text() + "\n<script>alert(1)</script>\n[klik](javascript:alert(1))\n")
    with app.app_context():
        load_directory(folder)
        svc = db.session.scalar(sa.select(Service).where(Service.slug == "skck"))
        assert "<script" not in svc.notes_html and "javascript:" not in svc.notes_html
        assert "<script>" in svc.record["notes"]  # source kept as written


def test_cli_content_load(runner, tmp_path):
    result = runner.invoke(args=["content", "load"])
    assert result.exit_code == 0, result.output
    assert "layanan baru: 0" in result.output and "diubah: 0" in result.output
    folder = tmp_path / "rusak"
    (folder / "services").mkdir(parents=True)
    (folder / "services" / "x.md").write_text("tanpa front matter")
    result = runner.invoke(args=["content", "load", str(folder)])
    assert result.exit_code == 1
    assert "services/x.md: front matter" in result.output
